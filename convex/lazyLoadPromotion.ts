/**
 * Lazy promotion and the periodic cleanup.
 *
 * - `checkAndPromoteLoad`: prices one `UNMAPPED` load when a lane now applies.
 * - `periodicCleanup` (cron, `crons.ts`): restarts lane backfills that are due
 *   (a chain of scheduled batches that died, or a lane that has just come into
 *   effect) and expires `Open` loads whose pickup passed more than a grace
 *   period ago. Both are driven by indexes and bounded per transaction, and
 *   continue in scheduled batches. Every item handled leaves its index range
 *   (an expired load is no longer `Open`, deleted orgs' loads included; a
 *   restarted lane gets a new due time), so with nothing to do the cleanup
 *   reads no document.
 *
 * Why catch-up goes through lanes: unmapped loads only become priceable when
 * a lane appears or comes into effect, and both are lane events. Keeping a
 * "due" time on the lane (`lanes.backfillDueAt`) lets the cleanup find the
 * work with one index range that is empty when there is none, instead of
 * walking unmapped loads (which would read every unmapped load on every run).
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation, mutation, type MutationCtx } from "./functions";
import { requireOrgMember } from "./lib/auth";
import { vLoadType } from "./model/enums";
import { startedBackfill } from "./model/lanes/backfill";
import { LaneFinder, promoteLoad } from "./model/lanes/rules";
import { EXPIRY_BATCH_SIZE, expireBatch, resolveGraceMs } from "./model/loads/expiry";
import { getOrgLoad } from "./model/loads/rules";

/** Lane backfills (re)started per cleanup transaction. */
export const LANE_RESTARTS_PER_RUN = 25;

/**
 * Prices one load of the caller's org if it is `UNMAPPED` and a lane now
 * applies (see `model/lanes/rules.ts` for the matching rules): the load becomes
 * `CONTRACT`/`SPOT` and its `MISSING_DATA` invoice `DRAFT` at the lane's
 * rate. Otherwise a no-op (`promoted: false`). At most 3 lane lookups.
 */
export const checkAndPromoteLoad = mutation({
  args: { workosOrgId: v.string(), loadId: v.id("loads") },
  returns: v.object({
    promoted: v.boolean(),
    loadType: vLoadType,
    laneId: v.optional(v.id("lanes")),
  }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    const load = await getOrgLoad(ctx, args.workosOrgId, args.loadId);
    if (load.loadType !== "UNMAPPED") {
      return { promoted: false, loadType: load.loadType, laneId: load.laneId };
    }
    const match = await new LaneFinder(ctx.db).match(load, Date.now());
    if (match === null) return { promoted: false, loadType: load.loadType };
    await promoteLoad(ctx, load, match);
    return { promoted: true, loadType: match.loadType, laneId: match.lane._id };
  },
});

const vCleanupResult = v.object({
  expired: v.number(),
  expiryComplete: v.boolean(),
  lanesRestarted: v.number(),
  lanesComplete: v.boolean(),
});

/**
 * The cron entry. Runs one batch of each job and schedules continuations
 * while work remains:
 *
 * - expiry: `Open` loads with a pickup time more than `graceMs` ago (default:
 *   `LOAD_EXPIRY_GRACE_HOURS`, else 24 h) become `Expired`, up to
 *   `EXPIRY_BATCH_SIZE` per transaction;
 * - catch-up promotion: up to `LANE_RESTARTS_PER_RUN` lanes whose
 *   `backfillDueAt` has passed get a new backfill run (scheduled).
 *
 * ```sh
 * npx convex run lazyLoadPromotion:periodicCleanup '{}'
 * npx convex run lazyLoadPromotion:periodicCleanup '{"graceMs": 3600000}'
 * ```
 */
export const periodicCleanup = internalMutation({
  args: { graceMs: v.optional(v.number()) },
  returns: vCleanupResult,
  handler: async (ctx, args) => {
    const now = Date.now();
    const cutoff = now - resolveGraceMs(args.graceMs);
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
    const result = {
      expired: expiry.expired,
      expiryComplete: expiry.done,
      lanesRestarted: lanes.restarted,
      lanesComplete: lanes.complete,
    };
    if (result.expired > 0 || result.lanesRestarted > 0) {
      console.log("[cleanup.periodic]", { ...result, cutoff });
    }
    return result;
  },
});

/**
 * Continues the expiry of one cleanup run from `cursor`, with that run's
 * `cutoff`, scheduling itself while candidates remain.
 */
export const expireStaleLoads = internalMutation({
  args: { cutoff: v.number(), cursor: v.union(v.null(), v.string()) },
  returns: v.object({ expired: v.number(), done: v.boolean() }),
  handler: async (ctx, args) => {
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
  },
});

/** Restarts the next due lane backfills, scheduling itself while more are due. */
export const restartDueLaneBackfills = internalMutation({
  args: {},
  returns: v.object({ restarted: v.number(), complete: v.boolean() }),
  handler: async (ctx) => {
    const result = await restartDueBackfills(ctx, Date.now());
    if (!result.complete) {
      await ctx.scheduler.runAfter(0, internal.lazyLoadPromotion.restartDueLaneBackfills, {});
    }
    return result;
  },
});

/**
 * Gives each due lane (`backfillDueAt <= now`) a new backfill run and
 * schedules its first batch. The restart moves `backfillDueAt` a lease into
 * the future, so a lane leaves the due range as it is restarted and the next
 * transaction picks up where this one stopped.
 */
async function restartDueBackfills(
  ctx: MutationCtx,
  now: number,
): Promise<{ restarted: number; complete: boolean }> {
  const due = await ctx.db
    .query("lanes")
    .withIndex("by_backfill_due_at", (q) => q.gte("backfillDueAt", 0).lte("backfillDueAt", now))
    .take(LANE_RESTARTS_PER_RUN);
  for (const lane of due) {
    const restart = startedBackfill(lane.backfill, now);
    await ctx.db.patch("lanes", lane._id, restart);
    await ctx.scheduler.runAfter(0, internal.lanes.continueLaneBackfill, {
      laneId: lane._id,
      runId: restart.backfill.runId,
    });
    console.log("[cleanup.backfill_restart]", {
      laneId: lane._id,
      workosOrgId: lane.workosOrgId,
      runId: restart.backfill.runId,
      previousState: lane.backfill?.state ?? null,
    });
  }
  return { restarted: due.length, complete: due.length < LANE_RESTARTS_PER_RUN };
}
