/**
 * Bounded fan-out of recount work through the `statsWorkpool` component:
 * every recount page and every step of the daily walk / seeding migration is
 * a work item, so at most `maxParallelism` of them run at once, whatever the
 * number of orgs. Pages never schedule themselves: the completion handler
 * (`onWorkDone`, registered as `stats:recountWorkDone`) enqueues the next
 * page, or retries a failed one with a smaller page after a backoff, and
 * after `MAX_PAGE_FAILURES` failures in a row marks the run failed (state
 * kept, alert queued); the next daily run replaces it.
 */
import { Workpool, type RunResult } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { internal } from "../../../_generated/api";
import type { Id } from "../../../_generated/dataModel";
import { components } from "../../../lib/components";
import { readEnv } from "../../../lib/env";
import { currentRate, adaptivePageSize, NO_WRITES } from "../../../lib/contention";
import { enqueueRunFailedAlert } from "../../alerts/queue";
import type { MutationCtx } from "../../ctx";
import { vStatsEntity, type StatsEntity } from "../../enums";
import { getStatsRow } from "../rows";
import { getRecountState } from "../shadow";
import { countJob, jobRunning, type RecountJob } from "./jobs";
import { DEFAULT_PAGE_DOCS } from "./pages";

/** Work items of the stats pool running at once, unless `STATS_MAX_PARALLELISM` says otherwise. */
export const DEFAULT_MAX_PARALLELISM = 10;
/** The environment variable that sets the pool's parallelism (1..100). */
export const MAX_PARALLELISM_ENV = "STATS_MAX_PARALLELISM";
/** Failures in a row after which a run (or a walk) is marked failed. */
export const MAX_PAGE_FAILURES = 5;
/**
 * The walk of a job pauses while this many of the rows it started are still
 * running, and resumes when a run's end brings them below `WALK_RESUME`. So
 * a night with thousands of orgs keeps a bounded queue (and marks rows
 * `recounting` only shortly before their pages run), instead of starting
 * every org at once.
 */
export const WALK_AHEAD = 200;
export const WALK_RESUME = 100;
/** Backoff before the n-th retry: `BACKOFF_BASE_MS * 2^(n-1)` (1 s, 2 s, 4 s, 8 s). */
export const BACKOFF_BASE_MS = 1_000;

/**
 * The pool's parallelism: `STATS_MAX_PARALLELISM` when set, else 10.
 *
 * @throws an `Error` naming the variable when it is not an integer from 1 to
 *   100 (a configuration mistake the operator must see).
 */
export function maxParallelism(): number {
  const raw = readEnv(MAX_PARALLELISM_ENV);
  if (raw === null) return DEFAULT_MAX_PARALLELISM;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new Error(`${MAX_PARALLELISM_ENV} must be an integer from 1 to 100, got ${raw}`);
  }
  return n;
}

/** The stats pool (a new client per call: the parallelism is read from the environment). */
function pool(): Workpool {
  return new Workpool(components.statsWorkpool, {
    maxParallelism: maxParallelism(),
    logLevel: "WARN",
  });
}

/** The client's enqueue only calls `ctx.runMutation`; its type asks for a whole context. */
function enqueueCtx(
  ctx: Pick<MutationCtx, "runMutation">,
): Parameters<Workpool["enqueueMutation"]>[0] {
  return ctx as Parameters<Workpool["enqueueMutation"]>[0];
}

/** What the completion handler needs to continue or retry a work item. */
export const vWorkContext = v.union(
  v.object({
    kind: v.literal("page"),
    workosOrgId: v.string(),
    entity: vStatsEntity,
    runId: v.string(),
    jobId: v.union(v.id("statsRecountJobs"), v.null()),
    pageSize: v.number(),
    failures: v.number(),
  }),
  v.object({
    kind: v.literal("walk"),
    jobId: v.id("statsRecountJobs"),
    failures: v.number(),
  }),
);
export type WorkContext = Infer<typeof vWorkContext>;
type PageContext = Extract<WorkContext, { kind: "page" }>;

type PoolCtx = Pick<MutationCtx, "db" | "runMutation">;

/**
 * The page size for the next page of (org, entity): the contention rule on
 * the row's write-rate estimate (`docs/contention.md`), never above `cap`.
 * Read here, in the transaction that enqueues the page, so the page itself
 * does not read the stats row every counted write rewrites.
 */
async function nextPageSize(
  ctx: Pick<MutationCtx, "db">,
  workosOrgId: string,
  entity: StatsEntity,
  cap: number,
): Promise<number> {
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  const rate = currentRate(row?.writeRate ?? NO_WRITES, Date.now());
  return Math.max(1, Math.min(cap, adaptivePageSize(rate), DEFAULT_PAGE_DOCS));
}

/**
 * Enqueues a page of run `runId` of (org, entity). `cap` bounds the page
 * size (a retry halves it); `runAfter` delays it (backoff).
 */
export async function enqueuePage(
  ctx: PoolCtx,
  page: {
    workosOrgId: string;
    entity: StatsEntity;
    runId: string;
    jobId: Id<"statsRecountJobs"> | null;
  },
  options: { cap?: number; failures?: number; runAfter?: number } = {},
): Promise<void> {
  const pageSize = await nextPageSize(
    ctx,
    page.workosOrgId,
    page.entity,
    options.cap ?? DEFAULT_PAGE_DOCS,
  );
  const context: PageContext = { kind: "page", ...page, pageSize, failures: options.failures ?? 0 };
  await pool().enqueueMutation(
    enqueueCtx(ctx),
    internal.stats.recountPage,
    { workosOrgId: page.workosOrgId, entity: page.entity, runId: page.runId, maxDocs: pageSize },
    { onComplete: internal.stats.recountWorkDone, context, runAfter: options.runAfter },
  );
}

/**
 * After a walk step or a run's end: enqueues the next walk step of `job`
 * when its walk has more orgs, none is queued, and fewer than `limit` of its
 * rows are running; otherwise marks the walk paused (`walkQueued: false`).
 * `queued` says whether the caller is the walk step's own completion.
 */
export async function continueWalk(
  ctx: PoolCtx,
  job: RecountJob,
  options: { fromWalkStep?: boolean } = {},
): Promise<void> {
  if (job.walk === null || job.canceledAt !== undefined || job.walkError !== undefined) {
    if (job.walkQueued) await ctx.db.patch("statsRecountJobs", job._id, { walkQueued: false });
    return;
  }
  const queued = job.walkQueued && options.fromWalkStep !== true;
  if (queued) return;
  const limit = options.fromWalkStep === true ? WALK_AHEAD : WALK_RESUME;
  if (jobRunning(job) < limit) {
    await enqueueWalkStep(ctx, job._id);
    if (!job.walkQueued) await ctx.db.patch("statsRecountJobs", job._id, { walkQueued: true });
  } else if (job.walkQueued) {
    await ctx.db.patch("statsRecountJobs", job._id, { walkQueued: false });
  }
}

/** Enqueues the next step of job `jobId`'s walk over all orgs. */
async function enqueueWalkStep(
  ctx: PoolCtx,
  jobId: Id<"statsRecountJobs">,
  options: { failures?: number; runAfter?: number } = {},
): Promise<void> {
  const context: WorkContext = { kind: "walk", jobId, failures: options.failures ?? 0 };
  await pool().enqueueMutation(
    enqueueCtx(ctx),
    internal.stats.recountWalkStep,
    { jobId },
    { onComplete: internal.stats.recountWorkDone, context, runAfter: options.runAfter },
  );
}

function backoff(failures: number): number {
  return BACKOFF_BASE_MS * 2 ** (failures - 1);
}

function errorText(result: RunResult): string {
  return result.kind === "failed" ? result.error : result.kind;
}

/**
 * The completion of a page or walk step (the pool's `onComplete`):
 * - a page that continued (or restarted) enqueues the next page, allowing the
 *   page to grow back by 2x after a retry shrank it;
 * - a finished (or abandoned, or inconclusive) run is counted in its job;
 * - a failed page is enqueued again with half the page size after a backoff;
 *   the `MAX_PAGE_FAILURES`-th failure in a row marks the run failed;
 * - walk steps likewise continue, or retry, or mark the walk failed.
 * A work item canceled in the pool does nothing (cancels are counted by
 * `cancel.ts`).
 */
export async function onWorkDone(
  ctx: PoolCtx & Pick<MutationCtx, "runQuery">,
  context: WorkContext,
  result: RunResult,
): Promise<void> {
  if (result.kind === "canceled") return;
  if (context.kind === "walk") return await walkDone(ctx, context, result);
  const page = {
    workosOrgId: context.workosOrgId,
    entity: context.entity,
    runId: context.runId,
    jobId: context.jobId,
  };
  if (result.kind === "success") {
    const outcome = result.returnValue as { status: string; runId: string };
    if (outcome.status === "continued" || outcome.status === "restarted") {
      await enqueuePage(ctx, { ...page, runId: outcome.runId }, { cap: context.pageSize * 2 });
    } else if (
      (outcome.status === "finished" ||
        outcome.status === "abandoned" ||
        outcome.status === "inconclusive") &&
      context.jobId !== null
    ) {
      const job = await countJob(ctx, context.jobId, { finished: 1 });
      if (job !== null && !job.walkQueued) await continueWalk(ctx, job);
    }
    return;
  }
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
    await enqueuePage(ctx, page, { cap, failures, runAfter: backoff(failures) });
    return;
  }
  await markRunFailed(ctx, page, failures, error);
}

/** Marks the run failed (if it is still the row's run), counts it and queues its alert. */
async function markRunFailed(
  ctx: PoolCtx & Pick<MutationCtx, "runQuery">,
  page: Omit<PageContext, "kind" | "pageSize" | "failures">,
  failures: number,
  error: string,
): Promise<void> {
  const state = await getRecountState(ctx.db, page.workosOrgId, page.entity);
  if (state === null || state.runId !== page.runId) return;
  await ctx.db.patch("statsRecounts", state._id, {
    failure: { failures, error: error.slice(0, 500), at: Date.now() },
  });
  if (page.jobId !== null) {
    const job = await countJob(ctx, page.jobId, { failed: 1 });
    if (job !== null && !job.walkQueued) await continueWalk(ctx, job);
  }
  console.error("[stats.recount] run failed", { ...page, failures, error });
  await enqueueRunFailedAlert(ctx, {
    workosOrgId: page.workosOrgId,
    entity: page.entity,
    runId: page.runId,
    error,
  });
}

async function walkDone(
  ctx: PoolCtx & Pick<MutationCtx, "runQuery">,
  context: Extract<WorkContext, { kind: "walk" }>,
  result: RunResult,
): Promise<void> {
  const job = await ctx.db.get("statsRecountJobs", context.jobId);
  if (job === null || job.canceledAt !== undefined) return;
  if (result.kind === "success") {
    await continueWalk(ctx, job, { fromWalkStep: true });
    return;
  }
  const failures = context.failures + 1;
  const error = errorText(result);
  await ctx.db.patch("statsRecountJobs", job._id, { walkFailures: failures });
  if (failures < MAX_PAGE_FAILURES) {
    console.warn("[stats.recount] walk step failed; retrying", { jobId: job._id, failures, error });
    await enqueueWalkStep(ctx, context.jobId, { failures, runAfter: backoff(failures) });
    return;
  }
  await ctx.db.patch("statsRecountJobs", job._id, {
    walkError: error.slice(0, 500),
    walkQueued: false,
  });
  console.error("[stats.recount] walk failed", { jobId: job._id, kind: job.kind, error });
  await enqueueRunFailedAlert(ctx, { workosOrgId: "*", runId: job._id, error });
}
