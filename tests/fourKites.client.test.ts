/**
 * The FourKites client (`convex/model/fourKites/client.ts`) against a real
 * HTTP server on 127.0.0.1: every auth kind, every response shape, totals
 * present or absent, 429 + Retry-After, 5xx, timeouts, malformed pages and
 * an OAuth2 token that stops working mid-run. Status spellings and the raw
 * validation of page values are checked here too.
 */
import { describe, expect, test } from "vitest";
import {
  FourKitesApiError,
  FourKitesClient,
  retryAfterMs,
  type ClientOptions,
  type ShipmentPage,
} from "../convex/model/fourKites/client";
import type { FourKitesCredentials } from "../convex/model/fourKites/credentials";
import type { PassCheckpoint } from "../convex/model/fourKites/fields";
import { stepPage } from "../convex/model/fourKites/pass";
import {
  checkShipmentJson,
  checkShipmentValue,
  mapFourKitesStatus,
} from "../convex/model/fourKites/shipment";
import { fakeFourKitesPerFile, type Shape } from "./support/fourKitesServer";
import { makeShipment, makeShipments } from "./support/shipmentFixtures";
import { ORG_A } from "./support/setup";

const FAST: ClientOptions = {
  timeoutMs: 300,
  maxAttempts: 3,
  backoffBaseMs: 5,
  maxRetryAfterMs: 2_000,
};

const T0 = Date.UTC(2024, 4, 2);

const server = fakeFourKitesPerFile();

const CREDS: FourKitesCredentials[] = [
  { kind: "apikey", apiKey: "k-apikey-secret" },
  { kind: "oauth2", apiKey: "client-id-secret", clientSecret: "client-secret-secret" },
  { kind: "basic", username: "basic-user", password: "basic-pässword" },
  { kind: "bearer", accessToken: "direct-bearer-token" },
];
const SHAPES: Shape[] = ["array", "data", "dataShipments", "shipments"];

/** Reads every page with the sync's end rule (`stepPage`); returns the shipments and the page count. */
async function readAll(client: FourKitesClient, perPage: number) {
  const all: unknown[] = [];
  let pages = 0;
  let state: Pick<PassCheckpoint, "pageSize" | "previous"> = {};
  for (let page = 1; page <= 50; page++) {
    const got: ShipmentPage = await client.fetchPage(page, perPage);
    pages++;
    all.push(...got.shipments);
    const count = got.shipments.length;
    const step = stepPage(state, { page, count, total: got.totalCount }, perPage);
    if (step.last) break;
    state = { pageSize: step.pageSize, previous: { page, fingerprint: "-", count } };
  }
  return { all, pages };
}

function requestsOf(tenant: string) {
  return server().requests.filter((r) => r.tenant === tenant);
}

describe("auth kinds × response shapes × totals", () => {
  for (const auth of CREDS) {
    for (const shape of SHAPES) {
      for (const withTotal of [true, false]) {
        test(`${auth.kind}, ${shape}, ${withTotal ? "with" : "without"} total`, async () => {
          const tenant = `t-${auth.kind}-${shape}-${withTotal}`;
          // 7 shipments at 3 per page: pages of 3, 3, 1.
          server().tenants.set(tenant, {
            auth,
            shipments: makeShipments(7, 1000, T0),
            shape,
            withTotal,
          });
          const client = new FourKitesClient(server().baseUrl(tenant), auth, FAST);
          const { all, pages } = await readAll(client, 3);
          expect(all.map((s) => (s as { id: number }).id)).toEqual([
            1000, 1001, 1002, 1003, 1004, 1005, 1006,
          ]);
          expect(pages).toBe(3);
          const gets = requestsOf(tenant).filter((r) => r.method === "GET");
          expect(gets.map((r) => [r.page, r.perPage, r.status])).toEqual([
            [1, 3, 200],
            [2, 3, 200],
            [3, 3, 200],
          ]);
          // OAuth2: one token for the whole run.
          expect(client.stats.tokenRequests).toBe(auth.kind === "oauth2" ? 1 : 0);
        });
      }
    }
  }

  test("an exact multiple of the page size: with a total stops at it, without one reads an empty page", async () => {
    for (const withTotal of [true, false]) {
      const tenant = `t-multiple-${withTotal}`;
      server().tenants.set(tenant, {
        auth: CREDS[0],
        shipments: makeShipments(6, 2000, T0),
        shape: "data",
        withTotal,
      });
      const { all, pages } = await readAll(
        new FourKitesClient(server().baseUrl(tenant), CREDS[0], FAST),
        3,
      );
      expect(all).toHaveLength(6);
      expect(pages).toBe(withTotal ? 2 : 3);
    }
  });

  test("wrong credentials of every kind fail with an auth error that holds no secret", async () => {
    for (const auth of CREDS) {
      const tenant = `t-wrong-${auth.kind}`;
      server().tenants.set(tenant, { auth, shipments: [], shape: "array", withTotal: false });
      const wrong = JSON.parse(
        JSON.stringify(auth).replace(/"(apiKey|clientSecret|password|accessToken)":"/g, '"$1":"x'),
      ) as FourKitesCredentials;
      const error = await new FourKitesClient(server().baseUrl(tenant), wrong, FAST)
        .fetchPage(1)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FourKitesApiError);
      expect((error as FourKitesApiError).kind).toBe("auth");
      for (const s of [...Object.values(auth), ...Object.values(wrong)].filter(
        (x) => x !== auth.kind,
      )) {
        expect((error as Error).message).not.toContain(s);
      }
    }
  });
});

describe("retries, timeouts and failures", () => {
  test("429 with Retry-After (seconds and HTTP date) is waited out and retried", async () => {
    const tenant = "t-429";
    server().tenants.set(tenant, {
      auth: CREDS[0],
      shipments: makeShipments(2, 3000, T0),
      shape: "array",
      withTotal: false,
      faults: {
        1: [
          { kind: "status", status: 429, retryAfter: "1" },
          { kind: "status", status: 429, retryAfter: new Date(Date.now() - 1000).toUTCString() },
        ],
      },
    });
    const client = new FourKitesClient(server().baseUrl(tenant), CREDS[0], FAST);
    const started = Date.now();
    const page = await client.fetchPage(1);
    expect(page.shipments).toHaveLength(2);
    // The first 429 asked for a whole second (backoff alone is 5 ms).
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(requestsOf(tenant).map((r) => r.status)).toEqual([429, 429, 200]);
    expect(client.stats.retries).toBe(2);
  });

  test("429 beyond the Retry-After cap, or past the attempts, fails as rate_limited", async () => {
    server().tenants.set("t-429-long", {
      auth: CREDS[0],
      shipments: [],
      shape: "array",
      withTotal: false,
      faults: { 1: [{ kind: "status", status: 429, retryAfter: "3600" }] },
    });
    const long = await new FourKitesClient(server().baseUrl("t-429-long"), CREDS[0], FAST)
      .fetchPage(1)
      .catch((e: FourKitesApiError) => e);
    expect(long).toMatchObject({ kind: "rate_limited" });
    expect(requestsOf("t-429-long")).toHaveLength(1);

    server().tenants.set("t-429-many", {
      auth: CREDS[0],
      shipments: [],
      shape: "array",
      withTotal: false,
      faults: { 1: Array.from({ length: 5 }, () => ({ kind: "status", status: 429 }) as const) },
    });
    const many = await new FourKitesClient(server().baseUrl("t-429-many"), CREDS[0], FAST)
      .fetchPage(1)
      .catch((e: FourKitesApiError) => e);
    expect(many).toMatchObject({ kind: "rate_limited" });
    expect(requestsOf("t-429-many")).toHaveLength(FAST.maxAttempts);
  });

  test("5xx is retried with backoff; persistent 5xx fails after maxAttempts; 4xx is not retried", async () => {
    server().tenants.set("t-500", {
      auth: CREDS[0],
      shipments: makeShipments(1, 4000, T0),
      shape: "array",
      withTotal: false,
      faults: {
        1: [
          { kind: "status", status: 500 },
          { kind: "status", status: 503 },
        ],
      },
    });
    const ok = await new FourKitesClient(server().baseUrl("t-500"), CREDS[0], FAST).fetchPage(1);
    expect(ok.shipments).toHaveLength(1);
    expect(requestsOf("t-500").map((r) => r.status)).toEqual([500, 503, 200]);

    server().tenants.set("t-500-always", {
      auth: CREDS[0],
      shipments: [],
      shape: "array",
      withTotal: false,
      faults: { 1: Array.from({ length: 5 }, () => ({ kind: "status", status: 502 }) as const) },
    });
    const failed = await new FourKitesClient(server().baseUrl("t-500-always"), CREDS[0], FAST)
      .fetchPage(1)
      .catch((e: FourKitesApiError) => e);
    expect(failed).toMatchObject({ kind: "http", status: 502 });
    expect(requestsOf("t-500-always")).toHaveLength(3);

    server().tenants.set("t-404", {
      auth: CREDS[0],
      shipments: [],
      shape: "array",
      withTotal: false,
      faults: { 1: [{ kind: "status", status: 404 }] },
    });
    const notFound = await new FourKitesClient(server().baseUrl("t-404"), CREDS[0], FAST)
      .fetchPage(1)
      .catch((e: FourKitesApiError) => e);
    expect(notFound).toMatchObject({ kind: "http", status: 404 });
    expect(requestsOf("t-404")).toHaveLength(1);
  });

  test("a response slower than the timeout is aborted and retried; always slow fails as timeout", async () => {
    server().tenants.set("t-slow-once", {
      auth: CREDS[0],
      shipments: makeShipments(1, 5000, T0),
      shape: "array",
      withTotal: false,
      faults: { 1: [{ kind: "slow", ms: 1_000 }] },
    });
    const ok = await new FourKitesClient(server().baseUrl("t-slow-once"), CREDS[0], FAST).fetchPage(
      1,
    );
    expect(ok.shipments).toHaveLength(1);
    expect(requestsOf("t-slow-once")).toHaveLength(2);

    server().tenants.set("t-slow", {
      auth: CREDS[0],
      shipments: [],
      shape: "array",
      withTotal: false,
      faults: { 1: Array.from({ length: 3 }, () => ({ kind: "slow", ms: 1_000 }) as const) },
    });
    const started = Date.now();
    const slow = await new FourKitesClient(server().baseUrl("t-slow"), CREDS[0], FAST)
      .fetchPage(1)
      .catch((e: FourKitesApiError) => e);
    expect(slow).toMatchObject({ kind: "timeout" });
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  test("malformed pages fail as malformed: not JSON, unknown shapes, bad totals, 1e400 total", async () => {
    const bodies = [
      "<html>maintenance</html>",
      '{"data": {"items": []}}',
      '{"shipments": "none"}',
      '{"data": [], "totalCount": -1}',
      '{"data": {"shipments": [], "totalCount": 1e400}}',
      '{"shipments": [], "totalCount": "12"}',
      "null",
      '"[]"',
    ];
    for (const [i, body] of bodies.entries()) {
      const tenant = `t-malformed-${i}`;
      server().tenants.set(tenant, {
        auth: CREDS[0],
        shipments: [],
        shape: "array",
        withTotal: false,
        faults: { 1: [{ kind: "raw", body }] },
      });
      const e = await new FourKitesClient(server().baseUrl(tenant), CREDS[0], FAST)
        .fetchPage(1)
        .catch((x: FourKitesApiError) => x);
      expect(e, body).toMatchObject({ kind: "malformed" });
    }
  });

  test("an OAuth2 token that stops working mid-run is refreshed once and the run goes on", async () => {
    const auth = CREDS[1];
    server().tenants.set("t-expiring", {
      auth,
      shipments: makeShipments(7, 6000, T0),
      shape: "dataShipments",
      withTotal: true,
      tokenMaxUses: 2,
    });
    const client = new FourKitesClient(server().baseUrl("t-expiring"), auth, FAST);
    const { all } = await readAll(client, 2);
    expect(all).toHaveLength(7);
    // 4 pages, 2 per token: the 3rd page got a 401, a new token, and went through.
    expect(client.stats.tokenRequests).toBe(2);
    expect(requestsOf("t-expiring").map((r) => `${r.method} ${r.status}`)).toEqual([
      "POST 200",
      "GET 200",
      "GET 200",
      "GET 401",
      "POST 200",
      "GET 200",
      "GET 200",
    ]);
  });

  test("the apikey header goes with the OAuth2 token request and every listing request of a key", async () => {
    for (const auth of CREDS) {
      const tenant = `t-apikey-header-${auth.kind}`;
      server().tenants.set(tenant, {
        auth,
        shipments: makeShipments(5, 2500, T0),
        shape: "array",
        withTotal: false,
      });
      const client = new FourKitesClient(server().baseUrl(tenant), auth, FAST);
      await readAll(client, 2);
      const log = requestsOf(tenant);
      const hasKey = auth.kind === "apikey" || auth.kind === "oauth2";
      // The fake's token endpoint refuses a request without it: a token was issued.
      expect(log.filter((r) => r.method === "POST").map((r) => [r.status, r.apikeyHeader])).toEqual(
        auth.kind === "oauth2" ? [[200, true]] : [],
      );
      expect(log.filter((r) => r.method === "GET").map((r) => r.apikeyHeader)).toEqual([
        hasKey,
        hasKey,
        hasKey,
      ]);
    }
  });

  test("an OAuth2 token past its announced expiry is renewed before use", async () => {
    const auth = CREDS[1];
    server().tenants.set("t-ttl", {
      auth,
      shipments: makeShipments(3, 6100, T0),
      shape: "data",
      withTotal: true,
      tokenTtlSeconds: 60,
    });
    let now = Date.now();
    const client = new FourKitesClient(server().baseUrl("t-ttl"), auth, FAST, () => now);
    await client.fetchPage(1, 1);
    now += 45_000; // inside the 30 s margin before the 60 s expiry
    await client.fetchPage(2, 1);
    expect(client.stats.tokenRequests).toBe(2);
    expect(requestsOf("t-ttl").filter((r) => r.status === 401)).toHaveLength(0);
  });

  test("a 401 that persists after the refresh fails as auth (refreshed once, not in a loop)", async () => {
    const auth = CREDS[1];
    server().tenants.set("t-401", {
      auth,
      shipments: [],
      shape: "data",
      withTotal: true,
      tokenMaxUses: 0,
    });
    const e = await new FourKitesClient(server().baseUrl("t-401"), auth, FAST)
      .fetchPage(1)
      .catch((x: FourKitesApiError) => x);
    expect(e).toMatchObject({ kind: "auth" });
    expect(requestsOf("t-401").map((r) => `${r.method} ${r.status}`)).toEqual([
      "POST 200",
      "GET 401",
      "POST 200",
      "GET 401",
    ]);
  });

  test("Retry-After parsing", () => {
    expect(retryAfterMs("2", 0)).toBe(2000);
    expect(retryAfterMs("0.5", 0)).toBe(500);
    expect(retryAfterMs("Thu, 01 Jan 1970 00:00:10 GMT", 4000)).toBe(6000);
    expect(retryAfterMs("soon", 0)).toBeNull();
    expect(retryAfterMs(null, 0)).toBeNull();
  });
});

describe("statuses and raw validation", () => {
  test("spellings of one status are the same; DELAYED is moving, WITHDRAWN is canceled", () => {
    for (const s of ["IN_TRANSIT", "InTransit", "in-transit", "In Transit", "intransit"]) {
      expect(mapFourKitesStatus(s)).toBe("Assigned");
    }
    for (const s of ["DELAYED", "Delayed", "delayed"])
      expect(mapFourKitesStatus(s)).toBe("Assigned");
    for (const s of ["WITHDRAWN", "Withdrawn"]) expect(mapFourKitesStatus(s)).toBe("Canceled");
    for (const s of ["CANCELLED", "Canceled", "cancelled"]) {
      expect(mapFourKitesStatus(s)).toBe("Canceled");
    }
    expect(mapFourKitesStatus("Teleported")).toBeNull();
  });

  test("an unmapped status is not a payload error: status null, raw value kept", () => {
    const checked = checkShipmentValue(makeShipment(1, T0, "ON_HOLD"), ORG_A);
    expect(checked).toMatchObject({
      ok: true,
      shipment: { status: null, fourKitesStatus: "ON_HOLD" },
    });
  });

  test("out-of-range numbers are rejected with their path, the same from page text and from import text", () => {
    const cases: Array<[string, string]> = [
      ['"weight": 1e400', "weight"],
      ['"weight": -1e400', "weight"],
      ['"latitude": 1e400', "stops[0].latitude"],
      ['"longitude": -1e999', "stops[0].longitude"],
      ['"sequence": 1e400', "stops[0].sequence"],
      ['"id": 1e400', "id"],
    ];
    for (const [replacement, path] of cases) {
      const field = replacement.split(":")[0];
      const base = makeShipment(1, T0, "InTransit", (s) => delete s.latestLocation);
      const json = JSON.stringify(base).replace(new RegExp(`${field}:[^,}]+`), replacement);
      expect(json).toContain(replacement);
      // The import mutation's path: text of one shipment.
      const fromText = checkShipmentJson(json, ORG_A);
      // The sync's path: an element of a parsed page, validated as parsed.
      const fromPage = checkShipmentValue(
        (JSON.parse(`{"shipments": [${json}]}`) as { shipments: unknown[] }).shipments[0],
        ORG_A,
      );
      expect(fromText.ok, replacement).toBe(false);
      expect(fromPage).toEqual(fromText);
      if (!fromText.ok) expect(fromText.issues.map((i) => i.path)).toContain(path);
    }
  });
});
