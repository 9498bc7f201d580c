/**
 * Bench-only setup writes: adds loads (each with its invoice) to a world
 * with plain `ctx.db` writes in a wrapped builder (the module's write layer
 * counts them), so the counters stay exact by construction. Used to put
 * `UNMAPPED` loads in front of a new lane and stale `Open` loads in front of
 * the periodic cleanup. Not measured; registered only on the bench backend.
 */
import { v } from "convex/values";
import { internalMutation } from "../../convex/functions";
import { vInvoiceStatus, vLoadStatus, vLoadType } from "../../convex/model/enums";
import { locationKey } from "../../convex/model/validate";
import { vLocation } from "../../convex/model/fields";

/** Most loads one call adds (two writes each, far inside the 16,000-write limit). */
export const MAX_LOADS_PER_CALL = 2_000;

/**
 * Inserts `loads` for `workosOrgId` with one invoice each, counted. Loads are
 * padded with `commodity` text to the world's document size.
 */
export const insertLoads = internalMutation({
  args: {
    workosOrgId: v.string(),
    commodity: v.string(),
    loads: v.array(
      v.object({
        externalLoadId: v.string(),
        status: vLoadStatus,
        loadType: vLoadType,
        origin: vLocation,
        destination: vLocation,
        pickupAt: v.number(),
        invoiceStatus: vInvoiceStatus,
        amountCents: v.number(),
      }),
    ),
  },
  returns: v.number(),
  handler: async (ctx, { workosOrgId, commodity, loads }) => {
    if (loads.length > MAX_LOADS_PER_CALL) {
      throw new Error(`[bench.setup] at most ${MAX_LOADS_PER_CALL} loads per call`);
    }
    const now = Date.now();
    for (const spec of loads) {
      const loadId = await ctx.db.insert("loads", {
        workosOrgId,
        source: "MANUAL",
        externalLoadId: spec.externalLoadId,
        status: spec.status,
        loadType: spec.loadType,
        origin: spec.origin,
        destination: spec.destination,
        originKey: locationKey(spec.origin),
        destinationKey: locationKey(spec.destination),
        pickupAt: spec.pickupAt,
        commodity,
        statusChangedAt: now,
      });
      await ctx.db.insert("invoices", {
        workosOrgId,
        loadId,
        status: spec.invoiceStatus,
        amountCents: spec.amountCents,
        statusChangedAt: now,
      });
    }
    return loads.length;
  },
});
