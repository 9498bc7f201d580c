/**
 * Drift alerts: queuing one delivery per report (or failed run), the state
 * transitions of a delivery, and the operator's view of them.
 *
 * At most once per report: the row is keyed (`statsAlerts.key`), so queuing
 * the same report again does nothing, and an attempt that finds its row
 * `delivered` sends nothing. A POST whose 2xx answer is lost (a timeout after
 * the endpoint took it) is retried and may arrive twice; the body's
 * `alert.alertId` and the `Idempotency-Key` header let the receiver drop it.
 */
import { ActionRetrier, runIdValidator } from "@convex-dev/action-retrier";
import { v, type Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../ctx";
import { components } from "../../lib/components";
import { appError } from "../../lib/errors";
import type { StatsEntity } from "../counted";
import { ALERT_RETRY, ALERT_URL_ENV, MAX_ERROR_CHARS, alertEndpoint, redact } from "./config";
import { ALERT_STATES, vAlertState } from "./fields";
import { driftAlertBody, runFailedAlertBody } from "./payload";

const retrier = new ActionRetrier(components.alertRetrier, { ...ALERT_RETRY, logLevel: "WARN" });

/** What queuing an alert did. */
export const vEnqueueResult = v.object({
  /** `queued`: a delivery started; `exists`: the report already has its alert; `not_configured`: no URL set, nothing written; `invalid_url`: recorded as failed. */
  outcome: v.union(
    v.literal("queued"),
    v.literal("exists"),
    v.literal("not_configured"),
    v.literal("invalid_url"),
  ),
  alertId: v.union(v.null(), v.id("statsAlerts")),
});
export type EnqueueResult = Infer<typeof vEnqueueResult>;

type Ctx = Pick<MutationCtx, "db" | "runMutation" | "runQuery">;

async function findByKey(
  ctx: Pick<QueryCtx, "db">,
  key: string,
): Promise<Doc<"statsAlerts"> | null> {
  return await ctx.db
    .query("statsAlerts")
    .withIndex("by_key", (q) => q.eq("key", key))
    .first();
}

function cut(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

/** Inserts the row and starts its delivery (or records a malformed URL). */
async function queue(
  ctx: Ctx,
  fields: Omit<Doc<"statsAlerts">, "_id" | "_creationTime" | "state" | "attempts" | "createdAt">,
): Promise<EnqueueResult> {
  const existing = await findByKey(ctx, fields.key);
  if (existing !== null) return { outcome: "exists", alertId: existing._id };
  const endpoint = alertEndpoint();
  if (endpoint.kind === "unset") {
    console.log("[alerts.enqueue] not configured", { key: fields.key, missing: ALERT_URL_ENV });
    return { outcome: "not_configured", alertId: null };
  }
  const now = Date.now();
  if (endpoint.kind === "invalid") {
    const alertId = await ctx.db.insert("statsAlerts", {
      ...fields,
      state: "failed",
      attempts: 0,
      lastError: `${ALERT_URL_ENV} is not an http(s) URL; fix it, then alerts:retryAlert`,
      createdAt: now,
    });
    console.error("[alerts.enqueue] invalid URL", { alertId, env: ALERT_URL_ENV });
    return { outcome: "invalid_url", alertId };
  }
  const alertId = await ctx.db.insert("statsAlerts", {
    ...fields,
    state: "pending",
    attempts: 0,
    createdAt: now,
  });
  await startDelivery(ctx, alertId);
  return { outcome: "queued", alertId };
}

async function startDelivery(ctx: Ctx, alertId: Id<"statsAlerts">): Promise<void> {
  const retrierRunId = await retrier.run(
    ctx,
    internal.alerts.deliver,
    { alertId },
    { onComplete: internal.alerts.deliveryComplete },
  );
  await ctx.db.patch("statsAlerts", alertId, { retrierRunId });
}

/**
 * Queues the alert of a stored drift report: one POST to
 * `STATS_ALERT_WEBHOOK_URL`, retried with backoff, at most once per report.
 * Call it in the transaction that inserts the report. Writes nothing when
 * the URL is unset, or when the report already has its alert.
 *
 * @throws `NOT_FOUND` when the report does not exist.
 */
export async function enqueueDriftAlert(
  ctx: Ctx,
  reportId: Id<"statsDriftReports">,
): Promise<EnqueueResult> {
  const report = await ctx.db.get("statsDriftReports", reportId);
  if (report === null) throw appError("NOT_FOUND", "No such drift report.", { reportId });
  return await queue(ctx, {
    kind: "drift",
    key: `drift:${reportId}`,
    reportId,
    workosOrgId: report.workosOrgId,
    entity: report.entity,
    runId: report.runId,
  });
}

/** A recount run that gave up, as `enqueueRunFailedAlert` takes it. */
export const vRunFailure = {
  workosOrgId: v.string(),
  /** The entity whose run failed; absent for a run over the whole org. */
  entity: v.optional(v.union(v.literal("loads"), v.literal("invoices"))),
  runId: v.string(),
  /** The last error (truncated to 500 characters). */
  error: v.string(),
};
export type RunFailure = {
  workosOrgId: string;
  entity?: StatsEntity;
  runId: string;
  error: string;
};

/**
 * Queues the alert of a recount run marked failed, once per
 * (org, entity, run). Same delivery as `enqueueDriftAlert`.
 *
 * @throws `INVALID_ARGUMENT` for an empty org or run id.
 */
export async function enqueueRunFailedAlert(ctx: Ctx, failure: RunFailure): Promise<EnqueueResult> {
  if (failure.workosOrgId.trim() === "" || failure.runId.trim() === "") {
    throw appError("INVALID_ARGUMENT", "workosOrgId and runId must not be empty.");
  }
  return await queue(ctx, {
    kind: "run_failed",
    key: `run_failed:${failure.workosOrgId}:${failure.entity ?? "all"}:${failure.runId}`,
    workosOrgId: failure.workosOrgId,
    entity: failure.entity,
    runId: failure.runId,
    runError: cut(failure.error),
  });
}

/** What a delivery attempt should do. */
export const vClaim = v.union(
  v.object({ kind: v.literal("send"), body: v.string() }),
  v.object({
    kind: v.literal("skip"),
    reason: v.union(v.literal("gone"), v.literal("already_delivered")),
  }),
);
export type Claim = Infer<typeof vClaim>;

/**
 * Starts an attempt: counts it and returns the body to POST, or says to
 * send nothing (row purged, or already delivered: the at-most-once guard).
 */
export async function claimAttempt(
  ctx: Pick<MutationCtx, "db">,
  alertId: Id<"statsAlerts">,
): Promise<Claim> {
  const alert = await ctx.db.get("statsAlerts", alertId);
  if (alert === null) return { kind: "skip", reason: "gone" };
  if (alert.state === "delivered") return { kind: "skip", reason: "already_delivered" };
  const org = await ctx.db
    .query("organizations")
    .withIndex("by_workos_org_id", (q) => q.eq("workosOrgId", alert.workosOrgId))
    .unique();
  const name = org?.name ?? null;
  let body;
  if (alert.kind === "drift") {
    const report =
      alert.reportId === undefined ? null : await ctx.db.get("statsDriftReports", alert.reportId);
    if (report === null) return { kind: "skip", reason: "gone" };
    body = driftAlertBody(alert, report, name);
  } else {
    body = runFailedAlertBody(alert, name);
  }
  await ctx.db.patch("statsAlerts", alertId, {
    attempts: alert.attempts + 1,
    lastAttemptAt: Date.now(),
  });
  return { kind: "send", body: JSON.stringify(body) };
}

/** Records why an attempt failed (already redacted by the caller, redacted again). */
export async function recordAttemptError(
  ctx: Pick<MutationCtx, "db">,
  alertId: Id<"statsAlerts">,
  error: string,
  httpStatus: number | undefined,
): Promise<null> {
  const alert = await ctx.db.get("statsAlerts", alertId);
  if (alert === null || alert.state === "delivered") return null;
  await ctx.db.patch("statsAlerts", alertId, { lastError: redact(error), httpStatus });
  return null;
}

/** Marks the alert delivered (idempotent). */
export async function markDelivered(
  ctx: Pick<MutationCtx, "db">,
  alertId: Id<"statsAlerts">,
  httpStatus: number | undefined,
): Promise<null> {
  const alert = await ctx.db.get("statsAlerts", alertId);
  if (alert === null || alert.state === "delivered") return null;
  await ctx.db.patch("statsAlerts", alertId, {
    state: "delivered",
    deliveredAt: Date.now(),
    ...(httpStatus === undefined ? {} : { httpStatus }),
  });
  console.log("[alerts.deliver] delivered", { alertId, attempts: alert.attempts, httpStatus });
  return null;
}

/** What one delivery run ended with (the action's return value). */
export const vDeliveryOutcome = v.object({
  outcome: v.union(v.literal("delivered"), v.literal("rejected"), v.literal("skipped")),
  httpStatus: v.optional(v.number()),
});
export type DeliveryOutcome = Infer<typeof vDeliveryOutcome>;

/** The retrier's completion call (its `onCompleteValidator`, with our return type). */
export const vDeliveryComplete = {
  runId: runIdValidator,
  result: v.union(
    v.object({ type: v.literal("success"), returnValue: vDeliveryOutcome }),
    v.object({ type: v.literal("failed"), error: v.string() }),
    v.object({ type: v.literal("canceled") }),
  ),
};
export type DeliveryComplete = {
  runId: string;
  result:
    | { type: "success"; returnValue: DeliveryOutcome }
    | { type: "failed"; error: string }
    | { type: "canceled" };
};

/**
 * The end of a delivery run: delivered (also when the action could not
 * record it itself), refused for good (4xx), or out of retries.
 */
export async function completeDelivery(
  ctx: Pick<MutationCtx, "db">,
  args: DeliveryComplete,
): Promise<null> {
  const alert = await ctx.db
    .query("statsAlerts")
    .withIndex("by_retrier_run", (q) => q.eq("retrierRunId", args.runId))
    .unique();
  if (alert === null || alert.state === "delivered") return null;
  const { result } = args;
  if (result.type === "success") {
    if (result.returnValue.outcome === "delivered") {
      return await markDelivered(ctx, alert._id, result.returnValue.httpStatus);
    }
    if (result.returnValue.outcome === "skipped") return null;
  }
  const lastError =
    result.type === "failed"
      ? redact(`gave up after ${alert.attempts} attempts: ${result.error}`)
      : result.type === "canceled"
        ? "delivery canceled"
        : (alert.lastError ?? "refused by the endpoint");
  await ctx.db.patch("statsAlerts", alert._id, { state: "failed", lastError });
  console.error("[alerts.deliver] failed", {
    alertId: alert._id,
    attempts: alert.attempts,
    lastError,
  });
  return null;
}

/**
 * Starts a new delivery of a `failed` alert (e.g. after fixing the URL).
 *
 * @throws `NOT_FOUND` for an unknown alert id; `INVALID_ARGUMENT` unless the
 *   alert is `failed` (a pending one is still being tried, a delivered one is
 *   never sent again).
 */
export async function retryAlert(ctx: Ctx, alertIdText: string): Promise<EnqueueResult> {
  const alertId = ctx.db.normalizeId("statsAlerts", alertIdText);
  const alert = alertId === null ? null : await ctx.db.get("statsAlerts", alertId);
  if (alertId === null || alert === null) {
    throw appError("NOT_FOUND", "No such alert.", { alertId: alertIdText });
  }
  if (alert.state !== "failed") {
    throw appError(
      "INVALID_ARGUMENT",
      `Only a failed alert can be resent; this one is ${alert.state}.`,
      {
        alertId: alertIdText,
        state: alert.state,
      },
    );
  }
  const endpoint = alertEndpoint();
  if (endpoint.kind !== "ok") {
    throw appError(
      "INVALID_ARGUMENT",
      `${ALERT_URL_ENV} is ${endpoint.kind === "unset" ? "not set" : "not an http(s) URL"}.`,
    );
  }
  await ctx.db.patch("statsAlerts", alertId, { state: "pending", lastError: undefined });
  await startDelivery(ctx, alertId);
  return { outcome: "queued", alertId };
}

/** Alerts listed per state in the status, and the most counted. */
export const MAX_STATUS_LIST = 100;
const COUNT_CAP = 1_000;

export const vAlertRow = v.object({
  alertId: v.id("statsAlerts"),
  kind: v.union(v.literal("drift"), v.literal("run_failed")),
  workosOrgId: v.string(),
  entity: v.union(v.null(), v.string()),
  reportId: v.union(v.null(), v.id("statsDriftReports")),
  runId: v.union(v.null(), v.string()),
  state: vAlertState,
  attempts: v.number(),
  lastError: v.union(v.null(), v.string()),
  createdAt: v.number(),
  lastAttemptAt: v.union(v.null(), v.number()),
  deliveredAt: v.union(v.null(), v.number()),
});

export const vAlertStatus = v.object({
  /** Whether `STATS_ALERT_WEBHOOK_URL` is set to an http(s) URL (never the URL itself). */
  endpoint: v.union(v.literal("unset"), v.literal("invalid"), v.literal("ok")),
  /** Rows per state, counted up to 1,000 (`1000` means "1,000 or more"). */
  counts: v.object({ pending: v.number(), delivered: v.number(), failed: v.number() }),
  /** Oldest pending and newest failed alerts, up to `limit` each. */
  pending: v.array(vAlertRow),
  failed: v.array(vAlertRow),
});
export type AlertStatus = Infer<typeof vAlertStatus>;

function row(a: Doc<"statsAlerts">): Infer<typeof vAlertRow> {
  return {
    alertId: a._id,
    kind: a.kind,
    workosOrgId: a.workosOrgId,
    entity: a.entity ?? null,
    reportId: a.reportId ?? null,
    runId: a.runId ?? null,
    state: a.state,
    attempts: a.attempts,
    lastError: a.lastError ?? null,
    createdAt: a.createdAt,
    lastAttemptAt: a.lastAttemptAt ?? null,
    deliveredAt: a.deliveredAt ?? null,
  };
}

/**
 * Delivery state at a glance. Reads at most 3 × 1,000 + 2 × `limit` rows.
 *
 * @throws `INVALID_ARGUMENT` unless `limit` is an integer from 0 to 100.
 */
export async function alertStatus(ctx: Pick<QueryCtx, "db">, limit: number): Promise<AlertStatus> {
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_STATUS_LIST) {
    throw appError("INVALID_ARGUMENT", `limit must be an integer from 0 to ${MAX_STATUS_LIST}.`, {
      limit,
    });
  }
  const counts = { pending: 0, delivered: 0, failed: 0 };
  for (const state of ALERT_STATES) {
    const rows = await ctx.db
      .query("statsAlerts")
      .withIndex("by_state", (q) => q.eq("state", state))
      .take(COUNT_CAP);
    counts[state] = rows.length;
  }
  const pending = await ctx.db
    .query("statsAlerts")
    .withIndex("by_state", (q) => q.eq("state", "pending"))
    .take(limit);
  const failed = await ctx.db
    .query("statsAlerts")
    .withIndex("by_state", (q) => q.eq("state", "failed"))
    .order("desc")
    .take(limit);
  return {
    endpoint: alertEndpoint().kind,
    counts,
    pending: pending.map(row),
    failed: failed.map(row),
  };
}
