/**
 * Argument checks of the stats module's operator functions: every one of
 * them refuses the same malformed input the same way (`INVALID_ARGUMENT`,
 * naming the field), before it reads anything.
 */
import { appError } from "../../lib/errors";

/** Longest org id accepted (WorkOS ids are 30 characters). */
export const MAX_ORG_ID_LENGTH = 128;

/** Trims `value` and checks it is an org id of 1..`MAX_ORG_ID_LENGTH` characters. */
export function requireOrgId(value: string, field = "workosOrgId"): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_ORG_ID_LENGTH) {
    throw appError(
      "INVALID_ARGUMENT",
      `${field} must be between 1 and ${MAX_ORG_ID_LENGTH} characters.`,
      { field },
    );
  }
  return trimmed;
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
