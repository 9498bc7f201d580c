/**
 * A small FourKites API client over `fetch`: authentication (all four kinds,
 * an OAuth2 token cached until it expires and refreshed once on 401; the
 * `apikey` header goes with the token request and, whenever the credentials
 * hold an api key, with every listing request), one
 * page of shipments in any of the response shapes seen in the wild, a
 * timeout per request, and bounded retries of 429 (honouring `Retry-After`)
 * and of 5xx, network errors and timeouts with exponential backoff.
 *
 * It knows nothing about Convex: the sync action (`sync.ts`) drives it. Its
 * errors (`FourKitesApiError`) carry no credential and no response body,
 * since a body may echo what was sent.
 */
import type { FourKitesCredentials } from "./credentials";
import { toBase64 } from "./credentials";
import { readEnv } from "../../lib/env";

/** Shipments asked for per page (`perPage`). */
export const FOURKITES_PAGE_SIZE = 100;
/** A page with more shipments than this is refused as malformed. */
export const MAX_SHIPMENTS_PER_PAGE = 1000;
/** Largest response body read, in characters (100 shipments are ~500 KB). */
export const MAX_RESPONSE_CHARS = 8 * 1024 * 1024;

/** Tunables; the defaults suit production, tests shorten them. */
export type ClientOptions = {
  /** Abort a request after this long (default 15 s). */
  timeoutMs: number;
  /** Attempts per request, including the first (default 4). */
  maxAttempts: number;
  /** First backoff delay; doubles per attempt (default 500 ms). */
  backoffBaseMs: number;
  /** Longest `Retry-After` honoured; a longer one fails the run (default 60 s). */
  maxRetryAfterMs: number;
};

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = {
  timeoutMs: 15_000,
  maxAttempts: 4,
  backoffBaseMs: 500,
  maxRetryAfterMs: 60_000,
};

/**
 * Options from the environment (`FOURKITES_HTTP_TIMEOUT_MS`,
 * `FOURKITES_HTTP_MAX_ATTEMPTS`, `FOURKITES_HTTP_BACKOFF_MS`,
 * `FOURKITES_HTTP_MAX_RETRY_AFTER_MS`), falling back to the defaults.
 */
export function clientOptionsFromEnv(): ClientOptions {
  const read = (name: string, fallback: number, min: number, max: number) => {
    const raw = readEnv(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : fallback;
  };
  const d = DEFAULT_CLIENT_OPTIONS;
  return {
    timeoutMs: read("FOURKITES_HTTP_TIMEOUT_MS", d.timeoutMs, 1, 120_000),
    maxAttempts: read("FOURKITES_HTTP_MAX_ATTEMPTS", d.maxAttempts, 1, 10),
    backoffBaseMs: read("FOURKITES_HTTP_BACKOFF_MS", d.backoffBaseMs, 0, 60_000),
    maxRetryAfterMs: read("FOURKITES_HTTP_MAX_RETRY_AFTER_MS", d.maxRetryAfterMs, 0, 600_000),
  };
}

/** Why a request failed for good. */
export type FourKitesErrorKind =
  | "auth" // 401/403 (after the one token refresh for OAuth2)
  | "http" // another non-2xx status, or 5xx after the retries
  | "rate_limited" // 429 after the retries, or a Retry-After beyond the cap
  | "timeout" // no answer within the timeout, after the retries
  | "network" // connection failed, after the retries
  | "malformed"; // a body that is not JSON or not a known shape

/** A failed FourKites request. The message is safe to store and log. */
export class FourKitesApiError extends Error {
  constructor(
    readonly kind: FourKitesErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "FourKitesApiError";
  }
}

/** One page as the sync sees it. */
export type ShipmentPage = {
  /** The shipments, raw (validated one by one by the sync). */
  shipments: unknown[];
  /** Total shipments across all pages, when the response says. */
  totalCount: number | null;
};

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function readTotal(value: unknown): number | null | "bad" {
  if (value === undefined || value === null) return null;
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : "bad";
}

/**
 * The shipments and total of a parsed response body, in any of the shapes
 * FourKites tenants send: a bare array; `{ data: [...] }`;
 * `{ data: { shipments, totalCount } }`; `{ shipments: [...] }` (the object
 * shapes may carry `totalCount` beside the list).
 *
 * @throws `FourKitesApiError("malformed")` for anything else.
 */
export function readShipmentPage(body: unknown, page: number): ShipmentPage {
  let shipments: unknown;
  let total: number | null | "bad" = null;
  if (Array.isArray(body)) {
    shipments = body;
  } else if (isRecord(body) && Array.isArray(body.data)) {
    shipments = body.data;
    total = readTotal(body.totalCount);
  } else if (isRecord(body) && isRecord(body.data) && Array.isArray(body.data.shipments)) {
    shipments = body.data.shipments;
    total = readTotal(body.data.totalCount ?? body.totalCount);
  } else if (isRecord(body) && Array.isArray(body.shipments)) {
    shipments = body.shipments;
    total = readTotal(body.totalCount);
  } else {
    throw new FourKitesApiError(
      "malformed",
      `FourKites page ${page} has no shipment list (expected an array, {data: [...]}, {data: {shipments}} or {shipments: [...]}).`,
    );
  }
  if (total === "bad") {
    throw new FourKitesApiError(
      "malformed",
      `FourKites page ${page}: totalCount is not a non-negative integer.`,
    );
  }
  const list = shipments as unknown[];
  if (list.length > MAX_SHIPMENTS_PER_PAGE) {
    throw new FourKitesApiError(
      "malformed",
      `FourKites page ${page} holds ${list.length} shipments (at most ${MAX_SHIPMENTS_PER_PAGE}).`,
    );
  }
  return { shipments: list, totalCount: total };
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or null. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A cached OAuth2 access token. */
type Token = { accessToken: string; expiresAt: number };

/** Refresh this long before the announced expiry (clock skew, request time). */
const TOKEN_EXPIRY_MARGIN_MS = 30_000;
/** Token lifetime assumed when the token response gives none. */
const DEFAULT_TOKEN_TTL_MS = 5 * 60_000;

/** Statistics of one client's requests, for the run summary. */
export type RequestStats = { requests: number; retries: number; tokenRequests: number };

/**
 * One org's connection to FourKites. Keep one instance per sync run: it
 * caches the OAuth2 token for the run.
 */
export class FourKitesClient {
  private token: Token | null = null;
  readonly stats: RequestStats = { requests: 0, retries: 0, tokenRequests: 0 };
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly credentials: FourKitesCredentials,
    private readonly options: ClientOptions = DEFAULT_CLIENT_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /**
   * `GET <base>?page=N&perPage=…`, parsed.
   *
   * @throws `FourKitesApiError` (see `FourKitesErrorKind`).
   */
  async fetchPage(page: number, perPage = FOURKITES_PAGE_SIZE): Promise<ShipmentPage> {
    const url = new URL(this.baseUrl);
    url.searchParams.set("page", String(page));
    url.searchParams.set("perPage", String(perPage));
    const text = await this.authorizedGet(url.toString(), `page ${page}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FourKitesApiError("malformed", `FourKites page ${page} is not valid JSON.`);
    }
    return readShipmentPage(body, page);
  }

  /** A GET with auth headers; one token refresh on 401 for OAuth2. */
  private async authorizedGet(url: string, what: string): Promise<string> {
    let refreshed = false;
    for (;;) {
      const headers = await this.authHeaders(refreshed);
      const response = await this.send(url, { method: "GET", headers }, what);
      if (response.status === 401 && this.credentials.kind === "oauth2" && !refreshed) {
        await response.body?.cancel();
        this.token = null;
        refreshed = true;
        continue;
      }
      return await this.readOk(response, what);
    }
  }

  private async authHeaders(forceNewToken: boolean): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: "application/json" };
    const c = this.credentials;
    switch (c.kind) {
      case "apikey":
        headers.apikey = c.apiKey;
        break;
      case "bearer":
        headers.authorization = `Bearer ${c.accessToken}`;
        break;
      case "basic":
        headers.authorization = `Basic ${toBase64(new TextEncoder().encode(`${c.username}:${c.password}`))}`;
        break;
      case "oauth2":
        headers.authorization = `Bearer ${await this.accessToken(forceNewToken)}`;
        // FourKites identifies the client by its api key on every call, as on the token request.
        headers.apikey = c.apiKey;
        break;
    }
    return headers;
  }

  /** The cached OAuth2 token, or a new one from `<base>/oauth2/token`. */
  private async accessToken(forceNew: boolean): Promise<string> {
    const c = this.credentials;
    if (c.kind !== "oauth2") throw new Error("[fourkites.client] not an OAuth2 integration");
    if (!forceNew && this.token !== null && this.token.expiresAt > this.now()) {
      return this.token.accessToken;
    }
    this.stats.tokenRequests++;
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: c.apiKey,
      client_secret: c.clientSecret,
    });
    const response = await this.send(
      `${this.baseUrl}/oauth2/token`,
      {
        method: "POST",
        headers: {
          accept: "application/json",
          "content-type": "application/x-www-form-urlencoded",
          // FourKites' token endpoint wants the api key as a header too, not only as client_id.
          apikey: c.apiKey,
        },
        body: body.toString(),
      },
      "the token request",
    );
    const text = await this.readOk(response, "the token request");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new FourKitesApiError("malformed", "The FourKites token response is not valid JSON.");
    }
    if (
      !isRecord(parsed) ||
      typeof parsed.access_token !== "string" ||
      parsed.access_token.length === 0
    ) {
      throw new FourKitesApiError("malformed", "The FourKites token response has no access_token.");
    }
    const ttl =
      typeof parsed.expires_in === "number" && Number.isFinite(parsed.expires_in)
        ? parsed.expires_in * 1000
        : DEFAULT_TOKEN_TTL_MS;
    const margin = Math.min(TOKEN_EXPIRY_MARGIN_MS, ttl / 2);
    this.token = { accessToken: parsed.access_token, expiresAt: this.now() + ttl - margin };
    return this.token.accessToken;
  }

  /** The body of a 2xx response; an error for anything else. */
  private async readOk(response: Response, what: string): Promise<string> {
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new FourKitesApiError(
        "auth",
        `FourKites refused the credentials for ${what} (HTTP ${response.status}).`,
        response.status,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new FourKitesApiError(
        "http",
        `FourKites answered HTTP ${response.status} to ${what}.`,
        response.status,
      );
    }
    const text = await response.text();
    if (text.length > MAX_RESPONSE_CHARS) {
      throw new FourKitesApiError(
        "malformed",
        `FourKites ${what} is larger than ${MAX_RESPONSE_CHARS} characters.`,
      );
    }
    return text;
  }

  /**
   * One request with a timeout, retried on 429 (after `Retry-After`, capped),
   * 5xx, timeouts and network errors, at most `maxAttempts` times in all.
   * Returns the first response that is not retried.
   */
  private async send(url: string, init: RequestInit, what: string): Promise<Response> {
    const { maxAttempts, backoffBaseMs, maxRetryAfterMs, timeoutMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= maxAttempts;
      const backoff = backoffBaseMs * 2 ** (attempt - 1);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      let response: Response;
      this.stats.requests++;
      try {
        response = await fetch(url, { ...init, signal: controller.signal });
        if (response.status === 429) {
          const wait = retryAfterMs(response.headers.get("retry-after"), this.now()) ?? backoff;
          await response.body?.cancel();
          if (last || wait > maxRetryAfterMs) {
            throw new FourKitesApiError(
              "rate_limited",
              `FourKites rate-limited ${what} (HTTP 429) after ${attempt} attempt(s).`,
              429,
            );
          }
          clearTimeout(timer);
          this.stats.retries++;
          await sleep(wait);
          continue;
        }
        if (response.status >= 500 && !last) {
          await response.body?.cancel();
          clearTimeout(timer);
          this.stats.retries++;
          await sleep(backoff);
          continue;
        }
        if (response.ok) {
          // The timeout covers reading the body too.
          const text = await response.text();
          return new Response(text, { status: response.status, headers: response.headers });
        }
        return response;
      } catch (e) {
        if (e instanceof FourKitesApiError) throw e;
        const timedOut = controller.signal.aborted;
        if (last) {
          throw new FourKitesApiError(
            timedOut ? "timeout" : "network",
            timedOut
              ? `FourKites did not answer ${what} within ${timeoutMs} ms (${attempt} attempt(s)).`
              : `Could not reach FourKites for ${what} (${attempt} attempt(s)).`,
          );
        }
        this.stats.retries++;
        await sleep(backoff);
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
