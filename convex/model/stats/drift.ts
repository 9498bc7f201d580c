/**
 * Comparing tallies bucket by bucket: the negative counters a flush reports
 * and the differences a recount finds, for any counted table.
 */
import type { Tally } from "./counters";
import type { EntityDef } from "./entities";
import type { DriftBucket, KnownDrift } from "./tables";
import type { StatsEntity } from "../enums";

type Shape = Pick<EntityDef<StatsEntity>, "statuses" | "measures">;

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

/** Buckets where `after` is below zero, with the stored value and the delta. */
export function negativeBuckets(def: Shape, before: Tally, after: Tally): DriftBucket[] {
  const out: DriftBucket[] = [];
  eachBucket(def, before, after, (status, measure, b, a) => {
    if (a < 0) out.push({ status, measure, stored: b, delta: a - b });
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
    const atLeast = -(b.stored + b.delta);
    const same = out.find((k) => k.status === b.status && k.measure === b.measure);
    if (same === undefined) out.push({ status: b.status, measure: b.measure, atLeast });
    else same.atLeast = Math.max(same.atLeast, atLeast);
  }
  return out;
}
