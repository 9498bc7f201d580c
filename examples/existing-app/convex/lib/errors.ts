/**
 * The app's caller-facing errors: a `ConvexError` whose data carries a
 * `code` the frontend branches on, and a message.
 */
import { ConvexError } from "convex/values";

export type AppErrorCode =
  "UNAUTHENTICATED" | "ORG_MISMATCH" | "NOT_FOUND" | "INVALID_ARGUMENT" | "RATE_LIMITED";

/** The error to throw; `details` travel to the client. */
export function appError(
  code: AppErrorCode,
  message: string,
  details: Record<string, string | number> = {},
) {
  return new ConvexError({ ...details, code, message });
}
