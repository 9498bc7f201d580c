/**
 * Cancel marks (`statsRecountCancels`): what makes "cancel" mean "nothing
 * starts after it". A cancel records a mark (one per org, one for cancel
 * all); a recount requested before the cancel but not started yet (the
 * seeding a write scheduled moments before, a walk step already in the pool)
 * finds the mark when it comes to start, and does not start.
 *
 * Ordering. A request carries when it was made (`requestedAt`: the
 * requesting transaction's `Date.now()`; for a job's walk, the job's
 * `startedAt`). A mark holds `canceledAt` (the cancel's own time) and
 * `sealedAt`: the time of the first transaction that read the mark after the
 * cancel committed (the cancel schedules one at once: `cancel.ts`). Every
 * transaction that committed before the cancel started before the sealing
 * one, so a request is treated as made before the cancel when
 * `requestedAt <= sealedAt` (an unsealed mark is sealed by the reader first).
 * This needs no timing assumption beyond one clock; it also refuses the
 * requests made between the cancel and its seal (normally milliseconds),
 * which is the safe side: their rows stay `exact: false` until the next
 * daily run or an operator's `recalculateOrgStats`.
 *
 * Requests made in the transaction that starts them (an operator's
 * `recalculateOrgStats`, a job's first walk step) carry no time: they are
 * serialized after any cancel they can see, so they start.
 */
import { pickUnique } from "../../uniqueness";
import { statsDb, type AnyReader, type StatsMutationCtx } from "../ctx";
import type { StatsDoc } from "../tables";

export type CancelMark = StatsDoc<"statsRecountCancels">;

/** The marks of `workosOrgId` (null: the cancel-all mark); duplicates (an import) included. */
async function marksOf(db: AnyReader, workosOrgId: string | null): Promise<CancelMark[]> {
  const picked = await pickUnique(
    statsDb(db)
      .query("statsRecountCancels")
      .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId)),
    "statsRecountCancels",
    { workosOrgId: workosOrgId ?? "*" },
  );
  return picked === null ? [] : [picked.doc, ...picked.duplicates];
}

/**
 * Records a cancel of `workosOrgId` (null: of all recounts) at `now`: the
 * mark is (re)written unsealed. One indexed read, one write.
 */
export async function recordCancel(
  ctx: Pick<StatsMutationCtx, "db">,
  workosOrgId: string | null,
  now: number,
): Promise<void> {
  const db = statsDb(ctx.db);
  const [existing] = await marksOf(ctx.db, workosOrgId);
  const fields = { workosOrgId, canceledAt: now, sealedAt: null };
  if (existing === undefined) await db.insert("statsRecountCancels", fields);
  else await db.replace("statsRecountCancels", existing._id, fields);
}

/** Seals `mark` at `now` (if it is not sealed yet) and returns its seal time. */
async function sealed(
  ctx: Pick<StatsMutationCtx, "db">,
  mark: CancelMark,
  now: number,
): Promise<number> {
  if (mark.sealedAt !== null) return mark.sealedAt;
  await statsDb(ctx.db).patch("statsRecountCancels", mark._id, { sealedAt: now });
  return now;
}

/**
 * The seal time of the newest cancel of `workosOrgId` (null: of all), or
 * null when there was none. Seals an unsealed mark (a write, once per cancel).
 */
export async function cancelSealedAt(
  ctx: Pick<StatsMutationCtx, "db">,
  workosOrgId: string | null,
  now: number,
): Promise<number | null> {
  let latest: number | null = null;
  for (const mark of await marksOf(ctx.db, workosOrgId)) {
    const at = await sealed(ctx, mark, now);
    latest = latest === null ? at : Math.max(latest, at);
  }
  return latest;
}

/**
 * Whether a request made at `requestedAt` for `workosOrgId` was canceled:
 * by a cancel of that org, or (with `all`) by a cancel of all recounts.
 * One or two indexed reads; seals an unsealed mark.
 */
export async function canceledSince(
  ctx: Pick<StatsMutationCtx, "db">,
  workosOrgId: string,
  requestedAt: number,
  options: { all: boolean },
): Promise<boolean> {
  const now = Date.now();
  const scopes = options.all ? [workosOrgId, null] : [workosOrgId];
  for (const scope of scopes) {
    const at = await cancelSealedAt(ctx, scope, now);
    if (at !== null && requestedAt <= at) return true;
  }
  return false;
}

/** Marks not sealed yet, processed per transaction at most. */
export const SEAL_BATCH = 100;

/** Seals up to `SEAL_BATCH` unsealed marks at `now`; returns how many. */
export async function sealPending(ctx: Pick<StatsMutationCtx, "db">, now: number): Promise<number> {
  const pending = await statsDb(ctx.db)
    .query("statsRecountCancels")
    .withIndex("by_sealed_at", (q) => q.eq("sealedAt", null))
    .take(SEAL_BATCH);
  for (const mark of pending) await sealed(ctx, mark, now);
  return pending.length;
}
