/**
 * Input checks shared by the domain functions. Each failure is an
 * `INVALID_ARGUMENT` `ConvexError` naming the offending field, thrown before
 * anything is written.
 */
import type { Infer } from "convex/values";
import { appError } from "../lib/errors";
import type { vLocation } from "../schema";

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

/** A safe integer, 0 or more (see `requireInteger`). */
export function assertNonNegativeInteger(value: number, field: string): number {
  return requireInteger(value, field, { min: 0 });
}

/** Integer cents, 0 or more. */
export function requireCents(value: number, field: string): number {
  return requireInteger(value, field, { min: 0, unit: "cents" });
}

/** Checks and trims a stop location. */
export function requireLocation(loc: Location, field: string): Location {
  const out: Location = {
    city: requireText(loc.city, `${field}.city`, MAX_CITY_LENGTH),
    state: requireText(loc.state, `${field}.state`, MAX_STATE_LENGTH),
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
 * The key lane matching uses for a location: `CITY|ST`, upper-cased with
 * inner whitespace collapsed, so "dallas ", "Dallas" and "DALLAS" match.
 */
export function locationKey(loc: Pick<Location, "city" | "state">): string {
  const norm = (s: string) => s.trim().replace(/\s+/g, " ").toUpperCase();
  return `${norm(loc.city)}|${norm(loc.state)}`;
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
