/**
 * Retention: the daily purge of records kept only as history
 * (`workosWebhookEvents`, `statsDriftReports`). Windows come from
 * `WEBHOOK_EVENT_RETENTION_DAYS` and `DRIFT_REPORT_RETENTION_DAYS`; see
 * `model/retention/` and docs/operations.md.
 */
import { internalMutation } from "./functions";
import {
  purgeBatch as purgeBatchModel,
  startPurge,
  vPurgeBatchArgs,
  vPurgeBatchResult,
  vPurgeStart,
} from "./model/retention/purge";

/**
 * The daily cron: schedules one purge chain per table. Operators may run it
 * any time:
 *
 * ```sh
 * npx convex run retention:purgeExpired
 * ```
 */
export const purgeExpired = internalMutation({
  args: {},
  returns: vPurgeStart,
  handler: async (ctx) => await startPurge(ctx, Date.now()),
});

/** One bounded batch of a purge chain (scheduled; schedules the next batch). */
export const purgeBatch = internalMutation({
  args: vPurgeBatchArgs,
  returns: vPurgeBatchResult,
  handler: async (ctx, args) => await purgeBatchModel(ctx, args, Date.now()),
});
