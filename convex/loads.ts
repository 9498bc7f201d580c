/**
 * Public load functions. Each checks the caller's org, then calls the load
 * rules in `model/loads.ts`; the counters follow through the write layer.
 */
import { v } from "convex/values";
import { mutation, query } from "./functions";
import { requireOrgMember } from "./lib/auth";
import { readLoadCounts, vLoadCountsResult } from "./model/counts";
import { LOAD_STATUSES, vLoadStatus } from "./model/enums";
import {
  createLoad as createLoadHelper,
  deleteLoad as deleteLoadHelper,
  getOrgLoad,
  transitionLoad,
} from "./model/loads";
import { parseEnum } from "./model/validate";
import { vLocation } from "./schema";

/**
 * Creates a load (`Open`, `UNMAPPED` until a lane matches) for the caller's
 * org.
 */
export const createLoad = mutation({
  args: {
    workosOrgId: v.string(),
    externalLoadId: v.string(),
    origin: vLocation,
    destination: vLocation,
    customerId: v.optional(v.string()),
    pickupAt: v.optional(v.number()),
    deliveryAt: v.optional(v.number()),
    weightLbs: v.optional(v.number()),
    commodity: v.optional(v.string()),
  },
  returns: v.object({ loadId: v.id("loads") }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    const loadId = await createLoadHelper(ctx, { ...args, source: "MANUAL" });
    return { loadId };
  },
});

/**
 * Moves a load to another status following `LOAD_TRANSITIONS`
 * (`model/loads.ts`). `status` is checked in the handler so an unknown value
 * gets an `INVALID_ARGUMENT` error with a code. Moving a load to the status
 * it has is a no-op (`changed: false`).
 */
export const updateLoadStatus = mutation({
  args: { workosOrgId: v.string(), loadId: v.id("loads"), status: v.string() },
  returns: v.object({
    loadId: v.id("loads"),
    from: vLoadStatus,
    to: vLoadStatus,
    changed: v.boolean(),
  }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    const to = parseEnum(LOAD_STATUSES, args.status, "status");
    const load = await getOrgLoad(ctx, args.workosOrgId, args.loadId);
    const changed = await transitionLoad(ctx, load, to);
    return { loadId: load._id, from: load.status, to, changed };
  },
});

/**
 * Deletes a load with its unbilled invoices. Refuses (`HAS_BILLED_INVOICE`)
 * when the load has a billed, pending or paid invoice.
 */
export const deleteLoad = mutation({
  args: { workosOrgId: v.string(), loadId: v.id("loads") },
  returns: v.object({ invoicesDeleted: v.number() }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    const load = await getOrgLoad(ctx, args.workosOrgId, args.loadId);
    return await deleteLoadHelper(ctx, load);
  },
});

/**
 * Load counts by status for the dashboard badges: one document read.
 *
 * ```tsx
 * const loads = useQuery(api.loads.countLoadsByStatus, { workosOrgId });
 * ```
 */
export const countLoadsByStatus = query({
  args: { workosOrgId: v.string() },
  returns: vLoadCountsResult,
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    return await readLoadCounts(ctx, args.workosOrgId);
  },
});
