/**
 * Expiry of stale loads: an `Open` load whose pickup time passed more than a
 * grace period ago becomes `Expired`. Loads without a pickup time never
 * expire, nor do loads whose stored pickup time the code would not write
 * (NaN, ±Infinity, 0 or below: outside the range below, so treated as absent,
 * as lane matching treats them; see `loads/stored.ts`). The candidates come from `loads.by_status_and_pickup` (status
 * `Open`, pickup time below the cutoff), across all orgs, so a run with
 * nothing to expire reads no load at all.
 *
 * Every candidate is expired, deleted orgs' loads included: a load left
 * `Open` would stay in that index range and be read again by every run. The
 * expiry is internal maintenance, so the stats flush keeps a deleted org's
 * counters exact instead of refusing (see `convex/functions.ts`).
 */
import type { MutationCtx } from "../ctx";
import { readEnv } from "../../lib/env";
import { appError } from "../../lib/errors";

/** Grace period when neither the caller nor the environment sets one: 24 hours. */
export const DEFAULT_EXPIRY_GRACE_MS = 24 * 60 * 60 * 1000;
/** Environment variable (hours, may be fractional) that overrides the default grace. */
export const EXPIRY_GRACE_ENV = "LOAD_EXPIRY_GRACE_HOURS";
/** Loads expired per transaction (2 reads and 1 write each, plus 2 reads and 1 write per org). */
export const EXPIRY_BATCH_SIZE = 200;

/**
 * The grace period in ms: `argMs` when given, else `LOAD_EXPIRY_GRACE_HOURS`
 * when set, else `DEFAULT_EXPIRY_GRACE_MS`.
 *
 * @throws `INVALID_ARGUMENT` for a negative or non-finite `argMs`; an `Error`
 *   for a malformed environment value (a configuration mistake the operator
 *   must see, not a silent default).
 */
export function resolveGraceMs(argMs: number | undefined): number {
  if (argMs !== undefined) {
    if (!Number.isFinite(argMs) || argMs < 0) {
      throw appError("INVALID_ARGUMENT", "graceMs must be a non-negative number of ms.", {
        field: "graceMs",
      });
    }
    return argMs;
  }
  const raw = readEnv(EXPIRY_GRACE_ENV);
  if (raw === null) return DEFAULT_EXPIRY_GRACE_MS;
  const hours = Number(raw);
  if (!Number.isFinite(hours) || hours < 0) {
    throw new Error(`[cleanup] ${EXPIRY_GRACE_ENV} must be a non-negative number of hours`);
  }
  return hours * 60 * 60 * 1000;
}

/** What one expiry batch did. */
export type ExpiryBatch = {
  expired: number;
  done: boolean;
  continueCursor: string;
};

/**
 * Expires up to `batchSize` `Open` loads with `0 < pickupAt < cutoff`, in
 * pickup order, after `cursor`. The counters of every touched org follow
 * (one stats read and write per org).
 */
export async function expireBatch(
  ctx: MutationCtx,
  options: { cutoff: number; cursor: string | null; batchSize: number; now: number },
): Promise<ExpiryBatch> {
  const page = await ctx.db
    .query("loads")
    .withIndex("by_status_and_pickup", (q) =>
      q.eq("status", "Open").gt("pickupAt", 0).lt("pickupAt", options.cutoff),
    )
    .paginate({ cursor: options.cursor, numItems: options.batchSize });
  for (const load of page.page) {
    await ctx.db.patch("loads", load._id, { status: "Expired", statusChangedAt: options.now });
  }
  return { expired: page.page.length, done: page.isDone, continueCursor: page.continueCursor };
}
