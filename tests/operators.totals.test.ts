/**
 * Issue 22, operator surface: the totals of the daily run and the migration
 * add up, whoever started the runs they meet. A run a write started (the
 * seeding of an org with older documents) that the daily walk finds running
 * joins the walk's job, so its end (finished, failed, canceled, replaced)
 * shows in the job's totals; a run another job owns is counted there; a run
 * another job replaces ends `canceled` in its own job. Every summary keeps:
 * `visited = total + skipped + alreadyRunning` and
 * `total = finished + failed + canceled + running`.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import { MAX_PAGE_FAILURES } from "../convex/model/stats/recount/completion";
import { injectPageFault } from "../convex/model/stats/recount/faults";
import { RECOUNT_STALE_MS } from "../convex/model/stats/recount/state";
import type { JobSummary } from "../convex/model/stats/status";
import { drainPool } from "./support/pool";
import { insertRawDocuments, quietLogs } from "./support/recount";
import { runScheduledOnly } from "./support/scheduled";
import {
  createLoads,
  expectCountersExact,
  newBackend,
  ORG_A,
  ORG_B,
  recountStates,
  type Backend,
} from "./support/setup";

afterEach(() => {
  injectPageFault(null);
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The summary's two sums hold. */
function expectAddsUp(summary: JobSummary | null): JobSummary {
  if (summary === null) throw new Error("expected a job");
  expect(summary.visited).toBe(summary.total + summary.skipped + summary.alreadyRunning);
  expect(summary.total).toBe(
    summary.finished + summary.failed + summary.canceled + summary.running,
  );
  return summary;
}

async function status(t: Backend) {
  return await t.query(internal.stats.recountStatus, {});
}

/**
 * ORG_A and ORG_B in the registry, each with documents from before the
 * counters; ORG_A's first counted write has started its loads seeding (a
 * run outside any job, its first page in the pool, not run yet).
 */
async function writeTriggeredRun(t: Backend): Promise<string> {
  await t.run(async (ctx) => {
    for (const org of [ORG_A, ORG_B]) {
      await ctx.db.insert("organizations", {
        workosOrgId: org,
        name: org,
        status: "active",
        updatedAt: 1,
      });
    }
  });
  await insertRawDocuments(t, ORG_A, { loads: 30, withInvoices: false });
  await insertRawDocuments(t, ORG_B, { loads: 10, withInvoices: true });
  await createLoads(t, ORG_A, 1);
  const runs = await runScheduledOnly(t, "stats:recalculateOrgStats");
  expect(runs).toHaveLength(1);
  const [state] = await recountStates(t, ORG_A);
  expect(state.entity).toBe("loads");
  expect(state.jobId).toBeUndefined();
  return state.runId;
}

describe("a write-triggered run the daily walk finds running counts in the daily run", () => {
  test("it finishes: adopted, counted finished", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    const runId = await writeTriggeredRun(t);
    const step = await t.mutation(internal.stats.recalculateAllOrgs, {});
    // Registry phase: ORG_A (loads adopted, invoices started), ORG_B (2 started).
    expect(step).toMatchObject({ visited: 4, started: 3, adopted: 1, running: 0, skipped: 0 });
    const [adopted] = (await recountStates(t, ORG_A)).filter((s) => s.entity === "loads");
    expect(adopted.runId).toBe(runId);
    expect(adopted.jobId).toBeDefined();
    await drainPool(t);
    const daily = expectAddsUp((await status(t)).daily);
    expect(daily).toMatchObject({ state: "done", visited: 4, total: 4, finished: 4, running: 0 });
    await expectCountersExact(t, ORG_A);
  });

  test("it fails: counted failed (the failure is read from the run, not its work item)", async () => {
    quietLogs();
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.useFakeTimers();
    const t = newBackend();
    await writeTriggeredRun(t);
    injectPageFault((page) =>
      page.workosOrgId === ORG_A && page.entity === "loads" ? "deploy in progress" : null,
    );
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await drainPool(t);
    const daily = expectAddsUp((await status(t)).daily);
    expect(daily).toMatchObject({ state: "done", total: 4, finished: 3, failed: 1, running: 0 });
    const [failed] = await recountStates(t, ORG_A);
    expect(failed.failure?.failures).toBe(MAX_PAGE_FAILURES);
  });

  test("it is canceled: counted canceled", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    await writeTriggeredRun(t);
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await t.mutation(internal.stats.cancelRecounts, { workosOrgId: ORG_A });
    await drainPool(t);
    const daily = expectAddsUp((await status(t)).daily);
    // Both of ORG_A's runs were canceled (its invoices run had not run a page yet).
    expect(daily).toMatchObject({ state: "done", total: 4, finished: 2, canceled: 2, running: 0 });
  });

  test("it is replaced by an operator's forced start: the new run stays in the job", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    const runId = await writeTriggeredRun(t);
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    const [forced] = await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      entities: ["loads"],
      force: true,
    });
    expect(forced).toMatchObject({ status: "started" });
    expect(forced.runId).not.toBe(runId);
    await drainPool(t);
    const daily = expectAddsUp((await status(t)).daily);
    expect(daily).toMatchObject({ state: "done", total: 4, finished: 4, running: 0 });
    await expectCountersExact(t, ORG_A);
  });
});

describe("runs of another job", () => {
  test("the migration's running runs: alreadyRunning in the daily run, finished in the migration", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    await writeTriggeredRun(t);
    // The migration adopts the write's run, starts ORG_B's rows and skips ORG_A's invoices
    // (exact since the write); the daily run then meets the migration's three runs.
    const seeding = await t.mutation(internal.migrations.initializeOrgStats.seedStep, {
      phase: "organizations",
      cursor: null,
    });
    expect(seeding).toMatchObject({ visited: 4, started: 2, adopted: 1, skipped: 1 });
    const step = await t.mutation(internal.stats.recalculateAllOrgs, {});
    expect(step).toMatchObject({ visited: 4, started: 1, adopted: 0, running: 3 });
    await drainPool(t);
    const { daily, migration } = await status(t);
    expect(expectAddsUp(daily)).toMatchObject({
      state: "done",
      visited: 4,
      total: 1,
      finished: 1,
      alreadyRunning: 3,
    });
    expect(expectAddsUp(migration)).toMatchObject({
      state: "done",
      visited: 4,
      total: 3,
      finished: 3,
      skipped: 1,
      running: 0,
    });
  });

  test("a stale run of the migration replaced by the daily run: canceled in the migration", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    await writeTriggeredRun(t);
    await t.mutation(internal.migrations.initializeOrgStats.seedStep, {
      phase: "organizations",
      cursor: null,
    });
    // An hour later the migration's runs have not moved (their pages never ran): stale.
    vi.setSystemTime(Date.now() + RECOUNT_STALE_MS + 1);
    const step = await t.mutation(internal.stats.recalculateAllOrgs, {});
    expect(step).toMatchObject({ visited: 4, started: 4 });
    await drainPool(t);
    const { daily, migration } = await status(t);
    expect(expectAddsUp(daily)).toMatchObject({ state: "done", total: 4, finished: 4 });
    // The adopted write's run and ORG_B's two: replaced, so canceled in the migration.
    expect(expectAddsUp(migration)).toMatchObject({
      state: "done",
      total: 3,
      canceled: 3,
      finished: 0,
      running: 0,
    });
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
  });

  test("a dry run does not adopt: it lists the running row and counts it alreadyRunning", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    await writeTriggeredRun(t);
    const dryRunId = await t.mutation(internal.migrations.initializeOrgStats.startDryRun, {
      phase: "organizations",
      cursor: null,
    });
    await drainPool(t);
    const report = await t.query(internal.migrations.initializeOrgStats.dryRunReport, {
      dryRunId,
    });
    expect(report?.report.totals).toMatchObject({
      rows: 4,
      skipRunning: 1,
      skipExact: 1,
      createRow: 2,
    });
    const job = await t.run(async (ctx) => await ctx.db.get("statsRecountJobs", dryRunId));
    expect(job).toMatchObject({ started: 2, alreadyRunning: 1, skipped: 1, finished: 2 });
    // The write's run is left to itself (no job) and finishes.
    await expectCountersExact(t, ORG_A);
  });
});
