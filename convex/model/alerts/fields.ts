/**
 * The `statsAlerts` table: one row per alert (a drift report, or a failed
 * recount run), holding its delivery state to `STATS_ALERT_WEBHOOK_URL`.
 * Operators read it with `alerts:alertStatus`.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import { vStatsEntity } from "../counted";

/** What an alert is about. */
export const ALERT_KINDS = ["drift", "run_failed"] as const;
export const vAlertKind = literals(...ALERT_KINDS);

/**
 * Delivery state: `pending` until the endpoint answered 2xx (`delivered`) or
 * the retries ran out, the endpoint refused it for good (4xx) or the URL is
 * malformed (`failed`).
 */
export const ALERT_STATES = ["pending", "delivered", "failed"] as const;
export const vAlertState = literals(...ALERT_STATES);

/** The fields of a `statsAlerts` row. */
export const statsAlertFields = {
  kind: vAlertKind,
  /**
   * One row per key, which is what makes delivery at most once per report:
   * `drift:<reportId>` or `run_failed:<org>:<entity|all>:<runId>`.
   */
  key: v.string(),
  reportId: v.optional(v.id("statsDriftReports")),
  workosOrgId: v.string(),
  entity: v.optional(vStatsEntity),
  runId: v.optional(v.string()),
  /** Why the run failed (run_failed alerts), truncated. */
  runError: v.optional(v.string()),
  state: vAlertState,
  lastAttemptAt: v.optional(v.number()),
  /** Delivery attempts started (POSTs tried). */
  attempts: v.number(),
  /** The last attempt's failure, without the URL (it may carry a token). */
  lastError: v.optional(v.string()),
  deliveredAt: v.optional(v.number()),
  /** HTTP status of the answer that ended delivery (2xx, or a 4xx refusal). */
  httpStatus: v.optional(v.number()),
  /** The action retrier's run delivering it (its completion finds the row by it). */
  retrierRunId: v.optional(v.string()),
  createdAt: v.number(),
};
