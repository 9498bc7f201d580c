/**
 * Stored integration values the code would not have written (a dashboard
 * edit, an `npx convex import`): an interval of `NaN`, a negative lookback, a
 * watermark in the future, a pass at page 0, a lease running for a year, a
 * next due time of `Infinity`. The schema only says "a number"; these
 * functions say what the code writes, and what the sync uses instead of
 * anything else, so one bad document never wedges the dispatcher or its
 * org's sync:
 *
 * | value                        | the code writes                               | otherwise                                        |
 * | ---------------------------- | --------------------------------------------- | ------------------------------------------------ |
 * | `intervalMinutes`            | integer 5–1440                                | default 15 is used (kept, reported)              |
 * | `lookbackMinutes`            | integer 0–10080                               | default 60 is used (kept, reported)              |
 * | `nextDueAt`                  | at most now + 1440 min                        | due now (the dispatcher repairs it)              |
 * | `watermark`, `fullPassAt`    | a past time (skew allowed)                    | dropped: the next pass is a full one             |
 * | `pass`                       | see `passProblem`                             | dropped: a new pass starts at page 1             |
 * | `running`                    | a lease ending within `SYNC_LEASE_MS`         | ignored: a run may take over                     |
 * | `baseUrl`                    | what `normalizeBaseUrl` returns               | the run is skipped and the error recorded        |
 *
 * Every problem is reported: live in the sync health (`storedValueProblems`),
 * and, whenever the dispatcher or a run meets one, in `lastStoredValueReport`
 * and the log (`[fourkites.stored_value]`).
 */
import type { Doc } from "../../_generated/dataModel";
import { MAX_CLOCK_SKEW_MS } from "../../lib/clock";
import { MAX_SHIPMENTS_PER_PAGE } from "./client";
import type { RunLease, SyncPass } from "./fields";
import {
  DEFAULT_INTERVAL_MINUTES,
  DEFAULT_LOOKBACK_MINUTES,
  MAX_INTERVAL_MINUTES,
  MAX_LOOKBACK_MINUTES,
  MIN_INTERVAL_MINUTES,
  MINUTE_MS,
  inRange,
  normalizeBaseUrl,
} from "./settings";

/** A run's lease: longer than an action may run (10 min), so a live run is never overtaken. */
export const SYNC_LEASE_MS = 11 * 60_000;
/** Most pages one pass reads (a million shipments at 100 a page): a bound on a runaway listing. */
export const MAX_PASS_PAGES = 10_000;
/** Longest fingerprint the code stores (base64 of a SHA-256 is 44 characters). */
const MAX_FINGERPRINT_LENGTH = 64;

type Integration = Doc<"fourKitesIntegrations">;

/** A value as a problem message shows it (`NaN`, `Infinity`, a short JSON). */
function show(value: unknown): string {
  if (typeof value === "number") return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Minutes between scheduled pulls, as the sync uses them (the default when out of range). */
export function intervalMs(i: Pick<Integration, "intervalMinutes">): number {
  const ok = inRange(i.intervalMinutes, MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES);
  return (ok ? i.intervalMinutes : DEFAULT_INTERVAL_MINUTES) * MINUTE_MS;
}

/** The lookback, as the sync uses it (the default when out of range). */
export function lookbackMs(i: Pick<Integration, "lookbackMinutes">): number {
  const ok = inRange(i.lookbackMinutes, 0, MAX_LOOKBACK_MINUTES);
  return (ok ? i.lookbackMinutes : DEFAULT_LOOKBACK_MINUTES) * MINUTE_MS;
}

/** Latest `nextDueAt` the code writes, from `now`: anything later is never due by the index. */
export function latestDueAt(now: number): number {
  return now + MAX_INTERVAL_MINUTES * MINUTE_MS + MINUTE_MS;
}

/** A stored time the sync trusts (a watermark, a pass start): a past time, skew allowed. */
export function trustedTime(ms: number | undefined, now: number): number | undefined {
  return ms !== undefined && Number.isFinite(ms) && ms > 0 && ms <= now + MAX_CLOCK_SKEW_MS
    ? ms
    : undefined;
}

/** Whether `lease` is one the code wrote (ends within `SYNC_LEASE_MS` of now, or already ended). */
function leaseWellFormed(lease: RunLease, now: number): boolean {
  return Number.isFinite(lease.leaseUntil) && lease.leaseUntil <= now + SYNC_LEASE_MS;
}

/** Whether a run holds the lease now. A lease the code would not have written holds nothing. */
export function leaseHolds(lease: RunLease | undefined, now: number): lease is RunLease {
  return lease !== undefined && leaseWellFormed(lease, now) && lease.leaseUntil > now;
}

/**
 * Why a stored pass is not one the code wrote, or null: its start a trusted
 * time, its cutoff from 0 to its start, its next page an integer from 1 to
 * `MAX_PASS_PAGES`, a page size from 1 to `MAX_SHIPMENTS_PER_PAGE`, and past
 * page 1 the first read of the page before it (the code commits a page with
 * it; a pass stored before page checks existed has none and starts over).
 */
export function passProblem(pass: SyncPass, now: number): string | null {
  if (trustedTime(pass.startedAt, now) === undefined) {
    return `pass.startedAt is ${show(pass.startedAt)} (the code writes a past time)`;
  }
  if (!Number.isFinite(pass.cutoff) || pass.cutoff < 0 || pass.cutoff > pass.startedAt) {
    return `pass.cutoff is ${show(pass.cutoff)} (the code writes 0 to the pass's start)`;
  }
  if (!inRange(pass.nextPage, 1, MAX_PASS_PAGES)) {
    return `pass.nextPage is ${show(pass.nextPage)} (the code writes an integer from 1 to ${MAX_PASS_PAGES})`;
  }
  if (pass.pageSize !== undefined && !inRange(pass.pageSize, 1, MAX_SHIPMENTS_PER_PAGE)) {
    return `pass.pageSize is ${show(pass.pageSize)} (the code writes an integer from 1 to ${MAX_SHIPMENTS_PER_PAGE})`;
  }
  if (pass.total !== undefined && !inRange(pass.total, 0, Number.MAX_SAFE_INTEGER)) {
    return `pass.total is ${show(pass.total)} (the code writes a non-negative integer)`;
  }
  const previous = pass.previous;
  if (pass.nextPage === 1) {
    return previous === undefined ? null : "pass.previous is set on page 1";
  }
  if (
    previous === undefined ||
    previous.page !== pass.nextPage - 1 ||
    !inRange(previous.count, 0, MAX_SHIPMENTS_PER_PAGE) ||
    previous.fingerprint.length === 0 ||
    previous.fingerprint.length > MAX_FINGERPRINT_LENGTH
  ) {
    return `pass.previous is ${show(previous)} for next page ${pass.nextPage} (the code stores the first read of page ${pass.nextPage - 1})`;
  }
  return null;
}

/** Why a stored base URL is not one `normalizeBaseUrl` returns, or null. */
export function baseUrlProblem(baseUrl: string): string | null {
  try {
    if (normalizeBaseUrl(baseUrl) === baseUrl) return null;
  } catch {
    // Reported below.
  }
  return `baseUrl ${show(baseUrl)} is not one the code stores (https, or http on loopback; no credentials, query or fragment)`;
}

/**
 * Every stored value of `i` the code would not have written, each with what
 * the sync does about it. Empty for any document the code wrote.
 */
export function storedValueProblems(i: Integration, now: number): string[] {
  const problems: string[] = [];
  if (!inRange(i.intervalMinutes, MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES)) {
    problems.push(
      `intervalMinutes is ${show(i.intervalMinutes)} (integer ${MIN_INTERVAL_MINUTES}-${MAX_INTERVAL_MINUTES} expected); ${DEFAULT_INTERVAL_MINUTES} is used`,
    );
  }
  if (!inRange(i.lookbackMinutes, 0, MAX_LOOKBACK_MINUTES)) {
    problems.push(
      `lookbackMinutes is ${show(i.lookbackMinutes)} (integer 0-${MAX_LOOKBACK_MINUTES} expected); ${DEFAULT_LOOKBACK_MINUTES} is used`,
    );
  }
  if (i.enabled && !(i.nextDueAt <= latestDueAt(now))) {
    problems.push(`nextDueAt is ${show(i.nextDueAt)} (never due); the dispatcher makes it due now`);
  }
  for (const field of ["watermark", "fullPassAt"] as const) {
    const value = i[field];
    if (value !== undefined && trustedTime(value, now) === undefined) {
      problems.push(
        `${field} is ${show(value)} (a past time expected); the next pass is a full one`,
      );
    }
  }
  const pass = i.pass === undefined ? null : passProblem(i.pass, now);
  if (pass !== null) problems.push(`${pass}; the pass restarts at page 1`);
  if (i.running !== undefined && !leaseWellFormed(i.running, now)) {
    problems.push(
      `running.leaseUntil is ${show(i.running.leaseUntil)} (at most ${SYNC_LEASE_MS / 60_000} minutes ahead expected); the lease is ignored`,
    );
  }
  const url = baseUrlProblem(i.baseUrl);
  if (url !== null) problems.push(`${url}; runs are skipped until it is updated`);
  return problems;
}
