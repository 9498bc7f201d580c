/**
 * Counter values: typed per-status records (`{ Open: 3, Assigned: 7, ... }`)
 * as rows store them, and untyped tallies (maps) the engine folds deltas in.
 * Pure functions; nothing here touches the database.
 */
import { MEASURES, type Measure } from "./tables";

/** One number per status. */
export type Counts<S extends string> = Record<S, number>;

/** Builds a record with one entry per status, each computed by `value`. */
export function tally<S extends string>(
  statuses: readonly S[],
  value: (status: S) => number,
): Counts<S> {
  // Every key of S is assigned in the loop below before the record escapes.
  const out = {} as Counts<S>;
  for (const status of statuses) out[status] = value(status);
  return out;
}

/** A record of zeros, one per status. */
export function zeroCounts<S extends string>(statuses: readonly S[]): Counts<S> {
  return tally(statuses, () => 0);
}

/** Sum of all entries. */
export function sumCounts<S extends string>(statuses: readonly S[], counts: Counts<S>): number {
  let total = 0;
  for (const s of statuses) total += counts[s];
  return total;
}

/** True when every entry of `a` equals the same entry of `b`. */
export function countsEqual<S extends string>(
  statuses: readonly S[],
  a: Counts<S>,
  b: Counts<S>,
): boolean {
  return statuses.every((s) => a[s] === b[s]);
}

// ---------------------------------------------------------------------------
// Buckets and tallies: what the engine, the recount and the read side fold
// ---------------------------------------------------------------------------

/** What one document adds to its org's counters. */
export type Bucket = { status: string; amountCents: number };

/** True when both are absent or both count the same. */
export function sameBucket(a: Bucket | null, b: Bucket | null): boolean {
  if (a === null || b === null) return a === b;
  return a.status === b.status && a.amountCents === b.amountCents;
}

/** A histogram (or a delta of one): per measure, a number per status. */
export type Tally = Record<Measure, Map<string, number>>;

/** A tally with no document in it. */
export function emptyTally(): Tally {
  return { count: new Map(), amountCents: new Map() };
}

/** Adds (`sign` 1) or removes (`sign` -1) one document's bucket. */
export function addBucket(t: Tally, bucket: Bucket, sign: 1 | -1): void {
  t.count.set(bucket.status, (t.count.get(bucket.status) ?? 0) + sign);
  t.amountCents.set(
    bucket.status,
    (t.amountCents.get(bucket.status) ?? 0) + sign * bucket.amountCents,
  );
}

/** `a + b`, as a new tally. */
export function plusTally(a: Tally, b: Tally): Tally {
  const out = emptyTally();
  for (const m of MEASURES) {
    for (const [s, n] of a[m]) out[m].set(s, n);
    for (const [s, n] of b[m]) out[m].set(s, (out[m].get(s) ?? 0) + n);
  }
  return out;
}

/** True when no entry of the tally is non-zero. */
export function isZeroTally(t: Tally): boolean {
  return MEASURES.every((m) => [...t[m].values()].every((n) => n === 0));
}

/** The tally's `measure` as a typed record over `statuses` (missing = 0). */
export function countsOf<S extends string>(
  statuses: readonly S[],
  t: Tally,
  measure: Measure,
): Counts<S> {
  return tally(statuses, (s) => t[measure].get(s) ?? 0);
}

/**
 * Counter fields as rows store them: `counts`, plus `amountCents` for tables
 * that measure money. Every stats row and shadow fits this shape.
 */
export type StoredCounters = {
  counts: Record<string, number>;
  amountCents?: Record<string, number>;
};

/** The tally of stored counter fields. */
export function tallyOfStored(stored: StoredCounters): Tally {
  const out = emptyTally();
  for (const [s, n] of Object.entries(stored.counts)) out.count.set(s, n);
  for (const [s, n] of Object.entries(stored.amountCents ?? {})) out.amountCents.set(s, n);
  return out;
}

export type { Measure };
