/**
 * The organization lifecycle from any receiver (`organizations:applyOrganizationEvent`,
 * `lifecycleEventFromWorkOS`), as the authkit component's event hooks would
 * call it, and the configurable path of our own webhook route.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import {
  DEFAULT_WORKOS_WEBHOOK_PATH,
  lifecycleEventFromWorkOS,
  workosWebhookPath,
} from "../convex/model/organizations/lifecycle";
import {
  dump,
  errorCode,
  expectRejected,
  member,
  newBackend,
  ORG_A,
  storedCounters,
  type Backend,
} from "./support/setup";
import { deliver, orgEvent, stubWorkOSEnv, wireOrganization } from "./support/workos";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

const T0 = Date.parse("2026-01-05T10:00:00.000Z");

/** The organization as the WorkOS SDK deserializes it (what authkit hooks receive). */
function sdkOrganization(id: string, name: string, updatedAt: number) {
  return {
    object: "organization",
    id,
    name,
    allowProfilesOutsideOrganization: false,
    domains: [],
    createdAt: new Date(updatedAt - 1000).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
    externalId: null,
    metadata: {},
  };
}

/** What an authkit `authKit.events({...})` hook does with our helper. */
async function authKitHook(t: Backend, event: string, data: unknown) {
  return await t.mutation(async (ctx) => {
    const lifecycle = lifecycleEventFromWorkOS({ event, data });
    if (lifecycle === null) return null;
    return await ctx.runMutation(internal.organizations.applyOrganizationEvent, lifecycle);
  });
}

async function registry(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("organizations").take(100));
}

describe("applying organization events from any receiver", () => {
  test("authkit-style hooks (SDK data, no event id): create, update, stale, delete", async () => {
    const t = newBackend();
    expect(
      await authKitHook(t, "organization.created", sdkOrganization(ORG_A, "Acme", T0)),
    ).toMatchObject({ outcome: "registered", duplicate: false });
    // Both stats rows exist, exact zeros: the org's counters are served from day one.
    const rows = await storedCounters(t, ORG_A);
    expect(rows.loads?.exact).toBe(true);
    expect(rows.invoices?.exact).toBe(true);

    expect(
      await authKitHook(t, "organization.updated", sdkOrganization(ORG_A, "Acme Freight", T0 + 5)),
    ).toMatchObject({ outcome: "updated" });
    // A late, older snapshot changes nothing (hooks may run out of order).
    const before = await dump(t);
    expect(
      await authKitHook(t, "organization.updated", sdkOrganization(ORG_A, "Old name", T0 + 1)),
    ).toEqual({ outcome: "stale", duplicate: false, documentsWritten: 0 });
    expect(await dump(t)).toEqual(before);
    // Repeating the same event is harmless without an id too.
    expect(
      await authKitHook(t, "organization.updated", sdkOrganization(ORG_A, "Acme Freight", T0 + 5)),
    ).toEqual({ outcome: "unchanged", duplicate: false, documentsWritten: 0 });
    expect((await registry(t))[0]).toMatchObject({ name: "Acme Freight", status: "active" });

    expect(
      await authKitHook(t, "organization.deleted", sdkOrganization(ORG_A, "Acme Freight", T0 + 9)),
    ).toMatchObject({ outcome: "deleted" });
    expect((await registry(t))[0]).toMatchObject({ status: "deleted", deletedAt: T0 + 9 });
    // The deletion reaches the public functions.
    expect(
      await errorCode(
        member(t, ORG_A).query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A }),
      ),
    ).toBe("ORG_DELETED");
    // No event ids were recorded: the component deduplicates its own deliveries.
    expect(await t.run(async (ctx) => await ctx.db.query("workosWebhookEvents").take(10))).toEqual(
      [],
    );
  });

  test("non-lifecycle events are left alone", async () => {
    const t = newBackend();
    for (const event of ["user.created", "session.created", "organization_membership.created"]) {
      expect(await authKitHook(t, event, { id: "x" })).toBeNull();
    }
    expect(await registry(t)).toEqual([]);
  });

  test("with an event id (wire format), applied once per id", async () => {
    const t = newBackend();
    const body = orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T0 });
    const lifecycle = lifecycleEventFromWorkOS(body);
    expect(lifecycle).toEqual({
      event: "organization.created",
      organization: { workosOrgId: ORG_A, name: "Acme", workosUpdatedAt: T0 },
      eventId: body.id,
      eventCreatedAt: T0,
    });
    if (lifecycle === null) throw new Error("unreachable");
    const first = await t.mutation(internal.organizations.applyOrganizationEvent, lifecycle);
    expect(first).toMatchObject({ outcome: "registered", duplicate: false });
    const before = await dump(t);
    expect(await t.mutation(internal.organizations.applyOrganizationEvent, lifecycle)).toEqual({
      outcome: "registered",
      duplicate: true,
      documentsWritten: 0,
    });
    expect(await dump(t)).toEqual(before);
  });

  test("malformed organization data: INVALID_PAYLOAD, nothing written", async () => {
    const t = newBackend();
    const bad: unknown[] = [
      null,
      "org",
      { id: ORG_A, name: "Acme" }, // no updated time
      { id: "", name: "Acme", updatedAt: new Date(T0).toISOString() },
      { id: ORG_A, name: 7, updated_at: new Date(T0).toISOString() },
      { id: ORG_A, name: "Acme", updatedAt: "yesterday" },
      { id: ORG_A, name: "Acme", updatedAt: -5 },
    ];
    for (const data of bad) {
      await expectRejected(
        t,
        () => authKitHook(t, "organization.updated", data),
        "INVALID_PAYLOAD",
      );
    }
    expect(() =>
      lifecycleEventFromWorkOS({
        event: "organization.created",
        data: wireOrganization(ORG_A, "Acme", T0),
        created_at: "not a time",
      }),
    ).toThrow();
  });

  test("our route still applies through the same function", async () => {
    stubWorkOSEnv();
    const t = newBackend();
    const { status } = await deliver(
      t,
      orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T0 }),
    );
    expect(status).toBe(200);
    expect((await registry(t))[0]).toMatchObject({ workosOrgId: ORG_A, status: "active" });
  });
});

describe("the route's path", () => {
  test("default, custom, off; bad values fail loudly", () => {
    expect(workosWebhookPath(undefined)).toBe(DEFAULT_WORKOS_WEBHOOK_PATH);
    expect(workosWebhookPath("  ")).toBe("/workos/webhook");
    expect(workosWebhookPath("/workos/organizations/webhook")).toBe(
      "/workos/organizations/webhook",
    );
    expect(workosWebhookPath("OFF")).toBeNull();
    for (const bad of ["workos/webhook", "/a b", "/x?y=1", "//double", "https://x.test/hook"]) {
      expect(() => workosWebhookPath(bad)).toThrow(/WORKOS_WEBHOOK_PATH/);
    }
  });

  test("http.ts mounts the route where WORKOS_WEBHOOK_PATH says", async () => {
    const paths = async () => {
      vi.resetModules();
      const { default: http } = await import("../convex/http");
      return http.getRoutes().map(([path, method]) => `${method} ${path}`);
    };
    expect(await paths()).toContain("POST /workos/webhook");
    vi.stubEnv("WORKOS_WEBHOOK_PATH", "/workos/organizations/webhook");
    const moved = await paths();
    expect(moved).toContain("POST /workos/organizations/webhook");
    expect(moved).not.toContain("POST /workos/webhook");
    vi.stubEnv("WORKOS_WEBHOOK_PATH", "off");
    expect(await paths()).not.toContain("POST /workos/webhook");
  });
});
