/**
 * Lookups the code treats as unique, although Convex has no unique
 * constraints: a dashboard edit or an `npx convex import` of an old backup
 * can leave two documents where the code writes one. Each such lookup reads
 * a few candidates (`DUPLICATE_PROBE`), picks one by a documented rule and
 * reports the rest, so a duplicate never throws a raw `unique()` error and
 * never wedges an org. The rule per lookup is in docs/hardening.md.
 */
import type { GenericId } from "convex/values";

/**
 * Documents read per "unique" lookup: the one the code uses and up to
 * `DUPLICATE_PROBE - 1` duplicates to report. Duplicates beyond that are not
 * seen by the lookup (they change nothing about the pick when the pick is the
 * oldest, since index order puts older documents first).
 */
export const DUPLICATE_PROBE = 5;

type Candidate = { _id: GenericId<string>; _creationTime: number };

/** Oldest first (by `_creationTime`, then `_id`): a total order, so the pick is deterministic. */
export function byAge(a: Candidate, b: Candidate): number {
  if (a._creationTime !== b._creationTime) return a._creationTime - b._creationTime;
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}

/**
 * Splits `docs` (one lookup's candidates) into the one to use and the rest:
 * the first that `prefer` accepts, in age order, else the oldest. Logs the
 * duplicates under `what` so an operator can remove them.
 */
export function pickOne<D extends Candidate>(
  docs: D[],
  what: string,
  key: Record<string, string>,
  prefer: (doc: D) => boolean = () => true,
): { doc: D; duplicates: D[] } | null {
  if (docs.length === 0) return null;
  const sorted = [...docs].sort(byAge);
  const doc = sorted.find(prefer) ?? sorted[0];
  const duplicates = sorted.filter((d) => d !== doc);
  if (duplicates.length > 0) {
    console.warn("[uniqueness] duplicate documents", {
      what,
      ...key,
      using: doc._id,
      duplicates: duplicates.map((d) => d._id),
    });
  }
  return { doc, duplicates };
}

/**
 * Runs a "unique" lookup: reads `DUPLICATE_PROBE` candidates from `query`
 * (an indexed range on the lookup's key) and picks one as `pickOne` does.
 */
export async function pickUnique<D extends Candidate>(
  query: { take: (n: number) => Promise<D[]> },
  what: string,
  key: Record<string, string>,
  prefer?: (doc: D) => boolean,
): Promise<{ doc: D; duplicates: D[] } | null> {
  return pickOne(await query.take(DUPLICATE_PROBE), what, key, prefer);
}
