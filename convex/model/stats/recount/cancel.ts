/**
 * Canceling recounts (`stats:cancelRecounts`): one org's runs, or every run
 * and the running jobs. A canceled run's state is deleted and its row's
 * `recounting` flag cleared; its live counters are not touched, so a row
 * that was exact stays exact (counted writes keep it so). The run's page in
 * flight, if any, finds no state at its next step and stops (`superseded`):
 * a run stops within one page. Bounded: `CANCEL_BATCH` runs per transaction,
 * the rest in scheduled continuations.
 */
import { v, type Infer } from "convex/values";
import { internal } from "../../../_generated/api";
import type { Id } from "../../../_generated/dataModel";
import { appError } from "../../../lib/errors";
import type { MutationCtx } from "../../ctx";
import { STATS_ENTITIES } from "../../enums";
import { getOrganization } from "../../organizations/registry";
import { getStatsRow } from "../rows";
import { getRecountState, type RecountState } from "../shadow";
import { countJob, jobActive, latestJob } from "./jobs";
import { continueWalk } from "./pool";

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
async function cancelRun(
  ctx: Pick<MutationCtx, "db" | "runMutation">,
  state: RecountState,
): Promise<void> {
  await ctx.db.delete("statsRecounts", state._id);
  const row = await getStatsRow(ctx.db, state.workosOrgId, state.entity);
  if (row !== null && row.recounting === true) {
    await ctx.db.patch("organizationStats", row._id, { recounting: false });
  }
  // A failed run was counted as failed already.
  if (state.jobId !== undefined && state.failure === undefined) {
    const job = await countJob(ctx, state.jobId, { canceled: 1 });
    // A paused walk resumes when the job's running rows drop (not for a canceled job).
    if (job !== null && !job.walkQueued) await continueWalk(ctx, job);
  }
  console.log("[stats.cancel] run canceled", {
    workosOrgId: state.workosOrgId,
    entity: state.entity,
    runId: state.runId,
  });
}

/** Cancels up to `CANCEL_BATCH` runs (oldest first); schedules itself for the rest. */
export async function cancelBatch(
  ctx: Pick<MutationCtx, "db" | "scheduler" | "runMutation">,
): Promise<{ canceledRuns: number; more: boolean }> {
  const states = await ctx.db
    .query("statsRecounts")
    .withIndex("by_started_at")
    .take(CANCEL_BATCH + 1);
  const batch = states.slice(0, CANCEL_BATCH);
  for (const state of batch) await cancelRun(ctx, state);
  const more = states.length > CANCEL_BATCH;
  if (more) await ctx.scheduler.runAfter(0, internal.stats.cancelRecountsBatch, {});
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
  ctx: Pick<MutationCtx, "db" | "scheduler" | "runMutation">,
  workosOrgId: string | undefined,
): Promise<CancelResult> {
  if (workosOrgId !== undefined) {
    const states: RecountState[] = [];
    let known = (await getOrganization(ctx, workosOrgId)) !== null;
    for (const entity of STATS_ENTITIES) {
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
    for (const state of states) await cancelRun(ctx, state);
    return { canceledRuns: states.length, canceledJobs: [], more: false };
  }
  const canceledJobs: Id<"statsRecountJobs">[] = [];
  for (const kind of ["daily", "seed"] as const) {
    const job = await latestJob(ctx, kind);
    if (job !== null && jobActive(job)) {
      await ctx.db.patch("statsRecountJobs", job._id, { canceledAt: Date.now() });
      canceledJobs.push(job._id);
    }
  }
  const anyRun = await ctx.db.query("statsRecounts").withIndex("by_started_at").first();
  if (canceledJobs.length === 0 && anyRun === null) {
    throw appError("NOT_FOUND", "No recount is running: nothing to cancel.");
  }
  const batch = await cancelBatch(ctx);
  console.log("[stats.cancel] canceled", { canceledJobs, ...batch });
  return { ...batch, canceledJobs };
}
