/**
 * Lanes: creation and backfill (exact and wildcard, customers, effective
 * dates, scheduled batches), rejected lanes, authorization, the backfill of
 * a deleted org, and the backfill's I/O (reads grow with the matches).
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { BACKFILL_BATCH_SIZE, startedBackfill } from "../convex/model/lanes/backfill";
import { deleteOrganization } from "../convex/model/organizations/lifecycle";
import { seedLoads } from "./support/seed";
import {
  type Accessor,
  type Backend,
  biller,
  expectCountersExact,
  expectRejected,
  measureMutation,
  member,
  newBackend,
  ORG_A,
  ORG_B,
  DALLAS,
  ATLANTA,
  CHICAGO,
  insertRawLane,
} from "./support/setup";

const DENVER = { city: "Denver", state: "CO" };
const PHOENIX = { city: "Phoenix", state: "AZ" };
const JAN_2024 = Date.UTC(2024, 0, 1);

afterEach(() => {
  vi.useRealTimers();
});

type Loc = { city: string; state: string };

function load(
  externalLoadId: string,
  origin: Loc,
  destination: Loc,
  extra: { customerId?: string; pickupAt?: number } = {},
) {
  return { workosOrgId: ORG_A, externalLoadId, origin, destination, ...extra };
}

function lane(origin: Loc | "*", destination: Loc | "*", rateCents: number, extra = {}) {
  return { workosOrgId: ORG_A, origin, destination, rateCents, effectiveFrom: JAN_2024, ...extra };
}

async function loadAndInvoice(t: Backend, loadId: Id<"loads">) {
  return await t.run(async (ctx) => {
    const doc = await ctx.db.get("loads", loadId);
    const invoices = await ctx.db
      .query("invoices")
      .withIndex("by_load_and_status", (q) => q.eq("loadId", loadId))
      .collect();
    return { load: doc, invoices };
  });
}

describe("createLaneAndBackfill", () => {
  test("an exact lane promotes the org's matching unmapped loads to CONTRACT", async () => {
    const t = newBackend();
    const a = biller(t, ORG_A);
    const match1 = await a.mutation(api.loads.createLoad, load("L-1", DALLAS, ATLANTA));
    // Keys are normalized: spacing and case do not matter.
    const match2 = await a.mutation(
      api.loads.createLoad,
      load("L-2", { city: " dallas ", state: "tx" }, { city: "ATLANTA", state: "Ga" }),
    );
    const reverse = await a.mutation(api.loads.createLoad, load("L-3", ATLANTA, DALLAS));
    const other = await a.mutation(api.loads.createLoad, load("L-4", CHICAGO, DENVER));
    const otherOrg = await member(t, ORG_B).mutation(api.loads.createLoad, {
      ...load("L-1", DALLAS, ATLANTA),
      workosOrgId: ORG_B,
    });
    await expectCountersExact(t, ORG_A);

    const result = await a.mutation(
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 150_000),
    );
    expect(result).toMatchObject({ examined: 2, promoted: 2, backfillComplete: true });
    for (const { loadId } of [match1, match2]) {
      const { load: doc, invoices } = await loadAndInvoice(t, loadId);
      expect(doc).toMatchObject({ loadType: "CONTRACT", laneId: result.laneId });
      expect(invoices).toHaveLength(1);
      expect(invoices[0]).toMatchObject({
        status: "DRAFT",
        amountCents: 150_000,
        laneId: result.laneId,
      });
    }
    for (const { loadId } of [reverse, other, otherOrg]) {
      const { load: doc, invoices } = await loadAndInvoice(t, loadId);
      expect(doc?.loadType).toBe("UNMAPPED");
      expect(invoices[0]).toMatchObject({ status: "MISSING_DATA", amountCents: 0 });
    }
    const stored = await t.run((ctx) => ctx.db.get("lanes", result.laneId));
    expect(stored).toMatchObject({
      originKey: "DALLAS|TX",
      destinationKey: "ATLANTA|GA",
      backfill: { state: "done", promoted: 2, examined: 2, batches: 1, cursor: null },
    });
    expect(stored?.backfillDueAt).toBeUndefined();
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);

    // A load created after the lane is priced at creation.
    const later = await a.mutation(api.loads.createLoad, load("L-5", DALLAS, ATLANTA));
    expect(later).toMatchObject({ loadType: "CONTRACT", invoiceStatus: "DRAFT" });
    await expectCountersExact(t, ORG_A);
  });

  test("wildcard lanes give SPOT; an exact lane wins over a wildcard for new loads", async () => {
    const t = newBackend();
    const a = biller(t, ORG_A);
    const fromChicago = await a.mutation(api.loads.createLoad, load("L-1", CHICAGO, DENVER));
    const toDenver = await a.mutation(api.loads.createLoad, load("L-2", PHOENIX, DENVER));
    const unrelated = await a.mutation(api.loads.createLoad, load("L-3", PHOENIX, ATLANTA));

    const originLane = await a.mutation(
      api.lanes.createLaneAndBackfill,
      lane(CHICAGO, "*", 90_000),
    );
    expect(originLane).toMatchObject({ promoted: 1 });
    const destLane = await a.mutation(api.lanes.createLaneAndBackfill, lane("*", DENVER, 80_000));
    // Chicago → Denver is no longer unmapped; only Phoenix → Denver is left for `* → Denver`.
    expect(destLane).toMatchObject({ examined: 1, promoted: 1 });

    expect((await loadAndInvoice(t, fromChicago.loadId)).load).toMatchObject({
      loadType: "SPOT",
      laneId: originLane.laneId,
    });
    const spot = await loadAndInvoice(t, toDenver.loadId);
    expect(spot.load).toMatchObject({ loadType: "SPOT", laneId: destLane.laneId });
    expect(spot.invoices[0]).toMatchObject({ status: "DRAFT", amountCents: 80_000 });
    expect((await loadAndInvoice(t, unrelated.loadId)).load?.loadType).toBe("UNMAPPED");

    const exact = await a.mutation(api.lanes.createLaneAndBackfill, lane(CHICAGO, DENVER, 120_000));
    // Promotion only prices unmapped loads; the SPOT load keeps its rate.
    expect(exact).toMatchObject({ examined: 0, promoted: 0 });
    const next = await a.mutation(api.loads.createLoad, load("L-4", CHICAGO, DENVER));
    expect(next.loadType).toBe("CONTRACT");
    const nextInvoice = await t.run((ctx) => ctx.db.get("invoices", next.invoiceId));
    expect(nextInvoice?.amountCents).toBe(120_000);
    await expectCountersExact(t, ORG_A);
  });

  test("customer lanes and effective dates decide which loads a lane prices", async () => {
    const t = newBackend();
    const a = biller(t, ORG_A);
    const may1 = Date.UTC(2024, 4, 1);
    const june1 = Date.UTC(2024, 5, 1);
    const acmeMay = await a.mutation(
      api.loads.createLoad,
      load("L-1", DALLAS, ATLANTA, { customerId: "ACME", pickupAt: may1 }),
    );
    const otherMay = await a.mutation(
      api.loads.createLoad,
      load("L-2", DALLAS, ATLANTA, { customerId: "GLOBEX", pickupAt: may1 }),
    );
    const acmeJune = await a.mutation(
      api.loads.createLoad,
      load("L-3", DALLAS, ATLANTA, { customerId: "ACME", pickupAt: june1 }),
    );
    // ACME's May lane: [Apr 1, Jun 1).
    const acmeLane = await a.mutation(
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 100_000, {
        customerId: "ACME",
        effectiveFrom: Date.UTC(2024, 3, 1),
        effectiveTo: june1,
      }),
    );
    expect(acmeLane).toMatchObject({ examined: 3, promoted: 1, backfillComplete: true });
    expect((await loadAndInvoice(t, acmeMay.loadId)).load?.loadType).toBe("CONTRACT");
    expect((await loadAndInvoice(t, otherMay.loadId)).load?.loadType).toBe("UNMAPPED");
    expect((await loadAndInvoice(t, acmeJune.loadId)).load?.loadType).toBe("UNMAPPED");

    // A general lane for everyone else; the customer lane still wins for ACME in May.
    const general = await a.mutation(
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 110_000),
    );
    expect(general).toMatchObject({ examined: 2, promoted: 2 });
    const june = await loadAndInvoice(t, acmeJune.loadId);
    expect(june.load?.laneId).toBe(general.laneId);
    expect(june.invoices[0].amountCents).toBe(110_000);
    const acmeAgain = await a.mutation(
      api.loads.createLoad,
      load("L-4", DALLAS, ATLANTA, { customerId: "ACME", pickupAt: may1 + 1 }),
    );
    const acmeInvoice = await t.run((ctx) => ctx.db.get("invoices", acmeAgain.invoiceId));
    expect(acmeInvoice?.amountCents).toBe(100_000);
    await expectCountersExact(t, ORG_A);
  });

  test("batches progress past loads no lane applies to, and stay bounded", async () => {
    const t = newBackend();
    // 40 unmapped Dallas → Atlanta loads; only every 4th is ACME's.
    await seedLoads(t, ORG_A, 40, (i) => ({
      origin: DALLAS,
      destination: ATLANTA,
      customerId: i % 4 === 0 ? "ACME" : `OTHER-${i}`,
    }));
    const now = Date.now();
    const laneId = await insertRawLane(t, {
      customerId: "ACME",
      rateCents: 70_000,
      effectiveFrom: JAN_2024,
      ...startedBackfill(undefined, now),
      backfillDueAt: now + 60_000,
    });
    vi.useFakeTimers();
    const batches = [];
    for (let i = 0; i < 10; i++) {
      const r = await t.mutation(internal.lanes.continueLaneBackfill, {
        laneId,
        runId: 1,
        batchSize: 7,
      });
      batches.push(r);
      if (r.status !== "running") break;
    }
    expect(batches.every((b) => b.examined <= 7)).toBe(true);
    expect(batches.reduce((s, b) => s + b.examined, 0)).toBe(40);
    expect(batches.reduce((s, b) => s + b.promoted, 0)).toBe(10);
    expect(batches.at(-1)?.status).toBe("done");
    expect(batches).toHaveLength(6);
    // An old or repeated batch is a no-op.
    expect(
      await t.mutation(internal.lanes.continueLaneBackfill, { laneId, runId: 1 }),
    ).toMatchObject({ status: "stale", examined: 0 });
    await expectCountersExact(t, ORG_A);
  });

  test("a large backfill continues in scheduled batches and keeps counters exact", async () => {
    vi.useFakeTimers();
    const t = newBackend();
    const m = 2 * BACKFILL_BATCH_SIZE + 50;
    await seedLoads(t, ORG_A, m + 30, (i) => ({
      origin: DALLAS,
      destination: i < m ? ATLANTA : DENVER,
      status: i % 3 === 0 ? "Assigned" : "Open",
    }));
    await expectCountersExact(t, ORG_A);
    const a = biller(t, ORG_A);
    const result = await a.mutation(api.lanes.createLaneAndBackfill, lane(DALLAS, ATLANTA, 99_00));
    expect(result).toMatchObject({ promoted: BACKFILL_BATCH_SIZE, backfillComplete: false });
    await expectCountersExact(t, ORG_A);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const stored = await t.run((ctx) => ctx.db.get("lanes", result.laneId));
    expect(stored?.backfill).toMatchObject({ state: "done", promoted: m, batches: 3 });
    const counts = await a.query(api.invoices.countInvoicesByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(counts.counts).toMatchObject({ DRAFT: m, MISSING_DATA: 30 });
    expect(counts.amountCents.DRAFT).toBe(m * 99_00);
    await expectCountersExact(t, ORG_A);
  });

  const BAD_LANES: Array<[string, ReturnType<typeof lane>]> = [
    ["* → *", lane("*", "*", 100)],
    ["zero rate", lane(DALLAS, DENVER, 0)],
    ["fractional cents", lane(DALLAS, DENVER, 100.5)],
    ["huge rate", lane(DALLAS, DENVER, 1e12)],
    ["empty city", lane({ city: " ", state: "TX" }, DENVER, 100)],
    ["end before start", lane(DALLAS, DENVER, 100, { effectiveTo: JAN_2024 - 1 })],
    ["negative start", lane(DALLAS, DENVER, 100, { effectiveFrom: -5 })],
    ["long customer id", lane(DALLAS, DENVER, 100, { customerId: "c".repeat(200) })],
  ];

  test.each(BAD_LANES)("a bad lane is rejected and writes nothing: %s", async (_name, args) => {
    const t = newBackend();
    const a = biller(t, ORG_A);
    await expectRejected(
      t,
      () => a.mutation(api.lanes.createLaneAndBackfill, args),
      "INVALID_ARGUMENT",
    );
  });

  test("duplicates and bad lanes are rejected and write nothing", async () => {
    const t = newBackend();
    const a = biller(t, ORG_A);
    await a.mutation(
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 100_000, { effectiveTo: Date.UTC(2025, 0, 1) }),
    );
    await expectRejected(
      t,
      () => a.mutation(api.lanes.createLaneAndBackfill, lane(DALLAS, ATLANTA, 120_000)),
      "ALREADY_EXISTS",
    );
    // Same lane spelled differently is the same lane.
    await expectRejected(
      t,
      () =>
        a.mutation(
          api.lanes.createLaneAndBackfill,
          lane({ city: "DALLAS ", state: "tx" }, { city: "atlanta", state: "GA" }, 1),
        ),
      "ALREADY_EXISTS",
    );
    // Adjacent periods, another customer, or another org are not duplicates.
    await a.mutation(
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 105_000, { effectiveFrom: Date.UTC(2025, 0, 1) }),
    );
    await a.mutation(
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 95_000, { customerId: "ACME" }),
    );
    await biller(t, ORG_B).mutation(api.lanes.createLaneAndBackfill, {
      ...lane(DALLAS, ATLANTA, 100_000),
      workosOrgId: ORG_B,
    });
  });

  test("needs the billing permission and an org that is not deleted", async () => {
    const t = newBackend();
    const loadId = (
      await biller(t, ORG_A).mutation(api.loads.createLoad, load("L-1", DALLAS, ATLANTA))
    ).loadId;
    const create = (who: Accessor) =>
      who.mutation(api.lanes.createLaneAndBackfill, lane(DALLAS, ATLANTA, 100_000));
    // A member without the permission: refused, no lane, the load stays unmapped.
    await expectRejected(t, () => create(member(t, ORG_A)), "MISSING_PERMISSION");
    await expectRejected(t, () => create(member(t, ORG_A, ["loads:write"])), "MISSING_PERMISSION");
    expect((await loadAndInvoice(t, loadId)).load?.loadType).toBe("UNMAPPED");

    // A deleted org: refused even by a biller, whether or not a load would be promoted.
    await t.run((ctx) =>
      deleteOrganization(ctx, { workosOrgId: ORG_A, name: "A", workosUpdatedAt: 1 }, 1),
    );
    await expectRejected(t, () => create(biller(t, ORG_A)), "ORG_DELETED");
    await expectRejected(
      t,
      () => biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, lane(CHICAGO, "*", 5_000)),
      "ORG_DELETED",
    );
  });

  test("rejects no identity and another org's identity", async () => {
    const t = newBackend();
    const call = (who: Accessor) =>
      who.mutation(api.lanes.createLaneAndBackfill, lane(DALLAS, ATLANTA, 100));
    await expectRejected(t, () => call(t), "UNAUTHENTICATED");
    await expectRejected(t, () => call(biller(t, ORG_B)), "ORG_MISMATCH");
    await expectRejected(t, () => call(t.withIdentity({ subject: "u" })), "ORG_MISMATCH");
  });
});

describe("continueLaneBackfill", () => {
  test("for a deleted org it abandons the backfill quietly; the cleanup does not restart it", async () => {
    vi.useFakeTimers();
    const t = newBackend();
    const loadIds = await seedLoads(t, ORG_A, 5, () => ({ origin: DALLAS, destination: ATLANTA }));
    const now = Date.now();
    // A running backfill whose lease ran out (its chain died), as the cleanup finds it.
    const laneId = await insertRawLane(t, {
      rateCents: 70_000,
      effectiveFrom: JAN_2024,
      ...startedBackfill(undefined, now - 60_000),
      backfillDueAt: now - 1,
    });
    await t.run((ctx) =>
      deleteOrganization(ctx, { workosOrgId: ORG_A, name: "A", workosUpdatedAt: 1 }, now),
    );
    const cleanup = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(cleanup.lanesRestarted).toBe(1);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const stored = await t.run((ctx) => ctx.db.get("lanes", laneId));
    expect(stored?.backfill).toMatchObject({ runId: 2, state: "done", promoted: 0 });
    expect(stored?.backfillDueAt).toBeUndefined();
    for (const id of loadIds) {
      expect((await loadAndInvoice(t, id)).load?.loadType).toBe("UNMAPPED");
    }
    await expectCountersExact(t, ORG_A);
    // Nothing is due any more, and an old batch of the run is a no-op.
    expect((await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {})).lanesRestarted).toBe(
      0,
    );
    expect(
      await t.mutation(internal.lanes.continueLaneBackfill, { laneId, runId: 2 }),
    ).toMatchObject({ status: "stale", examined: 0, promoted: 0 });
  });
});

describe("createLaneAndBackfill: I/O", () => {
  const N = 5000;

  /** An org of `n` loads, `m` of them unmapped Dallas → Atlanta, the rest spread out. */
  async function bigOrg(t: Backend, n: number, m: number) {
    const others = [CHICAGO, DENVER, PHOENIX, ATLANTA];
    await seedLoads(t, ORG_A, n, (i) => {
      if (i % Math.floor(n / m) === 0 && i / Math.floor(n / m) < m) {
        return { origin: DALLAS, destination: ATLANTA };
      }
      const destination = others[i % others.length];
      const mapped = i % 2 === 0;
      return {
        origin: i % 5 === 0 ? DALLAS : CHICAGO,
        destination: destination === ATLANTA && i % 5 === 0 ? DENVER : destination,
        loadType: mapped ? "CONTRACT" : "UNMAPPED",
        status: i % 7 === 0 ? "Completed" : "Open",
      };
    });
  }

  test(`promoting M = 50 of ${N} loads reads < 5·M + 50 documents`, async () => {
    const t = newBackend({ transactionLimits: true });
    const M = 50;
    await bigOrg(t, N, M);
    const { io, result } = await measureMutation(
      biller(t, ORG_A),
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 150_000),
    );
    console.log("[measure] backfill M=50 N=5000", io);
    expect(result).toMatchObject({ promoted: M, examined: M, backfillComplete: true });
    expect(io.documentsRead).toBeLessThan(5 * M + 50);
    // Each promotion writes the load and its invoice; plus the lane (insert +
    // progress) and the invoices stats row once (a promotion does not change a
    // load's status, so the loads row is not touched); and the new lane's
    // all-time facet document once: the loads move into it (these have no
    // pickup, so no year document; docs/filtered-counts.md).
    expect(io.documentsWritten).toBe(2 * M + 2 + 1 + 1);
    await expectCountersExact(t, ORG_A);

    // The same M in an org a tenth the size reads the same: cost follows M, not N.
    const small = newBackend({ transactionLimits: true });
    await bigOrg(small, N / 10, M);
    const { io: smallIo } = await measureMutation(
      biller(small, ORG_A),
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 150_000),
    );
    expect(smallIo.documentsRead).toBe(io.documentsRead);
  });

  test(`promoting M = 150 of ${N} loads over several batches reads < 5·M + 50 in total`, async () => {
    vi.useFakeTimers();
    const t = newBackend({ transactionLimits: true });
    const M = 150;
    await bigOrg(t, N, M);
    const first = await measureMutation(
      biller(t, ORG_A),
      api.lanes.createLaneAndBackfill,
      lane(DALLAS, ATLANTA, 150_000),
    );
    expect(first.result).toMatchObject({ promoted: BACKFILL_BATCH_SIZE, backfillComplete: false });
    // Run the continuation by hand (the scheduled copy then finds nothing to do).
    let read = first.io.documentsRead;
    let batches = 1;
    for (;;) {
      const next = await measureMutation(t, internal.lanes.continueLaneBackfill, {
        laneId: first.result.laneId,
        runId: 1,
      });
      read += next.io.documentsRead;
      batches++;
      if (next.result.status !== "running") break;
    }
    console.log("[measure] backfill M=150 N=5000", { batches, documentsRead: read });
    expect(batches).toBe(2);
    expect(read).toBeLessThan(5 * M + 50);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectCountersExact(t, ORG_A);
  });
});
