/** Scheduled jobs. */
import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// The daily exact recount of every org's counters: repairs and reports drift.
crons.daily(
  "recount org stats",
  { hourUTC: 7, minuteUTC: 10 },
  internal.stats.recalculateAllOrgs,
  {},
);

export default crons;
