/** The app's rate limits (the rate limiter component it already had mounted). */
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "./components";

export const rateLimiter = new RateLimiter(components.rateLimiter, {
  /** Bulk voids per org: a runaway script cannot void a whole ledger in a minute. */
  bulkVoid: { kind: "token bucket", rate: 20, period: MINUTE, capacity: 5 },
});
