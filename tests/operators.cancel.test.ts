/**
 * Issue 22, operator surface: cancel means nothing starts after it. A cancel
 * of all recounts (or of one org) stops the seeding a write scheduled moments
 * before, the walk steps and pages already in the stats pool, and the runs of
 * other active jobs; a request made after the cancel starts. See
 * `model/stats/recount/marks.ts` and docs/recount.md.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import { LOAD_STATUSES } from "../convex/model/enums";
import { tally } from "../convex/model/stats/counters";
import { injectPageFault } from "../convex/model/stats/recount/faults";
import { ORGS_PER_PAGE } from "../convex/model/stats/recount/orgWalk";
import { drainPool } from "./support/pool";
import { insertRawDocuments, quietLogs } from "./support/recount";
import {
  createLoads,
  expectCountersExact,
  newBackend,
  ORG_A,
  ORG_B,
  rawLoad,
  recountStates,
  storedCounters,
  type Backend,
} from "./support/setup";

afterEach(() => {
  injectPageFault(null);
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Scheduled `stats:recalculateOrgStats` calls still pending (the writes' seeding requests). */
async function pendingSeedings(
  t: Backend,
): Promise<{ workosOrgId: string; requestedAt: number }[]> {
  return await t.run(async (ctx) => {
    const out = [];
    for await (const job of ctx.db.system.query("_scheduled_functions")) {
      if (job.state.kind !== "pending" || job.name !== "stats:recalculateOrgStats") continue;
      out.push(job.args[0] as { workosOrgId: string; requestedAt: number });
    }
    return out;
  });
}

/** Every recount page that starts from now on, by run id (pages that only find their run gone included). */
function recordPages(): Map<string, number> {
  const pages = new Map<string, number>();
  injectPageFault((page) => {
    pages.set(page.runId, (pages.get(page.runId) ?? 0) + 1);
    return null;
  });
  return pages;
}

async function allStates(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("statsRecounts").collect());
}

describe("a write's seeding scheduled moments before the cancel does not start", () => {
  test("write, cancel of all, the scheduled start runs: nothing starts; a later write's does", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    // Documents from before the counters: the first counted write seeds by a scheduled recount.
    await insertRawDocuments(t, ORG_A, { loads: 30, withInvoices: true });
    await createLoads(t, ORG_A, 1);
    expect((await pendingSeedings(t)).map((r) => r.workosOrgId)).toEqual([ORG_A, ORG_A]);

    const result = await t.mutation(internal.stats.cancelRecounts, {});
    expect(result).toEqual({ canceledRuns: 0, canceledJobs: [], more: false });
    const pages = recordPages();
    await drainPool(t);
    // The seeding requests ran and did not start: no state, no page, rows still seeding.
    expect(await pendingSeedings(t)).toEqual([]);
    expect(await allStates(t)).toEqual([]);
    expect(pages.size).toBe(0);
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads).toMatchObject({ exact: false, recounting: false });
    expect(invoices).toMatchObject({ exact: false, recounting: false });

    // A request made after the cancel starts: a new org's first write...
    vi.advanceTimersByTime(1_000);
    await insertRawDocuments(t, ORG_B, { loads: 20, withInvoices: false });
    await createLoads(t, ORG_B, 1);
    await drainPool(t);
    await expectCountersExact(t, ORG_B);
    // ...and an operator's recount of the canceled org.
    await t.mutation(internal.stats.recalculateOrgStats, { workosOrgId: ORG_A });
    await drainPool(t);
    await expectCountersExact(t, ORG_A);
  });

  test("a per-org cancel stops that org's seeding only", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    await insertRawDocuments(t, ORG_A, { loads: 10, withInvoices: false });
    await insertRawDocuments(t, ORG_B, { loads: 10, withInvoices: false });
    await createLoads(t, ORG_A, 1);
    await createLoads(t, ORG_B, 1);
    expect(await pendingSeedings(t)).toHaveLength(2);

    await t.mutation(internal.stats.cancelRecounts, { workosOrgId: ORG_A });
    await drainPool(t);
    expect((await storedCounters(t, ORG_A)).loads).toMatchObject({ exact: false });
    expect(await recountStates(t, ORG_A)).toEqual([]);
    await expectCountersExact(t, ORG_B);
  });

  test("the seal orders requests by commit: made before it, refused; made after it, started", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    await insertRawDocuments(t, ORG_A, { loads: 5, withInvoices: false });
    await createLoads(t, ORG_A, 1);
    await drainPool(t);
    await expectCountersExact(t, ORG_A);
    await t.mutation(internal.stats.cancelRecounts, { workosOrgId: ORG_A });
    const [{ canceledAt }] = await t.run(
      async (ctx) => await ctx.db.query("statsRecountCancels").collect(),
    );
    const now = Date.now();
    // A request stamped after the cancel's own time but run before the cancel was sealed may
    // have committed before the cancel (it started while the cancel ran): refused, and the
    // request seals the mark at its own time.
    vi.advanceTimersByTime(10);
    const concurrent = await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      entities: ["loads"],
      requestedAt: canceledAt + 5,
    });
    expect(concurrent).toMatchObject([{ status: "skipped", reason: "canceled" }]);
    const marks = await t.run(async (ctx) => await ctx.db.query("statsRecountCancels").collect());
    expect(marks).toMatchObject([{ workosOrgId: ORG_A, canceledAt, sealedAt: now + 10 }]);
    // A request made after the seal starts.
    vi.advanceTimersByTime(10);
    const after = await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      entities: ["loads"],
      requestedAt: Date.now(),
    });
    expect(after).toMatchObject([{ status: "started" }]);
    await drainPool(t);
    await expectCountersExact(t, ORG_A);
  });
});

const orgName = (i: number) => `org_cancel_${String(i).padStart(4, "0")}`;

/** `n` orgs with two raw loads each (no stats rows: the daily walk finds them by their documents). */
async function manyOrgs(t: Backend, n: number): Promise<void> {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) {
      for (const j of [0, 1]) {
        await ctx.db.insert(
          "loads",
          rawLoad({ workosOrgId: orgName(i), externalLoadId: `C-${j}`, status: "Open" }),
        );
      }
    }
  });
}

async function statsRowCount(t: Backend): Promise<number> {
  return await t.run(async (ctx) => (await ctx.db.query("organizationStats").collect()).length);
}

/** The daily job (the newest). */
async function dailyJob(t: Backend) {
  return await t.run(async (ctx) => {
    const jobs = await ctx.db.query("statsRecountJobs").collect();
    return jobs.filter((j) => j.kind === "daily").at(-1) ?? null;
  });
}

/**
 * Starts the daily run and drives the pool until the walk has started its
 * first page of orgs (and has more to walk); returns the runs started so far.
 */
async function walkUntilStarted(t: Backend): Promise<Set<string>> {
  await t.mutation(internal.stats.recalculateAllOrgs, {});
  let started = new Set<string>();
  await drainPool(t, async () => {
    if (started.size > 0) throw new Error("stop");
    const states = await allStates(t);
    if (states.length > 0) started = new Set(states.map((s) => s.runId));
  }).catch((e: unknown) => {
    if (!(e instanceof Error) || e.message !== "stop") throw e;
  });
  const job = await dailyJob(t);
  expect(job?.walk).not.toBeNull();
  return started;
}

describe("cancel during a daily walk", () => {
  test("cancel of all: walk steps and pages in the pool start nothing; the next daily run does", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    const N = 2 * ORGS_PER_PAGE + 20;
    await manyOrgs(t, N);
    const startedBefore = await walkUntilStarted(t);
    expect(startedBefore.size).toBe(ORGS_PER_PAGE);
    const running = (await allStates(t)).length;
    expect(running).toBeGreaterThan(0);

    const result = await t.mutation(internal.stats.cancelRecounts, {});
    expect(result.canceledRuns).toBe(running);
    expect(result.canceledJobs).toHaveLength(1);
    const pages = recordPages();
    await drainPool(t);
    // Pages already enqueued ran as no-ops; no run started after the cancel.
    for (const [runId, n] of pages) {
      expect(startedBefore.has(runId), `a page of a run started after the cancel: ${runId}`).toBe(
        true,
      );
      expect(n).toBe(1);
    }
    expect(await allStates(t)).toEqual([]);
    // The walk went no further: only the rows of the first page of orgs exist.
    expect(await statsRowCount(t)).toBe(ORGS_PER_PAGE);
    const status = await t.query(internal.stats.recountStatus, {});
    expect(status.daily).toMatchObject({
      state: "canceled",
      visited: ORGS_PER_PAGE,
      total: ORGS_PER_PAGE,
      finished: ORGS_PER_PAGE - running,
      canceled: running,
      running: 0,
    });

    // The next daily run, requested after the cancel, recounts every org.
    vi.advanceTimersByTime(1_000);
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await drainPool(t);
    const next = await t.query(internal.stats.recountStatus, {});
    expect(next.daily).toMatchObject({ state: "done", total: N, finished: N, running: 0 });
    expect(next.rowsNotExact).toBe(0);
  });

  test("cancel of all stops every active job, not only the newest of its kind", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    await manyOrgs(t, 3 * ORGS_PER_PAGE);
    await walkUntilStarted(t);
    const older = await dailyJob(t);
    vi.advanceTimersByTime(1_000);
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    const newer = await dailyJob(t);
    expect(newer?._id).not.toEqual(older?._id);
    const result = await t.mutation(internal.stats.cancelRecounts, {});
    expect([...result.canceledJobs].sort()).toEqual([older?._id, newer?._id].sort());
    const pages = recordPages();
    await drainPool(t);
    expect(await allStates(t)).toEqual([]);
    const jobs = await t.run(async (ctx) => await ctx.db.query("statsRecountJobs").collect());
    expect(jobs.map((j) => j.canceledAt !== undefined)).toEqual([true, true]);
    // Only the runs the older walk had started exist as rows; no page counted after the cancel.
    expect(await statsRowCount(t)).toBe(ORGS_PER_PAGE);
    expect([...pages.values()].every((n) => n === 1)).toBe(true);
  });

  test("a per-org cancel: the org's run ends canceled, an org ahead is skipped; totals add up", async () => {
    quietLogs();
    vi.useFakeTimers();
    const t = newBackend();
    const N = ORGS_PER_PAGE + 10;
    await manyOrgs(t, N);
    // Registry entries: the walk's first page of orgs is the first 50, the rest come next.
    await t.run(async (ctx) => {
      for (let i = 0; i < N; i++) {
        const org = orgName(i);
        await ctx.db.insert("organizations", {
          workosOrgId: org,
          name: org,
          status: "active",
          updatedAt: 1,
        });
      }
    });
    const ahead = orgName(N - 1);
    const started = await walkUntilStarted(t);
    const [first] = await allStates(t);
    expect(started.has(first.runId)).toBe(true);
    expect(await recountStates(t, ahead)).toEqual([]);
    await t.mutation(internal.stats.cancelRecounts, { workosOrgId: first.workosOrgId });
    await t.mutation(internal.stats.cancelRecounts, { workosOrgId: ahead });
    await drainPool(t);
    expect(await recountStates(t, ahead)).toEqual([]);
    expect((await storedCounters(t, ahead)).loads).toBeNull();
    expect((await storedCounters(t, first.workosOrgId)).loads).toMatchObject({ exact: false });
    await expectCountersExact(t, orgName(N - 2));
    const status = await t.query(internal.stats.recountStatus, {});
    // Per org, two rows (loads, invoices): the canceled org's loads run ended canceled (its
    // invoices run may have ended first), the org ahead's two rows were skipped.
    const daily = status.daily;
    expect(daily).toMatchObject({ state: "done", visited: 2 * N, skipped: 2, running: 0 });
    expect(daily?.canceled).toBeGreaterThanOrEqual(1);
    expect(daily?.total).toBe(2 * N - 2);
    expect(daily?.total).toBe(
      (daily?.finished ?? 0) +
        (daily?.failed ?? 0) +
        (daily?.canceled ?? 0) +
        (daily?.running ?? 0),
    );
  });
});
