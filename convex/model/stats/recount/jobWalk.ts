/**
 * The walk of a recount job (daily run or seeding migration) over all orgs,
 * one step per work item of the stats workpool: each step walks one page of
 * orgs (`orgWalk.ts`), starts their recounts, and records the position and
 * counts in the job. The pool's completion handler enqueues the next step
 * (`pool.ts`).
 */
import type { Id } from "../../../_generated/dataModel";
import type { MutationCtx } from "../../ctx";
import { countJob, createJob } from "./jobs";
import { vWalkPhase, walkAndStart, type WalkPosition, type WalkStep } from "./orgWalk";
import { continueWalk } from "./pool";
import type { RecountJobKind } from "../tables";

type Ctx = Pick<MutationCtx, "db" | "runMutation">;

function modeOf(kind: RecountJobKind) {
  return kind === "daily" ? ("daily" as const) : ("seed" as const);
}

function isPhase(phase: string): phase is WalkPosition["phase"] {
  return (vWalkPhase.members as { value: string }[]).some((m) => m.value === phase);
}

/**
 * One step of job `jobId`'s walk: nothing when the job is gone, canceled or
 * its walk is done; otherwise one page of orgs. Returns the step, or null.
 */
export async function walkJobStep(
  ctx: Ctx,
  jobId: Id<"statsRecountJobs">,
): Promise<WalkStep | null> {
  const job = await ctx.db.get("statsRecountJobs", jobId);
  if (job === null || job.canceledAt !== undefined || job.walk === null) return null;
  const { phase, cursor } = job.walk;
  if (!isPhase(phase)) throw new Error(`[stats.walk] unknown phase ${phase}`);
  const step = await walkAndStart(ctx, modeOf(job.kind), { phase, cursor }, jobId);
  await ctx.db.patch("statsRecountJobs", jobId, { walk: step.next, walkFailures: 0 });
  await countJob(ctx, jobId, {
    started: step.started,
    skipped: step.skipped,
    alreadyRunning: step.running,
  });
  return step;
}

/**
 * Starts a job: creates it, runs its first walk step in this transaction
 * (so the caller sees what it started), and enqueues the rest.
 */
export async function startJob(
  ctx: Ctx,
  kind: RecountJobKind,
  start: WalkPosition,
): Promise<{ jobId: Id<"statsRecountJobs">; step: WalkStep }> {
  const jobId = await createJob(ctx, kind, start);
  const step = await walkJobStep(ctx, jobId);
  if (step === null) throw new Error("[stats.walk] a new job has no walk");
  const job = await ctx.db.get("statsRecountJobs", jobId);
  if (job !== null) await continueWalk(ctx, job);
  return { jobId, step };
}
