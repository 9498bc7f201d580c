/**
 * The periodic cleanup (`lazyLoadPromotion.periodicCleanup`, cron'd in
 * `crons.ts`) and its continuations: expiry of stale `Open` loads
 * (`expiry.ts`) and the restart of due lane backfills
 * (`../lanes/backfill.ts`), each bounded per transaction and continued in
 * scheduled batches. See `lazyLoadPromotion.ts` for why catch-up goes
 * through lanes.
 */
import { v, type Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { MutationCtx } from "../ctx";
import { restartDueBackfills } from "../lanes/backfill";
import { EXPIRY_BATCH_SIZE, expireBatch, resolveGraceMs } from "./expiry";

/** What one cleanup run did in its first transaction. */
export const vCleanupResult = v.object({
  expired: v.number(),
  expiryComplete: v.boolean(),
  lanesRestarted: v.number(),
  lanesComplete: v.boolean(),
  /**
   * Due lanes the code would not have written (`laneProblems`): their
   * backfill ended instead of being restarted, each logged as
   * `[stored.invalid]`. Absent when there were none.
   */
  lanesSkippedInvalid: v.optional(v.number()),
});
export type CleanupResult = Infer<typeof vCleanupResult>;

/** Arguments of an expiry continuation. */
export const vExpiryContinuationArgs = {
  cutoff: v.number(),
  cursor: v.union(v.null(), v.string()),
};
/** What an expiry continuation did. */
export const vExpiryContinuationResult = v.object({ expired: v.number(), done: v.boolean() });
export type ExpiryContinuationResult = Infer<typeof vExpiryContinuationResult>;

/** What a lane-restart continuation did. */
export const vRestartResult = v.object({
  restarted: v.number(),
  complete: v.boolean(),
  /** As `lanesSkippedInvalid` of the cleanup result. */
  skippedInvalid: v.optional(v.number()),
});
export type RestartResult = Infer<typeof vRestartResult>;

/**
 * Runs one batch of each cleanup job and schedules continuations while work
 * remains (see `lazyLoadPromotion.periodicCleanup`).
 */
export async function runPeriodicCleanup(
  ctx: MutationCtx,
  graceMs: number | undefined,
): Promise<CleanupResult> {
  const now = Date.now();
  const cutoff = now - resolveGraceMs(graceMs);
  const expiry = await expireBatch(ctx, {
    cutoff,
    cursor: null,
    batchSize: EXPIRY_BATCH_SIZE,
    now,
  });
  if (!expiry.done) {
    await ctx.scheduler.runAfter(0, internal.lazyLoadPromotion.expireStaleLoads, {
      cutoff,
      cursor: expiry.continueCursor,
    });
  }
  const lanes = await restartDueBackfills(ctx, now);
  if (!lanes.complete) {
    await ctx.scheduler.runAfter(0, internal.lazyLoadPromotion.restartDueLaneBackfills, {});
  }
  const result: CleanupResult = {
    expired: expiry.expired,
    expiryComplete: expiry.done,
    lanesRestarted: lanes.restarted,
    lanesComplete: lanes.complete,
    ...(lanes.skippedInvalid > 0 ? { lanesSkippedInvalid: lanes.skippedInvalid } : {}),
  };
  if (result.expired > 0 || result.lanesRestarted > 0 || lanes.skippedInvalid > 0) {
    console.log("[cleanup.periodic]", { ...result, cutoff });
  }
  return result;
}

/** Continues one run's expiry from `cursor`, scheduling itself while candidates remain. */
export async function continueExpiry(
  ctx: MutationCtx,
  args: { cutoff: number; cursor: string | null },
): Promise<ExpiryContinuationResult> {
  const batch = await expireBatch(ctx, {
    cutoff: args.cutoff,
    cursor: args.cursor,
    batchSize: EXPIRY_BATCH_SIZE,
    now: Date.now(),
  });
  if (!batch.done) {
    await ctx.scheduler.runAfter(0, internal.lazyLoadPromotion.expireStaleLoads, {
      cutoff: args.cutoff,
      cursor: batch.continueCursor,
    });
  }
  console.log("[cleanup.expire]", { expired: batch.expired, done: batch.done });
  return { expired: batch.expired, done: batch.done };
}

/** Restarts the next due lane backfills, scheduling itself while more are due. */
export async function continueLaneRestarts(ctx: MutationCtx): Promise<RestartResult> {
  const { restarted, complete, skippedInvalid } = await restartDueBackfills(ctx, Date.now());
  if (!complete) {
    await ctx.scheduler.runAfter(0, internal.lazyLoadPromotion.restartDueLaneBackfills, {});
  }
  return { restarted, complete, ...(skippedInvalid > 0 ? { skippedInvalid } : {}) };
}
