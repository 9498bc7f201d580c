/**
 * The exact recount: the page scanner (tie groups, budget), exact: false
 * until the swap, drift reports and repair, reads per page, one run per row,
 * deleted orgs, repair after a negative counter, and the daily walk.
 */
import type { TransactionMetrics } from "convex/server";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import crons from "../convex/crons";
import { FALLBACK_SCAN_LIMIT } from "../convex/model/stats/read";
import {
  budgetFromMetrics,
  MAX_CHECK_INTERVAL,
  scanPage,
  type BudgetCheck,
} from "../convex/model/stats/scan";
import { defined, insertRawDocuments, quietLogs, recountByPages } from "./support/recount";
import {
  type Backend,
  biller,
  errorCode,
  expectCountersExact,
  histogram,
  newBackend,
  ORG_A,
  ORG_B,
  lastRecounts,
  recountStates,
  storedCounters,
  DALLAS,
  ATLANTA,
} from "./support/setup";

/** Creates a mapped load (and optionally its DRAFT invoice) through the real mutations. */
async function createLoad(
  t: Backend,
  org: string,
  externalLoadId: string,
  amountCents?: number,
): Promise<{ loadId: Id<"loads">; invoiceId: Id<"invoices"> | null }> {
  const who = biller(t, org);
  const created = await who.mutation(api.loads.createLoad, {
    workosOrgId: org,
    externalLoadId,
    origin: DALLAS,
    destination: ATLANTA,
  });
  const { loadId } = created;
  // Manual invoices need a mapped load; the load type is not counted.
  await t.run((ctx) => ctx.db.patch("loads", loadId, { loadType: "CONTRACT" }));
  if (amountCents === undefined) return { loadId, invoiceId: null };
  // Replace the unpriced invoice the load was created with.
  await who.mutation(api.invoices.bulkVoidInvoices, {
    workosOrgId: org,
    invoiceIds: [created.invoiceId],
  });
  const { invoiceId } = await who.mutation(api.invoices.createInvoice, {
    workosOrgId: org,
    loadId,
    amountCents,
  });
  return { loadId, invoiceId };
}

function metrics(documentsRead: number, bytesRead: number): TransactionMetrics {
  const metric = (used: number, limit: number) => ({ used, remaining: limit - used });
  return {
    documentsRead: metric(documentsRead, 32_000),
    bytesRead: metric(bytesRead, 16 * 1024 * 1024),
    bytesWritten: metric(0, 16 * 1024 * 1024),
    databaseQueries: metric(1, 4096),
    documentsWritten: metric(0, 16_000),
    functionsScheduled: metric(0, 1000),
    scheduledFunctionArgsBytes: metric(0, 16 * 1024 * 1024),
    filesWritten: metric(0, 10),
    fileWriteBytes: metric(0, 16 * 1024 * 1024),
    filesRead: metric(0, 10),
    fileReadBytes: metric(0, 16 * 1024 * 1024),
  };
}

async function* docsAt(times: number[]) {
  for (const t of times) yield { _creationTime: t };
}

describe("recount page scan", () => {
  const never: () => Promise<BudgetCheck> = async () => ({
    soft: false,
    hard: false,
    nextCheckIn: MAX_CHECK_INTERVAL,
  });

  test("a page never splits documents that share a _creationTime", async () => {
    const seen: number[] = [];
    const scan = await scanPage(docsAt([1, 2, 2, 2, 3, 4]), (d) => seen.push(d._creationTime), {
      maxDocs: 2,
      check: never,
    });
    expect(seen).toEqual([1, 2, 2, 2]);
    expect(scan).toEqual({ counted: 4, lastCreationTime: 2, exhausted: false, lookahead: 1 });
  });

  test("the range ending inside the tie group ends the recount", async () => {
    const scan = await scanPage(docsAt([1, 2, 2]), () => {}, { maxDocs: 2, check: never });
    expect(scan).toEqual({ counted: 3, lastCreationTime: 2, exhausted: true, lookahead: 0 });
    const empty = await scanPage(docsAt([]), () => {}, { maxDocs: 2, check: never });
    expect(empty).toEqual({ counted: 0, lastCreationTime: null, exhausted: true, lookahead: 0 });
  });

  test("the page stops when the budget check says so", async () => {
    let checks = 0;
    const times = Array.from({ length: 5000 }, (_, i) => i + 1);
    const scan = await scanPage(docsAt(times), () => {}, {
      maxDocs: Number.MAX_SAFE_INTEGER,
      check: async () => {
        checks++;
        return { soft: checks === 3, hard: false, nextCheckIn: 100 };
      },
    });
    // First check after 64 documents, then every 100.
    expect(scan).toMatchObject({ counted: 264, lastCreationTime: 264, exhausted: false });
  });

  test("a tie group too large for one page fails loudly", async () => {
    const times = [...Array.from({ length: 300 }, () => 1), 2];
    const check = async () => ({ soft: true, hard: true, nextCheckIn: 1 });
    await expect(scanPage(docsAt(times), () => {}, { maxDocs: 1, check })).rejects.toThrow(
      /share _creationTime/,
    );
  });

  test("budget: stop at 40% of the documents or bytes limit; check more often near it", () => {
    expect(budgetFromMetrics(metrics(0, 0))).toEqual({
      soft: false,
      hard: false,
      nextCheckIn: MAX_CHECK_INTERVAL,
    });
    // 1 KB documents: 6,000 read (6 MB) of a 6.7 MB soft budget.
    const near = budgetFromMetrics(metrics(6000, 6000 * 1024));
    expect(near.soft).toBe(false);
    expect(near.nextCheckIn).toBeLessThan(400);
    expect(budgetFromMetrics(metrics(6600, 6600 * 1024)).soft).toBe(true);
    expect(budgetFromMetrics(metrics(12_800, 12_800 * 10)).soft).toBe(true);
    expect(budgetFromMetrics(metrics(16_000, 0)).hard).toBe(true);
  });
});

describe("recount", () => {
  beforeEach(quietLogs);
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  test("an org with data from before the counters answers exact: false until its recount swaps", async () => {
    const t = newBackend();
    await insertRawDocuments(t, ORG_A, { loads: FALLBACK_SCAN_LIMIT + 50, withInvoices: false });
    // A live write creates the row; the org had data, so the row is not exact.
    await createLoad(t, ORG_A, "LIVE-1");
    const { loads } = await storedCounters(t, ORG_A);
    expect(loads).toMatchObject({ exact: false });
    const member = biller(t, ORG_A);
    const count = () => member.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A });
    expect(await count()).toMatchObject({ exact: false, source: "scan" });

    const pagesSeen: Array<{ exact: boolean; source: string; state: string }> = [];
    const run = await recountByPages(t, ORG_A, {
      entities: ["loads"],
      maxDocs: 400,
      between: async () => {
        const c = await count();
        pagesSeen.push({ exact: c.exact, source: c.source, state: c.state });
      },
    });
    expect(run.transactions.filter((x) => x.kind === "page")).toHaveLength(3);
    // Not exact after pages 1 and 2 (the seeding's shadow counters, see
    // docs/badges.md); exact from the counters after the last.
    expect(pagesSeen).toEqual([
      { exact: false, source: "stats", state: "counting" },
      { exact: false, source: "stats", state: "counting" },
      { exact: true, source: "stats", state: "exact" },
    ]);
    const result = await count();
    expect(result.total).toBe(FALLBACK_SCAN_LIMIT + 51);
    await expectCountersExact(t, ORG_A);
    // Seeding is not drift.
    expect(await t.query(internal.stats.listDriftReports, {})).toEqual([]);
    const after = await lastRecounts(t, ORG_A);
    expect(after.loads).toMatchObject({
      driftFound: false,
      pages: 3,
      documentsCounted: FALLBACK_SCAN_LIMIT + 51,
    });
  });

  test("drift: corrupted counters and a write that bypassed the layer are reported exactly and repaired", async () => {
    const t = newBackend();
    const made: Array<{ loadId: Id<"loads">; invoiceId: Id<"invoices"> | null }> = [];
    for (let i = 0; i < 6; i++) made.push(await createLoad(t, ORG_A, `L-${i}`, 1000 * (i + 1)));
    const a = biller(t, ORG_A);
    for (const i of [0, 1]) {
      await a.mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId: made[i].loadId,
        status: "Assigned",
      });
    }
    await a.mutation(api.invoices.bulkUpdateStatus, {
      workosOrgId: ORG_A,
      invoiceIds: [defined(made[5].invoiceId, "invoice")],
      status: "BILLED",
    });
    await expectCountersExact(t, ORG_A);
    // Now: loads Open 4, Assigned 2; invoices DRAFT 5 (15,000 cents), BILLED 1 (6,000).

    // Corrupt the counters directly...
    const { loads, invoices } = await storedCounters(t, ORG_A);
    await t.run(async (ctx) => {
      if (loads?.entity !== "loads" || invoices?.entity !== "invoices") throw new Error("rows");
      await ctx.db.patch("organizationStats", loads._id, {
        counts: { ...loads.counts, Open: loads.counts.Open + 5, Assigned: 0 },
      });
      await ctx.db.patch("organizationStats", invoices._id, {
        amountCents: { ...invoices.amountCents, DRAFT: invoices.amountCents.DRAFT + 1234 },
      });
      // ...and edit documents the way the dashboard would, bypassing the write layer.
      await ctx.db.patch("loads", made[2].loadId, { status: "Canceled" });
      await ctx.db.patch("invoices", defined(made[4].invoiceId, "invoice"), { status: "PAID" });
    });

    const run = await recountByPages(t, ORG_A, { maxDocs: 2 });
    expect(run.transactions.filter((x) => x.kind === "page").length).toBeGreaterThan(4);
    await expectCountersExact(t, ORG_A);

    const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
    const byEntity = Object.fromEntries(reports.map((r) => [r.entity, r]));
    expect(reports).toHaveLength(2);
    expect(byEntity.loads).toMatchObject({ source: "recount", workosOrgId: ORG_A });
    expect(byEntity.loads.buckets).toEqual([
      { status: "Open", measure: "count", stored: 9, actual: 3, delta: -6 },
      { status: "Assigned", measure: "count", stored: 0, actual: 2, delta: 2 },
      { status: "Canceled", measure: "count", stored: 0, actual: 1, delta: 1 },
    ]);
    // Invoice 4 (5,000 cents) moved DRAFT -> PAID behind the layer's back.
    expect(byEntity.invoices.buckets).toEqual([
      { status: "DRAFT", measure: "count", stored: 5, actual: 4, delta: -1 },
      { status: "PAID", measure: "count", stored: 0, actual: 1, delta: 1 },
      { status: "DRAFT", measure: "amountCents", stored: 16_234, actual: 10_000, delta: -6234 },
      { status: "PAID", measure: "amountCents", stored: 0, actual: 5000, delta: 5000 },
    ]);
    const after = await lastRecounts(t, ORG_A);
    expect(after.loads).toMatchObject({
      driftFound: true,
      runId: byEntity.loads.runId,
    });
    expect(await recountStates(t, ORG_A)).toEqual([]);

    const status = await t.query(internal.stats.recountStatus, { workosOrgId: ORG_A });
    expect(status.running).toEqual([]);
    expect(status.rows.map((r) => r.lastRecount?.driftFound)).toEqual([true, true]);
    expect(status.recentDrift).toHaveLength(2);

    // A second recount finds nothing more.
    await recountByPages(t, ORG_A, { maxDocs: 2 });
    expect(await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A })).toHaveLength(2);
  });

  test("a recount reads each counted document once, plus a constant per page", async () => {
    const t = newBackend({ transactionLimits: true });
    await insertRawDocuments(t, ORG_A, { loads: 1000, withInvoices: true });
    const run = await recountByPages(t, ORG_A, { maxDocs: 150 });
    const pages = run.transactions.filter((x) => x.kind === "page");
    for (const page of pages) {
      // The recount state (read, then replaced: a replace reads too), the
      // counted documents, and the first document of the next page. The last
      // page also reads and replaces the stats row, deletes the state and
      // stores the run's summary beside it (a first summary reads nothing).
      // The loads table keeps filtered counters: these raw loads have no pickup,
      // lane or customer, so its pages read no facet document; its last page
      // also creates the facet status, exact (docs/filtered-counts.md).
      const last = page.status === "finished";
      const facetStatus = last && page.entity === "loads" ? 1 : 0;
      expect(page.io.documentsRead).toBe((last ? 4 : 2) + page.documentsCounted + page.lookahead);
      expect(page.lookahead).toBe(last ? 0 : 1);
      expect(page.io.documentsWritten).toBe((last ? 3 : 1) + facetStatus);
    }
    // ceil(1000 / 150) = 7 pages per entity.
    expect(pages).toHaveLength(14);
    expect(run.documentsCounted).toBe(2000);
    const totalRead = pages.reduce((n, p) => n + p.io.documentsRead, 0);
    expect(totalRead).toBe(2000 + 2 * pages.length + (pages.length - 2) + 2 * 2);
    // Starting: a registry lookup and a stats-row and recount-state lookup per
    // entity, which find nothing here, and per entity a row and a state insert.
    expect(run.transactions[0].io).toMatchObject({ documentsRead: 0, documentsWritten: 4 });
    await expectCountersExact(t, ORG_A);
  });

  test("one recount per row at a time; a replaced run's pages stop; stale runs are replaced", async () => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L-1", 100);
    const start = (force?: boolean) =>
      t.mutation(internal.stats.recalculateOrgStats, {
        workosOrgId: ORG_A,
        entities: ["loads"],
        force,
        schedulePages: false,
      });
    const [first] = await start();
    expect(first).toMatchObject({ status: "started", entity: "loads" });
    const [again] = await start();
    expect(again).toEqual({ ...first, status: "running" });
    const [forced] = await start(true);
    expect(forced.status).toBe("started");
    expect(forced.runId).not.toBe(first.runId);

    const before = await storedCounters(t, ORG_A);
    const stalePage = await t.mutation(internal.stats.recountPage, {
      workosOrgId: ORG_A,
      entity: "loads",
      runId: defined(first.runId, "run id"),
    });
    expect(stalePage.status).toBe("superseded");
    expect(await storedCounters(t, ORG_A)).toEqual(before);

    // A run that started over an hour ago is presumed dead.
    await t.run(async (ctx) => {
      const state = await ctx.db
        .query("statsRecounts")
        .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_A).eq("entity", "loads"))
        .unique();
      if (state === null) throw new Error("no run");
      await ctx.db.patch("statsRecounts", state._id, {
        startedAt: Date.now() - 2 * 60 * 60 * 1000,
      });
    });
    const [replaced] = await start();
    expect(replaced.status).toBe("started");
    expect(replaced.runId).not.toBe(forced.runId);

    expect(
      await errorCode(
        t.mutation(internal.stats.recountPage, {
          workosOrgId: ORG_A,
          entity: "loads",
          runId: defined(replaced.runId, "run id"),
          maxDocs: 0,
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
  });

  test("a deleted org is not recounted, and a running recount of it is dropped", async () => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L-1");
    const [started] = await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      entities: ["loads"],
      schedulePages: false,
    });
    const { loads } = await storedCounters(t, ORG_A);
    await t.run((ctx) =>
      ctx.db.patch("organizationStats", defined(loads, "loads row")._id, { orgDeleted: true }),
    );
    const page = await t.mutation(internal.stats.recountPage, {
      workosOrgId: ORG_A,
      entity: "loads",
      runId: defined(started.runId, "run id"),
    });
    expect(page.status).toBe("abandoned");
    expect(await recountStates(t, ORG_A)).toEqual([]);
    const [skipped] = await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      entities: ["loads"],
    });
    expect(skipped).toMatchObject({ status: "skipped", reason: "org_deleted" });
  });

  test("a counter seen going negative schedules a recount that repairs it", async () => {
    vi.useFakeTimers();
    const t = newBackend();
    const { loadId } = await createLoad(t, ORG_A, "L-1");
    const { loads } = await storedCounters(t, ORG_A);
    await t.run(async (ctx) => {
      if (loads?.entity !== "loads") throw new Error("no loads row");
      await ctx.db.patch("organizationStats", loads._id, { counts: { ...loads.counts, Open: 0 } });
    });
    await biller(t, ORG_A).mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId,
      status: "Assigned",
    });
    const broken = await storedCounters(t, ORG_A);
    expect(broken.loads).toMatchObject({ exact: false });
    expect(broken.loads?.entity === "loads" && broken.loads.counts.Open).toBe(-1);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectCountersExact(t, ORG_A);
    // Newest first: the recount reports the whole repair of the row it had
    // trusted, not only the bucket that went negative.
    const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
    expect(reports.map((r) => r.source)).toEqual(["recount", "negative_counter"]);
    expect(reports[0].buckets).toEqual([
      { status: "Open", measure: "count", stored: -1, actual: 0, delta: 1, alreadyReported: 1 },
    ]);
  });

  test("the daily job recounts every org it can find and skips deleted ones", async () => {
    vi.useFakeTimers();
    const t = newBackend();
    const ORG_C = "org_01CCCCCCCCCCCCCCCCCCCCCCCC";
    const ORG_D = "org_01DDDDDDDDDDDDDDDDDDDDDDDD";
    const ORG_E = "org_01EEEEEEEEEEEEEEEEEEEEEEEE";
    const now = Date.now();
    await t.run(async (ctx) => {
      for (const [org, status] of [
        [ORG_A, "active"],
        [ORG_B, "deleted"],
        [ORG_E, "active"],
      ] as const) {
        await ctx.db.insert("organizations", {
          workosOrgId: org,
          name: org,
          status,
          updatedAt: now,
        });
      }
    });
    // A: registry, live data, corrupted counters. C: stats rows, no registry entry.
    // B: deleted, raw data. D: raw data only. E: registry, no data.
    for (let i = 0; i < 3; i++) await createLoad(t, ORG_A, `A-${i}`, 500);
    for (let i = 0; i < 2; i++) await createLoad(t, ORG_C, `C-${i}`, 700);
    await insertRawDocuments(t, ORG_B, { loads: 5, withInvoices: true });
    await insertRawDocuments(t, ORG_D, { loads: 7, withInvoices: true });
    const a = await storedCounters(t, ORG_A);
    await t.run((ctx) =>
      ctx.db.patch("organizationStats", defined(a.loads, "loads row")._id, {
        counts: { Open: 10, Assigned: 0, Completed: 0, Canceled: 0, Expired: 0 },
      }),
    );

    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);

    for (const org of [ORG_A, ORG_C, ORG_D, ORG_E]) {
      await expectCountersExact(t, org);
      const summaries = await lastRecounts(t, org);
      expect(summaries.loads).toBeDefined();
      expect(summaries.invoices).toBeDefined();
    }
    expect(await storedCounters(t, ORG_B)).toEqual({ loads: null, invoices: null });
    expect((await histogram(t, ORG_D)).loads.Open).toBe(2);
    const drift = await t.query(internal.stats.listDriftReports, {});
    expect(drift.map((r) => [r.workosOrgId, r.entity])).toEqual([[ORG_A, "loads"]]);
    expect(drift[0].buckets).toEqual([
      { status: "Open", measure: "count", stored: 10, actual: 3, delta: -7 },
    ]);

    const status = await t.query(internal.stats.recountStatus, { limit: 3 });
    expect(status.rows).toHaveLength(3);
    expect(status.continueCursor).not.toBeNull();
    expect(status.running).toEqual([]);
    expect(status.recentDrift).toHaveLength(1);
  });

  test("recountStatus lists running recounts", async () => {
    const t = newBackend();
    await createLoad(t, ORG_A, "L-1", 100);
    await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      schedulePages: false,
    });
    const status = await t.query(internal.stats.recountStatus, {});
    expect(status.running.map((r) => r.entity).sort()).toEqual(["invoices", "loads"]);
    expect(status.running[0].running).toMatchObject({ cursor: null, pages: 0 });
  });

  test("operator queries validate their arguments", async () => {
    const t = newBackend();
    expect(await errorCode(t.query(internal.stats.listDriftReports, { entity: "loads" }))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(await errorCode(t.query(internal.stats.listDriftReports, { limit: 0 }))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(await errorCode(t.query(internal.stats.recountStatus, { limit: 101 }))).toBe(
      "INVALID_ARGUMENT",
    );
  });

  test("the daily recount is scheduled", () => {
    const jobs = Object.values(crons.crons);
    expect(jobs).toContainEqual({
      name: "stats:recalculateAllOrgs",
      args: [{}],
      schedule: { type: "cron", cron: "0 7 * * *" },
    });
  });
});
