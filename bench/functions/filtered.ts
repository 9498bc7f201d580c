/**
 * Bench-only functions for the filtered counters (issue 20,
 * docs/filtered-counts.md):
 * - the same writes under the app's configuration (filters on) and under the
 *   same tables declared without facets or date field (filters off), so the
 *   write cost of the filtered counters is measured, not estimated: a load
 *   status change, a status change of many loads, a FourKites import batch;
 * - the comparisons of a filtered badge: counting by a scan of the org's
 *   loads, and one page of the rebuild-from-source design (the eventually
 *   exact cache rebuilt from every load of the org).
 */
import { customMutation } from "convex-helpers/server/customFunctions";
import { v } from "convex/values";
import type { MutationCtx } from "../../convex/_generated/server";
import { vLoadCounts } from "../../convex/model/counted";
import type { Id } from "../../convex/_generated/dataModel";
import { vLoadStatus, type LoadStatus } from "../../convex/model/enums";
import { importShipmentBatch } from "../../convex/model/fourKites/import";
import { getOrgLoad, transitionLoad } from "../../convex/model/loads/rules";
import { countedWrites } from "../../convex/model/stats/write/builders";
import { STATS } from "../../convex/model/statsConfig";
import { countUnder, STATS_WITHOUT_FILTERS, utcDay } from "../../tests/support/counted";
import { app } from "../app";

const filtersOn = customMutation(
  app.internalMutation,
  countedWrites(STATS, { refuseDeletedOrgs: false }),
);
const filtersOff = customMutation(
  app.internalMutation,
  countedWrites(STATS_WITHOUT_FILTERS, { refuseDeletedOrgs: false }),
);

/** The bench app's context seen as the project's (it only adds a bench table). */
function projectCtx(ctx: unknown): MutationCtx {
  return ctx as MutationCtx;
}

const vStatusArgs = {
  workosOrgId: v.string(),
  loadIds: v.array(v.id("loads")),
  status: vLoadStatus,
};

/** What `updateLoadStatus` does after its auth check, for each load, in one transaction. */
async function setStatuses(
  ctx: MutationCtx,
  args: { workosOrgId: string; loadIds: Id<"loads">[]; status: LoadStatus },
): Promise<number> {
  let changed = 0;
  for (const id of args.loadIds) {
    const load = await getOrgLoad(ctx, args.workosOrgId, id);
    if (await transitionLoad(ctx, load, args.status)) changed++;
  }
  return changed;
}

export const loadStatusesOn = filtersOn({
  args: vStatusArgs,
  returns: v.number(),
  handler: async (ctx, args) => await setStatuses(projectCtx(ctx), args),
});

export const loadStatusesOff = filtersOff({
  args: vStatusArgs,
  returns: v.number(),
  handler: async (ctx, args) => await setStatuses(projectCtx(ctx), args),
});

const vImportArgs = { workosOrgId: v.string(), shipments: v.array(v.string()) };

/** Imports a FourKites batch; returns the loads it created. */
async function importLoads(ctx: MutationCtx, workosOrgId: string, shipments: string[]) {
  const { results } = await importShipmentBatch(ctx, workosOrgId, shipments);
  return results.flatMap((r) => (r.outcome === "created" ? [r.loadId] : []));
}

export const importOn = filtersOn({
  args: vImportArgs,
  returns: v.array(v.id("loads")),
  handler: async (ctx, args) =>
    await importLoads(projectCtx(ctx), args.workosOrgId, args.shipments),
});

export const importOff = filtersOff({
  args: vImportArgs,
  returns: v.array(v.id("loads")),
  handler: async (ctx, args) =>
    await importLoads(projectCtx(ctx), args.workosOrgId, args.shipments),
});

const vFilter = {
  workosOrgId: v.string(),
  laneId: v.optional(v.string()),
  customerId: v.optional(v.string()),
  startDate: v.optional(v.string()),
  endDate: v.optional(v.string()),
};

/** A filtered badge counted by reading every load of the org (what the badge costs without counters). */
export const scanFiltered = app.query({
  args: vFilter,
  returns: vLoadCounts,
  handler: async (ctx, { workosOrgId, ...filter }) => {
    const loads = [];
    for await (const load of ctx.db
      .query("loads")
      .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))) {
      loads.push(load);
    }
    return countUnder(loads, filter);
  },
});

/** Days of day buckets the rebuild-from-source cache keeps (a rolling 18 months). */
export const REBUILD_WINDOW_DAYS = 548;

/**
 * One page of the rebuild-from-source design: read `numItems` loads of the
 * org and return the cache rows they fall in (one per scope, scope value, day
 * bucket within the window or all-time, and status), for the runner to count
 * the rows a rebuild writes. Every rebuild reads every load of the org.
 */
export const rebuildPage = app.query({
  args: {
    workosOrgId: v.string(),
    cursor: v.union(v.string(), v.null()),
    numItems: v.number(),
    /** The day (YYYYMMDD) the window starts at. */
    windowStart: v.number(),
  },
  returns: v.object({
    rows: v.array(v.string()),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, { workosOrgId, cursor, numItems, windowStart }) => {
    const page = await ctx.db
      .query("loads")
      .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
      .paginate({ cursor, numItems });
    const rows = new Set<string>();
    for (const load of page.page) {
      const day = utcDay(load.pickupAt);
      const buckets = ["all", ...(day !== null && day >= windowStart ? [String(day)] : [])];
      const scopes = ["org", `lane:${load.laneId ?? ""}`, `customer:${load.customerId ?? ""}`];
      for (const scope of scopes) {
        if (scope.endsWith(":")) continue;
        for (const bucket of buckets) rows.add(`${scope}|${bucket}|${load.status}`);
      }
    }
    return { rows: [...rows], isDone: page.isDone, continueCursor: page.continueCursor };
  },
});
