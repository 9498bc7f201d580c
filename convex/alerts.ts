/**
 * Drift alerts: the delivery of each drift report (and each failed recount
 * run) to `STATS_ALERT_WEBHOOK_URL`, retried with backoff by the action
 * retrier, at most once per report. The stats engine queues alerts with
 * `enqueueDriftAlert` / `enqueueRunFailedAlert` (`model/alerts/queue.ts`);
 * operators watch and resend them here. See docs/operations.md.
 *
 * ```sh
 * npx convex run alerts:alertStatus
 * npx convex run alerts:retryAlert '{"alertId":"..."}'
 * ```
 */
import { v } from "convex/values";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { deliverAlert } from "./model/alerts/deliver";
import {
  alertStatus as alertStatusModel,
  claimAttempt as claimAttemptModel,
  completeDelivery,
  enqueueDriftAlert,
  markDelivered as markDeliveredModel,
  recordAttemptError as recordAttemptErrorModel,
  retryAlert as retryAlertModel,
  vAlertStatus,
  vClaim,
  vDeliveryComplete,
  vDeliveryOutcome,
  vEnqueueResult,
} from "./model/alerts/queue";
import { appError } from "./lib/errors";

/** Delivery state at a glance: counts per state, oldest pending, newest failed. */
export const alertStatus = internalQuery({
  args: { limit: v.optional(v.number()) },
  returns: vAlertStatus,
  handler: async (ctx, args) => await alertStatusModel(ctx, args.limit ?? 20),
});

/**
 * Queues the alert of a drift report by hand (e.g. one stored before the URL
 * was set). Does nothing for a report that already has its alert.
 *
 * @throws `NOT_FOUND` for an unknown report id.
 */
export const sendDriftAlert = internalMutation({
  args: { reportId: v.string() },
  returns: vEnqueueResult,
  handler: async (ctx, args) => {
    const reportId = ctx.db.normalizeId("statsDriftReports", args.reportId);
    if (reportId === null) {
      throw appError("NOT_FOUND", "No such drift report.", { reportId: args.reportId });
    }
    return await enqueueDriftAlert(ctx, reportId);
  },
});

/** Resends a `failed` alert (NOT_FOUND / INVALID_ARGUMENT otherwise). */
export const retryAlert = internalMutation({
  args: { alertId: v.string() },
  returns: vEnqueueResult,
  handler: async (ctx, args) => await retryAlertModel(ctx, args.alertId),
});

/** One delivery attempt (run and retried by the action retrier). */
export const deliver = internalAction({
  args: { alertId: v.id("statsAlerts") },
  returns: vDeliveryOutcome,
  handler: async (ctx, args) => await deliverAlert(ctx, args.alertId),
});

/** Starts an attempt; returns the body to POST or why to send nothing. */
export const claimAttempt = internalMutation({
  args: { alertId: v.id("statsAlerts") },
  returns: vClaim,
  handler: async (ctx, args) => await claimAttemptModel(ctx, args.alertId),
});

/** Records a failed attempt. */
export const recordAttemptError = internalMutation({
  args: { alertId: v.id("statsAlerts"), error: v.string(), httpStatus: v.optional(v.number()) },
  returns: v.null(),
  handler: async (ctx, args) =>
    await recordAttemptErrorModel(ctx, args.alertId, args.error, args.httpStatus),
});

/** Records a delivery (2xx). */
export const markDelivered = internalMutation({
  args: { alertId: v.id("statsAlerts"), httpStatus: v.optional(v.number()) },
  returns: v.null(),
  handler: async (ctx, args) => await markDeliveredModel(ctx, args.alertId, args.httpStatus),
});

/** The retrier's completion: delivered, refused for good, or out of retries. */
export const deliveryComplete = internalMutation({
  args: vDeliveryComplete,
  returns: v.null(),
  handler: async (ctx, args) => await completeDelivery(ctx, args),
});
