/**
 * Delivery to `STATS_ALERT_WEBHOOK_URL`, a secret (a Slack webhook URL is a
 * bearer token: never logged, stored or echoed). One attempt is a stats
 * workpool item (`alerts.deliver`): POST the body, record the answer
 * (`recordAttempt`), and throw on what a retry may fix (network error,
 * timeout, 5xx, 408, 429, URL unset or broken since) so the pool retries it
 * after its backoff. A 2xx or any other answer is final.
 */
import { v, type Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { Id } from "../../_generated/dataModel";
import { readEnv } from "../../lib/env";
import type { ActionCtx } from "../ctx";

export const ALERT_URL_ENV = "STATS_ALERT_WEBHOOK_URL";

/**
 * The pool's retries: 9 attempts, the n-th retry `initialBackoffMs × base^(n-1)`
 * after the one before (×0.5–1.5 jitter): 30 s, 1, 2 ... 64 min, about 2 hours.
 */
export const ALERT_RETRY = { maxAttempts: 9, initialBackoffMs: 30_000, base: 2 } as const;
export const ALERT_TIMEOUT_MS = 10_000;
/** Longest `lastError` / `runError` kept. */
export const MAX_ERROR_CHARS = 500;

/** An attempt's result (`at`: when its POST started; `final`: no retry follows). */
export const vAttempt = v.object({
  alertId: v.id("statsAlerts"),
  final: v.boolean(),
  error: v.optional(v.string()),
  at: v.optional(v.number()),
  httpStatus: v.optional(v.number()),
});
export type Attempt = Infer<typeof vAttempt>;

/** The endpoint: unset (alerts off), not an http(s) URL, or usable. */
export function alertEndpoint():
  { kind: "unset" | "invalid"; url?: URL } | { kind: "ok"; url: URL } {
  const raw = readEnv(ALERT_URL_ENV)?.trim();
  if (raw === undefined) return { kind: "unset" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { kind: "invalid" };
  }
  return { kind: url.protocol === "https:" || url.protocol === "http:" ? "ok" : "invalid", url };
}

export function endpointProblem(kind: "unset" | "invalid"): string {
  return `${ALERT_URL_ENV} is ${kind === "unset" ? "not set" : "not an http(s) URL"}`;
}

/** `message` without the URL (nor its path or query: the token), cut to `MAX_ERROR_CHARS`. */
export function redact(message: string): string {
  const { url } = alertEndpoint();
  const path = url !== undefined && url.pathname.length > 1 ? url.pathname : undefined;
  let out = message;
  for (const secret of [readEnv(ALERT_URL_ENV)?.trim(), url?.href, path, url?.search]) {
    if (secret !== undefined && secret !== "") out = out.split(secret).join(`<${ALERT_URL_ENV}>`);
  }
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS - 1)}…` : out;
}

/** HTTP answers worth retrying: server errors, timeouts, rate limits. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** POSTs `body` with a timeout: the answer's status, or why there is none. */
async function post(url: URL, body: string, alertId: string): Promise<number | string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ALERT_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      method: "POST",
      // Lets a receiver drop a second copy (a 2xx lost in transit is retried).
      headers: { "Content-Type": "application/json", "Idempotency-Key": alertId },
      body,
      signal: abort.signal,
    });
    await response.arrayBuffer(); // releases the connection
    return response.status;
  } catch (e) {
    if (abort.signal.aborted) return `network error: timed out after ${ALERT_TIMEOUT_MS} ms`;
    // `cause` (e.g. ECONNREFUSED under "fetch failed") is not in this lib's Error type.
    const cause: unknown = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
    const detail = cause instanceof Error ? `: ${cause.message}` : "";
    return `network error: ${e instanceof Error ? e.message : String(e)}${detail}`;
  } finally {
    clearTimeout(timer);
  }
}

async function record(ctx: Pick<ActionCtx, "runMutation">, attempt: Attempt): Promise<null> {
  await ctx.runMutation(internal.alerts.recordAttempt, attempt);
  if (!attempt.final) throw new Error(attempt.error); // the pool retries it after its backoff
  return null;
}

/**
 * POSTs `body` (built when the alert was queued) once and records the answer.
 *
 * @throws Error (redacted: never the URL) when a retry may fix the failure.
 */
export async function deliverAlert(
  ctx: Pick<ActionCtx, "runMutation">,
  alertId: Id<"statsAlerts">,
  body: string,
): Promise<null> {
  const endpoint = alertEndpoint();
  if (endpoint.kind !== "ok") {
    return await record(ctx, { alertId, final: false, error: endpointProblem(endpoint.kind) });
  }
  const at = Date.now();
  const answer = await post(endpoint.url, body, alertId);
  if (typeof answer === "string") {
    return await record(ctx, { alertId, final: false, at, error: redact(answer) });
  }
  const final = !isRetryableStatus(answer);
  const error = answer < 300 ? undefined : `HTTP ${answer}${final ? " (not retried)" : ""}`;
  return await record(ctx, { alertId, final, at, httpStatus: answer, error });
}
