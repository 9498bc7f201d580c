/**
 * A fake FourKites API on 127.0.0.1 (node:http), for tests that make the
 * sync's `fetch` really send. Each tenant lives under its own path
 * (`http://127.0.0.1:<port>/<tenant>/shipments` is its base URL) with its own
 * credentials, response shape, totals and scripted faults. Its listing can
 * change between requests (`onPage`: remove, add, move shipments mid-pass)
 * and it can serve fewer shipments per page than asked (`maxPerPage`). The
 * OAuth2 token endpoint wants the `apikey` header, as FourKites does. Every
 * request is logged (never the credentials) so tests can assert what was sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll } from "vitest";
import type { FourKitesCredentials } from "../../convex/model/fourKites/credentials";

export type Shape = "array" | "data" | "dataShipments" | "shipments";

/** A scripted misbehaviour of one request (consumed in order). */
export type Fault =
  | { kind: "status"; status: number; retryAfter?: string }
  | { kind: "slow"; ms: number }
  | { kind: "raw"; body: string };

export type Tenant = {
  auth: FourKitesCredentials;
  shipments: unknown[];
  shape: Shape;
  withTotal: boolean;
  /** OAuth2: token lifetime announced (`expires_in`, seconds). */
  tokenTtlSeconds?: number;
  /** OAuth2: page requests a token is good for before the server answers 401. */
  tokenMaxUses?: number;
  /** Faults for page requests, by page number, consumed one per request. */
  faults?: Record<number, Fault[]>;
  /** Faults for token requests, consumed one per request. */
  tokenFaults?: Fault[];
  /** Most shipments served per page, whatever `perPage` asks for. */
  maxPerPage?: number;
  /**
   * Called before each page request of the tenant is answered (after its
   * authentication and faults), with the page asked for and the request's
   * number among the tenant's page requests (1-based): change `shipments`
   * here to make the listing shift under a pass.
   */
  onPage?: (request: { page: number; nth: number }) => void;
  /** `totalCount` to state instead of the listing's length. */
  statedTotal?: number;
};

export type LoggedRequest = {
  tenant: string;
  method: string;
  path: string;
  page: number | null;
  perPage: number | null;
  status: number;
  /** Whether the request carried the tenant's api key in an `apikey` header (never the value). */
  apikeyHeader: boolean;
};

export type FakeFourKites = {
  baseUrl(tenant: string): string;
  tenants: Map<string, Tenant>;
  requests: LoggedRequest[];
  tokensIssued: number;
  close(): Promise<void>;
};

/** Most requests the server answers before refusing all (bounds any runaway loop). */
const MAX_REQUESTS = 5000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

export async function startFakeFourKites(): Promise<FakeFourKites> {
  const tenants = new Map<string, Tenant>();
  const requests: LoggedRequest[] = [];
  const tokens = new Map<string, { tenant: string; expiresAt: number; uses: number }>();
  let tokenSeq = 0;
  const state = { tokensIssued: 0 };
  const pageRequests = new Map<string, number>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const [, tenantName, resource, ...rest] = url.pathname.split("/");
    const pageParam = url.searchParams.get("page");
    const perPageParam = url.searchParams.get("perPage");
    const log: LoggedRequest = {
      tenant: tenantName ?? "",
      method: req.method ?? "",
      path: url.pathname,
      page: pageParam === null ? null : Number(pageParam),
      perPage: perPageParam === null ? null : Number(perPageParam),
      status: 0,
      apikeyHeader: false,
    };
    requests.push(log);
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      log.status = status;
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body);
    };
    const fault = async (f: Fault | undefined): Promise<boolean> => {
      if (f === undefined) return false;
      if (f.kind === "slow") {
        await new Promise((r) => setTimeout(r, f.ms));
        return false;
      }
      if (f.kind === "raw") {
        send(200, f.body);
        return true;
      }
      send(
        f.status,
        JSON.stringify({ error: "scripted" }),
        f.retryAfter ? { "retry-after": f.retryAfter } : {},
      );
      return true;
    };
    if (requests.length > MAX_REQUESTS) return send(503, '{"error":"request budget spent"}');
    const tenant = tenants.get(tenantName ?? "");
    if (tenant === undefined || resource !== "shipments") return send(404, '{"error":"not found"}');
    const auth = tenant.auth;
    log.apikeyHeader =
      (auth.kind === "apikey" || auth.kind === "oauth2") && req.headers.apikey === auth.apiKey;

    // OAuth2 token endpoint.
    if (rest.join("/") === "oauth2/token" && req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      if (await fault(tenant.tokenFaults?.shift())) return;
      if (
        auth.kind !== "oauth2" ||
        !log.apikeyHeader ||
        form.get("grant_type") !== "client_credentials" ||
        form.get("client_id") !== auth.apiKey ||
        form.get("client_secret") !== auth.clientSecret
      ) {
        return send(401, '{"error":"invalid_client"}');
      }
      const token = `tok-${tenantName}-${++tokenSeq}`;
      const ttl = tenant.tokenTtlSeconds ?? 3600;
      tokens.set(token, { tenant: tenantName, expiresAt: Date.now() + ttl * 1000, uses: 0 });
      state.tokensIssued++;
      return send(
        200,
        JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: ttl }),
      );
    }
    if (rest.length > 0 || req.method !== "GET") return send(404, '{"error":"not found"}');

    // Authentication.
    const header = req.headers.authorization ?? "";
    let ok = false;
    if (auth.kind === "apikey") ok = req.headers.apikey === auth.apiKey;
    if (auth.kind === "bearer") ok = header === `Bearer ${auth.accessToken}`;
    if (auth.kind === "basic") {
      ok =
        header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    }
    if (auth.kind === "oauth2" && header.startsWith("Bearer ")) {
      const t = tokens.get(header.slice(7));
      ok =
        t !== undefined &&
        t.tenant === tenantName &&
        t.expiresAt > Date.now() &&
        (tenant.tokenMaxUses === undefined || t.uses < tenant.tokenMaxUses);
      if (t !== undefined) t.uses++;
    }
    if (!ok) return send(401, '{"error":"unauthorized"}');

    const page = Number(pageParam ?? "1");
    const perPage = Math.min(Number(perPageParam ?? "100"), tenant.maxPerPage ?? Infinity);
    if (await fault(tenant.faults?.[page]?.shift())) return;
    const nth = (pageRequests.get(tenantName) ?? 0) + 1;
    pageRequests.set(tenantName, nth);
    tenant.onPage?.({ page, nth });
    const slice = tenant.shipments.slice((page - 1) * perPage, page * perPage);
    const total = tenant.statedTotal ?? tenant.shipments.length;
    let body: unknown;
    switch (tenant.shape) {
      case "array":
        body = slice;
        break;
      case "data":
        body = tenant.withTotal ? { data: slice, totalCount: total } : { data: slice };
        break;
      case "dataShipments":
        body = {
          data: tenant.withTotal ? { shipments: slice, totalCount: total } : { shipments: slice },
        };
        break;
      case "shipments":
        body = tenant.withTotal ? { shipments: slice, totalCount: total } : { shipments: slice };
        break;
    }
    send(200, JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const port = address.port;
  return {
    baseUrl: (tenant) => `http://127.0.0.1:${port}/${tenant}/shipments`,
    tenants,
    requests,
    get tokensIssued() {
      return state.tokensIssued;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * One fake FourKites server for the calling test file: started before its
 * first test, closed after its last. The getter returns it (and throws when
 * called before the file's `beforeAll` ran).
 */
export function fakeFourKitesPerFile(): () => FakeFourKites {
  let server: FakeFourKites | null = null;
  beforeAll(async () => {
    server = await startFakeFourKites();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (server === null) throw new Error("the fake FourKites server is not started yet");
    return server;
  };
}
