/**
 * `fourKitesSync:syncFromFourKites`, the operators' entry point: it runs the
 * org's own integration (the code path of the scheduled `syncIntegration`)
 * against a fake FourKites API on 127.0.0.1, and refuses with a coded error,
 * before fetching anything, an unknown org, an org without an integration, a
 * deleted org and a disabled integration.
 */
import { describe, expect, test } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { deleteOrganization } from "../convex/model/organizations/lifecycle";
import { upsertOrganization } from "../convex/model/organizations/registry";
import page1 from "./fixtures/fourkites/shipments-page-1.json";
import page2 from "./fixtures/fourkites/shipments-page-2-mixed.json";
import { fakeFourKitesPerFile } from "./support/fourKitesServer";
import {
  createIntegration,
  dumpAll,
  integrations,
  manager,
  syncEnvPerTest,
} from "./support/fourKitesSync";
import { makeShipments } from "./support/shipmentFixtures";
import {
  errorCode,
  expectCountersExact,
  newBackend,
  orgDocuments,
  ORG_A,
  ORG_B,
  type Backend,
} from "./support/setup";
import { ConvexError } from "convex/values";

const server = fakeFourKitesPerFile();
syncEnvPerTest();

const KEY = { kind: "apikey" as const, apiKey: "operator-key" };
const T0 = Date.UTC(2024, 4, 2);

function requestsOf(tenant: string) {
  return server().requests.filter((r) => r.tenant === tenant);
}

async function register(t: Backend, workosOrgId: string) {
  await t.run(async (ctx) => {
    await upsertOrganization(ctx, { workosOrgId, name: workosOrgId, workosUpdatedAt: 1 });
  });
}

/** The `data` of the ConvexError `call` throws. */
async function errorData(call: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await call;
  } catch (e) {
    if (e instanceof ConvexError) return e.data as Record<string, unknown>;
    throw e;
  }
  throw new Error("expected the call to fail");
}

describe("syncFromFourKites runs the org's own integration", () => {
  test("valid shipments are imported, invalid ones reported at their paths; a re-run changes nothing", async () => {
    const t = newBackend();
    // The fixture pages as one listing of 10 (204800101 twice: created, then delivered), 4 a page.
    server().tenants.set("fixtures", {
      auth: KEY,
      shape: "shipments",
      withTotal: true,
      maxPerPage: 4,
      shipments: [...page1.shipments, ...page2.shipments],
    });
    await createIntegration(t, ORG_A, server().baseUrl("fixtures"), KEY);
    const result = await t.action(internal.fourKitesSync.syncFromFourKites, {
      workosOrgId: ORG_A,
    });
    // A shipment listed twice is a doubt: the pass imports all it saw but says so.
    expect(result).toMatchObject({
      outcome: "unverified",
      counts: { pages: 3, received: 10, created: 6, updated: 1, unchanged: 0, rejected: 3 },
      doubts: [expect.objectContaining({ kind: "duplicates", page: 2 })],
    });
    const [integration] = await integrations(t);
    // The same run as the scheduled one: its summary is the integration's last run.
    expect(result.outcome !== "skipped" && result.runId).toBe(integration.lastRun?.runId);
    expect(integration.lastRun?.rejections.map((r) => [r.shipmentId, r.path])).toEqual([
      ["204800106", "stops"],
      ["204800108", "stops[1].latitude"],
      ["204800109", "weight"],
    ]);
    // An unverified pass leaves no watermark: the next pass reads the same window.
    expect(integration.watermark).toBeUndefined();
    const { loads } = await orgDocuments(t, ORG_A);
    expect(
      loads.map((l) => [l.externalLoadId, l.status]).sort(([a], [b]) => a.localeCompare(b)),
    ).toEqual([
      ["204800101", "Completed"],
      ["204800102", "Open"],
      ["204800103", "Assigned"],
      ["204800104", "Open"],
      ["204800105", "Assigned"],
      ["204800107", "Open"],
    ]);
    await expectCountersExact(t, ORG_A);

    const { fourKitesIntegrations: _first, ...before } = await dumpAll(t);
    const rerun = await t.action(internal.fourKitesSync.syncFromFourKites, {
      workosOrgId: ORG_A,
    });
    expect(rerun).toMatchObject({
      counts: { created: 0, updated: 0, unchanged: 7, rejected: 3 },
    });
    const { fourKitesIntegrations: _again, ...after } = await dumpAll(t);
    expect(after).toEqual(before);
  });

  test("maxPages stops early (partial); the scheduled run continues the same pass", async () => {
    const t = newBackend();
    server().tenants.set("resume", {
      auth: KEY,
      shape: "data",
      withTotal: true,
      shipments: makeShipments(250, 40_000, T0),
    });
    await createIntegration(t, ORG_A, server().baseUrl("resume"), KEY);
    expect(
      await t.action(internal.fourKitesSync.syncFromFourKites, { workosOrgId: ORG_A, maxPages: 1 }),
    ).toMatchObject({ outcome: "partial", counts: { pages: 1, created: 100 } });
    expect(
      await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A }),
    ).toMatchObject({ outcome: "completed", counts: { pages: 2, created: 150 } });
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(250);
    for (const maxPages of [0, 41, 1.5, Number.NaN]) {
      expect(
        await errorCode(
          t.action(internal.fourKitesSync.syncFromFourKites, { workosOrgId: ORG_A, maxPages }),
        ),
      ).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("syncFromFourKites refuses, before fetching anything", () => {
  test("an unknown org, an org without an integration, a disabled integration, a deleted org", async () => {
    const t = newBackend();
    server().tenants.set("refused", {
      auth: KEY,
      shape: "array",
      withTotal: false,
      shipments: makeShipments(3, 41_000, T0),
    });
    const run = (workosOrgId: string) =>
      errorData(t.action(internal.fourKitesSync.syncFromFourKites, { workosOrgId }));
    const before = await dumpAll(t);
    expect(await run(ORG_B)).toMatchObject({ code: "NOT_FOUND", reason: "unknown_org" });
    await register(t, ORG_B);
    expect(await run(ORG_B)).toMatchObject({ code: "NOT_FOUND", reason: "no_integration" });

    await createIntegration(t, ORG_A, server().baseUrl("refused"), KEY);
    await manager(t, ORG_A).mutation(api.fourKitesIntegrations.disableIntegration, {
      workosOrgId: ORG_A,
    });
    const disabled = await dumpAll(t);
    expect(await run(ORG_A)).toMatchObject({ code: "INTEGRATION_DISABLED" });
    expect(await dumpAll(t)).toEqual(disabled);

    await manager(t, ORG_A).mutation(api.fourKitesIntegrations.enableIntegration, {
      workosOrgId: ORG_A,
    });
    await t.run((ctx) =>
      deleteOrganization(ctx, { workosOrgId: ORG_A, name: "A", workosUpdatedAt: 1 }, 1),
    );
    const deleted = await dumpAll(t);
    expect(await run(ORG_A)).toMatchObject({ code: "ORG_DELETED" });
    expect(await dumpAll(t)).toEqual(deleted);
    expect(requestsOf("refused")).toEqual([]);
    expect(before.loads).toEqual([]);
    expect((await orgDocuments(t, ORG_A)).loads).toEqual([]);
  });

  test("an org the registry does not know yet runs when it has an integration", async () => {
    const t = newBackend();
    server().tenants.set("unregistered", {
      auth: KEY,
      shape: "array",
      withTotal: false,
      shipments: makeShipments(2, 42_000, T0),
    });
    await createIntegration(t, ORG_A, server().baseUrl("unregistered"), KEY);
    expect(
      await t.action(internal.fourKitesSync.syncFromFourKites, { workosOrgId: ORG_A }),
    ).toMatchObject({ outcome: "completed", counts: { created: 2 } });
  });
});
