/**
 * Argument checks of the stats module's operator functions, one per kind of
 * argument (org id, document id, limit, page size, cursor, walk start, time):
 * every function refuses the same malformed input the same way
 * (`INVALID_ARGUMENT`, naming the field in `field`), before it reads
 * anything. The app's own functions use the same org and id checks
 * (re-exported by `model/validate.ts`).
 */
import { appError } from "../../lib/errors";

/** Longest org id or document id accepted (WorkOS org ids are 30 characters, Convex ids ~32). */
export const MAX_ID_LENGTH = 128;
/** Kept for callers that name org ids: the same bound as any id. */
export const MAX_ORG_ID_LENGTH = MAX_ID_LENGTH;

/**
 * Longest cursor accepted: a paginate cursor (opaque, well under this) or the
 * org id a skip scan stopped at. A cursor the database did not hand out is
 * refused by the database itself.
 */
export const MAX_CURSOR_LENGTH = 4_096;

/** Default and largest `limit` of the operator views. */
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

/** Trims `value` and checks it is an identifier of 1..`MAX_ID_LENGTH` characters. */
export function requireId(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_ID_LENGTH) {
    throw appError(
      "INVALID_ARGUMENT",
      `${field} must be between 1 and ${MAX_ID_LENGTH} characters.`,
      {
        field,
      },
    );
  }
  return trimmed;
}

/** Trims `value` and checks it is an org id of 1..`MAX_ID_LENGTH` characters. */
export function requireOrgId(value: string, field = "workosOrgId"): string {
  return requireId(value, field);
}

/** Like `requireOrgId` but lets `undefined` through. */
export function optionalOrgId(
  value: string | undefined,
  field = "workosOrgId",
): string | undefined {
  return value === undefined ? undefined : requireOrgId(value, field);
}

/** A safe integer from 1 to `max`, or `undefined`. */
export function optionalCount(
  value: number | undefined,
  field: string,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw appError("INVALID_ARGUMENT", `${field} must be an integer from 1 to ${max}.`, {
      field,
      min: 1,
      max,
    });
  }
  return value;
}

/** `limit` as given (1..`MAX_LIMIT`), or `DEFAULT_LIMIT`. */
export function requireLimit(limit: number | undefined): number {
  return optionalCount(limit, "limit", MAX_LIMIT) ?? DEFAULT_LIMIT;
}

/**
 * A cursor to continue from: null or absent (the start), or a string of
 * 1..`MAX_CURSOR_LENGTH` characters that is not blank. Not trimmed: a cursor
 * is opaque.
 */
export function optionalCursor(value: string | null | undefined, field = "cursor"): string | null {
  if (value === undefined || value === null) return null;
  if (value.trim().length === 0 || value.length > MAX_CURSOR_LENGTH) {
    throw appError(
      "INVALID_ARGUMENT",
      `${field} must be null or a cursor of 1 to ${MAX_CURSOR_LENGTH} characters (as a result handed it out).`,
      { field },
    );
  }
  return value;
}

/**
 * Where a walk over orgs starts: `phase` (default `first`) and `cursor`. A
 * cursor belongs to the phase that handed it out, so a cursor without its
 * phase is refused.
 */
export function requireWalkStart(
  phase: string | undefined,
  cursor: string | null | undefined,
  first: string,
): { phase: string; cursor: string | null } {
  const checked = optionalCursor(cursor);
  if (checked !== null && phase === undefined) {
    throw appError(
      "INVALID_ARGUMENT",
      "cursor continues a phase of the walk: pass the phase it was logged with.",
      { field: "cursor" },
    );
  }
  return { phase: phase ?? first, cursor: checked };
}

/** A time in ms since the epoch (finite, above 0), or `undefined`. */
export function optionalTime(value: number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) {
    throw appError("INVALID_ARGUMENT", `${field} must be a time in ms since the epoch.`, {
      field,
    });
  }
  return value;
}

/** A list of table names to act on, or `undefined` (all): at least one, no repeats. */
export function optionalEntities(value: string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || new Set(value).size !== value.length) {
    throw appError(
      "INVALID_ARGUMENT",
      "entities must name at least one counted table, each once (or be left out for all).",
      { field: "entities" },
    );
  }
  return value;
}
