/**
 * Starting a recount of one stats row: the rule for when a run may start
 * (one run per row at a time, stale runs replaced, deleted orgs skipped,
 * exact rows skipped when seeding, legacy state removed) and the fresh
 * recount state it writes.
 * The pages themselves are in `recount/pages.ts`.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { Id } from "../../../_generated/dataModel";
import type { MutationCtx } from "../../ctx";
import { vStatsEntity, type StatsEntity } from "../../enums";
import type { WithoutSystemFields } from "convex/server";
import { emptyTally } from "../counters";
import { getStatsRow, newStatsRow, splitRow, type StatsRow } from "../rows";
import { getRecountState, storedOf, type RecountState } from "../shadow";
import { enqueuePage } from "./pool";
import { isOrgDeleted } from "../../organizations/deleted";

/**
 * A running recount whose run started longer ago than this is presumed dead
 * (a page failed for good) and may be replaced by a new run. A live run of a
 * 100k-document org takes about 100 page transactions (1,000 documents
 * each), i.e. seconds to minutes, so an hour leaves a wide margin.
 */
export const RECOUNT_STALE_MS = 60 * 60 * 1000;

/** `daily`: recount every row. `seed`: only rows not yet exact (the migration). */
export type RecountMode = "daily" | "seed";

export const vSkipReason = literals("org_deleted", "already_exact");
/** Why a row is not recounted. */
export type SkipReason = Infer<typeof vSkipReason>;

/** What `decideRecount` decided for a row. */
export type RecountDecision =
  { kind: "start" } | { kind: "running"; runId: string } | { kind: "skip"; reason: SkipReason };

/**
 * Whether to start a recount of `row` (null: no row yet), given its running
 * recount `state` (null: none).
 *
 * - Deleted orgs (stats row `orgDeleted`, or the registry says deleted) are
 *   skipped.
 * - A row still carrying the legacy `recount` field is always (re)started:
 *   that removes the field (see `tables.ts`).
 * - In `seed` mode a row that is already exact is skipped: that is what makes
 *   the migration idempotent.
 * - A running recount is left alone (its run id is returned) unless it is
 *   stale (`RECOUNT_STALE_MS`), failed (`pool.ts`) or `force` is set; then a
 *   new run replaces it and the old run's pages stop at their next step.
 */
export function decideRecount(
  row: StatsRow | null,
  state: Pick<RecountState, "runId" | "startedAt" | "failure"> | null,
  options: { mode: RecountMode; force?: boolean; registryDeleted?: boolean },
  now: number,
): RecountDecision {
  if (options.registryDeleted === true || isOrgDeleted(row)) {
    return { kind: "skip", reason: "org_deleted" };
  }
  if (row?.recount !== undefined) return { kind: "start" };
  if (options.mode === "seed" && row?.exact === true) {
    return { kind: "skip", reason: "already_exact" };
  }
  if (
    state !== null &&
    state.failure === undefined &&
    options.force !== true &&
    now - state.startedAt < RECOUNT_STALE_MS
  ) {
    return { kind: "running", runId: state.runId };
  }
  return { kind: "start" };
}

/** What `startRecount` did. */
export const vStartResult = v.object({
  entity: vStatsEntity,
  status: literals("started", "running", "skipped"),
  runId: v.union(v.string(), v.null()),
  reason: v.union(vSkipReason, v.null()),
});
export type StartResult = Infer<typeof vStartResult>;

/** A new, unique-enough run id (time plus randomness; Convex seeds `Math.random`). */
export function newRunId(now: number): string {
  return `rc_${now.toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh recount state: cursor before everything, empty shadow. */
export function freshRecountState(
  workosOrgId: string,
  entity: StatsEntity,
  runId: string,
  now: number,
  jobId?: Id<"statsRecountJobs">,
): WithoutSystemFields<RecountState> {
  const progress = { runId, startedAt: now, cursor: null, pages: 0, documentsCounted: 0 };
  return { workosOrgId, entity, ...progress, ...storedOf(emptyTally()), jobId };
}

/**
 * Starts a recount of (org, entity) following `decideRecount`: writes a fresh
 * recount state, and marks the row `recounting` (a missing row is created
 * with zero counters and `exact: false`, so count queries keep scanning until
 * the recount's last page swaps the counters in). A row already marked is
 * not written. With `schedulePages` the first page is enqueued in the stats
 * workpool (its completion enqueues the next, `pool.ts`); without it the
 * caller drives the pages. `jobId` ties the run to a daily run or migration;
 * a run replacing one of a job (not failed) stays in that job.
 *
 * Costs 3 reads (row, state, row again to size the page), at most 2 writes
 * and 1 enqueue.
 */
export async function startRecount(
  ctx: Pick<MutationCtx, "db" | "runMutation">,
  workosOrgId: string,
  entity: StatsEntity,
  options: {
    mode: RecountMode;
    force?: boolean;
    registryDeleted?: boolean;
    schedulePages: boolean;
    jobId?: Id<"statsRecountJobs">;
  },
): Promise<StartResult> {
  if (options.registryDeleted === true) {
    return { entity, status: "skipped", runId: null, reason: "org_deleted" };
  }
  const now = Date.now();
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  const state = await getRecountState(ctx.db, workosOrgId, entity);
  const decision = decideRecount(row, state, options, now);
  if (decision.kind === "skip") {
    return { entity, status: "skipped", runId: null, reason: decision.reason };
  }
  if (decision.kind === "running") {
    return { entity, status: "running", runId: decision.runId, reason: null };
  }
  const runId = newRunId(now);
  const jobId = options.jobId ?? (state?.failure === undefined ? state?.jobId : undefined);
  const fresh = freshRecountState(workosOrgId, entity, runId, now, jobId);
  if (state === null) await ctx.db.insert("statsRecounts", fresh);
  else await ctx.db.replace("statsRecounts", state._id, fresh);
  if (row === null) {
    const fields = newStatsRow(workosOrgId, entity, false, now);
    await ctx.db.insert("organizationStats", { ...fields, recounting: true });
  } else if (row.recounting !== true || row.recount !== undefined) {
    // The only row writes of a run: here, at its end, and (legacy) dropping `recount`.
    const { id, fields } = splitRow(row, entity);
    await ctx.db.replace("organizationStats", id, {
      ...fields,
      recounting: true,
      recount: undefined,
      updatedAt: now,
    });
  }
  const replaced = state?.runId ?? row?.recount?.runId;
  if (replaced !== undefined) {
    console.log("[stats.recount] replacing run", {
      workosOrgId,
      entity,
      oldRunId: replaced,
      runId,
    });
  }
  if (options.schedulePages) {
    await enqueuePage(ctx, { workosOrgId, entity, runId, jobId: jobId ?? null });
  }
  return { entity, status: "started", runId, reason: null };
}
