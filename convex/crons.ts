/**
 * Scheduled jobs. Each job calls an internal function; keep one line per job.
 */
import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Catch-up lane promotion and expiry of stale Open loads. With nothing to do a
// run reads no document, so a short interval is cheap.
crons.interval("periodic cleanup", { minutes: 15 }, internal.lazyLoadPromotion.periodicCleanup, {});

// Daily exact recount of every org's counters (repairs and reports drift).
// 07:00 UTC is night in the Americas, when the TMS is least busy (operators
// and tests rely on this schedule, hence the exact minute).
// eslint-disable-next-line @convex-dev/no-top-of-hour-crons
crons.cron("recount org stats", "0 7 * * *", internal.stats.recalculateAllOrgs, {});

// Purge of webhook event ids and drift reports past their retention windows
// (WEBHOOK_EVENT_RETENTION_DAYS, DRIFT_REPORT_RETENTION_DAYS), before the recount.
crons.cron("purge expired records", "30 6 * * *", internal.retention.purgeExpired, {});
// FourKites pulls: enqueues the syncs of integrations due now (reads nothing when none is).
crons.interval("fourkites dispatch", { minutes: 1 }, internal.fourKitesSync.dispatchDueSyncs, {});

export default crons;
