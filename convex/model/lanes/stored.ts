/**
 * Lanes as stored: which of them the code would have written. Convex
 * validators have no ranges or patterns, so a lane written around the code
 * (a dashboard edit, an `npx convex import`) can hold a rate of -500, NaN or
 * 1e12, an effective range that never applies, or keys that do not match its
 * ends. Such a lane is skipped (never prices a load, never blocks a new
 * lane, its backfill ends at once) and reported; see docs/hardening.md.
 */
import type { Doc } from "../../_generated/dataModel";
import {
  isValidAmountCents,
  isValidStoredText,
  isValidTimestamp,
  MAX_ID_LENGTH,
  storedLocationProblems,
  storedProblem,
  type StoredProblem,
} from "../validate";
import { laneEndKey, WILDCARD, type LaneEnd } from "./ends";

/** Problems of one lane end (`origin` or `destination`) and its stored key. */
function endProblems(end: LaneEnd, key: string, field: "origin" | "destination"): StoredProblem[] {
  const keyField = field === "origin" ? "originKey" : "destinationKey";
  if (end === WILDCARD) return key === WILDCARD ? [] : [storedProblem(keyField, key)];
  const names = storedLocationProblems(end, field);
  if (names.length > 0) return names;
  return key === laneEndKey(end) ? [] : [storedProblem(keyField, key)];
}

/**
 * The fields of `lane` that decide what it prices holding a value
 * `insertLane` would not have stored; empty for a lane the code could have
 * written:
 * - `rateCents`: an integer 1..`MAX_LANE_RATE_CENTS` (a rate of 0 included:
 *   `insertLane` refuses it);
 * - `effectiveFrom`: a timestamp (finite, > 0); `effectiveTo`: absent or a
 *   timestamp after `effectiveFrom`;
 * - `customerId`: absent or trimmed text of 1..`MAX_ID_LENGTH` characters;
 * - ends: at least one named; place names without `|` or control
 *   characters; each key equal to `laneEndKey` of its end (`*` for `*`).
 *
 * The backfill state is checked apart (`backfillProblems`): it decides how a
 * backfill proceeds, not what the lane prices.
 */
export function laneProblems(lane: Doc<"lanes">): StoredProblem[] {
  const problems: StoredProblem[] = [];
  if (!isValidAmountCents(lane.rateCents) || lane.rateCents === 0) {
    problems.push(storedProblem("rateCents", lane.rateCents));
  }
  if (!isValidTimestamp(lane.effectiveFrom)) {
    problems.push(storedProblem("effectiveFrom", lane.effectiveFrom));
  }
  if (
    lane.effectiveTo !== undefined &&
    (!isValidTimestamp(lane.effectiveTo) || !(lane.effectiveTo > lane.effectiveFrom))
  ) {
    problems.push(storedProblem("effectiveTo", lane.effectiveTo));
  }
  if (lane.customerId !== undefined && !isValidStoredText(lane.customerId, MAX_ID_LENGTH)) {
    problems.push(storedProblem("customerId", lane.customerId));
  }
  if (lane.origin === WILDCARD && lane.destination === WILDCARD) {
    problems.push(storedProblem("origin", WILDCARD));
  }
  problems.push(...endProblems(lane.origin, lane.originKey, "origin"));
  problems.push(...endProblems(lane.destination, lane.destinationKey, "destination"));
  return problems;
}

export type LaneBackfill = NonNullable<Doc<"lanes">["backfill"]>;

/** Whether `value` is a count the code would store: a safe integer, 0 or more. */
function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * The fields of a backfill state the code would not have written: `runId`
 * not a positive safe integer, `batches`/`examined`/`promoted` not counts,
 * `startedAt`/`updatedAt` not timestamps. (The cursor is opaque: one the code
 * did not write fails its batch, and the lease restart starts the run over.)
 */
export function backfillProblems(state: LaneBackfill): StoredProblem[] {
  const problems: StoredProblem[] = [];
  if (!Number.isSafeInteger(state.runId) || state.runId < 1) {
    problems.push(storedProblem("backfill.runId", state.runId));
  }
  for (const field of ["batches", "examined", "promoted"] as const) {
    if (!isCount(state[field])) problems.push(storedProblem(`backfill.${field}`, state[field]));
  }
  for (const field of ["startedAt", "updatedAt"] as const) {
    if (!isValidTimestamp(state[field])) {
      problems.push(storedProblem(`backfill.${field}`, state[field]));
    }
  }
  return problems;
}

/** A backfill counter as the next batch adds to it: 0 when it is not a count. */
export function storedCount(value: number): number {
  return isCount(value) ? value : 0;
}

/**
 * The run id after `previous`: `previous + 1`, or 1 when there was none or it
 * is not a run id the code writes (NaN + 1 is NaN, which no batch could ever
 * match, so that backfill would be restarted by every cleanup and never run).
 */
export function nextRunId(previous: LaneBackfill | undefined): number {
  const runId = previous?.runId;
  return runId !== undefined &&
    Number.isSafeInteger(runId) &&
    runId >= 1 &&
    runId < Number.MAX_SAFE_INTEGER
    ? runId + 1
    : 1;
}
