/**
 * Lane backfill: when a lane appears, the org's `UNMAPPED` loads it can price
 * are promoted, in bounded batches. Reads grow with the loads in the lane's
 * index range (its unmapped loads), never with the org.
 *
 * The progress lives on the lane (`backfill`, `backfillDueAt`), so a batch
 * needs only the lane id and its run id, an operator can see how far a
 * backfill got, and `periodicCleanup` can restart one whose chain of
 * scheduled batches died (its lease ran out) or that is due again because
 * the lane only starts later (`effectiveFrom` in the future).
 */
import type { PaginationResult } from "convex/server";
import { v, type Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { DatabaseReader } from "../../_generated/server";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import { vLocation } from "../fields";
import { getStatsRow } from "../../stats_helpers";
import { isOrgDeleted } from "../organizations/deleted";
import { insertLane, LaneFinder, promoteLoad, WILDCARD, type NewLane } from "./rules";

/** Loads examined per backfill transaction (about 5 reads and 2 writes each). */
export const BACKFILL_BATCH_SIZE = 100;
/** Largest batch size a caller may ask for. */
export const MAX_BACKFILL_BATCH_SIZE = 500;
/**
 * How long a running backfill may go without finishing a batch before
 * `periodicCleanup` considers its chain dead and restarts it.
 */
export const BACKFILL_LEASE_MS = 10 * 60 * 1000;

export type LaneBackfill = NonNullable<Doc<"lanes">["backfill"]>;

/** The backfill fields of a lane whose backfill (re)starts at `now`. */
export function startedBackfill(
  previous: LaneBackfill | undefined,
  now: number,
): { backfill: LaneBackfill; backfillDueAt: number } {
  return {
    backfill: {
      runId: (previous?.runId ?? 0) + 1,
      state: "running",
      cursor: null,
      batches: 0,
      examined: 0,
      promoted: 0,
      startedAt: now,
      updatedAt: now,
    },
    backfillDueAt: now + BACKFILL_LEASE_MS,
  };
}

/**
 * When a finished backfill is due again: at `effectiveFrom` for a lane that
 * starts later (loads without a pickup time are matched at "now", so they
 * match only once the lane is in effect); otherwise never.
 */
function dueAfterDone(lane: Doc<"lanes">, now: number): number | undefined {
  return lane.effectiveFrom > now ? lane.effectiveFrom : undefined;
}

/**
 * One page of the unmapped loads `lane` could price, in index order:
 * - exact lane: (org, UNMAPPED, originKey, destinationKey)
 * - `origin → *`: (org, UNMAPPED, originKey)
 * - `* → destination`: (org, UNMAPPED, destinationKey) on the destination index
 */
async function pageOfUnmappedLoads(
  db: DatabaseReader,
  lane: Doc<"lanes">,
  cursor: string | null,
  numItems: number,
): Promise<PaginationResult<Doc<"loads">>> {
  const { workosOrgId, originKey, destinationKey } = lane;
  if (originKey === WILDCARD) {
    return await db
      .query("loads")
      .withIndex("by_org_and_type_and_destination", (q) =>
        q
          .eq("workosOrgId", workosOrgId)
          .eq("loadType", "UNMAPPED")
          .eq("destinationKey", destinationKey),
      )
      .paginate({ cursor, numItems });
  }
  return await db
    .query("loads")
    .withIndex("by_org_and_type_and_origin_and_destination", (q) => {
      const fromOrigin = q
        .eq("workosOrgId", workosOrgId)
        .eq("loadType", "UNMAPPED")
        .eq("originKey", originKey);
      return destinationKey === WILDCARD
        ? fromOrigin
        : fromOrigin.eq("destinationKey", destinationKey);
    })
    .paginate({ cursor, numItems });
}

/** What one backfill batch did. */
export type BackfillBatch = {
  runId: number;
  examined: number;
  promoted: number;
  done: boolean;
};

/**
 * Runs one batch of `lane`'s running backfill: reads up to `batchSize`
 * unmapped loads after the stored cursor, promotes each one some lane now
 * applies to (the best lane for the load, which is usually but not always
 * `lane`: a customer-specific lane may win), and stores the new cursor. Loads
 * no lane applies to (customer or effective dates) stay unmapped and are
 * passed over, so every batch moves the cursor.
 *
 * Costs per examined load: 1 read; per promoted load about 4 more reads and 2
 * writes; per batch: the lane lookups (once per key pair), the lane patch and
 * the stats flush. The caller schedules the next batch when `done` is false.
 */
export async function runBackfillBatch(
  ctx: MutationCtx,
  lane: Doc<"lanes">,
  options: { batchSize: number; now: number },
): Promise<BackfillBatch> {
  const state = lane.backfill;
  if (state === undefined || state.state !== "running") {
    throw new Error(`[lanes.backfill] lane ${lane._id} has no running backfill`);
  }
  const page = await pageOfUnmappedLoads(ctx.db, lane, state.cursor, options.batchSize);
  const finder = new LaneFinder(ctx.db);
  let promoted = 0;
  for (const load of page.page) {
    const match = await finder.match(load, options.now);
    if (match === null) continue;
    await promoteLoad(ctx, load, match);
    promoted++;
  }
  const done = page.isDone;
  await ctx.db.patch("lanes", lane._id, {
    backfill: {
      ...state,
      state: done ? "done" : "running",
      cursor: done ? null : page.continueCursor,
      batches: state.batches + 1,
      examined: state.examined + page.page.length,
      promoted: state.promoted + promoted,
      updatedAt: options.now,
    },
    backfillDueAt: done ? dueAfterDone(lane, options.now) : options.now + BACKFILL_LEASE_MS,
  });
  return { runId: state.runId, examined: page.page.length, promoted, done };
}

/**
 * Marks `lane`'s backfill finished without promoting anything (the org was
 * deleted): it is then no longer due.
 */
export async function abandonBackfill(
  ctx: MutationCtx,
  lane: Doc<"lanes">,
  now: number,
): Promise<void> {
  if (lane.backfill === undefined) return;
  await ctx.db.patch("lanes", lane._id, {
    backfill: { ...lane.backfill, state: "done", cursor: null, updatedAt: now },
    backfillDueAt: undefined,
  });
}

/** Lane backfills (re)started per cleanup transaction. */
export const LANE_RESTARTS_PER_RUN = 25;

/**
 * Gives each due lane (`backfillDueAt <= now`) a new backfill run and
 * schedules its first batch. The restart moves `backfillDueAt` a lease into
 * the future, so a lane leaves the due range as it is restarted and the next
 * transaction picks up where this one stopped.
 */
export async function restartDueBackfills(
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

/** A lane end as callers send it: a location or `"*"`. */
export const vLaneEnd = v.union(v.literal(WILDCARD), vLocation);

/** Arguments of `lanes.createLaneAndBackfill`. */
export const vCreateLaneArgs = {
  workosOrgId: v.string(),
  origin: vLaneEnd,
  destination: vLaneEnd,
  rateCents: v.number(),
  effectiveFrom: v.optional(v.number()),
  effectiveTo: v.optional(v.number()),
  customerId: v.optional(v.string()),
};

/** What `lanes.createLaneAndBackfill` answers. */
export const vCreateLaneResult = v.object({
  laneId: v.id("lanes"),
  examined: v.number(),
  promoted: v.number(),
  backfillComplete: v.boolean(),
});
export type CreateLaneResult = Infer<typeof vCreateLaneResult>;

/**
 * Inserts a lane (`insertLane`) and runs the first backfill batch in this
 * transaction, scheduling the rest (`lanes.continueLaneBackfill`). The caller
 * has checked membership, permission and that the org is active.
 */
export async function createLaneWithBackfill(
  ctx: MutationCtx,
  input: NewLane,
): Promise<CreateLaneResult> {
  const now = Date.now();
  const lane = await insertLane(ctx, input, now, startedBackfill(undefined, now));
  const batch = await runBackfillBatch(ctx, lane, { batchSize: BACKFILL_BATCH_SIZE, now });
  if (!batch.done) {
    await ctx.scheduler.runAfter(0, internal.lanes.continueLaneBackfill, {
      laneId: lane._id,
      runId: batch.runId,
    });
  }
  console.log("[lanes.create]", {
    workosOrgId: input.workosOrgId,
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
}

/** Arguments of `lanes.continueLaneBackfill`. */
export const vContinueBackfillArgs = {
  laneId: v.id("lanes"),
  runId: v.number(),
  /** Loads per transaction; default `BACKFILL_BATCH_SIZE`. */
  batchSize: v.optional(v.number()),
};

/** What one continuation did. */
export const vContinueBackfillResult = v.object({
  status: v.union(v.literal("stale"), v.literal("running"), v.literal("done")),
  examined: v.number(),
  promoted: v.number(),
});
export type ContinueBackfillResult = Infer<typeof vContinueBackfillResult>;

/**
 * Runs the next batch of a lane's backfill and schedules the one after while
 * loads remain (see `lanes.continueLaneBackfill`): `stale` for a run that is
 * not the lane's current running one; for a deleted org the backfill is
 * abandoned (`done`).
 *
 * @throws `INVALID_ARGUMENT` for a batch size outside 1..`MAX_BACKFILL_BATCH_SIZE`.
 */
export async function continueBackfill(
  ctx: MutationCtx,
  args: { laneId: Id<"lanes">; runId: number; batchSize?: number },
): Promise<ContinueBackfillResult> {
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
    return { status: "stale", examined: 0, promoted: 0 };
  }
  const now = Date.now();
  const stats = await getStatsRow(ctx.db, lane.workosOrgId, "loads");
  if (isOrgDeleted(stats)) {
    await abandonBackfill(ctx, lane, now);
    console.warn("[lanes.backfill] organization deleted; backfill abandoned", {
      laneId: lane._id,
      workosOrgId: lane.workosOrgId,
    });
    return { status: "done", examined: 0, promoted: 0 };
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
    status: batch.done ? "done" : "running",
    examined: batch.examined,
    promoted: batch.promoted,
  };
}
