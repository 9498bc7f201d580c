/**
 * Input checks shared by the domain functions. Each failure is an
 * `INVALID_ARGUMENT` `ConvexError` naming the offending field, thrown before
 * anything is written.
 */
import type { Infer } from "convex/values";
import { trustedStoredTime } from "../lib/clock";
import { appError } from "../lib/errors";
import type { vLocation } from "./fields";
import { isValidAmountCents, MAX_AMOUNT_CENTS } from "./stats/amounts";

/**
 * Identifiers an operator or a caller passes (org ids, document ids as
 * text): the stats module's checks, one rule for the whole app (trimmed,
 * 1..128 characters, `INVALID_ARGUMENT` naming the field).
 */
export { optionalOrgId, requireId, requireOrgId } from "./stats/checks";

/** A stop location (city, state, optional postal code and coordinates). */
export type Location = Infer<typeof vLocation>;

/** Longest identifier we store (external ids, customer ids). */
export const MAX_ID_LENGTH = 128;
/** Longest city name we store. */
export const MAX_CITY_LENGTH = 100;
/** Longest state / province name we store. */
export const MAX_STATE_LENGTH = 50;
/** Longest free text we store (names, commodities, reasons). */
export const MAX_TEXT_LENGTH = 500;

/** Trims `value` and checks it is 1..`max` characters. */
export function requireText(value: string, field: string, max = MAX_TEXT_LENGTH): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) {
    throw appError("INVALID_ARGUMENT", `${field} must be between 1 and ${max} characters.`, {
      field,
    });
  }
  return trimmed;
}

/** Like `requireText` but lets `undefined` through. */
export function optionalText(
  value: string | undefined,
  field: string,
  max = MAX_TEXT_LENGTH,
): string | undefined {
  return value === undefined ? undefined : requireText(value, field, max);
}

/** A finite, positive millisecond timestamp. */
export function optionalTimestamp(value: number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) {
    throw appError("INVALID_ARGUMENT", `${field} must be a positive timestamp in ms.`, { field });
  }
  return value;
}

/** A finite, non-negative number. */
export function optionalNonNegative(value: number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) {
    throw appError("INVALID_ARGUMENT", `${field} must be a non-negative number.`, { field });
  }
  return value;
}

/**
 * The one integer check: a safe integer in `min..max` (`max` optional), or an
 * `INVALID_ARGUMENT` naming `field` and the range. Every integer argument
 * (counts, page sizes, cents) goes through here or a shorthand below, so they
 * all reject `1.5`, `NaN`, `Infinity` and values past 2^53 alike.
 */
export function requireInteger(
  value: number,
  field: string,
  range: { min: number; max?: number; unit?: string },
): number {
  const { min, max, unit } = range;
  if (!Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
    const what =
      max !== undefined
        ? `an integer from ${min} to ${max}`
        : min === 0
          ? "a non-negative integer"
          : min === 1
            ? "a positive integer"
            : `an integer of at least ${min}`;
    throw appError(
      "INVALID_ARGUMENT",
      `${field} must be ${what}${unit === undefined ? "" : ` (${unit})`}.`,
      max === undefined ? { field } : { field, min, max },
    );
  }
  return value;
}

/**
 * The amount rule (integer cents, 0..`MAX_AMOUNT_CENTS`, $1,000,000.00) is
 * the counters' own: see `model/stats/amounts.ts`. Every path that sets an
 * amount (invoice amounts, lane rates, and through them imports and
 * promotions) checks it here.
 */
export { isValidAmountCents, MAX_AMOUNT_CENTS };

/** Integer cents, 0..`MAX_AMOUNT_CENTS` (see `requireInteger`). */
export function requireCents(value: number, field: string): number {
  return requireInteger(value, field, { min: 0, max: MAX_AMOUNT_CENTS, unit: "cents" });
}

/** A safe integer, 0 or more (see `requireInteger`). */
export function assertNonNegativeInteger(value: number, field: string): number {
  return requireInteger(value, field, { min: 0 });
}

/**
 * What a place name (city, state) may not contain: the location key's
 * separator `|` and control characters (C0, DEL, C1). With them refused, a
 * location key splits back into its parts at its only `|`, so two different
 * (normalized) locations never share a key.
 */
const FORBIDDEN_IN_PLACE_NAME = /[|\p{Cc}]/u;

/** Why `value` cannot be a place name, or null when it can. */
export function placeNameProblem(value: string): string | null {
  return FORBIDDEN_IN_PLACE_NAME.test(value) ? 'must not contain "|" or control characters' : null;
}

/** A trimmed place name of 1..`max` characters without `|` or control characters. */
export function requirePlaceName(value: string, field: string, max: number): string {
  const trimmed = requireText(value, field, max);
  const problem = placeNameProblem(trimmed);
  if (problem !== null) {
    throw appError("INVALID_ARGUMENT", `${field} ${problem}.`, { field });
  }
  return trimmed;
}

/** Checks and trims a stop location. */
export function requireLocation(loc: Location, field: string): Location {
  const out: Location = {
    city: requirePlaceName(loc.city, `${field}.city`, MAX_CITY_LENGTH),
    state: requirePlaceName(loc.state, `${field}.state`, MAX_STATE_LENGTH),
  };
  if (loc.postalCode !== undefined) {
    out.postalCode = requireText(loc.postalCode, `${field}.postalCode`, 20);
  }
  if (loc.latitude !== undefined || loc.longitude !== undefined) {
    const { latitude, longitude } = loc;
    if (
      latitude === undefined ||
      longitude === undefined ||
      !(Math.abs(latitude) <= 90) ||
      !(Math.abs(longitude) <= 180)
    ) {
      throw appError(
        "INVALID_ARGUMENT",
        `${field} needs both latitude (-90..90) and longitude (-180..180).`,
        { field },
      );
    }
    out.latitude = latitude;
    out.longitude = longitude;
  }
  return out;
}

/**
 * How place names are compared everywhere: trimmed, inner whitespace
 * collapsed to one space, upper-cased. "dallas ", "Dallas" and "DALLAS" are
 * the same place. No Unicode normalization: differently encoded names are
 * different places (they never collide, they just do not match).
 */
export function normalizePlaceName(name: string): string {
  return name.trim().replace(/\s+/g, " ").toUpperCase();
}

/**
 * The key lane matching uses for a location: `CITY|ST` of the normalized
 * names. Unambiguous because place names may not contain `|`
 * (`requirePlaceName`, and the FourKites schema): equal keys mean equal
 * normalized city and equal normalized state. Locations are compared only by
 * this key (lane lookups, import change detection).
 */
export function locationKey(loc: Pick<Location, "city" | "state">): string {
  return `${normalizePlaceName(loc.city)}|${normalizePlaceName(loc.state)}`;
}

/**
 * Checks a list of ids for a bulk call: 1..`max` entries, no duplicates.
 */
export function requireIdList<T extends string>(ids: T[], field: string, max: number): T[] {
  if (ids.length === 0) {
    throw appError("INVALID_ARGUMENT", `${field} must not be empty.`, { field });
  }
  if (ids.length > max) {
    throw appError("INVALID_ARGUMENT", `${field} takes at most ${max} ids (got ${ids.length}).`, {
      field,
      max,
    });
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) duplicates.add(id);
    seen.add(id);
  }
  if (duplicates.size > 0) {
    throw appError("INVALID_ARGUMENT", `${field} contains duplicate ids.`, {
      field,
      duplicateIds: [...duplicates],
    });
  }
  return ids;
}

/** Parses `value` as one of `allowed`, or throws `INVALID_ARGUMENT`. */
export function parseEnum<S extends string>(
  allowed: readonly S[],
  value: string,
  field: string,
): S {
  const found = allowed.find((s) => s === value);
  if (found === undefined) {
    throw appError(
      "INVALID_ARGUMENT",
      `${field} must be one of ${allowed.join(", ")} (got "${value.slice(0, 50)}").`,
      { field, allowed: [...allowed] },
    );
  }
  return found;
}

/**
 * A positive integer (at most `max` when given), or `undefined` (see
 * `requireInteger`).
 */
export function optionalPositiveInteger(
  value: number | undefined,
  field: string,
  max?: number,
): number | undefined {
  return value === undefined ? undefined : requireInteger(value, field, { min: 1, max });
}

/**
 * Whether `value` is a timestamp the code would store: a finite number of ms
 * above 0 (the rule `optionalTimestamp` enforces on input).
 */
export function isValidTimestamp(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

/** Whether `value` is text the code would store: trimmed, 1..`max` characters. */
export function isValidStoredText(value: unknown, max: number): value is string {
  return (
    typeof value === "string" && value.length > 0 && value.length <= max && value.trim() === value
  );
}

/**
 * One field of a stored document holding a value the code would never write
 * (written around it: a dashboard edit, an `npx convex import`). `value` is
 * the JavaScript `String()` of the value (`-0` kept apart, at most
 * `MAX_REPORTED_VALUE_LENGTH` characters), so non-finite numbers survive JSON.
 */
export type StoredProblem = { field: string; value: string };

/** Longest stored value a report repeats. */
export const MAX_REPORTED_VALUE_LENGTH = 100;

/** A `StoredProblem` for `field` holding `value`. */
export function storedProblem(field: string, value: unknown): StoredProblem {
  const text = Object.is(value, -0) ? "-0" : String(value);
  return {
    field,
    value:
      text.length > MAX_REPORTED_VALUE_LENGTH
        ? `${text.slice(0, MAX_REPORTED_VALUE_LENGTH)}…`
        : text,
  };
}

/**
 * Problems of a stored location's place names (`field.city`,
 * `field.state`): what `requirePlaceName` would not have stored. The key a
 * location is looked up by is built from these names, so a location with a
 * problem has no trustworthy key.
 */
export function storedLocationProblems(
  loc: Pick<Location, "city" | "state">,
  field: string,
): StoredProblem[] {
  const problems: StoredProblem[] = [];
  const names = [
    ["city", loc.city, MAX_CITY_LENGTH],
    ["state", loc.state, MAX_STATE_LENGTH],
  ] as const;
  for (const [part, value, max] of names) {
    if (!isValidStoredText(value, max) || placeNameProblem(value) !== null) {
      problems.push(storedProblem(`${field}.${part}`, value));
    }
  }
  return problems;
}

/**
 * Reports a stored document holding values the code would never write, and
 * what the caller did about it (`action`: skipped, disregarded, ...), as one
 * structured warning, `[stored.invalid]`. An operator fixes the document
 * (dashboard edit) or deletes it; docs/hardening.md has the rule per table.
 */
export function reportStoredProblems(
  doc: { table: string; id: string; workosOrgId: string },
  problems: StoredProblem[],
  action: string,
): void {
  console.warn("[stored.invalid]", { ...doc, problems, action });
}

/**
 * A stored "newer than" time (`externalUpdatedAt`, `workosUpdatedAt`) as a
 * comparison may trust it: `undefined` when absent, when it is not a
 * timestamp the code would store (NaN, ±Infinity, 0 or below; reported as
 * `disregarded`), or when it is beyond the clock-skew allowance
 * (`trustedStoredTime`). A disregarded time never blocks a real update: the
 * next one applies and replaces it.
 */
export function trustedStoredTimestamp(
  doc: { table: string; id: string; workosOrgId: string },
  field: string,
  ms: number | undefined,
  now: number,
): number | undefined {
  if (ms === undefined) return undefined;
  if (!isValidTimestamp(ms)) {
    reportStoredProblems(doc, [storedProblem(field, ms)], "disregarded");
    return undefined;
  }
  return trustedStoredTime(ms, now);
}
