/**
 * One delivery attempt of an alert: claim it, POST the body, record the
 * answer. Runs as the action the retrier retries (`alerts.deliver`): it
 * throws on what a retry can fix (network error, timeout, 5xx, 408, 429)
 * and returns on what it cannot (delivered, a 4xx refusal, nothing to send).
 */
import { internal } from "../../_generated/api";
import type { Id } from "../../_generated/dataModel";
import type { ActionCtx } from "../ctx";
import { ALERT_TIMEOUT_MS, ALERT_URL_ENV, alertEndpoint, redact } from "./config";
import type { DeliveryOutcome } from "./queue";

/** HTTP answers worth retrying: server errors, timeouts, rate limits. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // `cause` (e.g. ECONNREFUSED under "fetch failed") is not in this lib's Error type.
  const cause: unknown = (e as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  return e.name === "AbortError"
    ? `timed out after ${ALERT_TIMEOUT_MS} ms`
    : `${e.message}${detail}`;
}

/** POSTs `body` with a timeout; the response or the (redacted) reason it failed. */
async function post(
  url: string,
  body: string,
  alertId: string,
): Promise<{ ok: true; response: Response } | { ok: false; error: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ALERT_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": alertId },
      body,
      signal: abort.signal,
    });
    // The answer's body is not used; read it so the connection is released.
    await response.arrayBuffer();
    return { ok: true, response };
  } catch (e) {
    return { ok: false, error: redact(`network error: ${describe(e)}`) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Tries to deliver `alertId` once.
 *
 * @throws Error (redacted: never the URL) when the attempt failed in a way a
 *   retry may fix; the retrier then tries again after its backoff.
 */
export async function deliverAlert(
  ctx: Pick<ActionCtx, "runMutation">,
  alertId: Id<"statsAlerts">,
): Promise<DeliveryOutcome> {
  const endpoint = alertEndpoint();
  if (endpoint.kind !== "ok") {
    // Set when queued, since removed or broken: retry, an operator may fix it.
    const error = `${ALERT_URL_ENV} is ${endpoint.kind === "unset" ? "not set" : "not an http(s) URL"}`;
    await ctx.runMutation(internal.alerts.recordAttemptError, { alertId, error });
    throw new Error(error);
  }
  const claim = await ctx.runMutation(internal.alerts.claimAttempt, { alertId });
  if (claim.kind === "skip") {
    console.log("[alerts.deliver] nothing to send", { alertId, reason: claim.reason });
    return { outcome: "skipped" };
  }
  const sent = await post(endpoint.url, claim.body, alertId);
  if (!sent.ok) {
    await ctx.runMutation(internal.alerts.recordAttemptError, { alertId, error: sent.error });
    throw new Error(sent.error);
  }
  const httpStatus = sent.response.status;
  if (sent.response.ok) {
    try {
      await ctx.runMutation(internal.alerts.markDelivered, { alertId, httpStatus });
    } catch (e) {
      // The endpoint has it: do not throw (a retry would send it again). The
      // retrier's completion (`alerts.deliveryComplete`) records it instead.
      console.error("[alerts.deliver] delivered, state left to completion", {
        alertId,
        error: redact(describe(e)),
      });
    }
    return { outcome: "delivered", httpStatus };
  }
  const error = `HTTP ${httpStatus}${isRetryableStatus(httpStatus) ? "" : " (not retried)"}`;
  await ctx.runMutation(internal.alerts.recordAttemptError, { alertId, error, httpStatus });
  if (isRetryableStatus(httpStatus)) throw new Error(error);
  return { outcome: "rejected", httpStatus };
}
