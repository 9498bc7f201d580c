/**
 * Counted writes outside a registered function, and the filtered counters'
 * oracle, for the filtered-count tests and the bench:
 * - `countedRun` runs a body with the write layer's `ctx.db` of a given
 *   stats configuration (the app's, or `STATS_WITHOUT_FILTERS`: the same
 *   tables with no facets and no date field) and flushes, measuring the
 *   transaction, optionally rolling it back;
 * - `filteredTruth` counts an org's loads under a filter from scratch, with
 *   its own day arithmetic (ISO dates), to compare the counters with.
 * Part of the shared test kit.
 */
import type { GenericDocument } from "convex/server";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import type { MutationCtx } from "../../convex/_generated/server";
import { COUNTED } from "../../convex/model/counted";
import { LOAD_STATUSES, type LoadStatus } from "../../convex/model/enums";
import { defineStatsConfig, type StatsConfig } from "../../convex/model/stats/config";
import { StatsAccumulator } from "../../convex/model/stats/engine";
import { CountedDb } from "../../convex/model/stats/write/db";
import { STATS } from "../../convex/model/statsConfig";
import { tally, type Counts } from "../../convex/model/stats/counters";
import { entityIn } from "../../convex/model/stats/entities";
import {
  addPlace,
  applyDelta,
  keyOf,
  storedOf,
  type FacetDelta,
} from "../../convex/model/stats/facets/keys";
import { ioDelta, type Accessor, type Backend, type Io } from "./setup";

/** The app's counted tables with filtered counters turned off (a deployment that does not want them). */
export const STATS_WITHOUT_FILTERS: StatsConfig = defineStatsConfig({
  ...STATS,
  tables: {
    loads: {
      orgField: COUNTED.loads.orgField,
      statusField: COUNTED.loads.statusField,
      statuses: COUNTED.loads.statuses,
      labels: COUNTED.loads.labels,
      orgIndex: COUNTED.loads.orgIndex,
    },
    invoices: COUNTED.invoices,
  },
});

/** Thrown to roll a measured transaction back. */
class RollBack extends Error {}

/**
 * Runs `body` with a `ctx` whose `db` counts writes under `config` (the app's
 * by default), then flushes, in one mutation transaction; returns what the
 * whole transaction read and wrote and `body`'s result. With `rollBack` the
 * writes are undone afterwards (for configurations whose writes would leave
 * the app's counters behind).
 */
export async function countedRun<R>(
  t: Accessor,
  body: (ctx: MutationCtx) => Promise<R>,
  options: { config?: StatsConfig; rollBack?: boolean } = {},
): Promise<{ io: Io; result: R }> {
  const config = options.config ?? STATS;
  const box: { out?: { io: Io; result: R } } = {};
  try {
    return await t.mutation(async (ctx) => {
      const before = await ctx.meta.getTransactionMetrics();
      const stats = new StatsAccumulator(config, { refuseDeletedOrgs: false });
      const counted = new CountedDb(ctx.db, config.entities, stats);
      const result = await body({ ...ctx, db: counted.db });
      await stats.flush(ctx);
      const out = { io: ioDelta(before, await ctx.meta.getTransactionMetrics()), result };
      if (options.rollBack !== true) return out;
      box.out = out;
      throw new RollBack("measured; rolling back");
    });
  } catch (e) {
    if (e instanceof RollBack && box.out !== undefined) return box.out;
    throw e;
  }
}

/** The day (`YYYYMMDD`) of a pickup time in UTC, the oracle's way (ISO text), or null. */
export function utcDay(ms: unknown): number | null {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return null;
  const iso = new Date(ms).toISOString();
  const year = Number(iso.slice(0, 4));
  if (!/^\d{4}-/.test(iso) || year < 1000) return null;
  return Number(iso.slice(0, 10).replaceAll("-", ""));
}

/** A filter as the tests spell it. */
export type TestFilter = {
  laneId?: string;
  customerId?: string;
  startDate?: string;
  endDate?: string;
};

/** Whether `load` counts under `filter` (the oracle). */
export function loadMatches(load: GenericDocument, filter: TestFilter): boolean {
  if (filter.laneId !== undefined && load.laneId !== filter.laneId) return false;
  if (filter.customerId !== undefined && load.customerId !== filter.customerId) return false;
  if (filter.startDate !== undefined && filter.endDate !== undefined) {
    const day = utcDay(load.pickupAt);
    const start = Number(filter.startDate.replaceAll("-", ""));
    const end = Number(filter.endDate.replaceAll("-", ""));
    if (day === null || day < start || day > end) return false;
  }
  return true;
}

/** `loads` counted under `filter` by status. */
export function countUnder(loads: readonly GenericDocument[], filter: TestFilter) {
  return tally(
    LOAD_STATUSES,
    (s) => loads.filter((l) => l.status === s && loadMatches(l, filter)).length,
  );
}

/** Every load of `org` (test only: a full read of the org's loads). */
export async function orgLoads(t: Backend, org: string): Promise<Doc<"loads">[]> {
  return await t.run(
    async (ctx) =>
      await ctx.db
        .query("loads")
        .withIndex("by_org", (q) => q.eq("workosOrgId", org))
        .collect(),
  );
}

/** The org's loads under `filter`, counted from scratch, by stored status. */
export async function filteredTruth(
  t: Backend,
  org: string,
  filter: TestFilter,
): Promise<Counts<LoadStatus>> {
  return countUnder(await orgLoads(t, org), filter);
}

/** Facet documents written per seeding transaction. */
const FACET_CHUNK = 4_000;

/**
 * Writes exact facet documents for `loads` of `org` (the org's loads, all of
 * them), replacing any it has, and marks its facets exact (status and
 * stats row): what `seedOrg`/`seedLoads` do for the filtered counters, as
 * they write exact stats rows. Built with the module's own folding; the
 * tests compare answers with `filteredTruth`, which is not.
 */
export async function writeExactFacets(
  t: Backend,
  org: string,
  loads: readonly GenericDocument[],
): Promise<number> {
  const def = entityIn(STATS.entities, "loads");
  const spec = def.facets;
  if (spec === null) return 0;
  const n = def.statuses.length;
  const delta: FacetDelta = new Map();
  for (const load of loads) {
    const side = def.sideOf(load);
    if (side?.place === undefined || side.workosOrgId !== org) continue;
    addPlace(delta, spec, n, def.statuses.indexOf(side.bucket.status), side.place, 1);
  }
  const docs = [...delta.values()].flatMap((d) => {
    const content = storedOf(applyDelta(null, d, n));
    return content === null ? [] : [{ ...keyOf(d), ...content }];
  });
  await t.run(async (ctx) => {
    const facets = await ctx.db
      .query("statsFacets")
      .withIndex("by_key", (q) => q.eq("workosOrgId", org).eq("entity", "loads"))
      .collect();
    for (const doc of facets) await ctx.db.delete("statsFacets", doc._id);
    const status = await ctx.db
      .query("statsFacetStatus")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org).eq("entity", "loads"))
      .collect();
    for (const doc of status) await ctx.db.delete("statsFacetStatus", doc._id);
  });
  for (let i = 0; i < docs.length; i += FACET_CHUNK) {
    await t.run(async (ctx) => {
      for (const doc of docs.slice(i, i + FACET_CHUNK)) {
        await ctx.db.insert("statsFacets", { workosOrgId: org, entity: "loads", ...doc });
      }
    });
  }
  await t.run(async (ctx) => {
    await ctx.db.insert("statsFacetStatus", { workosOrgId: org, entity: "loads", exact: true });
    const row = await ctx.db
      .query("organizationStats")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org).eq("entity", "loads"))
      .first();
    if (row !== null) await ctx.db.patch("organizationStats", row._id, { facetsExact: true });
  });
  return docs.length;
}

const DAY_MS = 86_400_000;
/** First pickup day of `facetedFields` (2020-01-01 UTC) and the number of days its pickups spread over (6 years). */
export const FACETED_FROM = Date.UTC(2020, 0, 1);
export const FACETED_DAYS = 2_192;

/**
 * The facet fields of test load `i` over `lanes`: a lane (none for 1 in 7),
 * one of `customers` customers (none for 1 in 11) and a pickup at noon UTC on
 * a day spread over 2020..2025 (none for 1 in 13); `future` moves pickups
 * after `future` ms (so the cleanup never expires them).
 */
export function facetedFields(
  i: number,
  lanes: readonly Id<"lanes">[],
  options: { customers?: number; future?: number } = {},
): Pick<Doc<"loads">, "laneId" | "customerId" | "pickupAt"> {
  const out: Pick<Doc<"loads">, "laneId" | "customerId" | "pickupAt"> = {};
  if (lanes.length > 0 && i % 7 !== 3) out.laneId = lanes[i % lanes.length];
  if (i % 11 !== 5)
    out.customerId = `CUST-${String(i % (options.customers ?? 20)).padStart(3, "0")}`;
  // Undated: absent (seedOrg drops fields set to undefined rather than default them).
  out.pickupAt =
    i % 13 === 7
      ? undefined
      : (options.future ?? FACETED_FROM) + ((i * 7_919) % FACETED_DAYS) * DAY_MS + DAY_MS / 2;
  return out;
}

/**
 * The facet documents `loads` count in, the oracle's way: per pickup year the
 * org's, the lane's and the customer's year documents; the lane's and the
 * customer's all-time documents.
 */
export function facetDocumentsOf(loads: readonly Partial<Doc<"loads">>[]): Set<string> {
  const keys = new Set<string>();
  for (const load of loads) {
    const day = utcDay(load.pickupAt);
    const year = day === null ? null : String(Math.floor(day / 10_000));
    if (year !== null) keys.add(`||${year}`);
    for (const [facet, value] of [
      ["laneId", load.laneId],
      ["customerId", load.customerId],
    ] as const) {
      if (value === undefined) continue;
      keys.add(`${facet}|${value}|all`);
      if (year !== null) keys.add(`${facet}|${value}|${year}`);
    }
  }
  return keys;
}
