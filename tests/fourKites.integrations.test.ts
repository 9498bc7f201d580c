/**
 * Managing FourKites integrations: who may (integrations permission, org
 * isolation), what is validated, enable/disable and the dispatcher, and a
 * sweep that finds no plaintext credential in any table, function result or
 * log line.
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
  stubSyncEnv,
  syncEnvPerTest,
} from "./support/fourKitesSync";
import { makeShipments } from "./support/shipmentFixtures";
import { runFourKitesIntegrationsDemo } from "./support/fourKitesDemo";
import {
  errorCode,
  expectCountersExact,
  measureMutation,
  member,
  newBackend,
  orgDocuments,
  ORG_A,
  ORG_B,
} from "./support/setup";
import { deleteOrganization } from "../convex/model/organizations/lifecycle";

const T0 = Date.UTC(2024, 4, 2);
const server = fakeFourKitesPerFile();
syncEnvPerTest();

const KEY: FourKitesCredentials = { kind: "apikey", apiKey: "mgmt-key" };

describe("who may manage an integration", () => {
  test("needs a token for the org with an integrations permission; INTEGRATIONS_PERMISSIONS configures it", async () => {
    const t = newBackend();
    const url = server().baseUrl("mgmt");
    const create = (who: ReturnType<typeof member>, org = ORG_A) =>
      who.action(api.fourKitesIntegrations.createIntegration, {
        workosOrgId: org,
        baseUrl: url,
        credentials: KEY,
      });
    expect(await errorCode(create(t as unknown as ReturnType<typeof member>))).toBe(
      "UNAUTHENTICATED",
    );
    expect(await errorCode(create(member(t, ORG_A)))).toBe("MISSING_PERMISSION");
    expect(await errorCode(create(member(t, ORG_A, ["invoices:bulk-update"])))).toBe(
      "MISSING_PERMISSION",
    );
    expect(await errorCode(create(manager(t, ORG_B), ORG_A))).toBe("ORG_MISMATCH");
    expect(await integrations(t)).toEqual([]);

    vi.stubEnv("INTEGRATIONS_PERMISSIONS", "fourkites:admin, integrations:all");
    expect(await errorCode(create(manager(t, ORG_A)))).toBe("MISSING_PERMISSION");
    await create(member(t, ORG_A, ["integrations:all"]));
    vi.stubEnv("INTEGRATIONS_PERMISSIONS", "");

    // Every public function refuses a plain member and another org's manager.
    const calls = [
      (w: ReturnType<typeof member>) =>
        w.query(api.fourKitesIntegrations.getIntegration, { workosOrgId: ORG_A }),
      (w: ReturnType<typeof member>) =>
        w.query(api.fourKitesIntegrations.getSyncHealth, { workosOrgId: ORG_A }),
      (w: ReturnType<typeof member>) =>
        w.mutation(api.fourKitesIntegrations.disableIntegration, { workosOrgId: ORG_A }),
      (w: ReturnType<typeof member>) =>
        w.mutation(api.fourKitesIntegrations.enableIntegration, { workosOrgId: ORG_A }),
      (w: ReturnType<typeof member>) =>
        w.action(api.fourKitesIntegrations.testIntegration, { workosOrgId: ORG_A }),
      (w: ReturnType<typeof member>) =>
        w.action(api.fourKitesIntegrations.updateIntegration, {
          workosOrgId: ORG_A,
          intervalMinutes: 30,
        }),
    ];
    const before = await dumpAll(t);
    for (const call of calls) {
      expect(await errorCode(call(member(t, ORG_A)))).toBe("MISSING_PERMISSION");
      expect(await errorCode(call(manager(t, ORG_B)))).toBe("ORG_MISMATCH");
    }
    expect(await dumpAll(t)).toEqual(before);
    // Org B's manager sees nothing of A's integration through B.
    expect(
      await manager(t, ORG_B).query(api.fourKitesIntegrations.getIntegration, {
        workosOrgId: ORG_B,
      }),
    ).toBeNull();
  });

  test("bad settings and a missing key are coded errors that write nothing", async () => {
    const t = newBackend();
    const create = (baseUrl: string, credentials: FourKitesCredentials = KEY, extra = {}) =>
      createIntegration(t, ORG_A, baseUrl, credentials, extra);
    const ok = server().baseUrl("mgmt");
    for (const url of [
      "not a url",
      "http://api.fourkites.com/shipments", // http off loopback
      "ftp://127.0.0.1/x",
      "https://user:pw@api.fourkites.com/shipments", // credentials in a plain column
      "https://api.fourkites.com/shipments?tenant=1",
      `https://api.fourkites.com/${"x".repeat(600)}`,
    ]) {
      expect(await errorCode(create(url)), url).toBe("INVALID_ARGUMENT");
    }
    for (const extra of [
      { intervalMinutes: 1 },
      { intervalMinutes: 2000 },
      { intervalMinutes: 7.5 },
      { lookbackMinutes: -1 },
      { lookbackMinutes: Number.NaN },
    ]) {
      expect(await errorCode(create(ok, KEY, extra)), JSON.stringify(extra)).toBe(
        "INVALID_ARGUMENT",
      );
    }
    for (const creds of [
      { kind: "apikey", apiKey: "" },
      { kind: "bearer", accessToken: "a\nb" },
      { kind: "basic", username: "a:b", password: "c" },
      { kind: "oauth2", apiKey: "x", clientSecret: "y".repeat(5000) },
    ] as FourKitesCredentials[]) {
      expect(await errorCode(create(ok, creds))).toBe("INVALID_ARGUMENT");
    }
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", "");
    expect(await errorCode(create(ok))).toBe("MISCONFIGURED");
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", btoa("sixteen bytes!!!"));
    expect(await errorCode(create(ok))).toBe("MISCONFIGURED");
    expect(await integrations(t)).toEqual([]);

    stubSyncEnv();
    await create(ok);
    expect(await errorCode(create(ok))).toBe("ALREADY_EXISTS");
    expect(await integrations(t)).toHaveLength(1);
    // A deleted org cannot get one.
    await t.run(async (ctx) => {
      await deleteOrganization(
        ctx,
        { workosOrgId: ORG_B, name: "B", workosUpdatedAt: Date.now() },
        Date.now(),
      );
    });
    expect(await errorCode(createIntegration(t, ORG_B, ok, KEY))).toBe("ORG_DELETED");
    expect(
      await errorCode(
        manager(t, ORG_B).action(api.fourKitesIntegrations.updateIntegration, {
          workosOrgId: ORG_B,
          intervalMinutes: 30,
        }),
      ),
    ).toBe("ORG_DELETED");
  });
});

describe("enable, disable, schedule", () => {
  test("disabled integrations are not dispatched; enabling makes one due at once", async () => {
    const t = newBackend();
    server().tenants.set("sched-toggle", {
      auth: KEY,
      shape: "array",
      withTotal: false,
      shipments: makeShipments(3, 500_000, T0),
    });
    await createIntegration(t, ORG_A, server().baseUrl("sched-toggle"), KEY, {
      intervalMinutes: 30,
    });
    const view = await manager(t, ORG_A).mutation(api.fourKitesIntegrations.disableIntegration, {
      workosOrgId: ORG_A,
    });
    expect(view).toMatchObject({ enabled: false, nextDueAt: null, credentialsSet: true });
    expect((await cronTick(t)).enqueued).toBe(0);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(0);

    await manager(t, ORG_A).mutation(api.fourKitesIntegrations.enableIntegration, {
      workosOrgId: ORG_A,
    });
    const tick = await cronTick(t);
    expect(tick.enqueued).toBe(1);
    expect((await orgDocuments(t, ORG_A)).loads).toHaveLength(3);
    const [i] = await integrations(t);
    // The dispatcher moved the next due time one interval ahead.
    expect(i.nextDueAt - i.lastRun!.startedAt).toBeGreaterThan(29 * 60_000);
    expect(i.nextDueAt - i.lastRun!.startedAt).toBeLessThanOrEqual(30 * 60_000);
    await expectCountersExact(t, ORG_A);
  });

  test("a tick with nothing due reads no document; due ones are found through the index", async () => {
    const t = newBackend({ transactionLimits: true });
    for (const [n, org] of [ORG_A, ORG_B].entries()) {
      await createIntegration(t, org, server().baseUrl(`idle-${n}`), KEY);
    }
    // Not due for an hour.
    await t.run(async (ctx) => {
      for (const i of await ctx.db.query("fourKitesIntegrations").take(10)) {
        await ctx.db.patch("fourKitesIntegrations", i._id, { nextDueAt: Date.now() + 3_600_000 });
      }
    });
    const idle = await measureMutation(t, internal.fourKitesSync.dispatchDueSyncs, {});
    expect(idle.result).toEqual({ enqueued: 0, busy: 0, more: false });
    expect(idle.io.documentsRead).toBe(0);
    expect(idle.io.documentsWritten).toBe(0);
  });
});

describe("credentials never leak", () => {
  test("no table, function result or log line holds a plaintext secret", async () => {
    const t = newBackend();
    const lines: string[] = [];
    for (const level of ["log", "warn", "error", "info", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      });
    }
    const orgs = ["org_leak_1", "org_leak_2", "org_leak_3", "org_leak_4"];
    const creds: FourKitesCredentials[] = [
      { kind: "apikey", apiKey: "LEAK-apikey-7f3a9" },
      { kind: "oauth2", apiKey: "LEAK-client-id-55e1", clientSecret: "LEAK-client-secret-c09d" },
      { kind: "basic", username: "LEAK-user-31aa", password: "LEAK-password-9be2" },
      { kind: "bearer", accessToken: "LEAK-bearer-4410" },
    ];
    const replaced: FourKitesCredentials[] = [
      { kind: "apikey", apiKey: "LEAK-rotated-apikey-1d2e" },
      { kind: "oauth2", apiKey: "LEAK-rotated-id-8a8a", clientSecret: "LEAK-rotated-secret-7c7c" },
      { kind: "basic", username: "LEAK-rotated-user-6b6b", password: "LEAK-rotated-pw-5a5a" },
      { kind: "bearer", accessToken: "LEAK-rotated-bearer-4d4d" },
    ];
    const results: unknown[] = [];
    const tenants = orgs.map((_, i) => `leak-${i}`);
    for (const [i, org] of orgs.entries()) {
      server().tenants.set(tenants[i], {
        auth: creds[i],
        shape: "data",
        withTotal: true,
        shipments: makeShipments(5, 600_000, T0),
        // One token per page: tokens are renewed mid-run.
        tokenMaxUses: 1,
      });
      results.push(await createIntegration(t, org, server().baseUrl(tenants[i]), creds[i]));
      const m = manager(t, org);
      results.push(await m.action(api.fourKitesIntegrations.testIntegration, { workosOrgId: org }));
    }
    results.push(await cronTick(t));
    for (const [i, org] of orgs.entries()) {
      const m = manager(t, org);
      results.push(await m.query(api.fourKitesIntegrations.getIntegration, { workosOrgId: org }));
      results.push(await m.query(api.fourKitesIntegrations.getSyncHealth, { workosOrgId: org }));
      // Replace the credentials; the server still wants the old ones: failures are recorded.
      results.push(
        await m.action(api.fourKitesIntegrations.updateIntegration, {
          workosOrgId: org,
          credentials: replaced[i],
        }),
      );
      results.push(await m.action(api.fourKitesIntegrations.testIntegration, { workosOrgId: org }));
      results.push(await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: org }));
    }
    await makeAllDue(t);
    results.push(await cronTick(t));
    results.push(await t.query(internal.fourKitesSync.status, {}));
    const tables = await dumpAll(t);
    expect(tables.fourKitesIntegrations).toHaveLength(4);
    for (const org of orgs) {
      expect((await orgDocuments(t, org)).loads).toHaveLength(5);
      await expectCountersExact(t, org);
    }

    const haystack = JSON.stringify({ tables, results, lines });
    const secrets = [...creds, ...replaced].flatMap((c) =>
      Object.entries(c)
        .filter(([k]) => k !== "kind")
        .map(([, value]) => value),
    );
    const basic = [creds[2], replaced[2]].map((c) =>
      c.kind === "basic" ? btoa(`${c.username}:${c.password}`) : "",
    );
    const issuedTokens = tenants.map((name) => `tok-${name}-`);
    expect(secrets).toHaveLength(12);
    for (const secret of [...secrets, ...basic, ...issuedTokens]) {
      expect(haystack.includes(secret), secret).toBe(false);
    }
    // The sweep saw real material: log lines and the failed runs' errors.
    expect(lines.some((l) => l.includes("[fourkites.sync]"))).toBe(true);
    expect(haystack).toContain('"kind":"auth"');
  });
});

describe("key rotation", () => {
  test("a sync re-encrypts old ciphertexts with the current key; then the old key can go", async () => {
    const t = newBackend();
    server().tenants.set("rotate", {
      auth: KEY,
      shape: "array",
      withTotal: false,
      shipments: makeShipments(2, 800_000, T0),
    });
    await createIntegration(t, ORG_A, server().baseUrl("rotate"), KEY);
    const [before] = await integrations(t);
    expect(before.credentials.keyVersion).toBe(1);
    const oldKey = process.env.FOURKITES_CREDENTIALS_KEY as string;
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", btoa("0123456789abcdef0123456789abcdef"));
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY_VERSION", "2");
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY_V1", oldKey);
    expect(
      await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A }),
    ).toMatchObject({ outcome: "completed", counts: { created: 2 } });
    const [after] = await integrations(t);
    expect(after.credentials.keyVersion).toBe(2);
    expect(after.credentials.ciphertext).not.toBe(before.credentials.ciphertext);
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY_V1", "");
    expect(
      await manager(t, ORG_A).action(api.fourKitesIntegrations.testIntegration, {
        workosOrgId: ORG_A,
      }),
    ).toMatchObject({ ok: true, shipmentsOnFirstPage: 2 });
  });
});

describe("demo scenario (tests/support/fourKitesDemo.ts)", () => {
  test("two orgs with their own integrations pulled on the schedule; the re-run changes nothing", async () => {
    const t = newBackend();
    const now = Date.now();
    const result = await runFourKitesIntegrationsDemo(t, [
      { workosOrgId: ORG_A, shipments: makeShipments(130, 700_000, now - 60_000) },
      { workosOrgId: ORG_B, shipments: makeShipments(40, 700_000, now - 60_000) },
    ]);
    expect(result.firstTick.enqueued).toBe(2);
    expect(
      result.afterFirst.integrations.map((h) => [h.authKind, h.lastRun?.counts.created]),
    ).toEqual([
      ["apikey", 130],
      ["oauth2", 40],
    ]);
    expect(
      result.afterSecond.integrations.map((h) => [
        h.lastRun?.counts.created,
        h.lastRun?.counts.updated,
        h.lastRun?.counts.unchanged,
      ]),
    ).toEqual([
      [0, 0, 130],
      [0, 0, 40],
    ]);
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
  });
});
