/**
 * Hardening, issue 22 §3, lanes: a lane written around the code (inserted
 * here with `t.run`) holding a value the code would never write is reported
 * (`[stored.invalid]`, a `skippedInvalid` count in the result) and skipped as
 * if absent, never a wedge: `createLoad`, `checkAndPromoteLoad`, a FourKites
 * import batch, another lane's backfill and the periodic cleanup all finish.
 * Classes: the rate, the other pricing fields (dates, customer, ends and
 * keys), and the backfill state.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { BACKFILL_LEASE_MS, startedBackfill } from "../convex/model/lanes/backfill";
import { MAX_AMOUNT_CENTS } from "../convex/model/validate";
import { fakeFourKitesPerFile } from "./support/fourKitesServer";
import { createIntegration, cronTick, integrations, syncEnvPerTest } from "./support/fourKitesSync";
import { seedLoads } from "./support/seed";
import { makeShipment, makeShipments } from "./support/shipmentFixtures";
import {
  ATLANTA,
  type Backend,
  biller,
  CHICAGO,
  DALLAS,
  expectCountersExact,
  insertRawLane,
  member,
  newBackend,
  ORG_A,
} from "./support/setup";
import { captureStoredReports } from "./support/storedReports";

const NOW = Date.UTC(2024, 5, 15, 12);
const MINUTE = 60_000;
const MEMPHIS = { city: "Memphis", state: "TN" };

/** Every rate the code would refuse, each a member of the class. */
const BAD_RATES = [
  ["-500", -500],
  ["0", 0],
  ["0.5", 0.5],
  ["NaN", Number.NaN],
  ["1e12", 1e12],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["one over the cap", MAX_AMOUNT_CENTS + 1],
] as const;

const server = fakeFourKitesPerFile();
syncEnvPerTest();

const reports = captureStoredReports();
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** The fields reported for document `id`. */
function reportedFields(id: string): string[] {
  const fields = reports.filter((r) => r.id === id).flatMap((r) => r.problems.map((p) => p.field));
  return [...new Set(fields)];
}

async function createLoad(t: Backend, externalLoadId: string, extra = {}) {
  return await member(t, ORG_A).mutation(api.loads.createLoad, {
    workosOrgId: ORG_A,
    externalLoadId,
    origin: DALLAS,
    destination: ATLANTA,
    ...extra,
  });
}

async function invoiceOf(t: Backend, id: Id<"invoices">) {
  return await t.run((ctx) => ctx.db.get("invoices", id));
}

async function laneOf(t: Backend, id: Id<"lanes">) {
  return await t.run((ctx) => ctx.db.get("lanes", id));
}

describe.each(BAD_RATES)("a lane with a rate of %s", (_, rateCents) => {
  test("createLoad on it: UNMAPPED with a MISSING_DATA invoice, the lane reported", async () => {
    const t = newBackend();
    const laneId = await insertRawLane(t, { rateCents });
    const created = await createLoad(t, "L-1");
    expect(created).toMatchObject({
      loadType: "UNMAPPED",
      invoiceStatus: "MISSING_DATA",
      skippedInvalid: 1,
    });
    expect(await invoiceOf(t, created.invoiceId)).toMatchObject({ amountCents: 0 });
    expect(reportedFields(laneId)).toEqual(["rateCents"]);
    await expectCountersExact(t, ORG_A);
  });

  test("it is skipped as if absent: a wildcard lane prices the load instead", async () => {
    const t = newBackend();
    await insertRawLane(t, { rateCents });
    const spot = await insertRawLane(t, { destination: "*", rateCents: 7_700 });
    const created = await createLoad(t, "L-1");
    expect(created).toMatchObject({ loadType: "SPOT", invoiceStatus: "DRAFT", skippedInvalid: 1 });
    expect(await invoiceOf(t, created.invoiceId)).toMatchObject({
      amountCents: 7_700,
      laneId: spot,
    });
    await expectCountersExact(t, ORG_A);
  });

  test("checkAndPromoteLoad: not promoted, nothing written, the lane counted", async () => {
    const t = newBackend();
    const { loadId, invoiceId } = await createLoad(t, "L-1");
    await insertRawLane(t, { rateCents });
    const result = await member(t, ORG_A).mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId,
    });
    expect(result).toEqual({ promoted: false, loadType: "UNMAPPED", skippedInvalid: 1 });
    expect(await invoiceOf(t, invoiceId)).toMatchObject({
      status: "MISSING_DATA",
      amountCents: 0,
    });
    await expectCountersExact(t, ORG_A);
  });

  test("a FourKites batch imports every shipment; the one on the bad lane is reported", async () => {
    const t = newBackend();
    await insertRawLane(t, { rateCents });
    await insertRawLane(t, { origin: CHICAGO, destination: MEMPHIS, rateCents: 3_300 });
    const at = Date.now() - MINUTE;
    const onBad = makeShipment(1, at);
    const onGood = makeShipment(2, at, "Delivered", (s) => {
      Object.assign(s.stops[0], CHICAGO);
      Object.assign(s.stops[1], MEMPHIS);
    });
    const unmapped = makeShipment(3, at, "InTransit", (s) => {
      Object.assign(s.stops[1], CHICAGO);
    });
    const batch = await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments: [onBad, onGood, unmapped].map((s) => JSON.stringify(s)),
    });
    expect(batch).toMatchObject({ created: 3, withSkippedInvalid: 1 });
    expect(batch.results.map((r) => [r.loadType, r.skippedInvalid])).toEqual([
      ["UNMAPPED", 1],
      ["CONTRACT", undefined],
      ["UNMAPPED", undefined],
    ]);
    await expectCountersExact(t, ORG_A);
    // The next page of the sync goes through too (a later shipment on the same lane).
    const next = await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments: [JSON.stringify(makeShipment(4, at))],
    });
    expect(next).toMatchObject({ created: 1, withSkippedInvalid: 1 });
  });

  test("a scheduled FourKites sync over a real HTTP listing imports every page", async () => {
    const t = newBackend();
    await insertRawLane(t, { rateCents });
    const tenant = `bad-rate-${String(rateCents)}`;
    const auth = { kind: "apikey" as const, apiKey: "k" };
    server().tenants.set(tenant, {
      auth,
      shape: "array",
      withTotal: false,
      // Every shipment is on the bad Dallas → Atlanta lane, over three pages.
      shipments: makeShipments(230, 70_000, Date.UTC(2024, 4, 2)),
    });
    await createIntegration(t, ORG_A, server().baseUrl(tenant), auth);
    await cronTick(t);
    const [health] = await integrations(t);
    expect(health.lastRun).toMatchObject({
      outcome: "completed",
      counts: { pages: 3, created: 230 },
    });
    const loads = await t.run((ctx) => ctx.db.query("loads").take(1000));
    expect(loads).toHaveLength(230);
    expect(new Set(loads.map((l) => l.loadType))).toEqual(new Set(["UNMAPPED"]));
    await expectCountersExact(t, ORG_A);
  });

  test("the periodic cleanup ends its due backfill instead of failing on every run", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    await seedLoads(t, ORG_A, 3, () => ({ origin: DALLAS, destination: ATLANTA }));
    const laneId = await insertRawLane(t, {
      rateCents,
      // A running backfill whose chain died: its lease ran out a minute ago.
      ...startedBackfill(undefined, NOW - MINUTE - BACKFILL_LEASE_MS),
    });
    const first = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(first).toMatchObject({ lanesRestarted: 0, lanesSkippedInvalid: 1, lanesComplete: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const lane = await laneOf(t, laneId);
    expect(lane?.backfill).toMatchObject({ state: "done", cursor: null });
    expect(lane?.backfillDueAt).toBeUndefined();
    expect(reportedFields(laneId)).toEqual(["rateCents"]);
    // Later cleanups find nothing due.
    vi.setSystemTime(NOW + 2 * BACKFILL_LEASE_MS);
    const later = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(later).toEqual({
      expired: 0,
      expiryComplete: true,
      lanesRestarted: 0,
      lanesComplete: true,
    });
    await expectCountersExact(t, ORG_A);
  });

  test("a scheduled batch of its own backfill ends it (done), promoting nothing", async () => {
    const t = newBackend();
    await seedLoads(t, ORG_A, 3, () => ({ origin: DALLAS, destination: ATLANTA }));
    const laneId = await insertRawLane(t, { rateCents, ...startedBackfill(undefined, NOW) });
    const result = await t.mutation(internal.lanes.continueLaneBackfill, { laneId, runId: 1 });
    expect(result).toEqual({ status: "done", examined: 0, promoted: 0, skippedInvalid: 1 });
    expect((await laneOf(t, laneId))?.backfillDueAt).toBeUndefined();
    await expectCountersExact(t, ORG_A);
  });

  test("another lane's backfill over its loads skips it; a replacement lane is accepted", async () => {
    const t = newBackend();
    const loadIds = await seedLoads(t, ORG_A, 4, () => ({ origin: DALLAS, destination: ATLANTA }));
    const badId = await insertRawLane(t, { rateCents });
    // A wildcard lane's backfill meets the bad exact lane for every load.
    const wildcard = await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: "*",
      rateCents: 9_900,
      effectiveFrom: Date.UTC(2024, 0, 1),
    });
    expect(wildcard).toMatchObject({ promoted: 4, backfillComplete: true, skippedInvalid: 1 });
    await expectCountersExact(t, ORG_A);

    // The fix: a correct lane for the same ends and period. The bad one does not block it.
    const other = await seedLoads(t, ORG_A, 2, (i) => ({
      origin: DALLAS,
      destination: ATLANTA,
      externalLoadId: `LATE-${i}`,
      loadType: "UNMAPPED",
    }));
    const fixed = await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: 12_345,
      effectiveFrom: Date.UTC(2024, 0, 1),
    });
    expect(fixed).toMatchObject({ promoted: 2, skippedInvalid: 1 });
    const priced = await t.run(async (ctx) =>
      Promise.all([...loadIds, ...other].map((id) => ctx.db.get("loads", id))),
    );
    expect(priced.map((l) => l?.laneId)).toEqual([
      ...loadIds.map(() => wildcard.laneId),
      ...other.map(() => fixed.laneId),
    ]);
    expect(reportedFields(badId)).toEqual(["rateCents"]);
    await expectCountersExact(t, ORG_A);
  });
});

/**
 * The other fields that decide what a lane prices, each written around the
 * code. Every lane here is stored under the Dallas → Atlanta key pair (where a
 * Dallas → Atlanta load looks it up) with a valid rate.
 */
const JAN_2024 = Date.UTC(2024, 0, 1);
const BAD_LANES: Array<[string, string, Partial<Doc<"lanes">>]> = [
  ["effectiveFrom NaN", "effectiveFrom", { effectiveFrom: Number.NaN }],
  ["effectiveFrom -Infinity", "effectiveFrom", { effectiveFrom: Number.NEGATIVE_INFINITY }],
  ["effectiveFrom Infinity", "effectiveFrom", { effectiveFrom: Number.POSITIVE_INFINITY }],
  ["effectiveFrom 0", "effectiveFrom", { effectiveFrom: 0 }],
  ["effectiveFrom negative", "effectiveFrom", { effectiveFrom: -86_400_000 }],
  ["effectiveTo NaN", "effectiveTo", { effectiveTo: Number.NaN }],
  ["effectiveTo before effectiveFrom", "effectiveTo", { effectiveTo: JAN_2024 - 1 }],
  ["effectiveTo Infinity", "effectiveTo", { effectiveTo: Number.POSITIVE_INFINITY }],
  ["customerId empty", "customerId", { customerId: "" }],
  ["customerId untrimmed", "customerId", { customerId: " CUST-ACME " }],
  ["customerId too long", "customerId", { customerId: "C".repeat(500) }],
  ["origin with the key separator", "origin.city", { origin: { city: "Dal|las", state: "TX" } }],
  [
    "origin with a control character",
    "origin.city",
    { origin: { city: "Dal\u0007las", state: "TX" } },
  ],
  ["destination untrimmed", "destination.city", { destination: { city: " Atlanta", state: "GA" } }],
  ["an origin whose key is another place's", "originKey", { origin: CHICAGO }],
  ["a wildcard origin under a city key", "originKey", { origin: "*" }],
  ["both ends wildcards", "origin", { origin: "*", destination: "*" }],
];

/** Stores `fields` on a valid Dallas → Atlanta lane, keeping its Dallas → Atlanta keys. */
async function insertBadLane(t: Backend, fields: Partial<Doc<"lanes">>, extra = {}) {
  const laneId = await insertRawLane(t, { rateCents: 4_400, ...extra });
  await t.run((ctx) => ctx.db.patch("lanes", laneId, fields));
  return laneId;
}

describe.each(BAD_LANES)("a lane with %s", (_, field, fields) => {
  test("never prices a load, is reported, and its due backfill ends", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    const laneId = await insertBadLane(
      t,
      fields,
      startedBackfill(undefined, NOW - 2 * BACKFILL_LEASE_MS),
    );
    const created = await createLoad(t, "L-1", { pickupAt: NOW });
    expect(created).toMatchObject({ loadType: "UNMAPPED", skippedInvalid: 1 });
    const promoted = await member(t, ORG_A).mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId: created.loadId,
    });
    expect(promoted).toEqual({ promoted: false, loadType: "UNMAPPED", skippedInvalid: 1 });
    expect(reportedFields(laneId)).toContain(field);
    const cleanup = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(cleanup).toMatchObject({ lanesRestarted: 0, lanesSkippedInvalid: 1 });
    expect((await laneOf(t, laneId))?.backfillDueAt).toBeUndefined();
    await expectCountersExact(t, ORG_A);
  });
});

test("a lane stored under keys no load has (lower-case) is never due again after one cleanup", async () => {
  vi.useFakeTimers({ now: NOW });
  const t = newBackend();
  const laneId = await insertRawLane(t, startedBackfill(undefined, NOW - 2 * BACKFILL_LEASE_MS));
  await t.run((ctx) => ctx.db.patch("lanes", laneId, { originKey: "dallas|tx" }));
  const created = await createLoad(t, "L-1");
  expect(created).toMatchObject({ loadType: "UNMAPPED" });
  const cleanup = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
  expect(cleanup).toMatchObject({ lanesSkippedInvalid: 1 });
  expect(reportedFields(laneId)).toEqual(["originKey"]);
});

/** Backfill states the code would not write, on an otherwise valid lane. */
const BAD_RUN_IDS = [
  ["NaN", Number.NaN],
  ["0", 0],
  ["-3", -3],
  ["1.5", 1.5],
  ["Infinity", Number.POSITIVE_INFINITY],
] as const;

describe("backfill state", () => {
  async function laneWithDeadBackfill(t: Backend, backfill: Partial<Doc<"lanes">["backfill"]>) {
    const started = startedBackfill(undefined, NOW - MINUTE - BACKFILL_LEASE_MS);
    return await insertRawLane(t, {
      rateCents: 6_600,
      backfill: { ...started.backfill, ...backfill },
      backfillDueAt: started.backfillDueAt,
    });
  }

  test.each(BAD_RUN_IDS)(
    "a run id of %s: the cleanup restarts it as run 1 and the backfill finishes",
    async (_, runId) => {
      vi.useFakeTimers({ now: NOW });
      const t = newBackend();
      await seedLoads(t, ORG_A, 5, () => ({ origin: DALLAS, destination: ATLANTA }));
      const laneId = await laneWithDeadBackfill(t, { runId });
      const cleanup = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
      expect(cleanup).toMatchObject({ lanesRestarted: 1 });
      expect(reportedFields(laneId)).toEqual(["backfill.runId"]);
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      const lane = await laneOf(t, laneId);
      expect(lane?.backfill).toMatchObject({ runId: 1, state: "done", promoted: 5 });
      expect(lane?.backfillDueAt).toBeUndefined();
      await expectCountersExact(t, ORG_A);
    },
  );

  test.each([
    ["batches", { batches: Number.NaN }],
    ["examined", { examined: -1 }],
    ["promoted", { promoted: 2.5 }],
    ["startedAt", { startedAt: Number.NaN }],
  ])("a %s the code would not write: the next batch restarts it from 0", async (name, state) => {
    const t = newBackend();
    await seedLoads(t, ORG_A, 3, () => ({ origin: DALLAS, destination: ATLANTA }));
    const laneId = await laneWithDeadBackfill(t, state);
    const result = await t.mutation(internal.lanes.continueLaneBackfill, { laneId, runId: 1 });
    expect(result).toEqual({ status: "done", examined: 3, promoted: 3, skippedInvalid: 1 });
    const lane = await laneOf(t, laneId);
    const { batches, examined, promoted, startedAt } = lane?.backfill ?? {};
    for (const n of [batches, examined, promoted]) expect(Number.isSafeInteger(n)).toBe(true);
    expect(Number.isFinite(startedAt)).toBe(true);
    expect(reportedFields(laneId)).toEqual([`backfill.${name}`]);
  });

  test.each([
    ["-1", -1],
    ["-Infinity", Number.NEGATIVE_INFINITY],
  ])("a due time of %s is due now: the cleanup restarts it", async (_, backfillDueAt) => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    await seedLoads(t, ORG_A, 2, () => ({ origin: DALLAS, destination: ATLANTA }));
    const laneId = await insertRawLane(t, { rateCents: 6_600, backfillDueAt });
    expect(await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {})).toMatchObject({
      lanesRestarted: 1,
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await laneOf(t, laneId))?.backfill).toMatchObject({ state: "done", promoted: 2 });
  });

  test("a cursor the code did not write fails one batch; the lease restart starts over", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    await seedLoads(t, ORG_A, 3, () => ({ origin: DALLAS, destination: ATLANTA }));
    const started = startedBackfill(undefined, NOW);
    const laneId = await insertRawLane(t, {
      rateCents: 6_600,
      ...started,
      backfill: { ...started.backfill, cursor: "not a cursor" },
    });
    await expect(
      t.mutation(internal.lanes.continueLaneBackfill, { laneId, runId: 1 }),
    ).rejects.toThrow();
    vi.setSystemTime(NOW + BACKFILL_LEASE_MS + MINUTE);
    expect(await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {})).toMatchObject({
      lanesRestarted: 1,
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await laneOf(t, laneId))?.backfill).toMatchObject({
      runId: 2,
      state: "done",
      promoted: 3,
    });
    await expectCountersExact(t, ORG_A);
  });
});
