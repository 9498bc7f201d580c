/**
 * Canceling recounts (`stats:cancelRecounts`): one org's runs, or every run
 * and the running jobs. A canceled run's state is deleted and its row's
 * `recounting` flag cleared; its live counters are not touched, so a row
 * that was exact stays exact (counted writes keep it so). The run's page in
 * flight, if any, finds no state at its next step and stops (`superseded`):
 * a run stops within one page. Bounded: `CANCEL_BATCH` runs per transaction,
 * the rest in scheduled continuations.
 */
import { makeFunctionReference } from "convex/server";
import { v, type Infer } from "convex/values";
import { appError } from "../../../lib/errors";
import type { StatsConfig } from "../config";
import { statsDb, type StatsMutationCtx } from "../ctx";
import type { Id } from "../ids";
import { getStatsRow } from "../rows";
import { getRecountState, type RecountState } from "../shadow";
import { countJob, jobActive, latestJob } from "./jobs";
import { continueWalk } from "./jobWalk";

/** `stats:cancelRecountsBatch`, which every app registers at that path. */
const cancelRecountsBatch = makeFunctionReference<"mutation">("stats:cancelRecountsBatch");

type Ctx = Pick<StatsMutationCtx, "db" | "scheduler" | "runMutation">;

/** Runs canceled per transaction. */
export const CANCEL_BATCH = 100;

export const vCancelResult = v.object({
  /** Runs canceled by this call (more follow in the background when `more`). */
  canceledRuns: v.number(),
  /** Jobs (daily run, migration) marked canceled: their walks stop. */
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

/** Cancels up to `CANCEL_BATCH` runs (oldest first); schedules itself for the rest. */
export async function cancelBatch(
  ctx: Ctx,
  config: StatsConfig,
): Promise<{ canceledRuns: number; more: boolean }> {
  const states = await statsDb(ctx.db)
    .query("statsRecounts")
    .withIndex("by_started_at")
    .take(CANCEL_BATCH + 1);
  const batch = states.slice(0, CANCEL_BATCH);
  for (const state of batch) await cancelRun(ctx, config, state);
  const more = states.length > CANCEL_BATCH;
  if (more) await ctx.scheduler.runAfter(0, cancelRecountsBatch, {});
  return { canceledRuns: batch.length, more };
}

/**
 * Cancels the runs of one org, or (no org) every run and the running jobs.
 *
 * @throws `NOT_FOUND` for an org with no registry entry, stats row or run,
 *   and when there is nothing to cancel (no run, no running job); nothing is
 *   written then.
 */
export async function cancelRecounts(
  ctx: Ctx,
  config: StatsConfig,
  workosOrgId: string | undefined,
): Promise<CancelResult> {
  const db = statsDb(ctx.db);
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
    if (states.length === 0) {
      throw appError("NOT_FOUND", "No recount of this organization is running.", {
        workosOrgId,
      });
    }
    for (const state of states) await cancelRun(ctx, config, state);
    return { canceledRuns: states.length, canceledJobs: [], more: false };
  }
  const canceledJobs: Id<"statsRecountJobs">[] = [];
  for (const kind of ["daily", "seed", "report"] as const) {
    const job = await latestJob(ctx.db, kind);
    if (job !== null && jobActive(job)) {
      await db.patch("statsRecountJobs", job._id, { canceledAt: Date.now() });
      canceledJobs.push(job._id);
    }
  }
  const anyRun = await db.query("statsRecounts").withIndex("by_started_at").first();
  if (canceledJobs.length === 0 && anyRun === null) {
    throw appError("NOT_FOUND", "No recount is running: nothing to cancel.");
  }
  const batch = await cancelBatch(ctx, config);
  console.log("[stats.cancel] canceled", { canceledJobs, ...batch });
  return { ...batch, canceledJobs };
}
