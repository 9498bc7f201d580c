/**
 * Loads as stored, as lane matching may use them. A load written around the
 * code (a dashboard edit, an `npx convex import`) can hold keys that do not
 * match its stops, place names with the key separator, or a pickup time of
 * NaN or -Infinity. Such a load never fails a promotion or a backfill: it is
 * reported and either left unpriced or matched without the bad time (see
 * `loadForMatching`, and docs/hardening.md for every table's rule).
 */
import type { Doc } from "../../_generated/dataModel";
import type { MatchableLoad } from "../lanes/rules";
import {
  isValidStoredText,
  isValidTimestamp,
  locationKey,
  MAX_ID_LENGTH,
  reportStoredProblems,
  storedLocationProblems,
  storedProblem,
  type StoredProblem,
} from "../validate";

/** Problems of a stored stop and its key: only a valid stop has a trustworthy key. */
function stopProblems(
  load: Doc<"loads">,
  field: "origin" | "destination",
  keyField: "originKey" | "destinationKey",
): StoredProblem[] {
  const names = storedLocationProblems(load[field], field);
  if (names.length > 0) return names;
  return load[keyField] === locationKey(load[field])
    ? []
    : [storedProblem(keyField, load[keyField])];
}

/** What `loadForMatching` makes of a stored load. */
export type LoadForMatching = {
  /** The load as matching may use it, or null: it is not priced. */
  matchable: MatchableLoad | null;
  /** Whether the load held a value the code would not have written (reported). */
  invalid: boolean;
};

/**
 * `load` as lane matching may use it, reporting (`[stored.invalid]`) what the
 * code would not have written:
 * - the fields that say which lanes apply (place names, `originKey` /
 *   `destinationKey` not `locationKey` of the stops, a `customerId` that is
 *   not trimmed text of 1..`MAX_ID_LENGTH` characters): `matchable` is null,
 *   the load is not priced (action `not priced`): which lane should price it
 *   cannot be told, and a wrong key could match another place's lane;
 * - `pickupAt` not a timestamp (NaN, ±Infinity, 0 or below): disregarded,
 *   the load is matched as one without a pickup time, at now (action
 *   `pickupAt disregarded`), as the expiry already treats it (its index
 *   range `0 < pickupAt < cutoff` never holds such a value).
 */
export function loadForMatching(load: Doc<"loads">): LoadForMatching {
  const keyProblems = [
    ...stopProblems(load, "origin", "originKey"),
    ...stopProblems(load, "destination", "destinationKey"),
  ];
  if (load.customerId !== undefined && !isValidStoredText(load.customerId, MAX_ID_LENGTH)) {
    keyProblems.push(storedProblem("customerId", load.customerId));
  }
  const pickupProblems =
    load.pickupAt === undefined || isValidTimestamp(load.pickupAt)
      ? []
      : [storedProblem("pickupAt", load.pickupAt)];
  const where = { table: "loads", id: load._id, workosOrgId: load.workosOrgId };
  if (keyProblems.length > 0) {
    reportStoredProblems(where, [...keyProblems, ...pickupProblems], "not priced");
    return { matchable: null, invalid: true };
  }
  if (pickupProblems.length > 0) {
    reportStoredProblems(where, pickupProblems, "pickupAt disregarded");
    return { matchable: { ...load, pickupAt: undefined }, invalid: true };
  }
  return { matchable: load, invalid: false };
}
