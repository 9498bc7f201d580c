/**
 * Hardening, issue 22 §3, loads, invoices and registry entries: a stored
 * document holding a value the code would never write (inserted or patched
 * here with `t.run`) is reported (`[stored.invalid]`, a `skippedInvalid`
 * count in the result) and skipped, or used in a defined safe way; no call
 * fails on it. Lanes: `hardening.storedLanes.test.ts`.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { seedLoads } from "./support/seed";
import { makeShipment } from "./support/shipmentFixtures";
import {
  ATLANTA,
  type Backend,
  biller,
  CHICAGO,
  DALLAS,
  dump,
  errorCode,
  expectCountersExact,
  insertRawLane,
  member,
  newBackend,
  ORG_A,
  ORG_B,
} from "./support/setup";
import { captureStoredReports } from "./support/storedReports";
import { deliver, orgEvent, stubWorkOSEnv } from "./support/workos";

const NOW = Date.UTC(2024, 5, 15, 12);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Times the code would never store (it stores finite times above 0). */
const BAD_TIMES = [
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["-1", -1],
  ["0", 0],
] as const;

const reports = captureStoredReports();
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** `[field, action]` of every report on document `id`. */
function reported(id: string): Array<[string, string]> {
  return reports
    .filter((r) => r.id === id)
    .flatMap((r) => r.problems.map((p): [string, string] => [p.field, r.action]));
}

async function promote(t: Backend, loadId: Id<"loads">) {
  return await member(t, ORG_A).mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
    workosOrgId: ORG_A,
    loadId,
  });
}

async function get<T extends "loads" | "invoices">(t: Backend, table: T, id: Id<T>) {
  return (await t.run((ctx) => ctx.db.get(table, id))) as Doc<T> | null;
}

describe.each(BAD_TIMES)("a load with pickupAt %s", (_, pickupAt) => {
  test("checkAndPromoteLoad disregards it: matched at now, promoted, reported", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: NOW });
    const t = newBackend();
    const [loadId] = await seedLoads(t, ORG_A, 1, () => ({
      origin: DALLAS,
      destination: ATLANTA,
      pickupAt,
    }));
    const laneId = await insertRawLane(t, { rateCents: 2_500 });
    expect(await promote(t, loadId)).toEqual({
      promoted: true,
      loadType: "CONTRACT",
      laneId,
      skippedInvalid: 1,
    });
    expect(reported(loadId)).toEqual([["pickupAt", "pickupAt disregarded"]]);
    await expectCountersExact(t, ORG_A);
  });

  test("a lane's backfill prices it; the cleanup never expires it and finishes", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: NOW });
    const t = newBackend();
    const ids = await seedLoads(t, ORG_A, 3, (i) => ({
      origin: DALLAS,
      destination: ATLANTA,
      pickupAt: i === 0 ? pickupAt : NOW - DAY,
    }));
    const created = await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: 2_500,
      effectiveFrom: Date.UTC(2024, 0, 1),
    });
    expect(created).toMatchObject({ examined: 3, promoted: 3, skippedInvalid: 1 });
    // Expiry treats it as a load without a pickup time: never expired.
    const cleanup = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {
      graceMs: 0,
    });
    expect(cleanup).toMatchObject({ expired: 2, expiryComplete: true });
    expect(await get(t, "loads", ids[0])).toMatchObject({ status: "Open" });
    await expectCountersExact(t, ORG_A);
  });
});

/**
 * Loads whose pricing fields the code would never write. `key` is the stored
 * key pair's origin, where a lane's backfill finds the load (null: no lane
 * can have that key).
 */
const UNPRICEABLE: Array<[string, string, Partial<Doc<"loads">>, typeof DALLAS | null]> = [
  [
    "an origin with the key separator",
    "origin.city",
    { origin: { city: "Dal|las", state: "TX" } },
    DALLAS,
  ],
  [
    "a destination with a control character",
    "destination.state",
    { destination: { city: "Atlanta", state: "G\u0000A" } },
    DALLAS,
  ],
  ["an untrimmed origin", "origin.city", { origin: { city: "Dallas ", state: "TX" } }, DALLAS],
  ["an empty origin city", "origin.city", { origin: { city: "", state: "TX" } }, DALLAS],
  ["an originKey of another place", "originKey", { originKey: "CHICAGO|IL" }, CHICAGO],
  ["a lower-case destinationKey", "destinationKey", { destinationKey: "atlanta|ga" }, null],
  ["an empty customerId", "customerId", { customerId: "" }, DALLAS],
  ["an untrimmed customerId", "customerId", { customerId: "CUST-ACME " }, DALLAS],
  ["a customerId too long", "customerId", { customerId: "C".repeat(300) }, DALLAS],
];

describe.each(UNPRICEABLE)("a load with %s", (_, field, fields, key) => {
  async function setUp(t: Backend) {
    // Load 0 is Dallas → Atlanta with `fields` written over it; the two others
    // are valid loads in the same key range as load 0.
    const ids = await seedLoads(t, ORG_A, 3, (i) => ({
      origin: i === 0 ? DALLAS : (key ?? DALLAS),
      destination: ATLANTA,
    }));
    await t.run((ctx) => ctx.db.patch("loads", ids[0], fields));
    return ids;
  }

  test("checkAndPromoteLoad leaves it unpriced, writes nothing and reports it", async () => {
    const t = newBackend();
    const [loadId] = await setUp(t);
    await insertRawLane(t, { origin: key ?? DALLAS });
    const before = await dump(t);
    expect(await promote(t, loadId)).toEqual({
      promoted: false,
      loadType: "UNMAPPED",
      skippedInvalid: 1,
    });
    expect(await dump(t)).toEqual(before);
    expect(reported(loadId)).toContainEqual([field, "not priced"]);
  });

  test("a lane's backfill passes over it and finishes", async () => {
    const t = newBackend();
    const [loadId] = await setUp(t);
    const created = await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: key ?? DALLAS,
      destination: ATLANTA,
      rateCents: 2_500,
      effectiveFrom: Date.UTC(2024, 0, 1),
    });
    expect(created).toMatchObject({ promoted: 2, backfillComplete: true });
    expect(created.skippedInvalid).toBe(key === null ? undefined : 1);
    expect(await get(t, "loads", loadId)).toMatchObject({ loadType: "UNMAPPED" });
    await expectCountersExact(t, ORG_A);
  });
});

describe.each(BAD_TIMES)("a stored externalUpdatedAt of %s", (_, stored) => {
  test("is disregarded: the next import applies and replaces it, reported", async () => {
    const t = newBackend();
    const at = Date.now() - 30 * MINUTE;
    const ship = (updatedAt: number, status: string) =>
      JSON.stringify(makeShipment(1, updatedAt, status));
    const created = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: ship(at, "InTransit"),
    });
    await t.run((ctx) => ctx.db.patch("loads", created.loadId, { externalUpdatedAt: stored }));
    const batch = await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments: [ship(at + MINUTE, "Delivered"), JSON.stringify(makeShipment(2, at, "InTransit"))],
    });
    expect(batch).toMatchObject({ updated: 1, created: 1, withSkippedInvalid: 1 });
    expect(batch.results[0]).toMatchObject({ outcome: "updated", skippedInvalid: 1 });
    expect(await get(t, "loads", created.loadId)).toMatchObject({
      status: "Completed",
      externalUpdatedAt: at + MINUTE,
    });
    expect(reported(created.loadId)).toEqual([["externalUpdatedAt", "disregarded"]]);
    // The order holds again: an older update changes nothing.
    const older = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: ship(at, "InTransit"),
    });
    expect(older).toMatchObject({ outcome: "unchanged" });
    expect(older.skippedInvalid).toBeUndefined();
    await expectCountersExact(t, ORG_A);
  });
});

test.each(BAD_TIMES)(
  "a load with statusChangedAt %s (read by no decision) changes status normally",
  async (_, statusChangedAt) => {
    const t = newBackend();
    const [loadId] = await seedLoads(t, ORG_A, 1, () => ({
      origin: DALLAS,
      destination: ATLANTA,
      statusChangedAt,
    }));
    const moved = await member(t, ORG_A).mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId,
      status: "Assigned",
    });
    expect(moved.changed).toBe(true);
    expect(Number.isFinite((await get(t, "loads", loadId))?.statusChangedAt)).toBe(true);
    await expectCountersExact(t, ORG_A);
  },
);

describe("invoices of another org naming a load", () => {
  /**
   * ORG_A's load (`invoice`: its own, or none) and ORG_B's invoice naming it
   * (`foreign`), the foreign one first in index order; stats rows of both orgs
   * rewritten from scratch.
   */
  async function setUp(
    t: Backend,
    load: Partial<Doc<"loads">>,
    foreign: Doc<"invoices">["status"],
    own: Doc<"invoices">["status"] | null,
  ) {
    const [loadId] = await seedLoads(t, ORG_A, 1, () => ({
      origin: DALLAS,
      destination: ATLANTA,
      invoice: null,
      ...load,
    }));
    const foreignId = await t.run((ctx) =>
      ctx.db.insert("invoices", {
        workosOrgId: ORG_B,
        loadId,
        status: foreign,
        amountCents: 0,
        statusChangedAt: 1,
      }),
    );
    const ownId =
      own === null
        ? null
        : await t.run((ctx) =>
            ctx.db.insert("invoices", {
              workosOrgId: ORG_A,
              loadId,
              status: own,
              amountCents: 0,
              statusChangedAt: 1,
            }),
          );
    // Exact stats rows for both orgs from a from-scratch count (no new loads).
    await seedLoads(t, ORG_A, 0, () => ({ origin: DALLAS, destination: ATLANTA }));
    await seedLoads(t, ORG_B, 0, () => ({ origin: DALLAS, destination: ATLANTA }));
    return { loadId, foreignId, ownId };
  }

  async function expectBothExact(t: Backend) {
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
  }

  test("promotion rates the load's own invoice, never the other org's", async () => {
    const t = newBackend();
    const { loadId, foreignId, ownId } = await setUp(t, {}, "MISSING_DATA", "MISSING_DATA");
    await insertRawLane(t, { rateCents: 3_100 });
    expect(await promote(t, loadId)).toMatchObject({ promoted: true });
    expect(await get(t, "invoices", ownId!)).toMatchObject({ status: "DRAFT", amountCents: 3_100 });
    expect(await get(t, "invoices", foreignId)).toMatchObject({ status: "MISSING_DATA" });
    expect(reported(foreignId)).toEqual([["workosOrgId", "skipped"]]);
    await expectBothExact(t);
  });

  test("promotion of a load with no invoice of its own creates one (a foreign VOID is no void)", async () => {
    const t = newBackend();
    const { loadId, foreignId } = await setUp(t, {}, "VOID", null);
    await insertRawLane(t, { rateCents: 3_100 });
    const result = await promote(t, loadId);
    expect(result).toMatchObject({ promoted: true });
    expect(result.invoiceNotCreated).toBeUndefined();
    expect(reported(foreignId)).toEqual([["workosOrgId", "skipped"]]);
    await expectBothExact(t);
  });

  test("createInvoice does not name (or count) the other org's live invoice", async () => {
    const t = newBackend();
    const { loadId, foreignId } = await setUp(t, { loadType: "CONTRACT" }, "DRAFT", null);
    const { invoiceId } = await biller(t, ORG_A).mutation(api.invoices.createInvoice, {
      workosOrgId: ORG_A,
      loadId,
      amountCents: 1_000,
    });
    expect(invoiceId).not.toBe(foreignId);
    await expectBothExact(t);
  });

  test("deleteLoad deletes the load's own invoices and leaves the other org's", async () => {
    const t = newBackend();
    const { loadId, foreignId, ownId } = await setUp(t, {}, "MISSING_DATA", "MISSING_DATA");
    const result = await member(t, ORG_A).mutation(api.loads.deleteLoad, {
      workosOrgId: ORG_A,
      loadId,
    });
    expect(result).toEqual({ invoicesDeleted: 1 });
    expect(await get(t, "invoices", ownId!)).toBeNull();
    expect(await get(t, "invoices", foreignId)).not.toBeNull();
    await expectBothExact(t);
  });
});

describe("invoice fields", () => {
  test.each(BAD_TIMES)(
    "a voided invoice with billedAt %s is a billed record: deleteLoad refuses, reported",
    async (_, billedAt) => {
      const t = newBackend();
      const [loadId] = await seedLoads(t, ORG_A, 1, () => ({
        origin: DALLAS,
        destination: ATLANTA,
        invoice: { status: "VOID", amountCents: 0 },
      }));
      const invoice = await t.run((ctx) => ctx.db.query("invoices").first());
      await t.run((ctx) => ctx.db.patch("invoices", invoice!._id, { billedAt }));
      expect(
        await errorCode(
          member(t, ORG_A).mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId }),
        ),
      ).toBe("HAS_BILLED_INVOICE");
      expect(reported(invoice!._id)).toEqual([["billedAt", "treated as billed"]]);
    },
  );

  const BAD_AMOUNTS = [
    ["-500", -500],
    ["0.5", 0.5],
    ["NaN", Number.NaN],
    ["1e12", 1e12],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a valid but non-zero amount", 700],
  ] as const;

  test.each(BAD_AMOUNTS)(
    "a MISSING_DATA invoice of %s is rated at the lane's rate by promotion, reported",
    async (_, amountCents) => {
      const t = newBackend();
      const [loadId] = await seedLoads(t, ORG_A, 1, () => ({
        origin: DALLAS,
        destination: ATLANTA,
        invoice: { status: "MISSING_DATA", amountCents },
      }));
      await insertRawLane(t, { rateCents: 4_200 });
      expect(await promote(t, loadId)).toMatchObject({ promoted: true });
      const invoice = await t.run((ctx) => ctx.db.query("invoices").first());
      expect(invoice).toMatchObject({ status: "DRAFT", amountCents: 4_200 });
      expect(reported(invoice!._id)).toEqual([["amountCents", "replaced by the lane rate"]]);
      await expectCountersExact(t, ORG_A);
    },
  );

  test.each(BAD_AMOUNTS)(
    "a DRAFT invoice of %s can still be billed (no error about an amount nobody sent)",
    async (_, amountCents) => {
      const t = newBackend();
      await seedLoads(t, ORG_A, 1, () => ({
        origin: DALLAS,
        destination: ATLANTA,
        loadType: "CONTRACT",
        invoice: { status: "DRAFT", amountCents },
      }));
      const invoice = await t.run((ctx) => ctx.db.query("invoices").first());
      const result = await biller(t, ORG_A).mutation(api.invoices.bulkUpdateStatus, {
        workosOrgId: ORG_A,
        invoiceIds: [invoice!._id],
        status: "BILLED",
      });
      expect(result.updated).toBe(1);
      await expectCountersExact(t, ORG_A);
    },
  );
});

describe.each(BAD_TIMES)("a registry entry with workosUpdatedAt %s", (_, stored) => {
  const T1 = Date.now() - 60 * MINUTE;

  async function registered(t: Backend) {
    await deliver(t, orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 }));
    const entry = await t.run((ctx) => ctx.db.query("organizations").first());
    await t.run((ctx) => ctx.db.patch("organizations", entry!._id, { workosUpdatedAt: stored }));
    return entry!._id;
  }

  test("is disregarded by the webhook: the update applies, reported", async () => {
    stubWorkOSEnv();
    const t = newBackend();
    const id = await registered(t);
    const reply = await deliver(
      t,
      orgEvent("organization.updated", { id: ORG_A, name: "Acme 2", updatedAt: T1 + MINUTE }),
    );
    expect(reply).toMatchObject({ status: 200, json: { outcome: "updated" } });
    expect(await t.run((ctx) => ctx.db.get("organizations", id))).toMatchObject({
      name: "Acme 2",
      workosUpdatedAt: T1 + MINUTE,
    });
    expect(reported(id)).toEqual([["workosUpdatedAt", "disregarded"]]);
  });

  test("is disregarded by the sync: the update applies", async () => {
    stubWorkOSEnv();
    const t = newBackend();
    const id = await registered(t);
    const result = await t.mutation(internal.organizations.upsertOrganizationsBatch, {
      organizations: [{ workosOrgId: ORG_A, name: "Acme 3", workosUpdatedAt: T1 + MINUTE }],
    });
    expect(result).toMatchObject({ updated: 1 });
    expect(await t.run((ctx) => ctx.db.get("organizations", id))).toMatchObject({
      name: "Acme 3",
    });
  });
});
