/**
 * Filtered badges (issue 20, docs/filtered-counts.md): load counts by lane,
 * by customer and by pickup-day range, kept in the same transaction as every
 * load write, read in at most 8 documents, covered by the recount (seeding,
 * drift reports per cell, repairs) and refusing bad input before reading
 * anything unbounded. Document costs per range are in tests/io.test.ts; the
 * random interleavings in tests/filtered.property.test.ts.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { LOAD_STATUSES } from "../convex/model/enums";
import { defineCountedTables } from "../convex/model/stats/declare";
import { dayOf, dayRangeOf, yearsOf } from "../convex/model/stats/facets/dates";
import {
  applyDelta,
  decodeCells,
  deltaOfContent,
  encodeCells,
} from "../convex/model/stats/facets/keys";
import { readFilteredCounts } from "../convex/model/stats/read";
import { markOrgStatsDeleted } from "../convex/model/stats/engine";
import { entityIn } from "../convex/model/stats/entities";
import { filterOf, type FilterArgs } from "../convex/model/stats/facets/query";
import { STATS } from "../convex/model/statsConfig";
import {
  countedRun,
  countUnder,
  filteredTruth,
  orgLoads,
  type TestFilter,
} from "./support/counted";
import { loggingReader } from "./support/readSet";
import { quietLogs, recountByPages } from "./support/recount";
import { runRecountWork } from "./support/scheduled";
import {
  type Backend,
  ATLANTA,
  DALLAS,
  errorCode,
  expectCountersExact,
  histogram,
  insertRawLane,
  member,
  newBackend,
  ORG_A,
  ORG_B,
  rawLoad,
} from "./support/setup";

const DAY = 86_400_000;
const at = (y: number, m: number, d: number, h = 12) => Date.UTC(y, m - 1, d, h);

beforeEach(() => {
  quietLogs();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function badge(t: Backend, org: string, filter: TestFilter) {
  return await member(t, org).query(api.loads.countLoadsByStatusFilteredDetailed, {
    workosOrgId: org,
    ...filter,
  });
}

/** Every filter of a small world: each facet value (and none) with each range (and none). */
function filtersOf(lanes: readonly string[], customers: readonly string[]): TestFilter[] {
  const ranges: TestFilter[] = [
    {},
    { startDate: "2024-01-01", endDate: "2024-12-31" },
    { startDate: "2023-12-31", endDate: "2024-01-01" },
    { startDate: "2024-06-03", endDate: "2024-06-03" },
    { startDate: "2020-12-31", endDate: "2025-12-30" },
  ];
  const facets: TestFilter[] = [
    {},
    ...lanes.map((laneId) => ({ laneId })),
    ...customers.map((customerId) => ({ customerId })),
  ];
  return facets.flatMap((f) => ranges.map((r) => ({ ...f, ...r })));
}

/** Asserts every filtered answer of `org` is exact and equals a from-scratch count. */
async function expectFilteredExact(t: Backend, org: string, filters: TestFilter[]) {
  const loads = await orgLoads(t, org);
  for (const filter of filters) {
    const answer = await badge(t, org, filter);
    expect(answer.counts, JSON.stringify(filter)).toEqual(countUnder(loads, filter));
    expect(answer.state, JSON.stringify(filter)).toBe("exact");
  }
}

async function createLoad(
  t: Backend,
  org: string,
  id: string,
  extra: { customerId?: string; pickupAt?: number } = {},
) {
  const { loadId } = await member(t, org).mutation(api.loads.createLoad, {
    workosOrgId: org,
    externalLoadId: id,
    origin: DALLAS,
    destination: ATLANTA,
    ...extra,
  });
  return loadId;
}

describe("the write path moves loads between the right cells", () => {
  test("status, lane, customer and pickup changes, deletes and moves across years", async () => {
    const t = newBackend();
    const laneA = await insertRawLane(t);
    const laneB = await insertRawLane(t, { destination: { city: "Austin", state: "TX" } });
    const filters = filtersOf([laneA, laneB], ["C1", "C2", "C-none"]);
    // Created through the app: priced by lane A (Dallas → Atlanta).
    const l1 = await createLoad(t, ORG_A, "L1", { customerId: "C1", pickupAt: at(2024, 6, 3) });
    const l2 = await createLoad(t, ORG_A, "L2", { customerId: "C2", pickupAt: at(2023, 12, 31) });
    const l3 = await createLoad(t, ORG_A, "L3");
    await createLoad(t, ORG_B, "B1", { customerId: "C1", pickupAt: at(2024, 6, 3) });
    expect((await t.run((ctx) => ctx.db.get("loads", l1)))?.laneId).toBe(laneA);
    await expectFilteredExact(t, ORG_A, filters);

    const edits: [Id<"loads">, Partial<Doc<"loads">>][] = [
      [l1, { status: "Assigned" }],
      [l1, { laneId: laneB }],
      [l2, { customerId: "C1" }],
      [l2, { pickupAt: at(2024, 1, 1, 0) }],
      [l3, { pickupAt: at(2025, 12, 30), customerId: "C2", laneId: laneB }],
      [l1, { pickupAt: undefined, customerId: undefined }],
      [l2, { laneId: undefined, status: "Canceled" }],
      // Last millisecond of a year, then the first of the next.
      [l3, { pickupAt: Date.UTC(2023, 11, 31, 23, 59, 59, 999) }],
      [l3, { pickupAt: Date.UTC(2024, 0, 1) }],
    ];
    for (const [id, patch] of edits) {
      await countedRun(t, async (ctx) => await ctx.db.patch("loads", id, patch));
      await expectFilteredExact(t, ORG_A, filters);
    }
    await member(t, ORG_A).mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId: l3 });
    await expectFilteredExact(t, ORG_A, filters);
    await expectCountersExact(t, ORG_A);
    // Facets are per org: ORG_B's customer C1 is not ORG_A's.
    await expectFilteredExact(t, ORG_B, filtersOf([], ["C1"]));
  });

  test("no filter is the org-wide answer: one document, the stats row", async () => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L1", { pickupAt: at(2024, 6, 3) });
    const flat = await member(t, ORG_A).query(api.loads.countLoadsByStatusFiltered, {
      workosOrgId: ORG_A,
    });
    const orgWide = await member(t, ORG_A).query(api.loads.countLoadsByStatus, {
      workosOrgId: ORG_A,
    });
    expect(flat).toEqual(orgWide);
    expect(flat).toEqual({ Open: 1, Assigned: 0, Delivered: 0, Canceled: 0, Expired: 0 });
    const measured = await t.query(async (ctx) => {
      const before = await ctx.meta.getTransactionMetrics();
      const def = entityIn(STATS.entities, "loads");
      await readFilteredCounts(ctx, STATS, def, ORG_A, { facet: null, range: null });
      return (
        (await ctx.meta.getTransactionMetrics()).documentsRead.used - before.documentsRead.used
      );
    });
    expect(measured).toBe(1);
  });

  test("the flat answer uses the badge labels (Completed shows as Delivered)", async () => {
    const t = newBackend();
    const lane = await insertRawLane(t);
    const id = await createLoad(t, ORG_A, "L1", { pickupAt: at(2024, 6, 3) });
    for (const status of ["Assigned", "Completed"] as const) {
      await member(t, ORG_A).mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId: id,
        status,
      });
    }
    const flat = await member(t, ORG_A).query(api.loads.countLoadsByStatusFiltered, {
      workosOrgId: ORG_A,
      laneId: lane,
      startDate: "2024-06-01",
      endDate: "2024-06-30",
    });
    expect(flat).toEqual({ Open: 0, Assigned: 0, Delivered: 1, Canceled: 0, Expired: 0 });
  });
});

describe("bad input gets a clear error and reads nothing unbounded", () => {
  /** The error code of a filtered query and the documents it read before failing. */
  async function refusal(t: Backend, args: Record<string, string>) {
    return await member(t, ORG_A).query(async (ctx) => {
      const before = await ctx.meta.getTransactionMetrics();
      const code = await errorCode(
        ctx.runQuery(api.loads.countLoadsByStatusFilteredDetailed, {
          workosOrgId: ORG_A,
          ...args,
        }),
      );
      const after = await ctx.meta.getTransactionMetrics();
      return { code, reads: after.documentsRead.used - before.documentsRead.used };
    });
  }

  test.each([
    ["a malformed date", { startDate: "2024-1-01", endDate: "2024-01-31" }],
    ["a month that does not exist", { startDate: "2024-13-01", endDate: "2024-13-02" }],
    ["a day that does not exist", { startDate: "2023-02-29", endDate: "2023-03-01" }],
    ["a date with a time", { startDate: "2024-01-01T00:00", endDate: "2024-01-02" }],
    ["a reversed range", { startDate: "2024-02-01", endDate: "2024-01-31" }],
    ["a start date only", { startDate: "2024-02-01" }],
    ["an end date only", { endDate: "2024-02-01" }],
    ["a range of 5 calendar years", { startDate: "2020-03-01", endDate: "2025-03-01" }],
    ["a range past 5 years", { startDate: "2001-01-01", endDate: "2024-01-01" }],
    ["both facets", { laneId: "x", customerId: "C1" }],
    ["an empty customer id", { customerId: "" }],
    ["an untrimmed customer id", { customerId: " C1" }],
    ["a customer id too long", { customerId: "C".repeat(129) }],
  ])("%s: INVALID_ARGUMENT, no document read", async (_, args) => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L1", { customerId: "C1", pickupAt: at(2024, 6, 3) });
    expect(await refusal(t, args)).toEqual({ code: "INVALID_ARGUMENT", reads: 0 });
  });

  test("the longest range is accepted: 5 years less a day", async () => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L1", { pickupAt: at(2025, 2, 28) });
    const answer = await badge(t, ORG_A, { startDate: "2020-03-01", endDate: "2025-02-28" });
    expect(answer).toMatchObject({ state: "exact", total: 1 });
  });

  test("a lane that is malformed, unknown or another org's: NOT_FOUND after one read at most", async () => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L1", { pickupAt: at(2024, 6, 3) });
    const other = await insertRawLane(t, { workosOrgId: ORG_B });
    const gone = await insertRawLane(t);
    await t.run((ctx) => ctx.db.delete("lanes", gone));
    for (const laneId of ["not-a-lane-id", other, gone, "C1"]) {
      const refused = await refusal(t, { laneId });
      expect(refused.code, laneId).toBe("NOT_FOUND");
      expect(refused.reads, laneId).toBeLessThanOrEqual(1);
    }
  });

  test("another org's member is refused; a deleted org is refused", async () => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L1", { customerId: "C1", pickupAt: at(2024, 6, 3) });
    expect(
      await errorCode(
        member(t, ORG_B).query(api.loads.countLoadsByStatusFiltered, {
          workosOrgId: ORG_A,
          customerId: "C1",
        }),
      ),
    ).toBe("ORG_MISMATCH");
    // Deleted: the facet status carries the mark filtered badges read.
    await t.run(async (ctx) => {
      await markOrgStatsDeleted(ctx, STATS, ORG_A);
    });
    for (const filter of [
      { customerId: "C1" },
      { startDate: "2024-06-01", endDate: "2024-06-30" },
    ]) {
      expect(await errorCode(badge(t, ORG_A, filter))).toBe("ORG_DELETED");
    }
    // An org deleted before facet statuses existed: the mark is on its row only.
    await t.run(async (ctx) => {
      for (const doc of await ctx.db.query("statsFacetStatus").collect()) {
        await ctx.db.delete("statsFacetStatus", doc._id);
      }
    });
    expect(await errorCode(badge(t, ORG_A, { customerId: "C1" }))).toBe("ORG_DELETED");
  });
});

describe("a table's declaration", () => {
  const base = {
    orgField: "workosOrgId",
    statusField: "status",
    statuses: ["Open", "Done"],
    orgIndex: "by_org",
  } as const;
  test.each([
    [
      "facets with an amount field",
      { ...base, amountField: "cents", facets: { laneId: "laneId" } },
    ],
    ["a reserved facet name", { ...base, facets: { startDate: "pickupDay" } }],
    ["a facet name that is no field name", { ...base, facets: { "lane-id": "laneId" } }],
    ["two facets on one field", { ...base, facets: { a: "laneId", b: "laneId" } }],
    [
      "a time zone the runtime does not know",
      { ...base, dateField: { field: "at", timeZone: "Mars/Olympus" } },
    ],
  ])("refuses %s", (_, decl) => {
    expect(() => defineCountedTables({ things: decl })).toThrow(/\[stats\.declare\] things/);
  });

  test("accepts a date field alone, facets alone, and an IANA time zone", () => {
    expect(() =>
      defineCountedTables({
        a: { ...base, dateField: { field: "at" } },
        b: { ...base, facets: { loadType: "loadType" } },
        c: { ...base, dateField: { field: "at", timeZone: "America/Chicago" } },
      }),
    ).not.toThrow();
  });
});

describe("days", () => {
  test("a timestamp's day in UTC and in a declared time zone", () => {
    const ms = Date.UTC(2024, 0, 1, 3, 30);
    expect(dayOf(ms, "UTC")).toBe(20240101);
    expect(dayOf(ms, "America/Chicago")).toBe(20231231);
    expect(dayOf(Date.UTC(2024, 1, 29, 23), "Asia/Tokyo")).toBe(20240301);
    for (const bad of [Number.NaN, Infinity, -Infinity, "1", null, undefined, 8.7e15]) {
      expect(dayOf(bad, "UTC")).toBeNull();
    }
    // Years before 1000 are undated (periods are 4 digits).
    expect(dayOf(Date.UTC(999, 11, 31), "UTC")).toBeNull();
    expect(dayOf(Date.UTC(1000, 0, 1), "UTC")).toBe(10000101);
  });

  test("a range splits into at most 6 years, whole years marked", () => {
    const range = dayRangeOf("2020-12-31", "2025-12-30");
    expect(range).not.toBeNull();
    const years = yearsOf(range!);
    expect(years.map((y) => [y.period, y.whole, y.from, y.to])).toEqual([
      ["2020", false, "1231", "1231"],
      ["2021", true, "0101", "1231"],
      ["2022", true, "0101", "1231"],
      ["2023", true, "0101", "1231"],
      ["2024", true, "0101", "1231"],
      ["2025", false, "0101", "1230"],
    ]);
    expect(dayRangeOf(undefined, undefined)).toBeNull();
  });

  test("cells pack into one string and back (trailing zeros dropped, negatives kept)", () => {
    const cells = { "0603": [1, 0, 2, 0, 0], "0101": [0, 0, 0, 0, 3], "1231": [-1, 4, 0, 0, 0] };
    const text = encodeCells(cells);
    expect(text).toBe("0101=,,,,3;0603=1,,2;1231=-1,4");
    const back = decodeCells(text);
    expect(back).toEqual({ "0101": [0, 0, 0, 0, 3], "0603": [1, 0, 2], "1231": [-1, 4] });
    // Decoded rows are read as 5 numbers (the missing ones 0).
    const content = applyDelta(null, deltaOfContent({ days: back }), 5);
    expect(content?.days).toEqual({
      "0101": [0, 0, 0, 0, 3],
      "0603": [1, 0, 2, 0, 0],
      "1231": [-1, 4, 0, 0, 0],
    });
    expect(decodeCells("")).toEqual({});
  });

  test("one facet at a time; the check reads nothing", () => {
    const def = entityIn(STATS.entities, "loads");
    const args: FilterArgs = { laneId: "L", startDate: "2024-01-01", endDate: "2024-01-31" };
    expect(filterOf(def, args)).toEqual({
      facet: { name: "laneId", value: "L" },
      range: { start: 20240101, end: 20240131 },
    });
    expect(() => filterOf(def, { laneId: "L", customerId: "C" })).toThrow();
  });
});

/**
 * An org from before the filtered counters: loads written raw (lanes,
 * customers, pickups), exact stats rows, no facet documents or status.
 */
async function preFeatureOrg(t: Backend, org: string, n: number, lanes: Id<"lanes">[]) {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) {
      await ctx.db.insert(
        "loads",
        rawLoad({
          workosOrgId: org,
          externalLoadId: `PRE-${i}`,
          status: LOAD_STATUSES[i % LOAD_STATUSES.length],
          ...(i % 4 === 3 ? {} : { laneId: lanes[i % lanes.length] }),
          ...(i % 5 === 4 ? {} : { customerId: `C${i % 3}` }),
          ...(i % 6 === 5 ? {} : { pickupAt: at(2022, 1, 1) + ((i * 37) % 1_200) * DAY }),
        }),
      );
    }
  });
  const truth = await histogram(t, org);
  await t.run(async (ctx) => {
    await ctx.db.insert("organizationStats", {
      workosOrgId: org,
      entity: "loads",
      exact: true,
      seeded: true,
      recounting: false,
      counts: truth.loads,
    });
  });
}

async function facetDocs(t: Backend, org: string) {
  return await t.run((ctx) =>
    ctx.db
      .query("statsFacets")
      .withIndex("by_key", (q) => q.eq("workosOrgId", org).eq("entity", "loads"))
      .collect(),
  );
}

async function pendingRecounts(t: Backend): Promise<number> {
  return await t.run(async (ctx) => {
    let n = 0;
    for await (const job of ctx.db.system.query("_scheduled_functions")) {
      if (job.state.kind === "pending" && job.name === "stats:recalculateOrgStats") n++;
    }
    return n;
  });
}

describe("seeding the filtered counters of an org that has loads", () => {
  test("before: a bounded scan; the dry run reports them; the migration builds them, no drift", async () => {
    vi.useFakeTimers();
    const t = newBackend();
    const lanes = [await insertRawLane(t), await insertRawLane(t, { rateCents: 60_000 })];
    await preFeatureOrg(t, ORG_A, 60, lanes);
    const filters = filtersOf(lanes, ["C0", "C2"]);
    // Never built, no run: the org's first 1,000 loads scanned; a small org is seen whole.
    const scanned = await badge(t, ORG_A, { laneId: lanes[0] });
    expect(scanned).toMatchObject({ state: "exact", source: "scan" });
    expect(scanned.counts).toEqual(await filteredTruth(t, ORG_A, { laneId: lanes[0] }));
    // A counted write meanwhile: its cells go below zero in facets never built,
    // which is expected, so nothing is scheduled for it.
    const [first] = await orgLoads(t, ORG_A);
    await countedRun(
      t,
      async (ctx) => await ctx.db.patch("loads", first._id, { status: "Canceled" }),
    );
    expect(await pendingRecounts(t)).toBe(0);

    const run = internal.migrations.initializeOrgStats.run;
    const dry = await t.action(run, { dryRun: true });
    if (!dry.dryRun) throw new Error("expected a dry run");
    const before = await facetDocs(t, ORG_A);
    await runRecountWork(t);
    expect(await facetDocs(t, ORG_A)).toEqual(before);
    const report = await t.query(internal.migrations.initializeOrgStats.dryRunReport, {
      dryRunId: dry.dryRunId,
    });
    const entry = report?.report.entries.find((e) => e.entity === "loads");
    expect(entry).toMatchObject({ workosOrgId: ORG_A, action: "seed" });
    expect(entry?.facets?.differing).toBeGreaterThan(10);
    expect(entry?.facets?.rows.length).toBeGreaterThan(0);
    expect(await t.run((ctx) => ctx.db.query("statsFacetShadows").collect())).toEqual([]);

    await t.action(run, {});
    await runRecountWork(t);
    await expectFilteredExact(t, ORG_A, filters);
    await expectCountersExact(t, ORG_A);
    // Building them is seeding, not drift.
    expect(await t.query(internal.stats.listDriftReports, {})).toEqual([]);
    // A second migration leaves them alone.
    const second = await t.action(run, {});
    expect(second).toMatchObject({ dryRun: false, firstStep: { started: 0 } });
  });

  test("while the seeding runs with writes in between: the bounded scan, then exact from at most 8 documents", async () => {
    const t = newBackend({ transactionLimits: true });
    const lanes = [await insertRawLane(t), await insertRawLane(t, { rateCents: 60_000 })];
    await preFeatureOrg(t, ORG_A, 300, lanes);
    const all = await orgLoads(t, ORG_A);
    const filters = filtersOf(lanes, ["C1"]);
    const states = new Set<string>();
    let step = 0;
    const between = async () => {
      // A write to a load behind or ahead of the cursor: status, lane, customer or pickup.
      const load = all[(step * 47) % all.length];
      const patches: Partial<Doc<"loads">>[] = [
        { laneId: lanes[step % 2] },
        { customerId: `C${step % 3}` },
        { pickupAt: at(2024, 1 + (step % 12), 1 + (step % 27)) },
        { pickupAt: undefined },
      ];
      await countedRun(t, async (ctx) => await ctx.db.patch("loads", load._id, patches[step % 4]));
      step++;
      for (const filter of [
        filters[step % filters.length],
        { laneId: lanes[0], startDate: "2020-12-31", endDate: "2025-12-30" },
      ]) {
        const measured = await member(t, ORG_A).query(async (ctx) => {
          const start = await ctx.meta.getTransactionMetrics();
          const answer = await ctx.runQuery(api.loads.countLoadsByStatusFilteredDetailed, {
            workosOrgId: ORG_A,
            ...filter,
          });
          const end = await ctx.meta.getTransactionMetrics();
          return { answer, reads: end.documentsRead.used - start.documentsRead.used };
        });
        // Until the run's merge is through: the org's loads scanned (300 < 1,000:
        // all of them, so exact); from then on the facet documents.
        states.add(measured.answer.source);
        expect(measured.answer.state).toBe("exact");
        expect(measured.answer.counts).toEqual(await filteredTruth(t, ORG_A, filter));
        expect(measured.reads).toBeLessThanOrEqual(measured.answer.source === "scan" ? 300 + 3 : 8);
      }
    };
    const run = await recountByPages(t, ORG_A, { entities: ["loads"], maxDocs: 40, between });
    expect(states).toEqual(new Set(["scan", "stats"]));
    expect(run.maxDocumentsRead).toBeLessThan(16_000);
    await expectFilteredExact(t, ORG_A, filters);
    await expectCountersExact(t, ORG_A);
    expect(await t.run((ctx) => ctx.db.query("statsFacetShadows").collect())).toEqual([]);
  });
});

describe("drift in the filtered counters", () => {
  test("bypass edits of lane, customer and pickup: the daily recount reports each cell and repairs it", async () => {
    const t = newBackend();
    const laneA = await insertRawLane(t);
    const laneB = await insertRawLane(t, { destination: { city: "Austin", state: "TX" } });
    const l1 = await createLoad(t, ORG_A, "L1", { customerId: "C1", pickupAt: at(2024, 6, 3) });
    const l2 = await createLoad(t, ORG_A, "L2", { customerId: "C1", pickupAt: at(2024, 6, 4) });
    const l3 = await createLoad(t, ORG_A, "L3", { customerId: "C2", pickupAt: at(2023, 2, 1) });
    // Written around the counters (a dashboard edit).
    await t.run(async (ctx) => {
      await ctx.db.patch("loads", l1, { laneId: laneB });
      await ctx.db.patch("loads", l2, { customerId: "C2" });
      await ctx.db.patch("loads", l3, { pickupAt: at(2023, 2, 2) });
    });
    await recountByPages(t, ORG_A, { entities: ["loads"] });
    const [report] = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
    expect(report).toMatchObject({ source: "recount", entity: "loads", buckets: [] });
    const cells = (report.facetDrift?.rows ?? []).map(
      (r) => `${r.facet}|${r.value}|${r.period}|${r.cell}|${r.status}|${r.stored}>${r.actual}`,
    );
    // Every differing cell, in key order (the org's, then by facet and value).
    // L3's pickup (2023) is before lane A's effective date: it has no lane.
    expect(cells).toEqual([
      "||2023|0201|Open|1>0",
      "||2023|0202|Open|0>1",
      "customerId|C1|2024|0604|Open|1>0",
      "customerId|C1|all|2024|Open|2>1",
      "customerId|C1|all|total|Open|2>1",
      "customerId|C2|2023|0201|Open|1>0",
      "customerId|C2|2023|0202|Open|0>1",
      "customerId|C2|2024|0604|Open|0>1",
      "customerId|C2|all|2024|Open|0>1",
      "customerId|C2|all|total|Open|1>2",
      `laneId|${laneA}|2024|0603|Open|1>0`,
      `laneId|${laneA}|all|2024|Open|2>1`,
      `laneId|${laneA}|all|total|Open|2>1`,
      `laneId|${laneB}|2024|0603|Open|0>1`,
      `laneId|${laneB}|all|2024|Open|0>1`,
      `laneId|${laneB}|all|total|Open|0>1`,
    ]);
    // 11 documents (2 of the org, 5 of customers, 4 of lanes); all but the org's 2024 differ.
    expect(report.facetDrift).toMatchObject({ compared: 11, differing: 10, cells: 16 });
    expect(report.facetDrift).toMatchObject({ cells: cells.length, duplicatesRemoved: 0 });
    await expectFilteredExact(t, ORG_A, filtersOf([laneA, laneB], ["C1", "C2"]));
    // Repaired: the next run finds nothing.
    await recountByPages(t, ORG_A, { entities: ["loads"] });
    expect(await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A })).toHaveLength(1);
  });

  test("a cell seen going below zero: the badge says approximate and the repair is scheduled", async () => {
    vi.useFakeTimers();
    const t = newBackend();
    const laneA = await insertRawLane(t);
    const laneB = await insertRawLane(t, { destination: { city: "Austin", state: "TX" } });
    const l1 = await createLoad(t, ORG_A, "L1", { pickupAt: at(2024, 6, 3) });
    await t.run((ctx) => ctx.db.patch("loads", l1, { laneId: laneB }));
    // The counted write moves the load out of lane B's Open cell, which never had it.
    await member(t, ORG_A).mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId: l1,
      status: "Assigned",
    });
    const filter = { laneId: laneB, startDate: "2024-06-01", endDate: "2024-06-30" };
    expect(await badge(t, ORG_A, filter)).toMatchObject({
      state: "approximate",
      exact: false,
      counts: { Open: -1, Assigned: 1 },
    });
    expect(await pendingRecounts(t)).toBe(1);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await badge(t, ORG_A, filter)).toMatchObject({
      state: "exact",
      counts: await filteredTruth(t, ORG_A, filter),
    });
    await expectFilteredExact(t, ORG_A, filtersOf([laneA, laneB], []));
    const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
    expect(
      reports.map((r) => r.facetDrift?.differing ?? 0).reduce((a, b) => a + b, 0),
    ).toBeGreaterThan(0);
  });
});

/** What a write changed: every stats document (facets by key, others by id) that differs after it. */
async function changedBy(t: Backend, write: () => Promise<unknown>): Promise<Set<string>> {
  const snapshot = async () =>
    new Map(
      await t.run(async (ctx) => {
        const out = new Map<string, string>();
        for (const d of await ctx.db.query("statsFacets").collect()) {
          const { _id, _creationTime, ...fields } = d;
          out.set(
            `statsFacets|${d.workosOrgId}|${d.entity}|${d.facet}|${d.value}|${d.period}`,
            JSON.stringify(fields),
          );
        }
        for (const d of await ctx.db.query("statsFacetStatus").collect()) {
          out.set(`statsFacetStatus|${d.workosOrgId}|${d.entity}`, JSON.stringify(d));
        }
        for (const d of await ctx.db.query("organizationStats").collect()) {
          out.set(`organizationStats|${d.workosOrgId}|${d.entity}`, JSON.stringify(d));
        }
        return [...out];
      }),
    );
  const before = await snapshot();
  await write();
  const after = await snapshot();
  return new Set(
    [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k)),
  );
}

describe("invalidation", () => {
  test("a write to one lane's load does not re-run a badge filtered on another lane", async () => {
    const t = newBackend();
    const laneA = await insertRawLane(t);
    const laneB = await insertRawLane(t, { destination: { city: "Austin", state: "TX" } });
    const onA = await createLoad(t, ORG_A, "A1", { customerId: "C1", pickupAt: at(2024, 6, 3) });
    const onB = await createLoad(t, ORG_A, "B1", { customerId: "C2", pickupAt: at(2024, 6, 3) });
    await t.run((ctx) => ctx.db.patch("loads", onB, { laneId: laneB }));
    await recountByPages(t, ORG_A, { entities: ["loads"] });
    const def = entityIn(STATS.entities, "loads");
    const badges = {
      laneB: { laneId: laneB, startDate: "2024-06-01", endDate: "2024-06-30" },
      laneBAllTime: { laneId: laneB },
      customerC2: { customerId: "C2", startDate: "2024-01-01", endDate: "2024-12-31" },
      laneA: { laneId: laneA, startDate: "2024-06-01", endDate: "2024-06-30" },
      june: { startDate: "2024-06-01", endDate: "2024-06-30" },
    };
    const readSets = new Map<string, Set<string>>();
    const answers = async () => {
      const out: Record<string, unknown> = {};
      for (const [name, filter] of Object.entries(badges)) {
        const log = new Set<string>();
        out[name] = await t.query(async (ctx) => {
          const db = loggingReader(ctx.db, log);
          return await readFilteredCounts({ ...ctx, db }, STATS, def, ORG_A, filterOf(def, filter));
        });
        readSets.set(name, log);
      }
      return out;
    };
    const before = await answers();
    // The lane-A load changes status through the app.
    const changed = await changedBy(t, () =>
      member(t, ORG_A).mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId: onA,
        status: "Assigned",
      }),
    );
    const after = await answers();
    // The write changed the org's row, the org's year document, lane A's and C1's documents.
    expect([...changed].sort()).toEqual(
      [
        `organizationStats|${ORG_A}|loads`,
        `statsFacets|${ORG_A}|loads|||2024`,
        `statsFacets|${ORG_A}|loads|customerId|C1|2024`,
        `statsFacets|${ORG_A}|loads|customerId|C1|all`,
        `statsFacets|${ORG_A}|loads|laneId|${laneA}|2024`,
        `statsFacets|${ORG_A}|loads|laneId|${laneA}|all`,
      ].sort(),
    );
    const overlap = (name: string) => [...(readSets.get(name) ?? [])].filter((k) => changed.has(k));
    // Lane B's and customer C2's badges read none of it (nor the row): they do not re-run,
    // and their answers are unchanged.
    for (const name of ["laneB", "laneBAllTime", "customerC2"]) {
      expect(overlap(name), name).toEqual([]);
      expect([...(readSets.get(name) ?? [])].some((k) => k.startsWith("organizationStats"))).toBe(
        false,
      );
      expect(after[name], name).toEqual(before[name]);
    }
    expect(readSets.get("laneB")).toEqual(
      new Set([
        `statsFacetStatus|${ORG_A}|loads`,
        `statsFacets|${ORG_A}|loads|laneId|${laneB}|2024`,
      ]),
    );
    // Lane A's badge and the org's June badge read what changed: they re-run, with new numbers.
    expect(overlap("laneA")).toEqual([`statsFacets|${ORG_A}|loads|laneId|${laneA}|2024`]);
    expect(overlap("june")).toEqual([`statsFacets|${ORG_A}|loads|||2024`]);
    expect(after.laneA).not.toEqual(before.laneA);
    expect(after.june).not.toEqual(before.june);
  });
});
