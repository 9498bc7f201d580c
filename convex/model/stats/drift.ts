/**
 * Comparing tallies bucket by bucket: the negative counters a flush reports
 * and the differences a recount finds, for any counted table.
 */
import type { Tally } from "./counters";
import type { EntityDef } from "./entities";
import type { DriftBucket, KnownDrift } from "./tables";

type Shape = Pick<EntityDef, "statuses" | "measures">;

/** Calls `visit` with both tallies' values of every bucket the entity stores. */
function eachBucket(
  def: Shape,
  a: Tally,
  b: Tally,
  visit: (status: string, measure: DriftBucket["measure"], a: number, b: number) => void,
): void {
  for (const measure of def.measures) {
    for (const status of def.statuses) {
      visit(status, measure, a[measure].get(status) ?? 0, b[measure].get(status) ?? 0);
    }
  }
}

/**
 * Buckets where `after` is below zero, as a `negative_counter` report lists
 * them: `stored` is the counter as the write leaves it (below zero; kept,
 * never clamped) and `delta` is `-stored`, the part of the drift known for
 * sure (the true value is at least 0). `before` is the counter before the
 * write, which decides nothing here but keeps the signature symmetric.
 */
export function negativeBuckets(def: Shape, before: Tally, after: Tally): DriftBucket[] {
  const out: DriftBucket[] = [];
  eachBucket(def, before, after, (status, measure, _b, a) => {
    if (a < 0) out.push({ status, measure, stored: a, delta: -a });
  });
  return out;
}

/** A bucket's key, for matching buckets across reports. */
function bucketKey(b: Pick<DriftBucket, "status" | "measure">): string {
  return `${b.measure}\u0000${b.status}`;
}

/**
 * The recount's buckets with what earlier reports already stated: every
 * bucket where the counters differ, plus every bucket an earlier report
 * (`prior`) listed, with `alreadyReported` = the sum of their deltas.
 * `stored` and `actual` are this recount's values. So, per bucket,
 * `delta - alreadyReported` is the drift no earlier report contained, and
 * adding `delta - (alreadyReported ?? 0)` over all reports counts each
 * drift once, also when a later bypass cancelled what an earlier report saw
 * (then `delta` is 0 and the recount bucket takes the earlier part back).
 */
export function withAlreadyReported(
  def: Shape,
  stored: Tally,
  actual: Tally,
  prior: readonly DriftBucket[],
): DriftBucket[] {
  const reported = new Map<string, number>();
  for (const b of prior) reported.set(bucketKey(b), (reported.get(bucketKey(b)) ?? 0) + b.delta);
  const out: DriftBucket[] = [];
  eachBucket(def, stored, actual, (status, measure, s, a) => {
    const already = reported.get(bucketKey({ status, measure }));
    if (s === a && (already ?? 0) === 0) return;
    const bucket: DriftBucket = { status, measure, stored: s, actual: a, delta: a - s };
    out.push(already === undefined ? bucket : { ...bucket, alreadyReported: already });
  });
  return out;
}

/** Buckets where `stored` differs from `actual`, measures in declaration order. */
export function differences(def: Shape, stored: Tally, actual: Tally): DriftBucket[] {
  const out: DriftBucket[] = [];
  eachBucket(def, stored, actual, (status, measure, s, a) => {
    if (s !== a) out.push({ status, measure, stored: s, actual: a, delta: a - s });
  });
  return out;
}

/** True when some bucket of `t` is below zero. */
export function hasNegative(def: Shape, t: Tally): boolean {
  return def.measures.some((m) => def.statuses.some((s) => (t[m].get(s) ?? 0) < 0));
}

/**
 * The counters known to be off after `negatives` (buckets that went below
 * zero) were seen, merged with what was known before: a counter at -n is at
 * least n below the truth, which is never negative.
 */
export function mergeKnownDrift(
  known: readonly KnownDrift[] | undefined,
  negatives: readonly DriftBucket[],
): KnownDrift[] {
  const out = (known ?? []).map((k) => ({ ...k }));
  for (const b of negatives) {
    // A `negative_counter` bucket stores the counter after the write
    // (`stored` < 0) and `delta = -stored`: the least the truth is above it.
    const atLeast = b.delta;
    const same = out.find((k) => k.status === b.status && k.measure === b.measure);
    if (same === undefined) out.push({ status: b.status, measure: b.measure, atLeast });
    else same.atLeast = Math.max(same.atLeast, atLeast);
  }
  return out;
}
