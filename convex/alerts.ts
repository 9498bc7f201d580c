/**
 * Drift alerts (`model/alerts/`): each drift report and failed recount run
 * POSTed to `STATS_ALERT_WEBHOOK_URL` once, by the stats workpool with
 * retries. Operators watch and resend them here; see docs/operations.md.
 */
import { v } from "convex/values";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { deliverAlert, vAttempt } from "./model/alerts/deliver";
import * as queue from "./model/alerts/queue";
import { requireId } from "./model/validate";

/** Delivery state at a glance: counts per state, oldest pending, newest failed (`limit` 0..100 each). */
export const alertStatus = internalQuery({
  args: { limit: v.optional(v.number()) },
  returns: queue.vAlertStatus,
  handler: async (ctx, args) => await queue.alertStatus(ctx, args.limit ?? 20),
});

/**
 * Queues the alert of a drift report by hand (once per report); NOT_FOUND for an unknown id,
 * INVALID_ARGUMENT for a blank or overlong one.
 */
export const sendDriftAlert = internalMutation({
  args: { reportId: v.string() },
  returns: queue.vEnqueueResult,
  handler: async (ctx, args) =>
    await queue.enqueueDriftAlert(ctx, requireId(args.reportId, "reportId")),
});

/** Resends a `failed` alert (NOT_FOUND / INVALID_ARGUMENT otherwise). */
export const retryAlert = internalMutation({
  args: { alertId: v.string() },
  returns: queue.vEnqueueResult,
  handler: async (ctx, args) => await queue.retryAlert(ctx, requireId(args.alertId, "alertId")),
});

/** One delivery attempt (a stats workpool item, retried by the pool). */
export const deliver = internalAction({
  args: { alertId: v.id("statsAlerts"), body: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => await deliverAlert(ctx, args.alertId, args.body),
});

/** Records an attempt's answer (or why there was none). */
export const recordAttempt = internalMutation({
  args: vAttempt,
  returns: v.null(),
  handler: async (ctx, args) => await queue.recordAttempt(ctx, args),
});

/** The pool's completion of a delivery that ran out of attempts. */
export const deliveryComplete = internalMutation({
  args: queue.vDeliveryComplete,
  returns: v.null(),
  handler: async (ctx, args) => await queue.completeDelivery(ctx, args),
});
