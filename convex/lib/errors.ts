/**
 * Contract errors. Every error a caller can provoke is a `ConvexError` whose
 * data carries a machine-readable `code` and a human-readable `message`, so a
 * frontend can branch on `error.data.code`.
 */
import { ConvexError, type Value } from "convex/values";

/** Every `code` a contract error can carry, with what it means. */
export const ERROR_CODES = [
  /** No identity on the call. */
  "UNAUTHENTICATED",
  /** The caller's token is for another org (or carries no `org_id`). */
  "ORG_MISMATCH",
  /** The caller's token lacks a required permission. */
  "MISSING_PERMISSION",
  /** The org was deleted in WorkOS. */
  "ORG_DELETED",
  /** An argument is malformed or out of range. */
  "INVALID_ARGUMENT",
  /** A referenced document does not exist (or belongs to another org). */
  "NOT_FOUND",
  /** A status change the transition table does not allow. */
  "ILLEGAL_TRANSITION",
  /** The thing to create exists already. */
  "ALREADY_EXISTS",
  /** The operation would orphan or lose a billed invoice. */
  "HAS_BILLED_INVOICE",
  /** An external payload (FourKites, WorkOS) failed validation. */
  "INVALID_PAYLOAD",
  /**
   * A documented per-document limit would be exceeded, e.g. more than
   * `MAX_INVOICES_PER_LOAD` invoices on one load. Retrying does not help.
   */
  "LIMIT_EXCEEDED",
  /** A deployment setting (environment variable) is missing or invalid. */
  "MISCONFIGURED",
  /** An operator asked to run a disabled integration; enable it first. */
  "INTEGRATION_DISABLED",
] as const;
/** One of `ERROR_CODES`. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The `data` of every `ConvexError` this project throws. */
export type AppErrorData = {
  code: ErrorCode;
  message: string;
  [detail: string]: Value;
};

/**
 * Builds the error to `throw`. `details` must be Convex values (they travel to
 * the client).
 */
export function appError(
  code: ErrorCode,
  message: string,
  details: Record<string, Value> = {},
): ConvexError<AppErrorData> {
  return new ConvexError<AppErrorData>({ ...details, code, message });
}

/** The error every refusal of a deleted org throws. */
export function orgDeletedError(workosOrgId: string): ConvexError<AppErrorData> {
  return appError("ORG_DELETED", "This organization was deleted.", { workosOrgId });
}
