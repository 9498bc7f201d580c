/**
 * Lane ends: a location or `*` (any), and the key a lane end is looked up by.
 * Apart from `rules.ts` so that the stored-lane checks (`stored.ts`) and the
 * rules can both use them.
 */
import { locationKey, type Location } from "../validate";

/** The key (and stored value) of a wildcard lane end. */
export const WILDCARD = "*";

/** A lane end: a location, or `*` for any. */
export type LaneEnd = Location | typeof WILDCARD;

/** The lookup key of a lane end: `CITY|ST`, or `*`. */
export function laneEndKey(end: LaneEnd): string {
  return end === WILDCARD ? WILDCARD : locationKey(end);
}
