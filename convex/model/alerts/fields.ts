/** The `statsAlerts` table: one row per alert (a drift report or a failed run), its delivery state. */
import { literals } from "convex-helpers/validators";
import { v } from "convex/values";

/** `pending` until delivered (2xx), or failed (out of attempts, refused, bad URL). */
export const ALERT_STATES = ["pending", "delivered", "failed"] as const;

export const statsAlertFields = {
  kind: literals("drift", "run_failed"),
  /** `drift:<reportId>` or `run_failed:<org>:<entity|all>:<runId>`: one row per key. */
  key: v.string(),
  reportId: v.optional(v.id("statsDriftReports")),
  workosOrgId: v.string(),
  /** A counted table's name (declared by the host app, so not a fixed union). */
  entity: v.optional(v.string()),
  runId: v.optional(v.string()),
  /** Why the run failed (run_failed alerts), redacted and truncated. */
  runError: v.optional(v.string()),
  state: literals(...ALERT_STATES),
  /** POSTs tried, and when the last one started. */
  attempts: v.number(),
  lastAttemptAt: v.optional(v.number()),
  /** The last failure, without the URL (it may carry a token). */
  lastError: v.optional(v.string()),
  deliveredAt: v.optional(v.number()),
  httpStatus: v.optional(v.number()),
  /** Legacy: the removed action retrier's run (rows written before the workpool). */
  retrierRunId: v.optional(v.string()),
  createdAt: v.number(),
};
