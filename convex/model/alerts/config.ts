/**
 * Where alerts go and how hard delivery tries. `STATS_ALERT_WEBHOOK_URL` is
 * treated as a secret (a Slack incoming-webhook URL is a bearer token): it is
 * never logged, stored or echoed in an error.
 */
import { readEnv } from "../../lib/env";

/** The env variable naming the endpoint; alerts are off while it is unset. */
export const ALERT_URL_ENV = "STATS_ALERT_WEBHOOK_URL";

/**
 * Retries of a failed delivery (network error, timeout, 5xx, 408, 429), by
 * the action retrier: about 30 s, 1, 2, 4 ... 64 min apart (with jitter),
 * so an endpoint down for up to about two hours still gets the alert.
 */
export const ALERT_RETRY = { initialBackoffMs: 15_000, base: 2, maxFailures: 8 } as const;

/** One POST may take this long before it counts as failed. */
export const ALERT_TIMEOUT_MS = 10_000;

/** Longest `lastError` / `runError` kept. */
export const MAX_ERROR_CHARS = 500;

/** The configured endpoint: absent, malformed (not http/https), or a URL. */
export type AlertEndpoint = { kind: "unset" } | { kind: "invalid" } | { kind: "ok"; url: string };

/** Reads `STATS_ALERT_WEBHOOK_URL`. */
export function alertEndpoint(): AlertEndpoint {
  const raw = readEnv(ALERT_URL_ENV)?.trim();
  if (raw === undefined || raw === "") return { kind: "unset" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { kind: "invalid" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { kind: "invalid" };
  return { kind: "ok", url: url.toString() };
}

/**
 * `message` without the endpoint URL (nor its origin or path, which may carry
 * the token), cut to `MAX_ERROR_CHARS`.
 */
export function redact(message: string): string {
  let out = message;
  const endpoint = alertEndpoint();
  const raw = readEnv(ALERT_URL_ENV)?.trim();
  const secrets = [raw, endpoint.kind === "ok" ? endpoint.url : undefined];
  if (endpoint.kind === "ok") {
    const url = new URL(endpoint.url);
    if (url.pathname.length > 1) secrets.push(url.pathname);
    if (url.search.length > 1) secrets.push(url.search);
  }
  for (const secret of secrets) {
    if (secret !== undefined && secret !== "") out = out.split(secret).join(`<${ALERT_URL_ENV}>`);
  }
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS - 1)}…` : out;
}
