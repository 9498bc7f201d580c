/**
 * Drift alerts: one row per key (a report, or a failed run), looked up by
 * the uniqueness rule so duplicates from an old backup are tolerated, and
 * its delivery as a stats workpool item (`deliver.ts`, retried with backoff;
 * `completeDelivery` when the retries run out); the operator's resend.
 */
import { Workpool, vOnCompleteArgs } from "@convex-dev/workpool";
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { components } from "../../lib/components";
import { appError } from "../../lib/errors";
import { pickUnique } from "../uniqueness";
import { ALERT_RETRY, ALERT_URL_ENV, alertEndpoint, endpointProblem, redact } from "./deliver";
import type { Attempt } from "./deliver";
import { alertBody } from "./payload";

export { alertStatus, vAlertStatus } from "./status";

// No `maxParallelism`: the recount sets the pool's. An alert holds a slot
// only while its POST runs (at most ALERT_TIMEOUT_MS), not between retries.
const pool = new Workpool(components.statsWorkpool, {});

/** `exists`: the key has its row; `not_configured`: no URL, nothing written; `invalid_url`: recorded failed. */
export const vEnqueueResult = v.object({
  outcome: literals("queued", "exists", "not_configured", "invalid_url"),
  alertId: v.union(v.null(), v.id("statsAlerts")),
});
export type EnqueueResult = Infer<typeof vEnqueueResult>;

type Ctx = Pick<MutationCtx, "db" | "runMutation" | "runQuery">;
type New = Omit<Doc<"statsAlerts">, "_id" | "_creationTime" | "state" | "attempts" | "createdAt">;

/** Builds the body now (so the POST needs no read) and enqueues its delivery. */
async function startDelivery(ctx: Ctx, alertId: Id<"statsAlerts">): Promise<EnqueueResult> {
  const alert = await ctx.db.get("statsAlerts", alertId);
  const body = alert === null ? null : await alertBody(ctx, alert);
  if (body === null) throw appError("NOT_FOUND", "The alert's drift report is gone.", { alertId });
  await pool.enqueueAction(
    ctx,
    internal.alerts.deliver,
    { alertId, body },
    {
      retry: ALERT_RETRY,
      onComplete: internal.alerts.deliveryComplete,
      onCompleteExcludeKinds: ["success"], // a success was recorded by the attempt
      context: alertId,
    },
  );
  return { outcome: "queued", alertId };
}

async function queue(ctx: Ctx, alert: New): Promise<EnqueueResult> {
  const byKey = ctx.db.query("statsAlerts").withIndex("by_key", (q) => q.eq("key", alert.key));
  const existing = await pickUnique(byKey, "statsAlerts by key", { key: alert.key });
  if (existing !== null) return { outcome: "exists", alertId: existing.doc._id };
  const { kind } = alertEndpoint();
  if (kind === "unset") {
    console.log("[alerts.enqueue] not configured", { key: alert.key, missing: ALERT_URL_ENV });
    return { outcome: "not_configured", alertId: null };
  }
  const lastError = kind === "ok" ? undefined : `${endpointProblem(kind)}; fix it, then retryAlert`;
  const state = kind === "ok" ? "pending" : "failed";
  const row = { ...alert, state, attempts: 0, lastError, createdAt: Date.now() } as const;
  const alertId = await ctx.db.insert("statsAlerts", row);
  if (kind === "ok") return await startDelivery(ctx, alertId);
  console.error("[alerts.enqueue] invalid URL", { alertId, env: ALERT_URL_ENV });
  return { outcome: "invalid_url", alertId };
}

/** Queues the alert of a stored drift report, once per report (`NOT_FOUND` without one). */
export async function enqueueDriftAlert(
  ctx: Ctx,
  reportId: Id<"statsDriftReports">,
): Promise<EnqueueResult> {
  const report = await ctx.db.get("statsDriftReports", reportId);
  if (report === null) throw appError("NOT_FOUND", "No such drift report.", { reportId });
  const { workosOrgId, entity, runId } = report;
  return await queue(ctx, {
    kind: "drift",
    key: `drift:${reportId}`,
    reportId,
    workosOrgId,
    entity,
    runId,
  });
}

/**
 * Queues the alert of a recount run marked failed (`entity` absent: a run
 * over the whole org), once per (org, entity, run).
 *
 * @throws `INVALID_ARGUMENT` for an empty org or run id.
 */
export async function enqueueRunFailedAlert(
  ctx: Ctx,
  failure: { workosOrgId: string; entity?: string; runId: string; error: string },
): Promise<EnqueueResult> {
  const { workosOrgId, entity, runId } = failure;
  if (workosOrgId.trim() === "" || runId.trim() === "") {
    throw appError("INVALID_ARGUMENT", "workosOrgId and runId must not be empty.");
  }
  const key = `run_failed:${workosOrgId}:${entity ?? "all"}:${runId}`;
  const runError = redact(failure.error);
  return await queue(ctx, { kind: "run_failed", key, workosOrgId, entity, runId, runError });
}

/** Records an attempt of a pending alert: delivered, or its error (redacted again). */
export async function recordAttempt(ctx: Pick<MutationCtx, "db">, a: Attempt): Promise<null> {
  const alert = await ctx.db.get("statsAlerts", a.alertId);
  if (alert?.state !== "pending") return null;
  const state = !a.final ? "pending" : a.error === undefined ? "delivered" : "failed";
  await ctx.db.patch("statsAlerts", a.alertId, {
    state,
    httpStatus: a.httpStatus,
    ...(a.error === undefined ? { deliveredAt: Date.now() } : { lastError: redact(a.error) }),
    ...(a.at === undefined ? {} : { attempts: alert.attempts + 1, lastAttemptAt: a.at }),
  });
  if (a.final) console.log("[alerts.deliver] done", { ...a, state });
  return null;
}

export const vDeliveryComplete = vOnCompleteArgs(v.id("statsAlerts"), v.null());

/** The pool's completion of a delivery that did not succeed: out of attempts (or canceled). */
export async function completeDelivery(
  ctx: Pick<MutationCtx, "db">,
  { context: alertId, result }: Infer<typeof vDeliveryComplete>,
): Promise<null> {
  const alert = await ctx.db.get("statsAlerts", alertId);
  if (alert?.state !== "pending") return null;
  const why = result.kind === "failed" ? result.error : "delivery canceled";
  const lastError = redact(`gave up after ${alert.attempts} attempts: ${why}`);
  await ctx.db.patch("statsAlerts", alertId, { state: "failed", lastError });
  console.error("[alerts.deliver] failed", { alertId, lastError });
  return null;
}

/**
 * Resends a `failed` alert (e.g. after fixing the URL), or a `pending` one
 * left by the removed action retrier (`retrierRunId` set).
 *
 * @throws `NOT_FOUND` for an unknown id or a drift report gone since;
 *   `INVALID_ARGUMENT` for any other alert (pending: still tried; delivered:
 *   never resent) or while the URL is unusable.
 */
export async function retryAlert(ctx: Ctx, alertIdText: string): Promise<EnqueueResult> {
  const alertId = ctx.db.normalizeId("statsAlerts", alertIdText);
  const alert = alertId === null ? null : await ctx.db.get("statsAlerts", alertId);
  if (alertId === null || alert === null) {
    throw appError("NOT_FOUND", "No such alert.", { alertId: alertIdText });
  }
  const { state, retrierRunId } = alert;
  if (state !== "failed" && !(state === "pending" && retrierRunId !== undefined)) {
    const message = `Only a failed alert can be resent; this one is ${state}.`;
    throw appError("INVALID_ARGUMENT", message, { alertId: alertIdText, state });
  }
  const { kind } = alertEndpoint();
  if (kind !== "ok") throw appError("INVALID_ARGUMENT", `${endpointProblem(kind)}.`);
  const patch = { state: "pending", lastError: undefined, retrierRunId: undefined } as const;
  await ctx.db.patch("statsAlerts", alertId, patch);
  return await startDelivery(ctx, alertId);
}
