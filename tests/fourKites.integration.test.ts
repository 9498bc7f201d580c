/**
 * FourKites as a multi-tenant integration, end to end: integrations created
 * through the public actions, the cron dispatcher enqueuing syncs on the
 * workpool, and the sync's `fetch` really sending to a fake FourKites API on
 * 127.0.0.1 (tests/support/fourKitesServer.ts).
 */
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { FourKitesCredentials } from "../convex/model/fourKites/credentials";
import { fakeFourKitesPerFile } from "./support/fourKitesServer";
import {
  createIntegration,
  cronTick,
  dumpAll,
  integrations,
  makeAllDue,
  manager,
  passRequests,
  syncEnvPerTest,
} from "./support/fourKitesSync";
import { makeShipment, makeShipments } from "./support/shipmentFixtures";
import { deleteOrganization } from "../convex/model/organizations/lifecycle";
import { pageFingerprint } from "../convex/model/fourKites/pass";
import { expectCountersExact, newBackend, orgDocuments, ORG_A, ORG_B } from "./support/setup";

const T0 = Date.UTC(2024, 4, 2);
const ORG_C = "org_01CCCCCCCCCCCCCCCCCCCCCCCC";
const ORG_D = "org_01DDDDDDDDDDDDDDDDDDDDDDDD";

const server = fakeFourKitesPerFile();
syncEnvPerTest();

let tenantSeq = 0;
/** A fresh tenant name (tests share one server). */
const tenantName = (label: string) => `${label}-${++tenantSeq}`;

function gets(tenant: string) {
  return server().requests.filter((r) => r.tenant === tenant && r.method === "GET");
}

describe("scheduled pulls", () => {
  test("first tick: every auth kind and response shape, each org into its own org only", async () => {
    const t = newBackend();
    const setups: Array<
      [
        string,
        FourKitesCredentials,
        "array" | "data" | "dataShipments" | "shipments",
        boolean,
        number,
      ]
    > = [
      [ORG_A, { kind: "apikey", apiKey: "a-key" }, "array", false, 230],
      [
        ORG_B,
        { kind: "oauth2", apiKey: "b-client", clientSecret: "b-secret" },
        "dataShipments",
        true,
        150,
      ],
      [ORG_C, { kind: "basic", username: "c-user", password: "c-pass" }, "data", true, 100],
      [ORG_D, { kind: "bearer", accessToken: "d-token" }, "shipments", false, 200],
    ];
    const tenants: string[] = [];
    for (const [org, auth, shape, withTotal, n] of setups) {
      const tenant = tenantName(`sched-${auth.kind}`);
      tenants.push(tenant);
      // The same shipment ids in every tenant: each must land in its own org.
      server().tenants.set(tenant, {
        auth,
        shape,
        withTotal,
        shipments: makeShipments(n, 50_000, T0),
      });
      await createIntegration(t, org, server().baseUrl(tenant), auth);
    }
    const tick = await cronTick(t);
    expect(tick.enqueued).toBe(4);
    for (const [i, [org, , , withTotal, n]] of setups.entries()) {
      const { loads, invoices } = await orgDocuments(t, org);
      expect(loads).toHaveLength(n);
      expect(invoices).toHaveLength(n);
      expect(new Set(loads.map((l) => l.workosOrgId))).toEqual(new Set([org]));
      await expectCountersExact(t, org);
      const health = await manager(t, org).query(api.fourKitesIntegrations.getSyncHealth, {
        workosOrgId: org,
      });
      // Pages: ceil(n / 100), plus an empty page when no total and n is a multiple of 100.
      const pages = Math.ceil(n / 100) + (!withTotal && n % 100 === 0 ? 1 : 0);
      expect(health?.lastRun).toMatchObject({
        outcome: "completed",
        firstPage: 1,
        counts: { pages, received: n, created: n, updated: 0, unchanged: 0, rejected: 0 },
      });
      expect(health?.lastError).toBeNull();
      expect(health?.watermark).toEqual(expect.any(Number));
      expect(health?.nextDueAt).toBeGreaterThan(Date.now());
      // Pages 1..pages in order, each followed by a re-read of the page before it.
      expect(gets(tenants[i]).map((r) => r.page)).toEqual(passRequests(pages));
      expect(gets(tenants[i]).every((r) => r.perPage === 100)).toBe(true);
    }
    // Nothing due any more: the next tick enqueues nothing.
    expect((await cronTick(t)).enqueued).toBe(0);
  });
});

describe("isolation and failures across orgs", () => {
  test("two orgs in one tick: a wrong key for one does not stop the other; fixing it imports", async () => {
    const t = newBackend();
    const a = tenantName("two-a");
    const b = tenantName("two-b");
    server().tenants.set(a, {
      auth: { kind: "apikey", apiKey: "right-a" },
      shape: "data",
      withTotal: true,
      shipments: makeShipments(120, 60_000, T0),
    });
    server().tenants.set(b, {
      auth: { kind: "apikey", apiKey: "right-b" },
      shape: "data",
      withTotal: true,
      shipments: makeShipments(80, 60_000, T0),
    });
    await createIntegration(t, ORG_A, server().baseUrl(a), { kind: "apikey", apiKey: "right-a" });
    // B was given A's key: FourKites refuses it.
    await createIntegration(t, ORG_B, server().baseUrl(b), { kind: "apikey", apiKey: "right-a" });
    expect((await cronTick(t)).enqueued).toBe(2);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(120);
    expect((await orgDocuments(t, ORG_B)).loads).toHaveLength(0);
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
    const healthB = await manager(t, ORG_B).query(api.fourKitesIntegrations.getSyncHealth, {
      workosOrgId: ORG_B,
    });
    expect(healthB?.lastError).toMatchObject({ kind: "auth" });
    expect(healthB?.lastRun).toMatchObject({ outcome: "failed", counts: { pages: 0 } });
    expect(healthB?.watermark).toBeNull();
    // The test action says the same, and writes nothing.
    const before = await dumpAll(t);
    expect(
      await manager(t, ORG_B).action(api.fourKitesIntegrations.testIntegration, {
        workosOrgId: ORG_B,
      }),
    ).toMatchObject({ ok: false, kind: "auth" });
    expect(await dumpAll(t)).toEqual(before);

    await manager(t, ORG_B).action(api.fourKitesIntegrations.updateIntegration, {
      workosOrgId: ORG_B,
      credentials: { kind: "apikey", apiKey: "right-b" },
    });
    expect(
      await manager(t, ORG_B).action(api.fourKitesIntegrations.testIntegration, {
        workosOrgId: ORG_B,
      }),
    ).toEqual({ ok: true, shipmentsOnFirstPage: 80, totalCount: 80 });
    await makeAllDue(t);
    await cronTick(t);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(120);
    expect((await orgDocuments(t, ORG_B)).loads).toHaveLength(80);
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
    const fixed = await t.query(internal.fourKitesSync.status, {});
    expect(fixed.integrations.map((h) => [h.workosOrgId, h.lastError, h.lastRun?.outcome])).toEqual(
      [
        [ORG_A, null, "completed"],
        [ORG_B, null, "completed"],
      ],
    );
  });

  test("re-running over the same window changes nothing (documents and counters identical)", async () => {
    const t = newBackend();
    const tenant = tenantName("rerun");
    const now = Date.now();
    server().tenants.set(tenant, {
      auth: { kind: "bearer", accessToken: "rerun-token" },
      shape: "shipments",
      withTotal: false,
      // Recent updates, so the second pass (cutoff = watermark − lookback) keeps them all.
      shipments: makeShipments(140, 70_000, now - 5 * 60_000),
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), {
      kind: "bearer",
      accessToken: "rerun-token",
    });
    await cronTick(t);
    await expectCountersExact(t, ORG_A);
    const { fourKitesIntegrations: _first, ...before } = await dumpAll(t);
    for (let run = 0; run < 2; run++) {
      const result = await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
      expect(result).toMatchObject({
        outcome: "completed",
        counts: { received: 140, created: 0, updated: 0, unchanged: 140, skippedOld: 0 },
      });
      const { fourKitesIntegrations: _again, ...after } = await dumpAll(t);
      expect(after).toEqual(before);
      await expectCountersExact(t, ORG_A);
    }
  });

  test("the lookback window: shipments updated before watermark − lookback are skipped and counted", async () => {
    const t = newBackend();
    const tenant = tenantName("window");
    const now = Date.now();
    const shipments = [makeShipment(80_001, now - 50 * 60_000, "Created")];
    server().tenants.set(tenant, {
      auth: { kind: "apikey", apiKey: "w" },
      shape: "array",
      withTotal: false,
      shipments,
    });
    await createIntegration(
      t,
      ORG_A,
      server().baseUrl(tenant),
      { kind: "apikey", apiKey: "w" },
      {
        lookbackMinutes: 30,
      },
    );
    await cronTick(t);
    const [integration] = await integrations(t);
    expect(integration.watermark).toBeGreaterThanOrEqual(now);
    // An update within the window, an old shipment never seen, an old update.
    shipments.push(
      makeShipment(80_002, integration.watermark! - 20 * 60_000, "Delivered"),
      makeShipment(80_003, integration.watermark! - 40 * 60_000, "Created"),
    );
    shipments[0] = makeShipment(80_001, integration.watermark! - 29 * 60_000, "DELIVERED");
    const r = await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
    expect(r).toMatchObject({
      outcome: "completed",
      counts: { received: 3, skippedOld: 1, created: 1, updated: 1 },
    });
    const { loads } = await orgDocuments(t, ORG_A);
    expect(loads.map((l) => [l.externalLoadId, l.status]).sort()).toEqual([
      ["80001", "Completed"],
      ["80002", "Completed"],
    ]);
    await expectCountersExact(t, ORG_A);
  });
});

describe("a deleted organization", () => {
  test("its scheduled sync fetches nothing, imports nothing and records why", async () => {
    const t = newBackend();
    const tenant = tenantName("deleted");
    server().tenants.set(tenant, {
      auth: { kind: "apikey", apiKey: "d" },
      shape: "array",
      withTotal: false,
      shipments: makeShipments(3, 150_000, T0),
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), { kind: "apikey", apiKey: "d" });
    await t.run(async (ctx) => {
      await deleteOrganization(
        ctx,
        { workosOrgId: ORG_A, name: "A", workosUpdatedAt: Date.now() },
        Date.now(),
      );
    });
    expect(await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A })).toEqual({
      outcome: "skipped",
      reason: "org_deleted",
    });
    expect(gets(tenant)).toHaveLength(0);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(0);
    const [i] = await integrations(t);
    expect(i.lastError).toMatchObject({ kind: "org_deleted" });
    expect(i.running).toBeUndefined();
  });
});

describe("the API misbehaving, through the sync", () => {
  test("429 + Retry-After, 500s and a slow response past the timeout are retried; the run completes", async () => {
    vi.stubEnv("FOURKITES_HTTP_TIMEOUT_MS", "1500");
    const t = newBackend();
    const tenant = tenantName("flaky");
    server().tenants.set(tenant, {
      auth: { kind: "apikey", apiKey: "flaky" },
      shape: "data",
      withTotal: true,
      shipments: makeShipments(250, 90_000, T0),
      faults: {
        1: [{ kind: "status", status: 429, retryAfter: "1" }],
        2: [
          { kind: "status", status: 500 },
          { kind: "status", status: 503 },
        ],
        3: [{ kind: "slow", ms: 4_000 }],
      },
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), {
      kind: "apikey",
      apiKey: "flaky",
    });
    await cronTick(t);
    const log = gets(tenant);
    // Each page read again after the next one (passRequests): 1, 2, 1, 3, 2, with the retries.
    expect(log.map((r) => r.page)).toEqual([1, 1, 2, 2, 2, 1, 3, 3, 2]);
    expect(log.slice(0, 5).map((r) => r.status)).toEqual([429, 200, 500, 503, 200]);
    // The slow answer to page 3 was aborted by the timeout and retried.
    expect(log[7].status).toBe(200);
    const [i] = await integrations(t);
    expect(i.lastRun).toMatchObject({
      outcome: "completed",
      counts: { pages: 3, created: 250, retries: 4, requests: 9, rereads: 2 },
    });
    expect(i.lastError).toBeUndefined();
    await expectCountersExact(t, ORG_A);
  });

  test("a malformed page fails the run cleanly; the next run resumes at that page", async () => {
    const t = newBackend();
    const tenant = tenantName("malformed");
    server().tenants.set(tenant, {
      auth: { kind: "apikey", apiKey: "m" },
      shape: "data",
      withTotal: true,
      shipments: makeShipments(300, 100_000, T0),
      faults: { 2: [{ kind: "raw", body: '{"data": {"items": "oops"}}' }] },
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), { kind: "apikey", apiKey: "m" });
    await cronTick(t);
    const health = await manager(t, ORG_A).query(api.fourKitesIntegrations.getSyncHealth, {
      workosOrgId: ORG_A,
    });
    expect(health).toMatchObject({
      lastError: { kind: "malformed" },
      lastRun: { outcome: "failed", counts: { pages: 1, created: 100 } },
      resumeAtPage: 2,
      watermark: null,
      runningSince: null,
    });
    // Page 1 stays imported; nothing of page 2 was written.
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(100);
    await expectCountersExact(t, ORG_A);

    await makeAllDue(t);
    await cronTick(t);
    const after = await integrations(t);
    expect(after[0].lastRun).toMatchObject({
      outcome: "completed",
      firstPage: 2,
      counts: { pages: 2, created: 200 },
    });
    expect(after[0].lastError).toBeUndefined();
    expect(after[0].pass).toBeUndefined();
    // Run 1: page 1, page 2 malformed. Run 2: page 2 again (with page 1 re-read), page 3.
    expect(gets(tenant).map((r) => r.page)).toEqual([1, 2, ...passRequests(3, 2)]);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(300);
    await expectCountersExact(t, ORG_A);
  });

  test("a sync killed mid-pass resumes from its persisted page once its lease expires", async () => {
    const t = newBackend();
    const tenant = tenantName("killed");
    server().tenants.set(tenant, {
      auth: { kind: "basic", username: "k", password: "k-pass" },
      shape: "shipments",
      withTotal: false,
      shipments: makeShipments(450, 110_000, T0),
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), {
      kind: "basic",
      username: "k",
      password: "k-pass",
    });
    // A run that reads two pages and then dies: its lease and pass stay behind.
    const partial = await t.action(internal.fourKitesSync.syncIntegration, {
      workosOrgId: ORG_A,
      maxPages: 2,
    });
    expect(partial).toMatchObject({ outcome: "partial", counts: { pages: 2, created: 200 } });
    // A partial run leaves the pass for the next tick, which is due at once.
    const [afterPartial] = await integrations(t);
    expect(afterPartial.pass?.nextPage).toBe(3);
    expect(afterPartial.nextDueAt).toBeLessThanOrEqual(Date.now());
    expect(afterPartial.watermark).toBeUndefined();
    // A second run imports page 3, commits it, and dies before page 4.
    await t.mutation(internal.fourKitesSync.beginSyncRun, {
      workosOrgId: ORG_A,
      runId: "dead-run",
    });
    const page3 = (server().tenants.get(tenant)?.shipments ?? []).slice(200, 300);
    await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments: page3.map((s) => JSON.stringify(s)),
    });
    // What a run commits with a page: the server's page size and the page's first read.
    const checkpoint = {
      pageSize: 100,
      previous: { page: 3, fingerprint: await pageFingerprint(page3), count: page3.length },
      doubts: [],
    };
    await t.mutation(internal.fourKitesSync.commitSyncPage, {
      workosOrgId: ORG_A,
      runId: "dead-run",
      page: 3,
      checkpoint,
    });
    // While the dead run's lease holds, another run is skipped.
    expect(await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A })).toEqual({
      outcome: "skipped",
      reason: "running",
    });
    expect((await makeAllDue(t), await cronTick(t)).enqueued).toBe(0);
    await t.run(async (ctx) => {
      const [i] = await ctx.db.query("fourKitesIntegrations").take(1);
      await ctx.db.patch("fourKitesIntegrations", i._id, {
        running: { ...i.running!, leaseUntil: Date.now() - 1 },
      });
    });
    const requestsBefore = gets(tenant).length;
    const resumed = await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
    expect(resumed).toMatchObject({ outcome: "completed", counts: { pages: 2, received: 150 } });
    expect(
      gets(tenant)
        .slice(requestsBefore)
        .map((r) => r.page),
    ).toEqual(passRequests(5, 4));
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(450);
    const [i] = await integrations(t);
    expect(i.watermark).toEqual(expect.any(Number));
    expect(i.pass).toBeUndefined();
    await expectCountersExact(t, ORG_A);
  });

  test("an OAuth2 token that expires mid-run is refreshed once; the run completes", async () => {
    const t = newBackend();
    const tenant = tenantName("expiring");
    const auth: FourKitesCredentials = {
      kind: "oauth2",
      apiKey: "exp-id",
      clientSecret: "exp-secret",
    };
    server().tenants.set(tenant, {
      auth,
      shape: "dataShipments",
      withTotal: true,
      shipments: makeShipments(350, 120_000, T0),
      tokenMaxUses: 2,
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), auth);
    await cronTick(t);
    const log = server()
      .requests.filter((r) => r.tenant === tenant)
      .map((r) => `${r.method}${r.page ?? ""}:${r.status}`);
    // Pages 1, 2, 1, 3, 2, 4, 3 (each page read again after the next); a token is good for two.
    expect(log).toEqual([
      "POST:200",
      "GET1:200",
      "GET2:200",
      "GET1:401",
      "POST:200",
      "GET1:200",
      "GET3:200",
      "GET2:401",
      "POST:200",
      "GET2:200",
      "GET4:200",
      "GET3:401",
      "POST:200",
      "GET3:200",
    ]);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(350);
    await expectCountersExact(t, ORG_A);
  });

  test("1e400 in a page is rejected at its path, as the import mutation rejects the same text", async () => {
    const t = newBackend();
    const tenant = tenantName("overflow");
    const good = makeShipment(130_001, T0, "Created", (s) => delete s.latestLocation);
    const bad = JSON.stringify(
      makeShipment(130_002, T0, "Created", (s) => delete s.latestLocation),
    ).replace(/"weight":\d+/, '"weight":1e400');
    const badLat = JSON.stringify(
      makeShipment(130_003, T0, "Created", (s) => delete s.latestLocation),
    ).replace(/"latitude":[-\d.]+/, '"latitude":-1e400');
    const page1 = `[${JSON.stringify(good)}, ${bad}, ${badLat}]`;
    server().tenants.set(tenant, {
      auth: { kind: "apikey", apiKey: "o" },
      shape: "array",
      withTotal: false,
      shipments: [],
      // Served twice: page 1's first read and its re-read after page 2 (pass.ts).
      faults: { 1: [0, 1].map(() => ({ kind: "raw" as const, body: page1 })) },
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), { kind: "apikey", apiKey: "o" });
    await cronTick(t);
    const [i] = await integrations(t);
    expect(i.lastRun).toMatchObject({ outcome: "completed", counts: { created: 1, rejected: 2 } });
    expect(i.lastRun?.rejections.map((r) => [r.shipmentId, r.path])).toEqual([
      ["130002", "weight"],
      ["130003", "stops[0].latitude"],
    ]);
    const { loads } = await orgDocuments(t, ORG_A);
    expect(loads.map((l) => l.externalLoadId)).toEqual(["130001"]);
    for (const text of [bad, badLat]) {
      const e = await t
        .mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
          workosOrgId: ORG_A,
          shipment: text,
        })
        .catch((x: { data: { code: string; issues: Array<{ path: string }> } }) => x.data);
      expect(e).toMatchObject({ code: "INVALID_PAYLOAD" });
      expect((e as { issues: Array<{ path: string }> }).issues[0].path).toBe(
        text === bad ? "weight" : "stops[0].latitude",
      );
    }
    await expectCountersExact(t, ORG_A);
  });

  test("an oversized shipment is rejected alone; the rest of its page imports", async () => {
    const t = newBackend();
    const tenant = tenantName("oversized");
    server().tenants.set(tenant, {
      auth: { kind: "apikey", apiKey: "big" },
      shape: "array",
      withTotal: false,
      shipments: [
        makeShipment(135_001, T0),
        makeShipment(135_002, T0, "Created", (s) => (s.notes = "n".repeat(70_000))),
        makeShipment(135_003, T0),
      ],
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), { kind: "apikey", apiKey: "big" });
    await cronTick(t);
    const [i] = await integrations(t);
    expect(i.lastRun).toMatchObject({ outcome: "completed", counts: { created: 2, rejected: 1 } });
    expect(i.lastRun?.rejections).toEqual([
      expect.objectContaining({ shipmentId: "135002", path: "(root)" }),
    ]);
    await expectCountersExact(t, ORG_A);
  });

  test("unknown statuses are imported by the rule and counted in the run summary", async () => {
    const t = newBackend();
    const tenant = tenantName("unknown");
    server().tenants.set(tenant, {
      auth: { kind: "apikey", apiKey: "u" },
      shape: "array",
      withTotal: false,
      shipments: [
        makeShipment(140_001, T0, "TELEPORTED"),
        makeShipment(140_002, T0, "On Hold"),
        makeShipment(140_003, T0, "in_transit"),
      ],
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), { kind: "apikey", apiKey: "u" });
    await cronTick(t);
    const health = await manager(t, ORG_A).query(api.fourKitesIntegrations.getSyncHealth, {
      workosOrgId: ORG_A,
    });
    expect(health?.lastRun).toMatchObject({
      counts: { created: 3, unknownStatus: 2, rejected: 0 },
      unknownStatuses: ["TELEPORTED", "On Hold"],
    });
    const { loads } = await orgDocuments(t, ORG_A);
    expect(loads.map((l) => l.status)).toEqual(["Open", "Open", "Assigned"]);
    await expectCountersExact(t, ORG_A);
  });
});
