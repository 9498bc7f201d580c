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
import type { Doc } from "../../_generated/dataModel";
import type { DatabaseReader } from "../../_generated/server";
import type { MutationCtx } from "../ctx";
import { LaneFinder, promoteLoad, WILDCARD } from "./rules";

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
