/**
 * How long records that only serve as history are kept, from the
 * environment. Read by the daily purge (`retention.purgeExpired`).
 */
import { readEnv } from "../../lib/env";

const DAY_MS = 24 * 60 * 60 * 1000;

/** A retention window: its env variable, default and floor, in days. */
export type RetentionWindow = {
  envName: string;
  defaultDays: number;
  /** Shortest accepted value: below it the records still have a job to do. */
  minDays: number;
};

/**
 * `workosWebhookEvents`: the event ids already applied, which make a
 * redelivered event a no-op. WorkOS retries a failed delivery for up to about
 * 3 days, so an id must outlive that; 30 days by default, never under 7.
 */
export const WEBHOOK_EVENT_RETENTION: RetentionWindow = {
  envName: "WEBHOOK_EVENT_RETENTION_DAYS",
  defaultDays: 30,
  minDays: 7,
};

/** `statsDriftReports` and their alert delivery rows (`statsAlerts`): 180 days by default. */
export const DRIFT_REPORT_RETENTION: RetentionWindow = {
  envName: "DRIFT_REPORT_RETENTION_DAYS",
  defaultDays: 180,
  minDays: 1,
};

/**
 * The window in days: the env value (a number, fractions allowed) or the
 * default when unset or blank.
 *
 * @throws Error naming the variable when the value is not a number or is
 *   below the window's floor (nothing is purged with a window one did not mean).
 */
export function retentionDays(window: RetentionWindow, raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return window.defaultDays;
  const days = Number(raw.trim());
  if (!Number.isFinite(days) || days < window.minDays) {
    throw new Error(
      `[retention] ${window.envName} must be a number of days >= ${window.minDays}` +
        ` (default ${window.defaultDays}), got ${JSON.stringify(raw)}.` +
        ` Fix it with: npx convex env set ${window.envName} ${window.defaultDays}`,
    );
  }
  return days;
}

/** Records created before the returned time (ms) are past `window` at `now`. */
export function retentionCutoff(window: RetentionWindow, now: number): number {
  return now - retentionDays(window, readEnv(window.envName) ?? undefined) * DAY_MS;
}

/** The newest cutoff accepted for `window` at `now` (its floor). */
export function latestAllowedCutoff(window: RetentionWindow, now: number): number {
  return now - window.minDays * DAY_MS;
}
