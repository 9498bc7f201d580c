/**
 * Hardening, issue 9 items 3 and 6: external "newer than" timestamps beyond
 * now + `MAX_CLOCK_SKEW_MS` cannot block later updates (FourKites `updatedAt`
 * refused, WorkOS `updated_at` clamped, stored ones disregarded), the webhook
 * signature's timestamp is bounded on both sides, and every unsigned webhook
 * request gets the same 401 whatever its body.
 */
import { ConvexError } from "convex/values";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import { MAX_CLOCK_SKEW_MS } from "../convex/lib/clock";
import { WEBHOOK_TOLERANCE_MS } from "../convex/lib/workos";
import { checkShipmentJson } from "../convex/model/fourKites/shipment";
import baseShipment from "./fixtures/fourkites/shipment-in-transit.json";
import { type Backend, dump, newBackend, ORG_A } from "./support/setup";
import { deliver, orgEvent, signature, stubWorkOSEnv } from "./support/workos";

const NOW = Date.parse("2026-06-01T12:00:00.000Z");
const MINUTE = 60_000;
const YEAR_2099 = Date.parse("2099-01-01T00:00:00.000Z");

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"], now: NOW });
  stubWorkOSEnv();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

function shipmentAt(updatedAt: number, status = "InTransit"): string {
  const copy = JSON.parse(JSON.stringify(baseShipment));
  copy.updatedAt = new Date(updatedAt).toISOString();
  copy.status = status;
  return JSON.stringify(copy);
}

async function importAt(t: Backend, updatedAt: number, status?: string) {
  return await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
    workosOrgId: ORG_A,
    shipment: shipmentAt(updatedAt, status),
  });
}

async function storedOrg(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("organizations").first());
}

const FUTURE = [
  ["just past the allowance", NOW + MAX_CLOCK_SKEW_MS + 1000],
  ["an hour ahead", NOW + 60 * MINUTE],
  ["in 2099", YEAR_2099],
] as const;

describe("FourKites updatedAt", () => {
  test.each(FUTURE)("an updatedAt %s is refused at path updatedAt", async (_, at) => {
    const t = newBackend();
    let data: unknown = null;
    try {
      await importAt(t, at);
    } catch (e) {
      data = e instanceof ConvexError ? e.data : e;
    }
    expect(data).toMatchObject({ code: "INVALID_PAYLOAD", issues: [{ path: "updatedAt" }] });
    expect(await dump(t)).toEqual([]);
  });

  test("accepted iff at most now + allowance (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -365 * 24 * 60, max: 365 * 24 * 60 }), (minutes) => {
        const at = NOW + minutes * MINUTE;
        const result = checkShipmentJson(shipmentAt(at), ORG_A);
        expect(result.ok).toBe(at <= NOW + MAX_CLOCK_SKEW_MS);
      }),
      { numRuns: 300 },
    );
  });

  test("an updatedAt within the allowance is accepted", async () => {
    const t = newBackend();
    expect((await importAt(t, NOW + MAX_CLOCK_SKEW_MS)).outcome).toBe("created");
  });

  test.each(FUTURE)(
    "a stored updatedAt %s (written around the code) does not block a real update",
    async (_, stored) => {
      const t = newBackend();
      const created = await importAt(t, NOW - 60 * MINUTE, "InTransit");
      await t.run(async (ctx) => {
        await ctx.db.patch("loads", created.loadId, { externalUpdatedAt: stored });
      });
      const updated = await importAt(t, NOW - MINUTE, "Delivered");
      expect(updated.outcome).toBe("updated");
      const load = await t.run(async (ctx) => await ctx.db.get("loads", created.loadId));
      expect(load).toMatchObject({ status: "Completed", externalUpdatedAt: NOW - MINUTE });
      // And the order holds again: an older update is now unchanged.
      expect((await importAt(t, NOW - 2 * MINUTE, "InTransit")).outcome).toBe("unchanged");
    },
  );
});

describe("WorkOS updated_at", () => {
  const org = (name: string, updatedAt: number) => ({ id: ORG_A, name, updatedAt });

  const viaWebhook = async (t: Backend, name: string, updatedAt: number) => {
    const reply = await deliver(t, orgEvent("organization.updated", org(name, updatedAt)));
    expect(reply.status).toBe(200);
  };
  const viaSync = async (t: Backend, name: string, updatedAt: number) => {
    await t.mutation(internal.organizations.upsertOrganizationsBatch, {
      organizations: [{ workosOrgId: ORG_A, name, workosUpdatedAt: updatedAt }],
    });
  };
  const PATHS = [
    ["webhook", viaWebhook],
    ["sync", viaSync],
  ] as const;
  const CASES = PATHS.flatMap(([path, send]) =>
    FUTURE.map(([what, at]) => [path, what, send, at] as const),
  );

  test.each(CASES)(
    "via %s, an updated_at %s is clamped and blocks later updates at most the allowance",
    async (_, __, send, at) => {
      const t = newBackend();
      await send(t, "Future", at);
      expect(await storedOrg(t)).toMatchObject({
        name: "Future",
        workosUpdatedAt: NOW + MAX_CLOCK_SKEW_MS,
      });
      vi.setSystemTime(NOW + MAX_CLOCK_SKEW_MS + MINUTE);
      await send(t, "Real", NOW + MAX_CLOCK_SKEW_MS + 30_000);
      expect(await storedOrg(t)).toMatchObject({ name: "Real" });
    },
  );

  test.each(CASES)(
    "via %s, a stored updated_at %s (written around the code) is disregarded",
    async (_, __, send, at) => {
      const t = newBackend();
      await send(t, "Acme", NOW - 10 * MINUTE);
      await t.run(async (ctx) => {
        const entry = await ctx.db.query("organizations").first();
        if (entry !== null) await ctx.db.patch("organizations", entry._id, { workosUpdatedAt: at });
      });
      await send(t, "Acme renamed", NOW - MINUTE);
      expect(await storedOrg(t)).toMatchObject({
        name: "Acme renamed",
        workosUpdatedAt: NOW - MINUTE,
      });
    },
  );
});

describe("webhook signature", () => {
  const body = JSON.stringify(
    orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: NOW }),
  );

  test.each([
    ["past the allowance", MAX_CLOCK_SKEW_MS + 1000],
    ["an hour ahead", 60 * MINUTE],
    ["a year ahead", 365 * 24 * 60 * MINUTE],
    ["older than the tolerance", -WEBHOOK_TOLERANCE_MS - 1000],
    ["a day old", -24 * 60 * MINUTE],
  ])("a timestamp %s is refused with 401", async (_, offset) => {
    const t = newBackend();
    const reply = await deliver(t, body, {
      sigHeader: await signature(body, { timestamp: NOW + offset }),
    });
    expect(reply).toMatchObject({ status: 401, json: { error: "INVALID_SIGNATURE" } });
    expect(await dump(t)).toEqual([]);
  });

  test.each([
    ["now", 0],
    ["inside the allowance", MAX_CLOCK_SKEW_MS - 1000],
    ["inside the tolerance", -WEBHOOK_TOLERANCE_MS + 1000],
  ])("a timestamp %s is accepted", async (_, offset) => {
    const t = newBackend();
    const reply = await deliver(t, body, {
      sigHeader: await signature(body, { timestamp: NOW + offset }),
    });
    expect(reply.status).toBe(200);
  });
});

describe("unsigned webhook requests", () => {
  const event = JSON.stringify(
    orgEvent("organization.created", { id: ORG_A, name: "A", updatedAt: NOW }),
  );
  const BODIES = [
    ["valid event", event],
    ["truncated JSON", event.slice(0, 20)],
    ["empty", ""],
    ["JSON null", "null"],
    ["JSON array", "[1,2]"],
    ["plain text", "hello"],
    ["malformed event", JSON.stringify({ id: "x" })],
  ] as const;
  const HEADERS: Array<[string, () => Promise<string | null>]> = [
    ["no header", async () => null],
    ["garbage header", async () => "nonsense"],
    ["timestamp only", async () => `t=${NOW}`],
    ["wrong secret", async () => await signature(event, { secret: "whsec_other" })],
    ["MAC of another body", async () => await signature("{}")],
    ["future timestamp", async () => await signature(event, { timestamp: NOW + 60 * MINUTE })],
  ];

  test.each(HEADERS)("with %s: 401 and the same answer whatever the body", async (_, header) => {
    const t = newBackend();
    const answers = new Set<string>();
    for (const [, raw] of BODIES) {
      const sigHeader = await header();
      const reply = await deliver(t, raw, { sigHeader });
      expect(reply.status).toBe(401);
      answers.add(JSON.stringify(reply.json));
    }
    expect(answers.size).toBe(1);
    expect(await dump(t)).toEqual([]);
  });
});
