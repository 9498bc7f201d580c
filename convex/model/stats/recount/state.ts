/**
 * A recount run's identity and lifecycle rules, shared by every step of the
 * recount stack (start, pages, walk, completion, cancel): when a run may
 * start, the fresh state it writes, and the constants the steps agree on.
 * Pure; the bottom of the stack.
 */
import { literals } from "convex-helpers/validators";
import type { Infer } from "convex/values";
import { emptyTally } from "../counters";
import type { Id } from "../ids";
import { storedOf } from "../shadow";
import type { FoundBy, RecountState, StatsFields, StatsRow } from "../tables";
import { isRowOrgDeleted } from "../rows";

/**
 * A running recount whose run started longer ago than this is presumed dead
 * (a page failed for good) and may be replaced by a new run. A live run of a
 * 100k-document org takes about 100 page transactions, i.e. seconds to
 * minutes, so an hour leaves a wide margin.
 */
export const RECOUNT_STALE_MS = 60 * 60 * 1000;

/**
 * Documents a recount page counts by default (the read budget may stop it
 * earlier). 1,000 documents of ~1 KB is about 3% of the document limit and
 * 6% of the byte limit, and keeps each page's conflict window small.
 */
export const DEFAULT_PAGE_DOCS = 1_000;

/**
 * Restarts one run may make when its shadow goes negative. Only a write that
 * bypassed the counted writes during the run can do that (every document
 * adds 1 to a count and at least 0 to an amount), so one restart covers a
 * single bypass; a run that meets another ends `inconclusive` instead of
 * looping. A run therefore takes at most `(MAX_RESTARTS + 1)` passes.
 */
export const MAX_RESTARTS = 1;

/**
 * `daily`: recount every row. `seed`: only rows not yet exact (the
 * migration). `report`: like `seed`, but count without writing the rows (the
 * migration's dry run).
 */
export type RecountMode = "daily" | "seed" | "report";

export const vSkipReason = literals("org_deleted", "already_exact", "canceled");
/** Why a row is not recounted. */
export type SkipReason = Infer<typeof vSkipReason>;

/** What `decideRecount` decided for a row. */
export type RecountDecision =
  { kind: "start" } | { kind: "running"; runId: string } | { kind: "skip"; reason: SkipReason };

/**
 * Whether to start a recount of `row` (null: no row yet), given its running
 * recount `state` (null: none).
 *
 * - Deleted orgs (row `orgDeleted`, or the registry says deleted) are skipped.
 * - In `seed` and `report` mode a row that is already exact is skipped: that
 *   is what makes the migration idempotent.
 * - A running recount is left alone (its run id is returned) unless it is
 *   stale (`RECOUNT_STALE_MS`), failed, or `force` is set; a report-only run
 *   also gives way to any real run. The replaced run's pages stop at their
 *   next step.
 */
export function decideRecount(
  row: StatsRow | null,
  state: Pick<RecountState, "runId" | "startedAt" | "failure" | "report"> | null,
  options: { mode: RecountMode; force?: boolean; registryDeleted?: boolean },
  now: number,
): RecountDecision {
  if (options.registryDeleted === true || isRowOrgDeleted(row)) {
    return { kind: "skip", reason: "org_deleted" };
  }
  if (options.mode !== "daily" && row?.exact === true) {
    return { kind: "skip", reason: "already_exact" };
  }
  const yields = state?.report !== undefined && options.mode !== "report";
  if (
    state !== null &&
    !yields &&
    state.failure === undefined &&
    options.force !== true &&
    now - state.startedAt < RECOUNT_STALE_MS
  ) {
    return { kind: "running", runId: state.runId };
  }
  return { kind: "start" };
}

/** A new, unique-enough run id (time plus randomness; Convex seeds `Math.random`). */
export function newRunId(now: number): string {
  return `rc_${now.toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh recount state: cursor before everything, empty shadow. */
export function freshRecountState(
  workosOrgId: string,
  entity: string,
  runId: string,
  now: number,
  options: { jobId?: Id<"statsRecountJobs">; reportFoundBy?: FoundBy } = {},
): StatsFields<"statsRecounts"> {
  const progress = { runId, startedAt: now, cursor: null, pages: 0, documentsCounted: 0 };
  return {
    workosOrgId,
    entity,
    ...progress,
    ...storedOf(emptyTally()),
    jobId: options.jobId,
    report: options.reportFoundBy === undefined ? undefined : { foundBy: options.reportFoundBy },
  };
}
