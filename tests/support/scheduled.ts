/**
 * Running what the module schedules, one measured transaction at a time.
 *
 * The module continues long work in scheduled mutations (lane backfill
 * batches, expiry batches, recount pages, the daily walk over orgs, the
 * migration's steps). convex-test would run them on timers, where nothing
 * can measure them. Here the timers are held (`holdScheduler`), and
 * `runScheduled` takes the oldest pending job, cancels it (so its timer, when
 * it fires, does nothing) and runs the same function with the same arguments
 * inside a measuring transaction, until no job is pending. Each job is still
 * its own transaction, without auth, exactly as the scheduler would run it;
 * whatever it schedules is picked up in turn.
 *
 * Part of the shared test kit: used by `bench/` and `demo/`.
 */
import { makeFunctionReference } from "convex/server";
import type { Value } from "convex/values";
import { vi } from "vitest";
import type { Backend } from "./setup";
import { measureMutationToLimit, type Measurement } from "./measure";

/** One scheduled job as it ran. */
export type ScheduledRun = {
  /** Function path, e.g. `lanes:continueLaneBackfill`. */
  name: string;
  args: Record<string, Value>;
  measurement: Measurement<unknown>;
};

function isArgs(value: unknown): value is Record<string, Value> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Takes the oldest pending scheduled job off the queue (cancels it) and returns it. */
async function takeNextJob(
  t: Backend,
  only?: string,
): Promise<{ name: string; args: Record<string, Value> } | null> {
  return await t.run(async (ctx) => {
    for await (const job of ctx.db.system.query("_scheduled_functions")) {
      if (job.state.kind !== "pending") continue;
      if (only !== undefined && job.name !== only) continue;
      await ctx.scheduler.cancel(job._id);
      const args: unknown = job.args[0] ?? {};
      if (!isArgs(args)) throw new Error(`[bench.scheduled] ${job.name}: arguments not an object`);
      return { name: job.name, args };
    }
    return null;
  });
}

/**
 * The next piece of recount work, as a job to run by hand: a step of a job's
 * walk that has more orgs, else a page of the oldest run in progress. The
 * module runs both as work items of the `statsWorkpool` component, whose
 * jobs this runner cannot measure one by one; running them here by name
 * measures each as its own transaction, as before the pool. The pool's own
 * copies, when its held timers fire later, find the walk done or the run
 * finished and do nothing (`superseded`).
 */
async function nextRecountWork(
  t: Backend,
): Promise<{ name: string; args: Record<string, Value> } | null> {
  return await t.run(async (ctx): Promise<{ name: string; args: Record<string, Value> } | null> => {
    for (const kind of ["daily", "seed", "report"] as const) {
      const job = await ctx.db
        .query("statsRecountJobs")
        .withIndex("by_kind_and_started_at", (q) => q.eq("kind", kind))
        .order("desc")
        .first();
      if (job !== null && job.walk !== null && job.canceledAt === undefined && !job.walkError) {
        const args: Record<string, Value> = { jobId: job._id };
        return { name: "stats:recountWalkStep", args };
      }
    }
    for await (const state of ctx.db.query("statsRecounts").withIndex("by_started_at")) {
      if (state.failure !== undefined) continue;
      // A dry run's pages keep to its page size (`maxDocs`).
      const job =
        state.jobId === undefined ? null : await ctx.db.get("statsRecountJobs", state.jobId);
      const args: Record<string, Value> = {
        workosOrgId: state.workosOrgId,
        entity: state.entity,
        runId: state.runId,
        ...(job?.pageCap === undefined ? {} : { maxDocs: job.pageCap }),
      };
      return { name: "stats:recountPage", args };
    }
    return null;
  });
}

/**
 * Runs recount work by hand (walk steps of running jobs, pages of running
 * runs, `nextRecountWork`) until none is left, each measured; other
 * scheduled jobs stay pending. Requires fake timers.
 */
export async function runRecountWork(t: Backend, maxJobs = 10_000): Promise<ScheduledRun[]> {
  const runs: ScheduledRun[] = [];
  for (;;) {
    const job = await nextRecountWork(t);
    if (job === null) return runs;
    if (runs.length >= maxJobs) throw new Error(`[bench.scheduled] more than ${maxJobs} jobs`);
    const ref = makeFunctionReference<"mutation", Record<string, Value>, unknown>(job.name);
    runs.push({ ...job, measurement: await measureMutationToLimit(t, ref, job.args) });
  }
}

/** Number of scheduled jobs still pending. */
export async function pendingJobs(t: Backend): Promise<number> {
  return await t.run(async (ctx) => {
    let n = 0;
    for await (const job of ctx.db.system.query("_scheduled_functions")) {
      if (job.state.kind === "pending") n++;
    }
    return n;
  });
}

/**
 * Runs every pending scheduled job, and every job those schedule, one at a
 * time in scheduling order, each measured. The module schedules only
 * mutations; a job that breaks a transaction limit is recorded as failed
 * (and, as in production, schedules nothing). `onRun` sees each job after it
 * ran, before the next one runs (progress output, observing its effects). Requires `holdScheduler`.
 */
export async function runScheduled(
  t: Backend,
  onRun: (run: ScheduledRun, index: number) => void | Promise<void> = () => {},
  maxJobs = 10_000,
): Promise<ScheduledRun[]> {
  const runs: ScheduledRun[] = [];
  for (;;) {
    const job = (await takeNextJob(t)) ?? (await nextRecountWork(t));
    if (job === null) return runs;
    if (runs.length >= maxJobs) throw new Error(`[bench.scheduled] more than ${maxJobs} jobs`);
    const ref = makeFunctionReference<"mutation", Record<string, Value>, unknown>(job.name);
    const measurement = await measureMutationToLimit(t, ref, job.args);
    const run = { ...job, measurement };
    runs.push(run);
    await onRun(run, runs.length - 1);
  }
}

/**
 * Like `runScheduled`, but runs only pending jobs of function `name` (e.g.
 * `migrations/initializeOrgStats:dryRunStep`) and what they schedule of it;
 * other jobs stay pending. Requires fake timers (`holdScheduler` or
 * `vi.useFakeTimers()`).
 */
export async function runScheduledOnly(
  t: Backend,
  name: string,
  maxJobs = 10_000,
): Promise<ScheduledRun[]> {
  const runs: ScheduledRun[] = [];
  for (;;) {
    const job = await takeNextJob(t, name);
    if (job === null) return runs;
    if (runs.length >= maxJobs) throw new Error(`[bench.scheduled] more than ${maxJobs} jobs`);
    const ref = makeFunctionReference<"mutation", Record<string, Value>, unknown>(job.name);
    runs.push({ ...job, measurement: await measureMutationToLimit(t, ref, job.args) });
  }
}

/**
 * Runs `body` with convex-test's scheduler timers held (fake `setTimeout`),
 * so scheduled jobs wait for `runScheduled` instead of firing on their own.
 * Afterwards the held timers of the jobs `runScheduled` cancelled fire and
 * do nothing. The wall clock (`Date`) is not faked.
 */
export async function holdScheduler<R>(t: Backend, body: () => Promise<R>): Promise<R> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    return await body();
  } finally {
    vi.runAllTimers();
    vi.useRealTimers();
    await t.finishInProgressScheduledFunctions();
  }
}
