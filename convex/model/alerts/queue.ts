/**
 * Drift alerts: one row per key (a report or a failed run; looked up by the
 * uniqueness rule, so duplicates from an old backup are tolerated), delivered
 * by the stats workpool (`deliver.ts`, retried with backoff); operator resend.
 */
import { Workpool } from "@convex-dev/workpool";
import { literals } from "convex-helpers/validators";
import type { WithoutSystemFields } from "convex/server";
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
// A success was recorded by the attempt itself: the completion handles the rest.
const DELIVERY = { retry: ALERT_RETRY, onCompleteExcludeKinds: ["success"] } as const;

/** `exists`: the key has its row; `not_configured`: no URL, nothing written; `invalid_url`: recorded failed. */
export const vEnqueueResult = v.object({
  outcome: literals("queued", "exists", "not_configured", "invalid_url"),
  alertId: v.union(v.null(), v.id("statsAlerts")),
});
export type EnqueueResult = Infer<typeof vEnqueueResult>;

type Ctx = Pick<MutationCtx, "db" | "runMutation" | "runQuery">;
type Db = Pick<MutationCtx, "db">;
type Fields = WithoutSystemFields<Doc<"statsAlerts">>;
type Result = Promise<EnqueueResult>;

/** Builds the body now (the POST then needs no read) and enqueues its delivery. */
async function startDelivery(ctx: Ctx, alertId: Id<"statsAlerts">, alert: Fields): Result {
  const body = await alertBody(ctx, alertId, alert);
  if (body === null) throw appError("NOT_FOUND", "The alert's drift report is gone.", { alertId });
  const options = { ...DELIVERY, onComplete: internal.alerts.deliveryComplete, context: alertId };
  await pool.enqueueAction(ctx, internal.alerts.deliver, { alertId, body }, options);
  return { outcome: "queued", alertId };
}

async function queue(ctx: Ctx, alert: Omit<Fields, "state" | "attempts" | "createdAt">): Result {
  const byKey = ctx.db.query("statsAlerts").withIndex("by_key", (q) => q.eq("key", alert.key));
  const existing = await pickUnique(byKey, "statsAlerts by key", { key: alert.key });
  if (existing !== null) return { outcome: "exists", alertId: existing.doc._id };
  const { kind } = alertEndpoint();
  if (kind === "unset") return { outcome: "not_configured", alertId: null };
  const lastError = kind === "ok" ? undefined : `${endpointProblem(kind)}; fix it, then retryAlert`;
  const state = kind === "ok" ? "pending" : "failed";
  const row = { ...alert, state, attempts: 0, lastError, createdAt: Date.now() } as const;
  const alertId = await ctx.db.insert("statsAlerts", row);
  if (kind === "ok") return await startDelivery(ctx, alertId, row);
  console.error("[alerts.enqueue] invalid URL", { alertId, env: ALERT_URL_ENV });
  return { outcome: "invalid_url", alertId };
}

/** Queues the alert of a stored drift report (its id, or id text), once per report; else `NOT_FOUND`. */
export async function enqueueDriftAlert(ctx: Ctx, id: string): Result {
  const reportId = ctx.db.normalizeId("statsDriftReports", id);
  const report = reportId === null ? null : await ctx.db.get("statsDriftReports", reportId);
  if (report === null) throw appError("NOT_FOUND", "No such drift report.", { reportId: id });
  const { workosOrgId, entity, runId } = report;
  const fields = { reportId: report._id, workosOrgId, entity, runId };
  return await queue(ctx, { kind: "drift", key: `drift:${report._id}`, ...fields });
}

export type RunFailure = { workosOrgId: string; entity?: string; runId: string; error: string };

/**
 * Queues the alert of a recount run marked failed (`entity` absent: the whole org), once per
 * (org, entity, run). `INVALID_ARGUMENT` for an empty org or run id.
 */
export async function enqueueRunFailedAlert(ctx: Ctx, failure: RunFailure): Result {
  const { workosOrgId, entity, runId } = failure;
  if (workosOrgId.trim() === "" || runId.trim() === "") {
    throw appError("INVALID_ARGUMENT", "workosOrgId and runId must not be empty.");
  }
  const key = `run_failed:${workosOrgId}:${entity ?? "all"}:${runId}`;
  const runError = redact(failure.error);
  return await queue(ctx, { kind: "run_failed", key, workosOrgId, entity, runId, runError });
}

/** Records an attempt of a pending alert: delivered, or its error (redacted again). */
export async function recordAttempt(ctx: Db, a: Attempt): Promise<null> {
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

/** The pool's completion call (successes excluded; the action throws plain errors: no `errorData`). */
export const vDeliveryComplete = v.object({
  workId: v.string(),
  context: v.id("statsAlerts"),
  result: v.union(
    v.object({ kind: v.literal("failed"), error: v.string() }),
    v.object({ kind: v.literal("canceled") }),
  ),
});
type Completion = Infer<typeof vDeliveryComplete>;

/** Marks a delivery that ran out of attempts (or was canceled) failed. */
export async function completeDelivery(ctx: Db, { context, result }: Completion): Promise<null> {
  const alert = await ctx.db.get("statsAlerts", context);
  if (alert?.state !== "pending") return null;
  const why = result.kind === "failed" ? result.error : "delivery canceled";
  const lastError = redact(`gave up after ${alert.attempts} attempts: ${why}`);
  await ctx.db.patch("statsAlerts", context, { state: "failed", lastError });
  console.error("[alerts.deliver] failed", { alertId: context, lastError });
  return null;
}

/**
 * Resends a `failed` alert (e.g. after fixing the URL), or a `pending` one the removed action
 * retrier left (`retrierRunId`). `NOT_FOUND` for an unknown id or a drift report gone since;
 * `INVALID_ARGUMENT` for other alerts (pending: being tried; delivered: never resent) or a bad URL.
 */
export async function retryAlert(ctx: Ctx, alertIdText: string): Result {
  const alertId = ctx.db.normalizeId("statsAlerts", alertIdText);
  const alert = alertId === null ? null : await ctx.db.get("statsAlerts", alertId);
  if (alert === null) throw appError("NOT_FOUND", "No such alert.", { alertId: alertIdText });
  const { _id, _creationTime, state, retrierRunId, ...rest } = alert;
  if (state !== "failed" && !(state === "pending" && retrierRunId !== undefined)) {
    const message = `Only a failed alert can be resent; this one is ${state}.`;
    throw appError("INVALID_ARGUMENT", message, { alertId: alertIdText, state });
  }
  const { kind } = alertEndpoint();
  if (kind !== "ok") throw appError("INVALID_ARGUMENT", `${endpointProblem(kind)}.`);
  const patch = { state: "pending", lastError: undefined, retrierRunId: undefined } as const;
  await ctx.db.patch("statsAlerts", _id, patch);
  return await startDelivery(ctx, _id, { ...rest, ...patch });
}
