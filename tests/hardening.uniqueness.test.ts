/**
 * Hardening, issue 9 item 9: lookups the code treats as unique survive
 * duplicates written around it (inserted here with `t.run`): each picks one
 * document by a documented rule and reports the rest; no raw `unique()`
 * error, no wedged shipment, org or batch.
 */
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { DUPLICATE_PROBE } from "../convex/model/uniqueness";
import baseShipment from "./fixtures/fourkites/shipment-in-transit.json";
import {
  ATLANTA,
  type Backend,
  biller,
  DALLAS,
  errorCode,
  member,
  newBackend,
  ORG_A,
  insertRawLane,
} from "./support/setup";
import { deliver, orgEvent, stubWorkOSEnv } from "./support/workos";

beforeEach(stubWorkOSEnv);
afterEach(() => {
  vi.unstubAllEnvs();
});

const MINUTE = 60_000;

function shipment(id: number, updatedAt: number, status = "InTransit"): string {
  const copy = JSON.parse(JSON.stringify(baseShipment));
  copy.id = id;
  copy.updatedAt = new Date(updatedAt).toISOString();
  copy.status = status;
  return JSON.stringify(copy);
}

/** Copies of `doc` inserted around the code (as a backup import would). */
async function duplicateLoad(t: Backend, loadId: Id<"loads">, copies: number) {
  return await t.run(async (ctx) => {
    const doc = await ctx.db.get("loads", loadId);
    if (doc === null) throw new Error("no load");
    const { _id, _creationTime, ...fields } = doc;
    const ids: Id<"loads">[] = [];
    for (let i = 0; i < copies; i++) ids.push(await ctx.db.insert("loads", { ...fields }));
    return ids;
  });
}

describe("loads by external id", () => {
  test.each([1, 2, DUPLICATE_PROBE + 2])(
    "with %i duplicate(s) of a shipment's load, imports keep working on the oldest",
    async (copies) => {
      const t = newBackend();
      const now = Date.now();
      const created = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
        workosOrgId: ORG_A,
        shipment: shipment(1, now - 30 * MINUTE),
      });
      const dupIds = await duplicateLoad(t, created.loadId, copies);

      const single = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
        workosOrgId: ORG_A,
        shipment: shipment(1, now - 20 * MINUTE, "Delivered"),
      });
      expect(single).toMatchObject({ outcome: "updated", loadId: created.loadId });
      const reported = single.duplicateLoadIds ?? [];
      expect(reported.length).toBe(Math.min(copies, DUPLICATE_PROBE - 1));
      expect(dupIds).toEqual(expect.arrayContaining(reported));

      // The same shipment in a batch with a new one: the batch goes through.
      const batch = await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
        workosOrgId: ORG_A,
        shipments: [shipment(1, now - 10 * MINUTE, "Delivered"), shipment(2, now - MINUTE)],
      });
      expect(batch).toMatchObject({ created: 1, updated: 1 });
      const loads = await t.run((ctx) => ctx.db.query("loads").collect());
      expect(loads.find((l) => l._id === created.loadId)).toMatchObject({
        status: "Completed",
        externalUpdatedAt: now - 10 * MINUTE,
      });
      // The duplicates are left for an operator: untouched.
      for (const id of dupIds) {
        expect(loads.find((l) => l._id === id)).toMatchObject({ status: "Assigned" });
      }
    },
  );

  test("a manual load with a duplicated external id is refused naming both", async () => {
    const t = newBackend();
    const who = member(t, ORG_A);
    const first = await who.mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "M-1",
      origin: DALLAS,
      destination: ATLANTA,
    });
    const [dup] = await duplicateLoad(t, first.loadId, 1);
    let data: unknown = null;
    try {
      await who.mutation(api.loads.createLoad, {
        workosOrgId: ORG_A,
        externalLoadId: "M-1",
        origin: DALLAS,
        destination: ATLANTA,
      });
    } catch (e) {
      data = e instanceof ConvexError ? e.data : e;
    }
    expect(data).toMatchObject({
      code: "ALREADY_EXISTS",
      loadId: first.loadId,
      duplicateLoadIds: [dup],
    });
  });
});

describe("organization registry entries", () => {
  const T1 = Date.now() - 60 * MINUTE;

  async function entries(t: Backend): Promise<Doc<"organizations">[]> {
    return await t.run((ctx) => ctx.db.query("organizations").collect());
  }

  async function addEntry(t: Backend, status: "active" | "deleted", name: string) {
    return await t.run((ctx) =>
      ctx.db.insert("organizations", {
        workosOrgId: ORG_A,
        name,
        status,
        updatedAt: Date.now(),
        workosUpdatedAt: T1,
        ...(status === "deleted" ? { deletedAt: T1 } : {}),
      }),
    );
  }

  test.each([1, 3])("with %i active duplicate(s), updates go to the oldest entry", async (n) => {
    const t = newBackend();
    await deliver(t, orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 }));
    for (let i = 0; i < n; i++) await addEntry(t, "active", `Copy ${i}`);
    const reply = await deliver(
      t,
      orgEvent("organization.updated", { id: ORG_A, name: "Acme 2", updatedAt: T1 + MINUTE }),
    );
    expect(reply).toMatchObject({ status: 200, json: { outcome: "updated" } });
    const all = await entries(t);
    expect(all[0]).toMatchObject({ name: "Acme 2" });
    expect(all.slice(1).map((e) => e.name)).toEqual(
      Array.from({ length: n }, (_, i) => `Copy ${i}`),
    );
    // Counting works (the badge path reads the registry too).
    const counts = await member(t, ORG_A).query(api.loads.countLoadsByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(counts).toBeDefined();
  });

  test.each([
    ["the original deleted, a copy active", "original"],
    ["the original active, a copy deleted", "copy"],
  ] as const)("%s: the org is refused (deletion wins)", async (_, which) => {
    const t = newBackend();
    await deliver(t, orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 }));
    if (which === "original") {
      await addEntry(t, "active", "Copy");
      await deliver(
        t,
        orgEvent("organization.deleted", { id: ORG_A, name: "Acme", updatedAt: T1 + MINUTE }),
      );
    } else {
      await addEntry(t, "deleted", "Copy");
    }
    expect(
      await errorCode(
        biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
          workosOrgId: ORG_A,
          origin: DALLAS,
          destination: ATLANTA,
          rateCents: 1000,
        }),
      ),
    ).toBe("ORG_DELETED");
    const renamed = await deliver(
      t,
      orgEvent("organization.updated", { id: ORG_A, name: "Back", updatedAt: T1 + 2 * MINUTE }),
    );
    expect(renamed).toMatchObject({ status: 200, json: { outcome: "ignored_deleted" } });
  });
});

describe("webhook event ids", () => {
  test.each([1, 3])("with %i duplicate record(s), a redelivery is a duplicate", async (n) => {
    const t = newBackend();
    const event = orgEvent("organization.created", {
      id: ORG_A,
      name: "Acme",
      updatedAt: Date.now() - MINUTE,
    });
    await deliver(t, event);
    await t.run(async (ctx) => {
      const [record] = await ctx.db.query("workosWebhookEvents").collect();
      const { _id, _creationTime, ...fields } = record;
      for (let i = 0; i < n; i++) await ctx.db.insert("workosWebhookEvents", { ...fields });
    });
    const again = await deliver(t, event);
    expect(again).toEqual({
      status: 200,
      json: { received: true, outcome: "registered", duplicate: true },
    });
  });
});

describe("lanes and live invoices", () => {
  test.each([2, 4])(
    "with %i identical overlapping lanes, pricing picks the newest, every time",
    async (n) => {
      const t = newBackend();
      const ids: Id<"lanes">[] = [];
      for (let i = 0; i < n; i++) ids.push(await insertRawLane(t, { rateCents: 1000 + i }));
      const who = member(t, ORG_A);
      for (const ext of ["A", "B"]) {
        const created = await who.mutation(api.loads.createLoad, {
          workosOrgId: ORG_A,
          externalLoadId: ext,
          origin: DALLAS,
          destination: ATLANTA,
        });
        const invoice = await t.run((ctx) => ctx.db.get("invoices", created.invoiceId));
        expect(invoice).toMatchObject({ amountCents: 1000 + n - 1, laneId: ids[n - 1] });
      }
      // A new overlapping lane is refused, naming one of them.
      let data: unknown = null;
      try {
        await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
          workosOrgId: ORG_A,
          origin: DALLAS,
          destination: ATLANTA,
          rateCents: 5,
          effectiveFrom: Date.UTC(2024, 0, 1),
        });
      } catch (e) {
        data = e instanceof ConvexError ? e.data : e;
      }
      expect(data).toMatchObject({ code: "ALREADY_EXISTS" });
      expect(ids).toContain((data as { laneId: Id<"lanes"> }).laneId);
    },
  );

  test("two live invoices on one load: promotion rates the first, createInvoice names it", async () => {
    const t = newBackend();
    const { loadId, invoiceId } = await member(t, ORG_A).mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "L",
      origin: DALLAS,
      destination: ATLANTA,
    });
    const second = await t.run((ctx) =>
      ctx.db.insert("invoices", {
        workosOrgId: ORG_A,
        loadId,
        status: "MISSING_DATA",
        amountCents: 0,
        statusChangedAt: Date.now(),
      }),
    );
    await insertRawLane(t, { rateCents: 4200 });
    const result = await member(t, ORG_A).mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId,
    });
    expect(result).toMatchObject({ promoted: true, loadType: "CONTRACT" });
    const [first, other] = await t.run(async (ctx) => [
      await ctx.db.get("invoices", invoiceId),
      await ctx.db.get("invoices", second),
    ]);
    expect(first).toMatchObject({ status: "DRAFT", amountCents: 4200 });
    expect(other).toMatchObject({ status: "MISSING_DATA" });
    let data: unknown = null;
    try {
      await biller(t, ORG_A).mutation(api.invoices.createInvoice, {
        workosOrgId: ORG_A,
        loadId,
        amountCents: 10,
      });
    } catch (e) {
      data = e instanceof ConvexError ? e.data : e;
    }
    expect(data).toMatchObject({ code: "ALREADY_EXISTS", invoiceId });
  });
});
