/**
 * The `statsAlerts` table: one row per alert (a drift report, or a failed
 * recount run) with its delivery state to `STATS_ALERT_WEBHOOK_URL`.
 */
import { literals } from "convex-helpers/validators";
import { v } from "convex/values";

export const vAlertKind = literals("drift", "run_failed");

/**
 * `pending` until the endpoint answered 2xx (`delivered`) or the attempts ran
 * out, the endpoint refused (4xx), the report is gone or the URL is malformed.
 */
export const ALERT_STATES = ["pending", "delivered", "failed"] as const;
export const vAlertState = literals(...ALERT_STATES);

export const statsAlertFields = {
  kind: vAlertKind,
  /** `drift:<reportId>` or `run_failed:<org>:<entity|all>:<runId>`: one row per key. */
  key: v.string(),
  reportId: v.optional(v.id("statsDriftReports")),
  workosOrgId: v.string(),
  /** A counted table's name (declared by the host app, so not a fixed union). */
  entity: v.optional(v.string()),
  runId: v.optional(v.string()),
  /** Why the run failed (run_failed alerts), redacted and truncated. */
  runError: v.optional(v.string()),
  state: vAlertState,
  /** POSTs tried, and when the last one started. */
  attempts: v.number(),
  lastAttemptAt: v.optional(v.number()),
  /** The last failure, without the URL (it may carry a token). */
  lastError: v.optional(v.string()),
  deliveredAt: v.optional(v.number()),
  /** HTTP status of the last answer. */
  httpStatus: v.optional(v.number()),
  /** Legacy: the removed action retrier's run id (rows written before the workpool). */
  retrierRunId: v.optional(v.string()),
  createdAt: v.number(),
};
