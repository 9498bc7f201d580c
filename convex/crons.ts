/**
 * Scheduled jobs. (The daily recount entry is added by its own issue; the
 * lead merges the two.)
 */
import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Catch-up lane promotion and expiry of stale Open loads. With nothing to do a
// run reads no document, so a short interval is cheap.
crons.interval("periodic cleanup", { minutes: 15 }, internal.lazyLoadPromotion.periodicCleanup, {});

export default crons;
