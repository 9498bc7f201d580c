/**
 * The walk of a recount job (daily run, seeding migration or its dry run)
 * over all orgs, one step per work item of the stats workpool: each step
 * walks one page of orgs (`orgWalk.ts`), starts their recounts, and records
 * the position and counts in the job. The pool's completion enqueues the
 * next step through `continueWalk`, which also keeps the number of running
 * rows bounded.
 */
import type { StatsConfig } from "../config";
import { statsDb, type StatsMutationCtx } from "../ctx";
import type { Id } from "../ids";
import type { RecountJobKind, SeedAction, SeedReportEntry } from "../tables";
import { enqueueWalkStep } from "./enqueue";
import { countJob, createJob, jobRunning, type RecountJob, type WalkPosition } from "./jobs";
import { walkAndStart, type WalkStep } from "./orgWalk";
import type { StartResult } from "./start";
import type { RecountMode, SkipReason } from "./state";

/**
 * The walk of a job pauses while this many of the rows it started are still
 * running, and resumes when a run's end brings them below `WALK_RESUME`. So
 * a night with thousands of orgs keeps a bounded queue (and marks rows
 * `recounting` only shortly before their pages run).
 */
export const WALK_AHEAD = 200;
export const WALK_RESUME = 100;

type Ctx = Pick<StatsMutationCtx, "db" | "runMutation">;

function modeOf(kind: RecountJobKind): RecountMode {
  return kind;
}

const SKIP_ACTION = {
  org_deleted: "skip_deleted",
  already_exact: "skip_exact",
  canceled: "skip_canceled",
} as const satisfies Record<SkipReason, SeedAction>;

/** A dry run's line for a row the walk did not start (skipped or already running). */
function skipEntry(
  target: { workosOrgId: string; foundBy: SeedReportEntry["foundBy"] },
  result: StartResult,
): SeedReportEntry | null {
  let action: SeedAction;
  if (result.status === "running") action = "skip_running";
  else if (result.status === "skipped" && result.reason !== null) {
    action = SKIP_ACTION[result.reason];
  } else return null;
  return {
    workosOrgId: target.workosOrgId,
    entity: result.entity,
    foundBy: target.foundBy,
    action,
    documents: null,
    changes: [],
  };
}

/**
 * One step of job `jobId`'s walk: nothing when the job is gone, canceled or
 * its walk is done; otherwise one page of orgs. Returns the step, or null.
 *
 * The job counts every row visited once: `started` (runs it started or
 * adopted, each counted again when it ends: `finished`, `failed` or
 * `canceled`), `skipped`, `alreadyRunning` (another job counts its end).
 * `deferred`: the step runs after the job was requested (pool work), so orgs
 * canceled since the job started are skipped (`marks.ts`); the first step
 * runs in the job's own transaction.
 */
export async function walkJobStep(
  ctx: Ctx,
  config: StatsConfig,
  jobId: Id<"statsRecountJobs">,
  options: { deferred: boolean } = { deferred: true },
): Promise<WalkStep | null> {
  const job = await statsDb(ctx.db).get("statsRecountJobs", jobId);
  if (job === null || job.canceledAt !== undefined || job.walk === null) return null;
  const { step, results } = await walkAndStart(ctx, config, modeOf(job.kind), job.walk, {
    jobId,
    maxPage: job.pageCap,
    request: options.deferred ? { at: job.startedAt, includeCancelAll: false } : undefined,
  });
  await statsDb(ctx.db).patch("statsRecountJobs", jobId, { walk: step.next, walkFailures: 0 });
  const entries =
    job.kind === "report"
      ? results.flatMap(({ target, result }) => skipEntry(target, result) ?? [])
      : [];
  await countJob(
    ctx,
    jobId,
    {
      started: step.started + step.adopted,
      skipped: step.skipped,
      alreadyRunning: step.running,
    },
    entries,
  );
  if (step.adopted > 0) console.log("[stats.walk] runs adopted", { jobId, adopted: step.adopted });
  return step;
}

/**
 * Starts a job: creates it, runs its first walk step in this transaction
 * (so the caller sees what it started), and enqueues the rest.
 */
export async function startJob(
  ctx: Ctx,
  config: StatsConfig,
  kind: RecountJobKind,
  start: WalkPosition,
  options: { pageCap?: number } = {},
): Promise<{ jobId: Id<"statsRecountJobs">; step: WalkStep }> {
  const jobId = await createJob(ctx, kind, start, options);
  const step = await walkJobStep(ctx, config, jobId, { deferred: false });
  if (step === null) throw new Error("[stats.walk] a new job has no walk");
  const job = await statsDb(ctx.db).get("statsRecountJobs", jobId);
  if (job !== null) await continueWalk(ctx, config, job);
  return { jobId, step };
}

/**
 * After a walk step or a run's end: enqueues the next walk step of `job`
 * when its walk has more orgs, none is queued, and fewer than the limit of
 * its rows are running; otherwise marks the walk paused (`walkQueued: false`).
 * `fromWalkStep` says the caller is the walk step's own completion.
 */
export async function continueWalk(
  ctx: Ctx,
  config: StatsConfig,
  job: RecountJob,
  options: { fromWalkStep?: boolean } = {},
): Promise<void> {
  const db = statsDb(ctx.db);
  if (job.walk === null || job.canceledAt !== undefined || job.walkError !== undefined) {
    if (job.walkQueued) await db.patch("statsRecountJobs", job._id, { walkQueued: false });
    return;
  }
  const queued = job.walkQueued && options.fromWalkStep !== true;
  if (queued) return;
  const limit = options.fromWalkStep === true ? WALK_AHEAD : WALK_RESUME;
  if (jobRunning(job) < limit) {
    await enqueueWalkStep(ctx, config, job._id);
    if (!job.walkQueued) await db.patch("statsRecountJobs", job._id, { walkQueued: true });
  } else if (job.walkQueued) {
    await db.patch("statsRecountJobs", job._id, { walkQueued: false });
  }
}
