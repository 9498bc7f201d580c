/**
 * Recount jobs (`statsRecountJobs`): one document per daily run or seeding
 * migration over all orgs, holding where its walk is and how many of the
 * rows it started finished, failed or were canceled. Status reads it; the
 * walk steps, each run's end and cancels write it (a few writes per run).
 */
import type { Doc, Id } from "../../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../../ctx";
import type { RecountJobKind } from "../tables";
import type { WalkPosition } from "./orgWalk";

export type RecountJob = Doc<"statsRecountJobs">;

/** The counters of a job that `countJob` adds to. */
export type JobCounts = Partial<
  Pick<RecountJob, "started" | "finished" | "failed" | "canceled" | "skipped" | "alreadyRunning">
>;

/** Creates a job whose walk starts at `start`. */
export async function createJob(
  ctx: Pick<MutationCtx, "db">,
  kind: RecountJobKind,
  start: WalkPosition,
): Promise<Id<"statsRecountJobs">> {
  return await ctx.db.insert("statsRecountJobs", {
    kind,
    startedAt: Date.now(),
    walk: start,
    walkFailures: 0,
    walkQueued: false,
    started: 0,
    finished: 0,
    failed: 0,
    canceled: 0,
    skipped: 0,
    alreadyRunning: 0,
  });
}

/**
 * Adds `counts` to job `jobId`'s counters and returns the job as updated
 * (null when the job is gone).
 */
export async function countJob(
  ctx: Pick<MutationCtx, "db">,
  jobId: Id<"statsRecountJobs">,
  counts: JobCounts,
): Promise<RecountJob | null> {
  const job = await ctx.db.get("statsRecountJobs", jobId);
  if (job === null) return null;
  const patch: JobCounts = {};
  for (const [key, n] of Object.entries(counts) as [keyof JobCounts, number][]) {
    patch[key] = job[key] + n;
  }
  await ctx.db.patch("statsRecountJobs", jobId, patch);
  return { ...job, ...patch };
}

/** The newest job of `kind`, or null. One indexed read. */
export async function latestJob(
  ctx: Pick<QueryCtx, "db">,
  kind: RecountJobKind,
): Promise<RecountJob | null> {
  return await ctx.db
    .query("statsRecountJobs")
    .withIndex("by_kind_and_started_at", (q) => q.eq("kind", kind))
    .order("desc")
    .first();
}

/** Rows the job started that have not ended yet. */
export function jobRunning(job: RecountJob): number {
  return Math.max(0, job.started - job.finished - job.failed - job.canceled);
}

/** Whether a job still has work: its walk, or rows that have not ended. */
export function jobActive(job: RecountJob): boolean {
  if (job.canceledAt !== undefined) return false;
  const ended = job.finished + job.failed + job.canceled;
  return (job.walk !== null && job.walkError === undefined) || ended < job.started;
}
