/**
 * The settings a manager gives an integration, and their checks: the base
 * URL FourKites pages are read from, the interval between scheduled pulls and
 * the lookback before the watermark. Pure functions; `manage.ts` stores what
 * passes them, `storedValues.ts` copes with what got stored around them.
 */
import { appError } from "../../lib/errors";

/** Minutes between scheduled pulls: default, bounds. */
export const DEFAULT_INTERVAL_MINUTES = 15;
export const MIN_INTERVAL_MINUTES = 5;
export const MAX_INTERVAL_MINUTES = 24 * 60;
/** Minutes a pass looks back before the watermark: default, bounds. */
export const DEFAULT_LOOKBACK_MINUTES = 60;
export const MAX_LOOKBACK_MINUTES = 7 * 24 * 60;
/** Longest base URL accepted. */
export const MAX_BASE_URL_LENGTH = 500;
export const MINUTE_MS = 60_000;

/**
 * A base URL FourKites pages can be read from: `https`, or `http` on a
 * loopback host (local fakes); no user info (it would be a plaintext secret
 * in a column), no query or fragment (the sync adds `page`/`perPage`).
 *
 * @throws `INVALID_ARGUMENT` naming `baseUrl`.
 */
export function normalizeBaseUrl(raw: string): string {
  const bad = (why: string) =>
    appError("INVALID_ARGUMENT", `baseUrl ${why}.`, { field: "baseUrl" });
  if (raw.length > MAX_BASE_URL_LENGTH)
    throw bad(`must be at most ${MAX_BASE_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw bad("is not a URL");
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (!(url.protocol === "https:" || (url.protocol === "http:" && loopback))) {
    throw bad("must use https");
  }
  if (url.username !== "" || url.password !== "") {
    throw bad("must not carry credentials (set them as credentials instead)");
  }
  if (url.search !== "" || url.hash !== "") throw bad("must not have a query or fragment");
  return url.toString().replace(/\/+$/, "");
}

/** Whether `value` is an integer from `min` to `max` (what the checks below accept). */
export function inRange(value: number, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= min && value <= max;
}

function checkMinutes(field: string, value: number, min: number, max: number): number {
  if (!inRange(value, min, max)) {
    throw appError("INVALID_ARGUMENT", `${field} must be an integer from ${min} to ${max}.`, {
      field,
    });
  }
  return value;
}

/** Validated interval and lookback (defaults applied). @throws `INVALID_ARGUMENT`. */
export function checkSchedule(args: { intervalMinutes?: number; lookbackMinutes?: number }) {
  return {
    intervalMinutes: checkMinutes(
      "intervalMinutes",
      args.intervalMinutes ?? DEFAULT_INTERVAL_MINUTES,
      MIN_INTERVAL_MINUTES,
      MAX_INTERVAL_MINUTES,
    ),
    lookbackMinutes: checkMinutes(
      "lookbackMinutes",
      args.lookbackMinutes ?? DEFAULT_LOOKBACK_MINUTES,
      0,
      MAX_LOOKBACK_MINUTES,
    ),
  };
}
