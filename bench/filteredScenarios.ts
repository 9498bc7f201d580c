/**
 * The filtered badges' scenarios (issue 20, docs/filtered-counts.md), run
 * against every world after the others:
 * - `filtered badge, <range>`: the documents and bytes a filtered badge reads
 *   for a day, a month, a year, 5 years and no range, per facet (none, a
 *   lane, a customer), each checked against a from-scratch count; next to
 *   counting by a scan of the org's loads (which fails where it does);
 * - `filtered badge, rebuild from source`: one rebuild of the eventually
 *   exact cache the issue describes (every load of the org read, in pages),
 *   and what that is per org-day at its cadence;
 * - `filtered write cost`: a status change, a status change of 500 loads and
 *   a FourKites import batch, filters on (the app's declaration) next to
 *   filters off (the same tables without facets or date field).
 */
import type { Doc, Id } from "../convex/_generated/dataModel";
import { api } from "../convex/_generated/api";
import { LOAD_STATUSES } from "../convex/model/enums";
import { countsEqual } from "../convex/model/stats/counters";
import { countUnder, facetDocumentsOf, type TestFilter } from "../tests/support/counted";
import {
  fmtBytes,
  fmtInt,
  measureMutationRolledBack,
  measureMutationToLimit,
  measureQueryToLimit,
  sumIo,
  type Io,
  type Measurement,
} from "../tests/support/measure";
import { member } from "../tests/support/setup";
import { generateShipments } from "../tests/support/shipments";
import { benchApi, benchInternal } from "./backend";
import { REBUILD_WINDOW_DAYS } from "./functions/filtered";
import { rowOf, seriesRowOf, type Budget, type Result } from "./lib";
import { SIZES, type Scenario } from "./scenarios";
import type { World } from "./world";

/** The ranges, and a badge without one. */
const RANGES: Record<string, { startDate?: string; endDate?: string }> = {
  "a day": { startDate: "2023-06-15", endDate: "2023-06-15" },
  "a month": { startDate: "2023-06-01", endDate: "2023-06-30" },
  "a year": { startDate: "2023-01-01", endDate: "2023-12-31" },
  "5 years": { startDate: "2020-12-31", endDate: "2025-12-30" },
  "no range": {},
};

const FILTERED_BADGE: Budget = {
  text: "≤ 8 documents, exact (issue 20)",
  max: { documentsRead: 8 },
};

/** Loads per transaction when reading the whole org (truth, rebuild). */
const PAGE = 5_000;

/** Every load of the world's org (the fields a filter looks at), page by page. */
async function worldLoads(world: World): Promise<Partial<Doc<"loads">>[]> {
  const out: Partial<Doc<"loads">>[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: { loads: Partial<Doc<"loads">>[]; isDone: boolean; cursor: string } =
      await world.t.run(async (ctx) => {
        const p = await ctx.db
          .query("loads")
          .withIndex("by_org", (q) => q.eq("workosOrgId", world.org))
          .paginate({ cursor, numItems: PAGE });
        return {
          loads: p.page.map(({ status, laneId, customerId, pickupAt }) => ({
            status,
            laneId,
            customerId,
            pickupAt,
          })),
          isDone: p.isDone,
          cursor: p.continueCursor,
        };
      });
    out.push(...page.loads);
    if (page.isDone) return out;
    cursor = page.cursor;
  }
}

/** The filtered badges: for each range, per facet, and the scan next to them. */
const filteredBadges: Scenario = {
  name: "filtered badges",
  sizes: SIZES.budgets,
  run: async (world) => {
    const { t, org, size } = world;
    const loads = await worldLoads(world);
    const facets: Record<string, TestFilter> = {
      "no facet": {},
      lane: { laneId: world.lanes[1] },
      customer: { customerId: "CUST-007" },
    };
    const out: Result[] = [];
    for (const [rangeName, range] of Object.entries(RANGES)) {
      const scenario = `filtered badge, ${rangeName}`;
      for (const [facetName, facet] of Object.entries(facets)) {
        const filter = { ...facet, ...range };
        if (Object.keys(filter).length === 0) continue;
        const m = await measureQueryToLimit(
          member(t, org),
          api.loads.countLoadsByStatusFilteredDetailed,
          { workosOrgId: org, ...filter },
        );
        if (!m.ok) throw new Error(`the filtered badge failed: ${m.error}`);
        const truth = countUnder(loads, filter);
        const exact =
          m.result.state === "exact" && countsEqual(LOAD_STATUSES, m.result.counts, truth);
        if (!exact) {
          throw new Error(
            `${scenario}, ${facetName}: ${m.result.state} ${JSON.stringify(m.result.counts)}, ` +
              `not the from-scratch ${JSON.stringify(truth)}`,
          );
        }
        out.push(
          rowOf({ scenario, implementation: "stats", size }, m, {
            budget: FILTERED_BADGE,
            note: `${facetName}: ${fmtInt(m.result.total)} loads`,
          }),
        );
      }
      const filter = { ...facets.lane, ...range };
      const scan = await measureQueryToLimit(t, benchApi.benchFiltered.scanFiltered, {
        workosOrgId: org,
        ...filter,
      });
      if (scan.ok && !countsEqual(LOAD_STATUSES, scan.result, countUnder(loads, filter))) {
        throw new Error(`${scenario}: the scan disagrees`);
      }
      out.push(rowOf({ scenario, implementation: "scan", size }, scan, { note: "lane" }));
    }
    return out;
  },
};

/**
 * One rebuild of the rebuild-from-source cache, measured per world: its
 * reads (and its rows, counted), for the org day's comparison.
 */
export const REBUILDS = new Map<number, { io: Io; rows: number }>();

/** Rebuilds per org-day: the org day's profile (a change in each of 96 slots), a busy org (every minute). */
export const REBUILDS_PER_DAY = { orgDay: 96, busy: 1_440 } as const;

/** The rebuild-from-source design: every load of the org read, the cache's rows counted. */
const rebuild: Scenario = {
  name: "filtered badge, rebuild from source",
  sizes: SIZES.budgets,
  run: async (world) => {
    const { t, org, size } = world;
    const windowStart = Number(
      new Date(Date.now() - REBUILD_WINDOW_DAYS * 86_400_000)
        .toISOString()
        .slice(0, 10)
        .replaceAll("-", ""),
    );
    const series: Measurement<unknown>[] = [];
    const rows = new Set<string>();
    let cursor: string | null = null;
    for (;;) {
      const m: Measurement<{ rows: string[]; isDone: boolean; continueCursor: string }> =
        await measureQueryToLimit(t, benchApi.benchFiltered.rebuildPage, {
          workosOrgId: org,
          cursor,
          numItems: 2_000,
          windowStart,
        });
      series.push(m);
      if (!m.ok) break;
      for (const r of m.result.rows) rows.add(r);
      if (m.result.isDone) break;
      cursor = m.result.continueCursor;
    }
    const io = sumIo(series.map((m) => m.io));
    REBUILDS.set(size, { io, rows: rows.size });
    const perDay = (n: number) =>
      `${fmtInt(n)} rebuilds: ${fmtInt(n * io.documentsRead)} documents, ${fmtBytes(n * io.bytesRead)} read`;
    return [
      seriesRowOf(
        { scenario: "filtered badge, rebuild from source", implementation: "rebuild", size },
        series,
        {
          note:
            `one rebuild reads every load (pages of 2,000) and rewrites ${fmtInt(rows.size)} cache rows ` +
            `(counted, not written here); per org-day, ${perDay(REBUILDS_PER_DAY.orgDay)} at the org ` +
            `day's cadence (a change every 15 minutes), ${perDay(REBUILDS_PER_DAY.busy)} for a busy org ` +
            `(a change every minute). The module: no rebuild; its daily recount reads each load once`,
        },
      ),
    ];
  },
};

/** The first `n` loads of the world that may be canceled (Open, Assigned, Expired). */
function cancelable(world: World, n: number): Id<"loads">[] {
  // Statuses cycle Open, Assigned, Completed, Canceled, Expired (seedOrg).
  return world.loadIds.filter((_, i) => [0, 1, 4].includes(i % 5)).slice(0, n);
}

/** Write cost, filters on vs off: a status change, a status change of 500 loads, an import batch. */
const writeCost: Scenario = {
  name: "filtered write cost",
  sizes: SIZES.budgets,
  run: async (world) => {
    const { t, org, size } = world;
    const scenario = "filtered write cost";
    const out: Result[] = [];
    const loadsOf = async (ids: Id<"loads">[]) =>
      await t.run(async (ctx) => {
        const docs = [];
        for (const id of ids) {
          const d = await ctx.db.get("loads", id);
          if (d !== null) docs.push(d);
        }
        return docs;
      });
    /** Filters off (rolled back), then on; `facetDocuments` from what the on-run changed. */
    const pair = async <R>(
      what: string,
      on: () => Promise<Measurement<R>>,
      off: () => Promise<Measurement<unknown>>,
      facetDocuments: (onResult: R | null) => Promise<number>,
      offBudget?: Budget,
    ) => {
      const measuredOff = await off();
      const measuredOn = await on();
      const documents = await facetDocuments(measuredOn.ok ? measuredOn.result : null);
      out.push(
        rowOf(
          { scenario: `${scenario}: ${what}, filters off`, implementation: "stats", size },
          measuredOff,
          {
            ...(offBudget === undefined ? {} : { budget: offBudget }),
            note: "the same tables declared without facets or date field; rolled back",
          },
        ),
      );
      const budget: Budget = {
        text: "filters on: filters off + at most 2 reads and 1 write per facet document",
        max: {
          documentsRead: measuredOff.io.documentsRead + 2 * documents,
          documentsWritten: measuredOff.io.documentsWritten + documents,
        },
      };
      const extraBytes = measuredOn.io.bytesWritten - measuredOff.io.bytesWritten;
      out.push(
        rowOf(
          { scenario: `${scenario}: ${what}, filters on`, implementation: "stats", size },
          measuredOn,
          {
            budget,
            note: `${fmtInt(documents)} facet documents; +${fmtBytes(extraBytes)} written`,
          },
        ),
      );
    };

    const statusArgs = (ids: Id<"loads">[]) => ({
      workosOrgId: org,
      loadIds: ids,
      status: "Canceled" as const,
    });
    const touched = async (ids: Id<"loads">[]) => facetDocumentsOf(await loadsOf(ids)).size;
    const one = [world.loadIds[5 * 150]];
    await pair(
      "status change",
      () =>
        measureMutationRolledBack(t, benchInternal.benchFiltered.loadStatusesOn, statusArgs(one)),
      () =>
        measureMutationRolledBack(t, benchInternal.benchFiltered.loadStatusesOff, statusArgs(one)),
      async () => await touched(one),
      { text: "≤ 4 read, ≤ 2 written", max: { documentsRead: 4, documentsWritten: 2 } },
    );
    const bulk = cancelable(world, 500);
    await pair(
      `${fmtInt(bulk.length)} load status changes`,
      () =>
        measureMutationRolledBack(t, benchInternal.benchFiltered.loadStatusesOn, statusArgs(bulk)),
      () =>
        measureMutationRolledBack(t, benchInternal.benchFiltered.loadStatusesOff, statusArgs(bulk)),
      async () => await touched(bulk),
      bulk.length === 500
        ? {
            text: "≤ 1,010 read, ≤ 505 written",
            max: { documentsRead: 1_010, documentsWritten: 505 },
          }
        : undefined,
    );
    // An import batch of new shipments; the filters-on run is kept (100 more loads).
    const shipments = generateShipments(
      { prefix: "FW", idBase: 8_000_000, seed: 20, now: Date.UTC(2025, 5, 1) },
      100,
    ).map((s) => JSON.stringify(s));
    const importArgs = { workosOrgId: org, shipments };
    await pair(
      "import batch of 100",
      () => measureMutationToLimit(t, benchInternal.benchFiltered.importOn, importArgs),
      () => measureMutationRolledBack(t, benchInternal.benchFiltered.importOff, importArgs),
      async (created) => await touched(created ?? []),
    );
    return out;
  },
};

export const FILTERED_SCENARIOS: Scenario[] = [filteredBadges, rebuild, writeCost];
