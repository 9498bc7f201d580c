/**
 * Lane functions: create a lane and promote the org's unmapped loads it
 * prices (first batch in the same transaction, the rest in scheduled
 * batches), and the scheduled continuation of such a backfill.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation, mutation } from "./functions";
import { requireBilling, requireOrgMember } from "./lib/auth";
import { appError } from "./lib/errors";
import {
  abandonBackfill,
  BACKFILL_BATCH_SIZE,
  MAX_BACKFILL_BATCH_SIZE,
  runBackfillBatch,
  startedBackfill,
} from "./model/lanes/backfill";
import { insertLane, WILDCARD } from "./model/lanes/rules";
import { assertOrgActive } from "./model/organizations/registry";
import { vLocation } from "./schema";
import { getStatsRow } from "./stats_helpers";

/** A lane end as callers send it: a location or `"*"`. */
const vLaneEnd = v.union(v.literal(WILDCARD), vLocation);

/**
 * Creates a lane for the caller's org and promotes the org's `UNMAPPED` loads
 * it prices to `CONTRACT` (exact lane) or `SPOT` (wildcard lane), moving
 * their invoices `MISSING_DATA` → `DRAFT` at `rateCents`.
 *
 * - `origin`/`destination`: a location, or `"*"` at one end (not both).
 * - `rateCents`: integer cents, > 0.
 * - `effectiveFrom` (default now) / `effectiveTo` (optional, exclusive), ms.
 *   A load is matched at its pickup time, or now when it has none.
 * - `customerId`: the lane then applies to that customer's loads only.
 *
 * The first `BACKFILL_BATCH_SIZE` unmapped loads in the lane's index range
 * are handled in this transaction; when more remain the rest continue in
 * scheduled batches (`backfillComplete: false`; progress on `lane.backfill`).
 *
 * Needs a billing permission (`BILLING_PERMISSIONS`) on top of org
 * membership: a lane's rate prices invoices. Refuses a deleted org even when
 * no load is promoted (the lane itself is not counted, so the stats flush
 * would not see it).
 *
 * @throws `MISSING_PERMISSION` without the billing permission; `ORG_DELETED`
 *   for a deleted org; `ALREADY_EXISTS` for a lane with the same ends and
 *   customer whose effective period overlaps; `INVALID_ARGUMENT` for `* → *`,
 *   a bad rate or bad dates.
 */
export const createLaneAndBackfill = mutation({
  args: {
    workosOrgId: v.string(),
    origin: vLaneEnd,
    destination: vLaneEnd,
    rateCents: v.number(),
    effectiveFrom: v.optional(v.number()),
    effectiveTo: v.optional(v.number()),
    customerId: v.optional(v.string()),
  },
  returns: v.object({
    laneId: v.id("lanes"),
    examined: v.number(),
    promoted: v.number(),
    backfillComplete: v.boolean(),
  }),
  handler: async (ctx, args) => {
    const caller = await requireOrgMember(ctx, args.workosOrgId);
    requireBilling(caller);
    await assertOrgActive(ctx, args.workosOrgId);
    const now = Date.now();
    const lane = await insertLane(ctx, args, now, startedBackfill(undefined, now));
    const batch = await runBackfillBatch(ctx, lane, { batchSize: BACKFILL_BATCH_SIZE, now });
    if (!batch.done) {
      await ctx.scheduler.runAfter(0, internal.lanes.continueLaneBackfill, {
        laneId: lane._id,
        runId: batch.runId,
      });
    }
    console.log("[lanes.create]", {
      workosOrgId: args.workosOrgId,
      laneId: lane._id,
      originKey: lane.originKey,
      destinationKey: lane.destinationKey,
      examined: batch.examined,
      promoted: batch.promoted,
      backfillComplete: batch.done,
    });
    return {
      laneId: lane._id,
      examined: batch.examined,
      promoted: batch.promoted,
      backfillComplete: batch.done,
    };
  },
});

/**
 * Runs the next batch of a lane's backfill and schedules the one after while
 * loads remain. A call for a run that is not the lane's current running one
 * (restarted, finished, lane deleted) does nothing (`stale`), so a duplicate
 * chain dies out after one read. For a deleted org the backfill is abandoned
 * (logged, `done`, no longer due) rather than run or failed: the stats flush
 * does not refuse internal mutations, and a throw would be retried by every
 * cleanup run.
 *
 * ```sh
 * npx convex run lanes:continueLaneBackfill '{"laneId": "...", "runId": 1}'
 * ```
 */
export const continueLaneBackfill = internalMutation({
  args: {
    laneId: v.id("lanes"),
    runId: v.number(),
    /** Loads per transaction; default `BACKFILL_BATCH_SIZE`. */
    batchSize: v.optional(v.number()),
  },
  returns: v.object({
    status: v.union(v.literal("stale"), v.literal("running"), v.literal("done")),
    examined: v.number(),
    promoted: v.number(),
  }),
  handler: async (ctx, args) => {
    const batchSize = args.batchSize ?? BACKFILL_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BACKFILL_BATCH_SIZE) {
      throw appError(
        "INVALID_ARGUMENT",
        `batchSize must be an integer from 1 to ${MAX_BACKFILL_BATCH_SIZE}.`,
        { field: "batchSize" },
      );
    }
    const lane = await ctx.db.get("lanes", args.laneId);
    if (
      lane === null ||
      lane.backfill === undefined ||
      lane.backfill.runId !== args.runId ||
      lane.backfill.state !== "running"
    ) {
      return { status: "stale" as const, examined: 0, promoted: 0 };
    }
    const now = Date.now();
    const stats = await getStatsRow(ctx.db, lane.workosOrgId, "loads");
    if (stats?.orgDeleted === true) {
      await abandonBackfill(ctx, lane, now);
      console.warn("[lanes.backfill] organization deleted; backfill abandoned", {
        laneId: lane._id,
        workosOrgId: lane.workosOrgId,
      });
      return { status: "done" as const, examined: 0, promoted: 0 };
    }
    const batch = await runBackfillBatch(ctx, lane, { batchSize, now });
    if (!batch.done) {
      await ctx.scheduler.runAfter(0, internal.lanes.continueLaneBackfill, {
        laneId: lane._id,
        runId: batch.runId,
        ...(args.batchSize === undefined ? {} : { batchSize: args.batchSize }),
      });
    }
    console.log("[lanes.backfill]", {
      laneId: lane._id,
      runId: batch.runId,
      examined: batch.examined,
      promoted: batch.promoted,
      done: batch.done,
    });
    return {
      status: batch.done ? ("done" as const) : ("running" as const),
      examined: batch.examined,
      promoted: batch.promoted,
    };
  },
});
