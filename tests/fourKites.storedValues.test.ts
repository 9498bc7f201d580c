/**
 * Integration documents holding values the code would not have written (a
 * dashboard edit, an `npx convex import`): each is reported (sync health,
 * `lastStoredValueReport`) and either replaced or used in the documented safe
 * way (`model/fourKites/storedValues.ts`); none wedges the dispatcher, its
 * org's sync or another org's. Against a fake FourKites API on 127.0.0.1.
 */
import { describe, expect, test } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc } from "../convex/_generated/dataModel";
import { fakeFourKitesPerFile } from "./support/fourKitesServer";
import {
  createIntegration,
  cronTick,
  integrations,
  manager,
  syncEnvPerTest,
} from "./support/fourKitesSync";
import { makeShipment, makeShipments } from "./support/shipmentFixtures";
import {
  expectCountersExact,
  newBackend,
  orgDocuments,
  ORG_A,
  ORG_B,
  type Backend,
} from "./support/setup";

const server = fakeFourKitesPerFile();
syncEnvPerTest();

const KEY = { kind: "apikey" as const, apiKey: "stored-key" };
const T0 = Date.UTC(2024, 4, 2);
const MINUTE = 60_000;

type Integration = Doc<"fourKitesIntegrations">;

let seq = 0;
/** An org's integration on its own tenant serving `shipments`; returns the tenant. */
async function setUp(t: Backend, org: string, shipments: unknown[]) {
  const tenant = `stored-${++seq}`;
  server().tenants.set(tenant, { auth: KEY, shape: "data", withTotal: true, shipments });
  await createIntegration(t, org, server().baseUrl(tenant), KEY);
  return tenant;
}

/** Writes `fields` onto `org`'s integration around the code, as a dashboard edit would. */
async function edit(t: Backend, org: string, fields: Partial<Integration>) {
  await t.run(async (ctx) => {
    for (const i of await ctx.db.query("fourKitesIntegrations").take(10)) {
      if (i.workosOrgId === org) await ctx.db.patch("fourKitesIntegrations", i._id, fields);
    }
  });
}

async function integrationOf(t: Backend, org: string): Promise<Integration> {
  const found = (await integrations(t)).find((i) => i.workosOrgId === org);
  if (found === undefined) throw new Error(`no integration for ${org}`);
  return found;
}

async function health(t: Backend, org: string) {
  return await manager(t, org).query(api.fourKitesIntegrations.getSyncHealth, {
    workosOrgId: org,
  });
}

const gets = (tenant: string) =>
  server().requests.filter((r) => r.tenant === tenant && r.method === "GET");

describe("schedule values", () => {
  test.each([Number.NaN, -5, 2.5, 1e12, Number.POSITIVE_INFINITY])(
    "intervalMinutes %s: the dispatcher schedules 15 minutes ahead and the sync runs; reported",
    async (intervalMinutes) => {
      const t = newBackend();
      await setUp(t, ORG_A, makeShipments(3, 3_000_000, T0));
      await edit(t, ORG_A, { intervalMinutes });
      const tick = await cronTick(t);
      expect(tick.enqueued).toBe(1);
      const i = await integrationOf(t, ORG_A);
      expect(i.lastRun?.outcome).toBe("completed");
      expect(i.nextDueAt - i.lastRun!.startedAt).toBeLessThanOrEqual(15 * MINUTE);
      expect(i.nextDueAt - i.lastRun!.startedAt).toBeGreaterThan(14 * MINUTE);
      const h = await health(t, ORG_A);
      expect(h?.storedValueProblems).toEqual([
        expect.stringMatching(/^intervalMinutes is .*15 is used$/),
      ]);
      expect(h?.lastStoredValueReport?.problems).toEqual(h?.storedValueProblems);
      // The stored value is the manager's to fix; updating it clears the report.
      await manager(t, ORG_A).action(api.fourKitesIntegrations.updateIntegration, {
        workosOrgId: ORG_A,
        intervalMinutes: 30,
      });
      expect((await health(t, ORG_A))?.storedValueProblems).toEqual([]);
    },
  );

  test.each([Number.NaN, -500, 0.5, Number.POSITIVE_INFINITY])(
    "lookbackMinutes %s: the pass looks back the default 60 minutes; reported",
    async (lookbackMinutes) => {
      const t = newBackend();
      const shipments = makeShipments(2, 3_100_000, Date.now() - 5 * MINUTE);
      await setUp(t, ORG_A, shipments);
      expect(
        await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A }),
      ).toMatchObject({ outcome: "completed", counts: { created: 2 } });
      const watermark = (await integrationOf(t, ORG_A)).watermark!;
      await edit(t, ORG_A, { lookbackMinutes });
      // Within 60 minutes of the watermark: kept; 70 minutes before it: skipped.
      shipments.push(
        makeShipment(3_100_010, watermark - 50 * MINUTE, "Delivered"),
        makeShipment(3_100_011, watermark - 70 * MINUTE, "Delivered"),
      );
      const r = await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
      expect(r).toMatchObject({ outcome: "completed", counts: { created: 1, skippedOld: 1 } });
      expect((await health(t, ORG_A))?.storedValueProblems).toEqual([
        expect.stringMatching(/^lookbackMinutes is .*60 is used$/),
      ]);
    },
  );

  test.each([Number.NaN, Number.POSITIVE_INFINITY, 10 * 365 * 24 * 60 * MINUTE])(
    "nextDueAt %s (never due by the index): the dispatcher finds it, syncs, reschedules; reported",
    async (ahead) => {
      const t = newBackend();
      await setUp(t, ORG_A, makeShipments(2, 3_200_000, T0));
      await edit(t, ORG_A, { nextDueAt: Number.isNaN(ahead) ? ahead : Date.now() + ahead });
      expect((await health(t, ORG_A))?.storedValueProblems).toEqual([
        expect.stringMatching(/^nextDueAt is .*the dispatcher makes it due now$/),
      ]);
      expect((await cronTick(t)).enqueued).toBe(1);
      const i = await integrationOf(t, ORG_A);
      expect(i.lastRun?.outcome).toBe("completed");
      expect(i.nextDueAt).toBeLessThanOrEqual(Date.now() + 15 * MINUTE);
      expect(i.lastStoredValueReport?.problems).toEqual([expect.stringMatching(/^nextDueAt is/)]);
      expect((await health(t, ORG_A))?.storedValueProblems).toEqual([]);
      expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(2);
    },
  );

  test("updating the interval of an integration whose nextDueAt is NaN makes it due again", async () => {
    const t = newBackend();
    await setUp(t, ORG_A, []);
    await edit(t, ORG_A, { nextDueAt: Number.NaN });
    const view = await manager(t, ORG_A).action(api.fourKitesIntegrations.updateIntegration, {
      workosOrgId: ORG_A,
      intervalMinutes: 20,
    });
    expect(view.nextDueAt).toBeLessThanOrEqual(Date.now());
  });
});

describe("run state", () => {
  test.each<[string, (now: number) => Partial<Integration>]>([
    ["a NaN watermark", () => ({ watermark: Number.NaN })],
    ["a watermark a day ahead", (now) => ({ watermark: now + 24 * 60 * MINUTE })],
    ["a negative watermark", () => ({ watermark: -1 })],
    ["an Infinity last full pass", () => ({ fullPassAt: Number.POSITIVE_INFINITY })],
  ])(
    "%s: the next pass is a full one, imports everything, and stores a real watermark",
    async (_, fields) => {
      const t = newBackend();
      const shipments = makeShipments(3, 3_300_000, T0);
      await setUp(t, ORG_A, shipments);
      expect(
        await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A }),
      ).toMatchObject({ outcome: "completed", counts: { created: 3 } });
      // A shipment with an old update time, new to us: only a full pass takes it.
      shipments.push(makeShipment(3_300_010, T0, "Delivered"));
      await edit(t, ORG_A, fields(Date.now()));
      const r = await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
      expect(r).toMatchObject({ outcome: "completed", counts: { created: 1, skippedOld: 0 } });
      const i = await integrationOf(t, ORG_A);
      expect(i.lastRun?.fullPass).toBe(true);
      expect(i.watermark).toBeLessThanOrEqual(Date.now());
      expect(i.fullPassAt).toBe(i.watermark);
      expect(i.lastStoredValueReport?.problems).toEqual([
        expect.stringMatching(/^(watermark|fullPassAt) is .*the next pass is a full one$/),
      ]);
      expect((await health(t, ORG_A))?.storedValueProblems).toEqual([]);
    },
  );

  test.each<[string, (now: number) => Partial<Integration["pass"] & object>]>([
    ["nextPage 0", () => ({ nextPage: 0 })],
    ["nextPage NaN", () => ({ nextPage: Number.NaN })],
    ["nextPage 1e9", () => ({ nextPage: 1e9 })],
    ["nextPage 2.5", () => ({ nextPage: 2.5 })],
    ["a cutoff after its start", (now) => ({ cutoff: now + MINUTE })],
    ["a start in the future", (now) => ({ startedAt: now + 24 * 60 * MINUTE })],
    ["a page size of 0", () => ({ pageSize: 0 })],
    [
      "page 3 without the read of page 2 (a pass from before page checks)",
      () => ({ previous: undefined }),
    ],
    [
      "a previous read of another page",
      () => ({ previous: { page: 7, fingerprint: "x", count: 100 } }),
    ],
  ])("a pass with %s restarts at page 1 and imports everything", async (_, broken) => {
    const t = newBackend();
    const tenant = await setUp(t, ORG_A, makeShipments(250, 3_400_000, T0));
    expect(
      await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A, maxPages: 2 }),
    ).toMatchObject({ outcome: "partial", counts: { created: 200 } });
    const now = Date.now();
    const { pass } = await integrationOf(t, ORG_A);
    await edit(t, ORG_A, { pass: { ...pass!, ...broken(now) } });
    expect((await health(t, ORG_A))?.storedValueProblems).toEqual([
      expect.stringMatching(/^pass\..*the pass restarts at page 1$/),
    ]);
    const before = gets(tenant).length;
    const r = await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
    expect(r).toMatchObject({
      outcome: "completed",
      counts: { pages: 3, created: 50, unchanged: 200 },
    });
    expect(gets(tenant)[before].page).toBe(1);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(250);
    await expectCountersExact(t, ORG_A);
  });

  test.each([365 * 24 * 60 * MINUTE, Number.NaN])(
    "a lease running %s ms ahead holds nothing: the dispatcher enqueues and the run takes over",
    async (ahead) => {
      const t = newBackend();
      await setUp(t, ORG_A, makeShipments(2, 3_500_000, T0));
      const now = Date.now();
      await edit(t, ORG_A, {
        running: { runId: "edited", startedAt: now, leaseUntil: now + ahead },
      });
      expect((await health(t, ORG_A))?.runningSince).toBeNull();
      expect((await cronTick(t)).enqueued).toBe(1);
      const i = await integrationOf(t, ORG_A);
      expect(i.running).toBeUndefined();
      expect(i.lastRun?.outcome).toBe("completed");
      expect(i.lastStoredValueReport?.problems).toEqual([
        expect.stringMatching(/^running\.leaseUntil is .*the lease is ignored$/),
      ]);
    },
  );
});

describe("base URL and other orgs", () => {
  test.each([
    "ftp://fourkites.example/shipments",
    "http://fourkites.example/shipments",
    "not a url",
  ])(
    "a stored base URL %s: the run is skipped and says why, nothing is fetched",
    async (baseUrl) => {
      const t = newBackend();
      await setUp(t, ORG_A, makeShipments(2, 3_600_000, T0));
      await edit(t, ORG_A, { baseUrl });
      const requests = server().requests.length;
      expect(
        await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A }),
      ).toEqual({ outcome: "skipped", reason: "invalid_base_url" });
      expect(
        await manager(t, ORG_A).action(api.fourKitesIntegrations.testIntegration, {
          workosOrgId: ORG_A,
        }),
      ).toMatchObject({ ok: false, kind: "stored_value" });
      expect(server().requests.length).toBe(requests);
      const h = await health(t, ORG_A);
      expect(h?.lastError).toMatchObject({ kind: "stored_value" });
      expect(h?.storedValueProblems).toEqual([
        expect.stringMatching(/^baseUrl .*until it is updated$/),
      ]);
    },
  );

  test("one integration full of values the code would not write wedges no other org", async () => {
    const t = newBackend();
    await setUp(t, ORG_A, makeShipments(2, 3_700_000, T0));
    await setUp(t, ORG_B, makeShipments(3, 3_700_000, T0));
    const now = Date.now();
    await edit(t, ORG_A, {
      intervalMinutes: Number.NaN,
      lookbackMinutes: -1,
      nextDueAt: Number.POSITIVE_INFINITY,
      watermark: Number.NaN,
      running: { runId: "edited", startedAt: now, leaseUntil: Number.POSITIVE_INFINITY },
      pass: { startedAt: Number.NaN, cutoff: -1, nextPage: 0 },
    });
    expect((await health(t, ORG_A))?.storedValueProblems).toHaveLength(6);
    expect((await cronTick(t)).enqueued).toBe(2);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(2);
    expect((await orgDocuments(t, ORG_B)).loads).toHaveLength(3);
    const a = await integrationOf(t, ORG_A);
    expect(a.lastRun?.outcome).toBe("completed");
    // What the code could not replace is still reported: the manager's settings.
    expect((await health(t, ORG_A))?.storedValueProblems).toEqual([
      expect.stringMatching(/^intervalMinutes/),
      expect.stringMatching(/^lookbackMinutes/),
    ]);
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
  });
});
