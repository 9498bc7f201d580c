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
 *
 * Stored values the code would not have written never fail a batch: a lane
 * that fails `laneProblems` ends its backfill at once (and is skipped when
 * another lane's backfill matches), an unpriceable load is passed over
 * (`loadForMatching`), and a backfill state with a bad run id or counters
 * restarts them (`stored.ts`). Each is reported as `[stored.invalid]` and
 * counted in the results (`skippedInvalid`).
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
import { loadForMatching } from "../loads/stored";
import { isOrgDeleted } from "../organizations/deleted";
import { isValidTimestamp, reportStoredProblems } from "../validate";
import { insertLane, LaneFinder, promoteLoad, WILDCARD, type NewLane } from "./rules";
import {
  backfillProblems,
  laneProblems,
  nextRunId,
  storedCount,
  type LaneBackfill,
} from "./stored";

export type { LaneBackfill };

/** Loads examined per backfill transaction (about 5 reads and 2 writes each). */
export const BACKFILL_BATCH_SIZE = 100;
/** Largest batch size a caller may ask for. */
export const MAX_BACKFILL_BATCH_SIZE = 500;
/**
 * How long a running backfill may go without finishing a batch before
 * `periodicCleanup` considers its chain dead and restarts it.
 */
export const BACKFILL_LEASE_MS = 10 * 60 * 1000;

/**
 * The backfill fields of a lane whose backfill (re)starts at `now`: the next
 * run id (`nextRunId`: 1 after a run id the code would not have written).
 */
export function startedBackfill(
  previous: LaneBackfill | undefined,
  now: number,
): { backfill: LaneBackfill; backfillDueAt: number } {
  return {
    backfill: {
      runId: nextRunId(previous),
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
  /** Distinct stored documents the code would not have written that the batch skipped. */
  skippedInvalid: number;
};

/** Where a report on `lane` points. */
function laneRef(lane: Doc<"lanes">) {
  return { table: "lanes", id: lane._id, workosOrgId: lane.workosOrgId };
}

/**
 * Ends `lane`'s backfill without examining a load: it is done and no longer
 * due. For a deleted org, and for a lane the code would not have written
 * (it prices nothing, so paging its loads would promote nothing by it).
 */
export async function abandonBackfill(
  ctx: MutationCtx,
  lane: Doc<"lanes">,
  now: number,
): Promise<void> {
  await ctx.db.patch("lanes", lane._id, {
    ...(lane.backfill === undefined
      ? {}
      : { backfill: { ...lane.backfill, state: "done", cursor: null, updatedAt: now } }),
    backfillDueAt: undefined,
  });
}

/**
 * Runs one batch of `lane`'s running backfill: reads up to `batchSize`
 * unmapped loads after the stored cursor, promotes each one some lane now
 * applies to (the best lane for the load, which is usually but not always
 * `lane`: a customer-specific lane may win), and stores the new cursor. Loads
 * no lane applies to (customer or effective dates) stay unmapped and are
 * passed over, so every batch moves the cursor.
 *
 * Stored values the code would not have written: a `lane` that fails
 * `laneProblems` ends its backfill at once (`done`, nothing examined); other
 * such lanes are skipped by matching; a load `loadForMatching` cannot price
 * is passed over; counters that are not counts restart from 0. All reported.
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
  const invalidLane = laneProblems(lane);
  if (invalidLane.length > 0) {
    reportStoredProblems(laneRef(lane), invalidLane, "backfill ended");
    await abandonBackfill(ctx, lane, options.now);
    return { runId: state.runId, examined: 0, promoted: 0, done: true, skippedInvalid: 1 };
  }
  const invalidState = backfillProblems(state);
  if (invalidState.length > 0) {
    reportStoredProblems(laneRef(lane), invalidState, "backfill counters restarted");
  }
  const page = await pageOfUnmappedLoads(ctx.db, lane, state.cursor, options.batchSize);
  const finder = new LaneFinder(ctx.db);
  const skipped = new Set<string>();
  let promoted = 0;
  for (const load of page.page) {
    const { matchable, invalid } = loadForMatching(load);
    if (invalid) skipped.add(load._id);
    if (matchable === null) continue;
    const { match, skippedLaneIds } = await finder.matchChecked(matchable, options.now);
    for (const id of skippedLaneIds) skipped.add(id);
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
      batches: storedCount(state.batches) + 1,
      examined: storedCount(state.examined) + page.page.length,
      promoted: storedCount(state.promoted) + promoted,
      startedAt: isValidTimestamp(state.startedAt) ? state.startedAt : options.now,
      updatedAt: options.now,
    },
    backfillDueAt: done ? dueAfterDone(lane, options.now) : options.now + BACKFILL_LEASE_MS,
  });
  return {
    runId: state.runId,
    examined: page.page.length,
    promoted,
    done,
    skippedInvalid: skipped.size + (invalidState.length > 0 ? 1 : 0),
  };
}

/** Lane backfills (re)started per cleanup transaction. */
export const LANE_RESTARTS_PER_RUN = 25;

/** What one pass of `restartDueBackfills` did. */
export type RestartPass = {
  restarted: number;
  complete: boolean;
  /** Due lanes the code would not have written: ended, not restarted (reported). */
  skippedInvalid: number;
};

/**
 * Gives each due lane (`backfillDueAt <= now`; any number, so a due time of
 * -1 or -Infinity is due now, while NaN sorts above every number and is never
 * due) a new backfill run and schedules its first batch. The restart moves
 * `backfillDueAt` a lease into the future, so a lane leaves the due range as
 * it is restarted and the next transaction picks up where this one stopped.
 * A due lane the code would not have written (`laneProblems`) is not
 * restarted: its backfill ends and it leaves the due range (reported), so it
 * neither fails every cleanup nor holds the range.
 */
export async function restartDueBackfills(ctx: MutationCtx, now: number): Promise<RestartPass> {
  const due = await ctx.db
    .query("lanes")
    .withIndex("by_backfill_due_at", (q) =>
      q.gte("backfillDueAt", -Infinity).lte("backfillDueAt", now),
    )
    .take(LANE_RESTARTS_PER_RUN);
  let skippedInvalid = 0;
  for (const lane of due) {
    const problems = laneProblems(lane);
    if (problems.length > 0) {
      reportStoredProblems(laneRef(lane), problems, "backfill ended");
      await abandonBackfill(ctx, lane, now);
      skippedInvalid++;
      continue;
    }
    const stateProblems = lane.backfill === undefined ? [] : backfillProblems(lane.backfill);
    if (stateProblems.length > 0) {
      reportStoredProblems(laneRef(lane), stateProblems, "backfill restarted");
    }
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
  return {
    restarted: due.length - skippedInvalid,
    complete: due.length < LANE_RESTARTS_PER_RUN,
    skippedInvalid,
  };
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

/**
 * Stored documents holding values the code would never write that a call
 * skipped (lanes, unpriceable loads, backfill states), each logged as
 * `[stored.invalid]`; absent when there were none.
 */
const vSkippedInvalid = v.optional(v.number());

/** `{ skippedInvalid }` when `n > 0`, else nothing (the field is absent). */
function skippedField(n: number): { skippedInvalid?: number } {
  return n > 0 ? { skippedInvalid: n } : {};
}

/** What `lanes.createLaneAndBackfill` answers. */
export const vCreateLaneResult = v.object({
  laneId: v.id("lanes"),
  examined: v.number(),
  promoted: v.number(),
  backfillComplete: v.boolean(),
  skippedInvalid: vSkippedInvalid,
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
    skippedInvalid: batch.skippedInvalid,
  });
  return {
    laneId: lane._id,
    examined: batch.examined,
    promoted: batch.promoted,
    backfillComplete: batch.done,
    ...skippedField(batch.skippedInvalid),
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
  skippedInvalid: vSkippedInvalid,
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
    skippedInvalid: batch.skippedInvalid,
  });
  return {
    status: batch.done ? "done" : "running",
    examined: batch.examined,
    promoted: batch.promoted,
    ...skippedField(batch.skippedInvalid),
  };
}
