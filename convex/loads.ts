/**
 * Public load functions. Each checks the caller's org, then calls the load
 * rules in `model/loads/rules.ts`; the counters follow through the write layer.
 */
import { v } from "convex/values";
import { mutation, query } from "./functions";
import { requireOrgMember } from "./lib/auth";
import { COUNTED } from "./model/counted";
import { vInvoiceStatus, vLoadStatus, vLoadType } from "./model/enums";
import { countQueries, filteredCountQueries } from "./model/stats/api";
import { checkLoadFacet } from "./model/loads/filters";
import { STATS } from "./model/statsConfig";
import { createLoadWithInvoice } from "./model/loads/intake";
import { deleteLoad as deleteLoadHelper, getOrgLoad, transitionLoad } from "./model/loads/rules";
import { vLocation } from "./model/fields";

/**
 * Creates an `Open` load for the caller's org with its invoice, priced by the
 * org's lanes like an import (`model/loads/intake.ts`): an exact lane gives
 * `CONTRACT` and a `DRAFT` invoice at the lane's rate, a wildcard lane `SPOT`
 * and the same, no lane `UNMAPPED` and a `MISSING_DATA` invoice of 0 cents.
 * Stored lanes the code would not have written are skipped as if absent and
 * counted in `skippedInvalid` (absent when none; see docs/hardening.md).
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
  returns: v.object({
    loadId: v.id("loads"),
    loadType: vLoadType,
    invoiceId: v.id("invoices"),
    invoiceStatus: vInvoiceStatus,
    skippedInvalid: v.optional(v.number()),
  }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    const created = await createLoadWithInvoice(ctx, { ...args, source: "MANUAL" });
    return {
      loadId: created.loadId,
      loadType: created.loadType,
      invoiceId: created.invoiceId,
      invoiceStatus: created.invoiceStatus,
      ...(created.skippedInvalid > 0 ? { skippedInvalid: created.skippedInvalid } : {}),
    };
  },
});

/**
 * Moves a load to another status following `LOAD_TRANSITIONS`
 * (`model/loads/rules.ts`). `status` is a literal union, so client code is
 * checked at compile time. Moving a load to the status it has is a no-op
 * (`changed: false`).
 */
export const updateLoadStatus = mutation({
  args: { workosOrgId: v.string(), loadId: v.id("loads"), status: vLoadStatus },
  returns: v.object({
    loadId: v.id("loads"),
    from: vLoadStatus,
    to: vLoadStatus,
    changed: v.boolean(),
  }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    const to = args.status;
    const load = await getOrgLoad(ctx, args.workosOrgId, args.loadId);
    const changed = await transitionLoad(ctx, load, to);
    return { loadId: load._id, from: load.status, to, changed };
  },
});

/**
 * Deletes a load with its invoices that were never billed. Refuses
 * (`HAS_BILLED_INVOICE`) when any invoice of the load was billed, including
 * one voided since: a billed invoice is a record to keep, so cancel the load
 * (`updateLoadStatus` to `Canceled`) instead.
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

const counts = countQueries(STATS, "loads", COUNTED.loads, async (ctx, workosOrgId) => {
  await requireOrgMember(ctx, workosOrgId);
});

/**
 * Load counts by status for the dashboard badges, flat:
 * `{ Open, Assigned, Delivered, Canceled, Expired }` (`Delivered` counts the
 * loads stored as `Completed`). One document read (two while the org's
 * counters are being seeded; a bounded scan when it has none yet); the
 * closest honest numbers in every state (see `docs/badges.md`).
 *
 * ```tsx
 * const loads = useQuery(api.loads.countLoadsByStatus, { workosOrgId });
 * const open = loads?.Open ?? 0;
 * ```
 */
export const countLoadsByStatus = query(counts.flat);

/**
 * The same counts by stored status, with what they are: `state` (`exact`,
 * `approximate`, `counting`, `partial`), `progress` while seeding and
 * `knownDrift` while drifted (see `docs/badges.md`).
 */
export const countLoadsByStatusDetailed = query(counts.detailed);

const filtered = filteredCountQueries(
  STATS,
  "loads",
  COUNTED.loads,
  async (ctx, workosOrgId) => {
    await requireOrgMember(ctx, workosOrgId);
  },
  checkLoadFacet,
);

/**
 * Load counts by status under the planner's filters, flat like
 * `countLoadsByStatus`: at most one of `laneId` / `customerId`, and an
 * optional inclusive pickup-date range `startDate`..`endDate` (`YYYY-MM-DD`,
 * days in UTC, shorter than 5 years; both or neither). Loads without a
 * pickup time count only when no range is given; no filter at all is the
 * org-wide answer. Exact in the same transaction as every load write; reads
 * at most 8 documents (docs/filtered-counts.md).
 *
 * ```tsx
 * const counts = useQuery(api.loads.countLoadsByStatusFiltered, {
 *   workosOrgId, laneId, startDate: "2025-06-01", endDate: "2025-06-30",
 * });
 * ```
 *
 * @throws `INVALID_ARGUMENT` (two facets, a malformed date or customer id,
 *   a reversed or too long range, one date only), `NOT_FOUND` (a lane that
 *   is not the org's), and the auth errors of `countLoadsByStatus`.
 */
export const countLoadsByStatusFiltered = query(filtered.flat);

/**
 * The same counts by stored status, with `state` (`exact`, `approximate`,
 * `counting`, `partial`) and `progress` like `countLoadsByStatusDetailed`.
 */
export const countLoadsByStatusFilteredDetailed = query(filtered.detailed);
