/**
 * Canceling recounts (`stats:cancelRecounts`): one org's runs, or every run
 * and the running jobs. Cancel means nothing starts after it:
 * - runs: a canceled run's state is deleted and its row's `recounting` flag
 *   cleared; its live counters are not touched, so a row that was exact
 *   stays exact (counted writes keep it so). Its page in flight, if any,
 *   finds no state and stops (`superseded`); the completion enqueues no
 *   further page of it (`completion.ts`);
 * - jobs (cancel of all): every active daily run, migration and dry run is
 *   marked canceled; their walk steps already in the pool do nothing;
 * - requests not started yet (a seeding a write scheduled moments before, a
 *   job's walk step reaching the org): the cancel records a mark that stops
 *   them when they come to start (`marks.ts`).
 * Bounded: `CANCEL_BATCH` runs per transaction; the continuation
 * (`stats:cancelRecountsBatch`, scheduled by every cancel) seals the mark
 * and cancels the rest of the runs that started before it.
 */
import { makeFunctionReference } from "convex/server";
import { v, type Infer } from "convex/values";
import { appError } from "../../../lib/errors";
import type { StatsConfig } from "../config";
import { statsDb, type StatsMutationCtx } from "../ctx";
import type { Id } from "../ids";
import { getStatsRow } from "../rows";
import { getRecountState, type RecountState } from "../shadow";
import { countJob, jobActive, newestJobs } from "./jobs";
import { continueWalk } from "./jobWalk";
import { cancelSealedAt, recordCancel, sealPending, SEAL_BATCH } from "./marks";

/** `stats:cancelRecountsBatch`, which every app registers at that path. */
const cancelRecountsBatch = makeFunctionReference<"mutation">("stats:cancelRecountsBatch");

type Ctx = Pick<StatsMutationCtx, "db" | "scheduler" | "runMutation">;

/** Runs canceled per transaction. */
export const CANCEL_BATCH = 100;

/**
 * Jobs of each kind a cancel of all looks at, newest first. A job's walk
 * lasts hours at most and one daily job starts a day, so an active job is
 * always among the newest few.
 */
export const CANCEL_JOB_PROBE = 10;

export const vCancelResult = v.object({
  /** Runs canceled by this call (more follow in the background when `more`). */
  canceledRuns: v.number(),
  /** Jobs (daily run, migration, dry run) marked canceled: their walks stop. */
  canceledJobs: v.array(v.id("statsRecountJobs")),
  more: v.boolean(),
});
export type CancelResult = Infer<typeof vCancelResult>;

/** Deletes a run's state, clears its row's flag and counts it in its job. */
async function cancelRun(ctx: Ctx, config: StatsConfig, state: RecountState): Promise<void> {
  const db = statsDb(ctx.db);
  await db.delete("statsRecounts", state._id);
  const row = await getStatsRow(ctx.db, state.workosOrgId, state.entity);
  if (row !== null && row.recounting === true) {
    await db.patch("organizationStats", row._id, { recounting: false, writeRate: undefined });
  }
  // A failed run was counted as failed already.
  if (state.jobId !== undefined && state.failure === undefined) {
    const job = await countJob(ctx, state.jobId, { canceled: 1 });
    // A paused walk resumes when the job's running rows drop (not for a canceled job).
    if (job !== null && !job.walkQueued) await continueWalk(ctx, config, job);
  }
  console.log("[stats.cancel] run canceled", {
    workosOrgId: state.workosOrgId,
    entity: state.entity,
    runId: state.runId,
  });
}

/** Cancels `states` (at most `CANCEL_BATCH + 1` read); returns how many and whether more remain. */
async function cancelStates(
  ctx: Ctx,
  config: StatsConfig,
  states: RecountState[],
): Promise<{ canceledRuns: number; more: boolean }> {
  const batch = states.slice(0, CANCEL_BATCH);
  for (const state of batch) await cancelRun(ctx, config, state);
  return { canceledRuns: batch.length, more: states.length > CANCEL_BATCH };
}

/**
 * The continuation of every cancel (`stats:cancelRecountsBatch`): seals the
 * marks not sealed yet, then cancels up to `CANCEL_BATCH` runs (oldest
 * first) that started before the seal of the newest cancel of all; schedules
 * itself while more remain. Runs started after that seal are new requests
 * and are left alone.
 */
export async function cancelBatch(
  ctx: Ctx,
  config: StatsConfig,
): Promise<{ canceledRuns: number; more: boolean }> {
  const now = Date.now();
  const sealed = await sealPending(ctx, now);
  const allSealedAt = await cancelSealedAt(ctx, null, now);
  const result =
    allSealedAt === null
      ? { canceledRuns: 0, more: false }
      : await cancelStates(
          ctx,
          config,
          await statsDb(ctx.db)
            .query("statsRecounts")
            .withIndex("by_started_at", (q) => q.lte("startedAt", allSealedAt))
            .take(CANCEL_BATCH + 1),
        );
  const more = result.more || sealed === SEAL_BATCH;
  if (more) await ctx.scheduler.runAfter(0, cancelRecountsBatch, {});
  return { canceledRuns: result.canceledRuns, more };
}

/**
 * Cancels the runs of one org, or (no org) every run and the active jobs,
 * and records the cancel so that nothing requested before it starts after
 * it. A known org with nothing running is still recorded (a seeding a write
 * scheduled may be on its way).
 *
 * @throws `NOT_FOUND` for an org with no registry entry, stats row or run;
 *   nothing is written then.
 */
export async function cancelRecounts(
  ctx: Ctx,
  config: StatsConfig,
  workosOrgId: string | undefined,
): Promise<CancelResult> {
  const db = statsDb(ctx.db);
  const now = Date.now();
  if (workosOrgId !== undefined) {
    const states: RecountState[] = [];
    let known = ((await config.registry?.lookup(ctx.db, workosOrgId)) ?? null) !== null;
    for (const entity of config.entities.keys()) {
      const state = await getRecountState(ctx.db, workosOrgId, entity);
      if (state !== null) states.push(state);
      known ||= (await getStatsRow(ctx.db, workosOrgId, entity)) !== null;
    }
    if (!known && states.length === 0) {
      throw appError("NOT_FOUND", "No such organization.", { workosOrgId });
    }
    await recordCancel(ctx, workosOrgId, now);
    for (const state of states) await cancelRun(ctx, config, state);
    await ctx.scheduler.runAfter(0, cancelRecountsBatch, {});
    console.log("[stats.cancel] org canceled", { workosOrgId, canceledRuns: states.length });
    return { canceledRuns: states.length, canceledJobs: [], more: false };
  }
  await recordCancel(ctx, null, now);
  const canceledJobs: Id<"statsRecountJobs">[] = [];
  for (const kind of ["daily", "seed", "report"] as const) {
    for (const job of await newestJobs(ctx.db, kind, CANCEL_JOB_PROBE)) {
      if (!jobActive(job)) continue;
      await db.patch("statsRecountJobs", job._id, { canceledAt: now });
      canceledJobs.push(job._id);
    }
  }
  const batch = await cancelStates(
    ctx,
    config,
    await db
      .query("statsRecounts")
      .withIndex("by_started_at")
      .take(CANCEL_BATCH + 1),
  );
  await ctx.scheduler.runAfter(0, cancelRecountsBatch, {});
  console.log("[stats.cancel] all canceled", { canceledJobs, ...batch });
  return { ...batch, canceledJobs };
}
