/**
 * The clock-skew allowance for timestamps other systems send us (FourKites
 * `updatedAt`, WorkOS `updated_at`, the webhook signature's `t`). Those feed
 * "newer than" comparisons, so one dated far ahead would make every later
 * real update look stale; anything beyond `now + MAX_CLOCK_SKEW_MS` is
 * refused or clamped (each caller says which; see docs/hardening.md).
 */

/** How far ahead of our clock an external timestamp may be: 5 minutes. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Whether `ms` is later than `now` plus the allowance. */
export function isBeyondSkew(ms: number, now: number): boolean {
  return ms > now + MAX_CLOCK_SKEW_MS;
}

/** `ms`, or `now + MAX_CLOCK_SKEW_MS` when it is later than that. */
export function clampToSkew(ms: number, now: number): number {
  return Math.min(ms, now + MAX_CLOCK_SKEW_MS);
}

/**
 * A stored external timestamp as a comparison may trust it: `undefined` when
 * absent or beyond the allowance (written before the check existed, or around
 * the code), so a real update is never blocked by it.
 */
export function trustedStoredTime(ms: number | undefined, now: number): number | undefined {
  return ms === undefined || isBeyondSkew(ms, now) ? undefined : ms;
}
