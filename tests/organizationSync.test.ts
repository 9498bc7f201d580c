/**
 * organizations:syncFromWorkOS against a stubbed WorkOS API: paging, a
 * second run that writes nothing, renamed/stale/deleted/unlisted orgs, and
 * failures that write nothing.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import { dump, measureMutation, newBackend, type Backend } from "./support/setup";
import { fakeWorkOSApi, orgId, stubWorkOSEnv, wireOrganization } from "./support/workos";

const T1 = Date.parse("2026-01-01T00:00:00.000Z");
const T2 = T1 + 60_000;
const T3 = T2 + 60_000;

function fakeOrgs(n: number, updatedAt = T1) {
  return Array.from({ length: n }, (_, i) => wireOrganization(orgId(i), `Org ${i}`, updatedAt));
}

async function registry(t: Backend) {
  return await t.run((ctx) => ctx.db.query("organizations").collect());
}

async function register(t: Backend, workosOrgId: string, name: string, workosUpdatedAt: number) {
  await t.mutation(internal.organizations.upsertOrganizationsBatch, {
    organizations: [{ workosOrgId, name, workosUpdatedAt }],
  });
}

beforeEach(stubWorkOSEnv);
afterEach(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

describe("organizations.syncFromWorkOS", () => {
  test("250 organizations over 3 pages: all registered; a second run writes nothing", async () => {
    const t = newBackend({ transactionLimits: true });
    const api = fakeWorkOSApi(fakeOrgs(250));

    const first = await t.action(internal.organizations.syncFromWorkOS, {});
    expect(first).toEqual({
      listed: 250,
      batches: 3,
      registered: 250,
      updated: 0,
      unchanged: 0,
      stale: 0,
      // One registry entry, two exact stats rows and the loads' facet status per org.
      documentsWritten: 1_000,
      deletedInRegistryCount: 0,
      deletedInRegistry: [],
      missingFromWorkOSCount: 0,
      missingFromWorkOS: [],
    });
    // The SDK's first request (default page size), then auto-pagination's 3 pages of 100.
    expect(
      api.requests.map((u) => [u.searchParams.get("limit"), u.searchParams.get("after")]),
    ).toEqual([
      [null, null],
      ["100", null],
      ["100", orgId(99)],
      ["100", orgId(199)],
    ]);
    const orgs = await registry(t);
    expect(orgs).toHaveLength(250);
    expect(new Set(orgs.map((o) => o.workosOrgId)).size).toBe(250);
    expect(orgs.every((o) => o.status === "active" && o.workosUpdatedAt === T1)).toBe(true);
    expect(orgs.find((o) => o.workosOrgId === orgId(249))?.name).toBe("Org 249");
    const stats = await t.run((ctx) => ctx.db.query("organizationStats").collect());
    expect(stats).toHaveLength(500);
    expect(stats.every((row) => row.exact && row.orgDeleted === undefined)).toBe(true);

    const before = await dump(t);
    const second = await t.action(internal.organizations.syncFromWorkOS, {});
    expect(second).toMatchObject({
      listed: 250,
      registered: 0,
      unchanged: 250,
      documentsWritten: 0,
    });
    expect(await dump(t)).toEqual(before);

    // The batch mutation itself, measured: a known batch of 100 reads 100 documents, writes none.
    const batch = fakeOrgs(100).map((o) => ({
      workosOrgId: o.id,
      name: o.name,
      workosUpdatedAt: T1,
    }));
    const { io } = await measureMutation(t, internal.organizations.upsertOrganizationsBatch, {
      organizations: batch,
    });
    expect(io).toMatchObject({ documentsRead: 100, documentsWritten: 0 });
  });

  test("a batch of 100 new organizations stays small", async () => {
    const t = newBackend({ transactionLimits: true });
    const batch = fakeOrgs(100).map((o) => ({
      workosOrgId: o.id,
      name: o.name,
      workosUpdatedAt: T1,
    }));
    const { io, result } = await measureMutation(
      t,
      internal.organizations.upsertOrganizationsBatch,
      { organizations: batch },
    );
    // Per org: its registry entry, two zeroed stats rows and the loads' facet
    // status (exact: a new org has no loads; docs/filtered-counts.md).
    expect(result).toMatchObject({ registered: 100, documentsWritten: 400 });
    expect(io.documentsWritten).toBe(400);
    expect(io.documentsRead).toBe(0);
  });

  test("updates renamed orgs; leaves stale, deleted and unlisted orgs alone and reports them", async () => {
    const t = newBackend();
    await register(t, orgId(1), "Renamed later", T1);
    await register(t, orgId(2), "Newer here", T3);
    await register(t, orgId(3), "Deleted here", T1);
    await t.mutation(internal.organizations.applyWebhookEvent, {
      eventId: "event_delete_3",
      event: "organization.deleted",
      eventCreatedAt: T2,
      organization: { workosOrgId: orgId(3), name: "Deleted here", workosUpdatedAt: T2 },
    });
    await register(t, orgId(4), "Gone from WorkOS", T1);
    // Orgs registered after the sync started are not reported missing; make
    // sure org 4 is registered strictly before it (not in the same ms).
    await new Promise((resolve) => setTimeout(resolve, 5));
    fakeWorkOSApi([
      wireOrganization(orgId(1), "Renamed", T2),
      wireOrganization(orgId(2), "Older there", T2),
      wireOrganization(orgId(3), "Back again", T3),
      wireOrganization(orgId(5), "Brand new", T2),
    ]);

    const result = await t.action(internal.organizations.syncFromWorkOS, {});
    expect(result).toEqual({
      listed: 4,
      batches: 1,
      registered: 1,
      updated: 1,
      unchanged: 0,
      stale: 1,
      // The new org: its entry, two stats rows and the loads' facet status; the renamed one: 1.
      documentsWritten: 5,
      deletedInRegistryCount: 1,
      deletedInRegistry: [orgId(3)],
      missingFromWorkOSCount: 1,
      missingFromWorkOS: [orgId(4)],
    });
    const byId = new Map((await registry(t)).map((o) => [o.workosOrgId, o]));
    expect(byId.get(orgId(1))).toMatchObject({ name: "Renamed", workosUpdatedAt: T2 });
    expect(byId.get(orgId(2))).toMatchObject({ name: "Newer here", workosUpdatedAt: T3 });
    expect(byId.get(orgId(3))).toMatchObject({ name: "Deleted here", status: "deleted" });
    expect(byId.get(orgId(4))).toMatchObject({ status: "active" });
    expect(byId.get(orgId(5))).toMatchObject({ name: "Brand new", status: "active" });
  });

  test("a failed listing or a missing API key writes nothing", async () => {
    const t = newBackend();
    fakeWorkOSApi(fakeOrgs(150), { failRequest: 2 });
    await expect(t.action(internal.organizations.syncFromWorkOS, {})).rejects.toThrow();
    expect(await dump(t)).toEqual([]);

    vi.stubEnv("WORKOS_API_KEY", "");
    await expect(t.action(internal.organizations.syncFromWorkOS, {})).rejects.toThrow(
      /WORKOS_API_KEY is not set/,
    );
    expect(await dump(t)).toEqual([]);
  });

  test("the batch mutation refuses oversized batches and repeated ids", async () => {
    const t = newBackend();
    const snapshot = (n: number) => ({ workosOrgId: orgId(n), name: "x", workosUpdatedAt: T1 });
    await expect(
      t.mutation(internal.organizations.upsertOrganizationsBatch, {
        organizations: Array.from({ length: 101 }, (_, i) => snapshot(i)),
      }),
    ).rejects.toThrow(/At most 100/);
    await expect(
      t.mutation(internal.organizations.upsertOrganizationsBatch, {
        organizations: [snapshot(1), snapshot(1)],
      }),
    ).rejects.toThrow(/twice/);
    expect(await dump(t)).toEqual([]);
  });
});
