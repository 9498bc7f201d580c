/**
 * Issue 11: the recount's bounded fan-out through the stats workpool, failed
 * pages retried and runs marked failed, progress and cancel.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { BILLING_PERMISSION } from "../convex/lib/auth";
import { injectPageFault } from "../convex/model/stats/recount/faults";
import { MAX_PAGE_FAILURES } from "../convex/model/stats/recount/completion";
import { DEFAULT_MAX_PARALLELISM } from "../convex/model/stats/recount/enqueue";
import { drainPool, poolInFlight } from "./support/pool";
import { insertRawDocuments, quietLogs } from "./support/recount";
import {
  ATLANTA,
  DALLAS,
  ORG_A,
  ORG_B,
  member,
  expectCountersExact,
  expectRejected,
  newBackend,
  lastRecounts,
  storedCounters,
  type Backend,
  rawLoad,
} from "./support/setup";

afterEach(() => {
  injectPageFault(null);
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const orgName = (i: number) => `org_pool_${String(i).padStart(5, "0")}`;

/** `n` orgs with `loads` raw loads each (no stats rows, no registry entries). */
async function manyOrgs(t: Backend, n: number, loads = 1): Promise<void> {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < loads; j++) {
        await ctx.db.insert(
          "loads",
          rawLoad({
            workosOrgId: orgName(i),
            externalLoadId: `P-${j}`,
            status: j % 2 === 0 ? "Open" : "Completed",
          }),
        );
      }
    }
  });
}

describe("recount through the stats workpool", () => {
  test("2,000 orgs through the daily run: every row exact, never more than maxParallelism in flight", async () => {
    quietLogs();
    vi.useFakeTimers();
    const N = Number(process.env.POOL_TEST_ORGS ?? 2000);
    const t = newBackend({ transactionLimits: true });
    await manyOrgs(t, N);
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    let maxRunning = 0;
    let maxExecuting = 0;
    let probes = 0;
    const steps = await drainPool(t, async (step) => {
      // The scheduler scan is the slower measure: every 4th step, and always the pool's own state.
      const inFlight = await poolInFlight(t, step % 4 === 0);
      maxRunning = Math.max(maxRunning, inFlight.running);
      maxExecuting = Math.max(maxExecuting, inFlight.executing);
      probes++;
      expect(inFlight.running).toBeLessThanOrEqual(DEFAULT_MAX_PARALLELISM);
      expect(inFlight.executing).toBeLessThanOrEqual(DEFAULT_MAX_PARALLELISM);
    });
    console.info("[pool test]", {
      N,
      steps,
      probes,
      maxRunning,
      maxExecuting,
    });
    // The pool was used to the full, and never beyond.
    expect(maxRunning).toBe(DEFAULT_MAX_PARALLELISM);
    const status = await t.query(internal.stats.recountStatus, {});
    expect(status.daily).toMatchObject({
      state: "done",
      total: N,
      finished: N,
      running: 0,
      failed: 0,
      canceled: 0,
    });
    expect(status.rowsNotExact).toBe(0);
    for (let i = 0; i < N; i += Math.max(1, Math.floor(N / 50))) {
      await expectCountersExact(t, orgName(i));
    }
    const rows = await t.run(async (ctx) => await ctx.db.query("organizationStats").collect());
    expect(rows).toHaveLength(N);
    for (const row of rows) {
      expect(row.exact).toBe(true);
      expect(row.entity === "loads" && row.counts.Open).toBe(1);
    }
  }, 600_000);
});

/** A load created through the public API (a counted write). */
async function newLoad(t: Backend, org: string, externalLoadId: string): Promise<void> {
  await member(t, org, [BILLING_PERMISSION]).mutation(api.loads.createLoad, {
    workosOrgId: org,
    externalLoadId,
    origin: DALLAS,
    destination: ATLANTA,
  });
}

/** Runs everything scheduled (pool work included) to the end. */
async function settle(t: Backend): Promise<void> {
  await drainPool(t);
}

describe("failed pages", () => {
  test("a failed page is retried smaller after a backoff; the run still finishes exact", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend({ transactionLimits: true });
    await insertRawDocuments(t, ORG_A, { loads: 600, withInvoices: false });
    // Pages of more than 300 documents fail (as a page over a limit would).
    const sizes: number[] = [];
    injectPageFault((page) => {
      sizes.push(page.maxDocs ?? 0);
      return (page.maxDocs ?? 1000) > 300 ? "page too big" : null;
    });
    const start = Date.now();
    await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      entities: ["loads"],
    });
    await settle(t);
    await expectCountersExact(t, ORG_A);
    // 1000 and 500 fail, 250 counts; the next page may grow to 500, fails, 250 again.
    expect(sizes.slice(0, 4)).toEqual([1000, 500, 250, 500]);
    expect(sizes.filter((n) => n <= 300).length).toBeGreaterThanOrEqual(3);
    // Backoff: 1 s before the first retry, 2 s before the second.
    expect(Date.now() - start).toBeGreaterThanOrEqual(3_000);
    expect((await lastRecounts(t, ORG_A)).loads).toMatchObject({ documentsCounted: 600 });
  });

  test(`after ${MAX_PAGE_FAILURES} failures the run is reported failed, alerted, and the next daily run repairs it`, async () => {
    quietLogs();
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.useFakeTimers();
    // An http(s) URL is not set up here: the alert row is recorded (as undeliverable) without network.
    vi.stubEnv("STATS_ALERT_WEBHOOK_URL", "not-a-url");
    const t = newBackend({ transactionLimits: true });
    await insertRawDocuments(t, ORG_A, { loads: 20, withInvoices: true });
    await insertRawDocuments(t, ORG_B, { loads: 30, withInvoices: true });
    let bPages = 0;
    injectPageFault((page) => {
      if (page.workosOrgId !== ORG_B || page.entity !== "loads") return null;
      bPages++;
      return "deploy in progress";
    });
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await settle(t);
    expect(bPages).toBe(MAX_PAGE_FAILURES);

    const status = await t.query(internal.stats.recountStatus, {});
    expect(status.daily).toMatchObject({
      state: "done",
      total: 4,
      finished: 3,
      failed: 1,
      running: 0,
      canceled: 0,
    });
    // B's loads row was being seeded: still not exact, and its failed run shows the error.
    expect(status.rowsNotExact).toBe(1);
    const failed = status.running.find((r) => r.workosOrgId === ORG_B);
    expect(failed?.running?.failure).toMatchObject({ failures: MAX_PAGE_FAILURES });
    expect(failed?.running?.failure?.error).toContain("deploy in progress");
    expect(status.oldestRunning).toBeNull();
    const alerts = await t.run(async (ctx) => await ctx.db.query("statsAlerts").collect());
    expect(alerts.map((a) => [a.kind, a.workosOrgId, a.entity])).toEqual([
      ["run_failed", ORG_B, "loads"],
    ]);
    expect(status.alerts.counts.failed).toBe(1);
    await expectCountersExact(t, ORG_A);

    // The next daily run replaces the failed run and repairs the row.
    injectPageFault(null);
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await settle(t);
    await expectCountersExact(t, ORG_B);
    const after = await t.query(internal.stats.recountStatus, {});
    expect(after.daily).toMatchObject({ state: "done", finished: 4, failed: 0 });
    expect(after.rowsNotExact).toBe(0);
    expect(after.running).toEqual([]);
  });
});

describe("cancel", () => {
  test("cancel mid-run stops within one page; live counters stay exact; status reports it", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend({ transactionLimits: true });
    await insertRawDocuments(t, ORG_A, { loads: 2_500, withInvoices: false });
    await insertRawDocuments(t, ORG_B, { loads: 2_500, withInvoices: false });
    // Seed both orgs, so their rows are exact before the run that gets canceled.
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await settle(t);
    await expectCountersExact(t, ORG_A);

    const pagesAfterCancel: string[] = [];
    let canceled = false;
    let pagesBefore = 0;
    injectPageFault((page) => {
      if (canceled) pagesAfterCancel.push(page.runId);
      else pagesBefore++;
      return null;
    });
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    // Run until the first page of each row has committed, then cancel everything.
    await drainPool(t, async () => {
      if (canceled || pagesBefore < 2) return;
      // Counted writes during the run and after the cancel keep the live counters exact.
      await newLoad(t, ORG_A, "DURING");
      const result = await t.mutation(internal.stats.cancelRecounts, {});
      expect(result).toMatchObject({ canceledRuns: 2, more: false });
      expect(result.canceledJobs).toHaveLength(1);
      canceled = true;
      await newLoad(t, ORG_B, "AFTER");
      expect(await t.run(async (ctx) => await ctx.db.query("statsRecounts").first())).toBeNull();
    });
    expect(canceled).toBe(true);
    // Each canceled run ran at most the one page that was in flight (a no-op, `superseded`).
    const perRun = new Map<string, number>();
    for (const runId of pagesAfterCancel) perRun.set(runId, (perRun.get(runId) ?? 0) + 1);
    for (const n of perRun.values()) expect(n).toBeLessThanOrEqual(1);
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
    const rows = await t.run(async (ctx) => await ctx.db.query("organizationStats").collect());
    for (const row of rows) expect(row.recounting).toBe(false);
    const status = await t.query(internal.stats.recountStatus, {});
    expect(status.daily).toMatchObject({ state: "canceled", total: 2, canceled: 2, running: 0 });
    expect((await storedCounters(t, ORG_A)).loads).toMatchObject({ exact: true });
    expect(status.running).toEqual([]);
  });

  test("bad input to the operator functions: ConvexError with a code, nothing written", async () => {
    const t = newBackend();
    await insertRawDocuments(t, ORG_A, { loads: 3, withInvoices: false });
    // Unknown org.
    await expectRejected(
      t,
      () => t.mutation(internal.stats.cancelRecounts, { workosOrgId: "org_unknown" }),
      "NOT_FOUND",
    );
    await expectRejected(
      t,
      () => t.mutation(internal.stats.cancelRecounts, { workosOrgId: "" }),
      "INVALID_ARGUMENT",
    );
    // A known org with nothing running: the cancel is recorded (a seeding a
    // write scheduled may be on its way; tests/operators.cancel.test.ts).
    await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      schedulePages: false,
    });
    await t.mutation(internal.stats.cancelRecounts, { workosOrgId: ORG_A });
    expect(await t.mutation(internal.stats.cancelRecounts, { workosOrgId: ORG_A })).toEqual({
      canceledRuns: 0,
      canceledJobs: [],
      more: false,
    });
    // Negative and out-of-range limits.
    for (const limit of [-1, 0, 1.5, 101]) {
      await expectRejected(
        t,
        () => t.query(internal.stats.recountStatus, { limit }),
        "INVALID_ARGUMENT",
      );
    }
    await expectRejected(
      t,
      () =>
        t.mutation(internal.stats.recountPage, {
          workosOrgId: ORG_A,
          entity: "loads",
          runId: "rc_x",
          maxDocs: -5,
        }),
      "INVALID_ARGUMENT",
    );
  });

  test("maxParallelism comes from STATS_MAX_PARALLELISM", async () => {
    quietLogs();
    vi.useFakeTimers();
    vi.stubEnv("STATS_MAX_PARALLELISM", "3");
    const t = newBackend({ transactionLimits: true });
    await manyOrgs(t, 40);
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    let max = 0;
    await drainPool(t, async () => {
      max = Math.max(max, (await poolInFlight(t)).running);
    });
    expect(max).toBe(3);
    vi.stubEnv("STATS_MAX_PARALLELISM", "0");
    await expect(t.mutation(internal.stats.recalculateAllOrgs, {})).rejects.toThrow(
      /STATS_MAX_PARALLELISM/,
    );
  });
});

describe("drift alerts are queued where drift reports are stored", () => {
  test("a negative counter (engine flush) and the recount's repair each queue one alert", async () => {
    quietLogs();
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.useFakeTimers();
    // Not an http(s) URL: each alert row is recorded (as undeliverable) without network.
    vi.stubEnv("STATS_ALERT_WEBHOOK_URL", "not-a-url");
    const t = newBackend({ transactionLimits: true });
    await newLoad(t, ORG_A, "L-1");
    const { loads } = await storedCounters(t, ORG_A);
    await t.run(async (ctx) => {
      if (loads?.entity !== "loads") throw new Error("no loads row");
      await ctx.db.patch("organizationStats", loads._id, { counts: { ...loads.counts, Open: 0 } });
    });
    const [load] = await t.run(async (ctx) => await ctx.db.query("loads").collect());
    await member(t, ORG_A, [BILLING_PERMISSION]).mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId: load._id,
      status: "Assigned",
    });
    await settle(t);
    await expectCountersExact(t, ORG_A);
    const reports = await t.query(internal.stats.listDriftReports, {});
    expect(reports.map((r) => r.source).sort()).toEqual(["negative_counter", "recount"]);
    const alerts = await t.run(async (ctx) => await ctx.db.query("statsAlerts").collect());
    expect(alerts.map((a) => a.reportId).sort()).toEqual(reports.map((r) => r._id).sort());
    expect(alerts.every((a) => a.kind === "drift")).toBe(true);
  });
});
