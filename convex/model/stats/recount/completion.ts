/**
 * The completion of recount work (the stats pool's `onComplete`, registered
 * as `stats:recountWorkDone`): the top of the recount stack.
 * - a page that continued (or restarted) enqueues the next page, letting the
 *   page grow back by 2x after a retry shrank it;
 * - a run that ended (its last page counted it in its job) lets the job's
 *   paused walk resume;
 * - a failed page is enqueued again with half the page size after a backoff;
 *   the `MAX_PAGE_FAILURES`-th failure in a row marks the run failed (state
 *   kept) and tells the app's `onRunFailed` subscriber; the next daily run
 *   replaces it;
 * - walk steps likewise continue, or retry, or mark the walk failed.
 * A work item canceled in the pool does nothing (cancels count in `cancel.ts`).
 * Nothing is enqueued for a run that is no longer the row's run (canceled
 * or replaced), so a cancel stops a run within the page in flight. The job a
 * run counts in is read from its state, not from the work item (a walk may
 * have adopted the run since its page was enqueued).
 */
import type { RunResult } from "@convex-dev/workpool";
import type { StatsConfig } from "../config";
import { statsDb, type StatsMutationCtx } from "../ctx";
import type { Id } from "../ids";
import { getRecountState, type RecountState } from "../shadow";
import { enqueuePage, enqueueWalkStep, type WorkContext } from "./enqueue";
import { countJob, latestJob } from "./jobs";
import { continueWalk } from "./jobWalk";
import type { PageOutcome } from "./pages";

/** Failures in a row after which a run (or a walk) is marked failed. */
export const MAX_PAGE_FAILURES = 5;
/** Backoff before the n-th retry: `BACKOFF_BASE_MS * 2^(n-1)` (1 s, 2 s, 4 s, 8 s). */
export const BACKOFF_BASE_MS = 1_000;

type Ctx = Pick<StatsMutationCtx, "db" | "runMutation" | "runQuery" | "scheduler">;

function backoff(failures: number): number {
  return BACKOFF_BASE_MS * 2 ** (failures - 1);
}

function errorText(result: RunResult): string {
  return result.kind === "failed" ? result.error : result.kind;
}

const ENDED: readonly PageOutcome["status"][] = ["finished", "abandoned", "inconclusive"];

/** Handles the end of one work item (see the file comment). */
export async function onWorkDone(
  ctx: Ctx,
  config: StatsConfig,
  context: WorkContext,
  result: RunResult,
): Promise<void> {
  if (result.kind === "canceled") return;
  if (context.kind === "walk") return await walkDone(ctx, config, context, result);
  const page = {
    workosOrgId: context.workosOrgId,
    entity: context.entity,
    runId: context.runId,
    jobId: context.jobId,
    maxPage: context.maxPage,
  };
  if (result.kind === "success") {
    const outcome = result.returnValue as PageOutcome;
    if (outcome.status === "continued" || outcome.status === "restarted") {
      const state = await currentRun(ctx, page, outcome.runId);
      if (state === null) return;
      await enqueuePage(
        ctx,
        config,
        { ...page, runId: outcome.runId, jobId: state.jobId ?? null },
        { cap: context.pageSize * 2 },
      );
    } else if (ENDED.includes(outcome.status)) {
      // The page counted the run in its job; a paused walk may resume.
      await resumeWalks(ctx, config, context.jobId);
    }
    return;
  }
  const state = await currentRun(ctx, page, page.runId);
  if (state === null) return;
  const failures = context.failures + 1;
  const error = errorText(result);
  if (failures < MAX_PAGE_FAILURES) {
    const cap = Math.max(1, Math.floor(context.pageSize / 2));
    console.warn("[stats.recount] page failed; retrying with a smaller page", {
      ...page,
      failures,
      pageSize: cap,
      error,
    });
    const retry = { ...page, jobId: state.jobId ?? null };
    await enqueuePage(ctx, config, retry, { cap, failures, runAfter: backoff(failures) });
    return;
  }
  await markRunFailed(ctx, config, state, failures, error);
}

/** The state of run `runId` of the page's row, or null when the row runs another run or none. */
async function currentRun(
  ctx: Ctx,
  page: { workosOrgId: string; entity: string },
  runId: string,
): Promise<RecountState | null> {
  const state = await getRecountState(ctx.db, page.workosOrgId, page.entity);
  if (state !== null && state.runId === runId) return state;
  console.log("[stats.recount] run canceled or replaced; no further page", { ...page, runId });
  return null;
}

/**
 * After a run ended: lets the paused walk of its job resume. A run enqueued
 * outside a job may have been adopted by one since (its job id is gone with
 * its state), so then the newest daily run and migration are looked at.
 */
async function resumeWalks(
  ctx: Ctx,
  config: StatsConfig,
  jobId: Id<"statsRecountJobs"> | null,
): Promise<void> {
  const db = statsDb(ctx.db);
  const jobs =
    jobId !== null
      ? [await db.get("statsRecountJobs", jobId)]
      : [await latestJob(ctx.db, "daily"), await latestJob(ctx.db, "seed")];
  for (const job of jobs) {
    if (job !== null && !job.walkQueued) await continueWalk(ctx, config, job);
  }
}

/** Marks run `state` failed, counts it in its job and tells the subscriber. */
async function markRunFailed(
  ctx: Ctx,
  config: StatsConfig,
  state: RecountState,
  failures: number,
  error: string,
): Promise<void> {
  await statsDb(ctx.db).patch("statsRecounts", state._id, {
    failure: { failures, error: error.slice(0, 500), at: Date.now() },
  });
  if (state.jobId !== undefined) {
    const job = await countJob(ctx, state.jobId, { failed: 1 });
    if (job !== null && !job.walkQueued) await continueWalk(ctx, config, job);
  }
  const page = {
    workosOrgId: state.workosOrgId,
    entity: state.entity,
    runId: state.runId,
    jobId: state.jobId ?? null,
  };
  console.error("[stats.recount] run failed", { ...page, failures, error });
  await config.onRunFailed?.(ctx as StatsMutationCtx, {
    workosOrgId: page.workosOrgId,
    entity: page.entity,
    runId: page.runId,
    error,
  });
}

async function walkDone(
  ctx: Ctx,
  config: StatsConfig,
  context: Extract<WorkContext, { kind: "walk" }>,
  result: RunResult,
): Promise<void> {
  const db = statsDb(ctx.db);
  const job = await db.get("statsRecountJobs", context.jobId);
  if (job === null || job.canceledAt !== undefined) return;
  if (result.kind === "success") {
    await continueWalk(ctx, config, job, { fromWalkStep: true });
    return;
  }
  const failures = context.failures + 1;
  const error = errorText(result);
  await db.patch("statsRecountJobs", job._id, { walkFailures: failures });
  if (failures < MAX_PAGE_FAILURES) {
    console.warn("[stats.recount] walk step failed; retrying", { jobId: job._id, failures, error });
    await enqueueWalkStep(ctx, config, context.jobId, { failures, runAfter: backoff(failures) });
    return;
  }
  await db.patch("statsRecountJobs", job._id, {
    walkError: error.slice(0, 500),
    walkQueued: false,
  });
  console.error("[stats.recount] walk failed", { jobId: job._id, kind: job.kind, error });
  await config.onRunFailed?.(ctx as StatsMutationCtx, { workosOrgId: "*", runId: job._id, error });
}
