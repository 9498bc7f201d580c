/**
 * Lazy promotion and the periodic cleanup: promoting one load, expiring
 * stale Open loads (grace period, batches, deleted orgs), restarting due lane
 * backfills, and the idle cleanup's I/O.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { DEFAULT_EXPIRY_GRACE_MS, EXPIRY_BATCH_SIZE } from "../convex/model/loads/expiry";
import { BACKFILL_LEASE_MS, startedBackfill } from "../convex/model/lanes/backfill";
import { deleteOrganization } from "../convex/model/organizations/lifecycle";
import { seedLoads } from "./support/seed";
import {
  type Backend,
  biller,
  dump,
  expectCountersExact,
  expectRejected,
  measureMutation,
  member,
  newBackend,
  ORG_A,
  ORG_B,
  storedCounters,
  DALLAS,
  ATLANTA,
  insertRawLane,
} from "./support/setup";

const DENVER = { city: "Denver", state: "CO" };
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2024, 5, 15, 12);

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe("checkAndPromoteLoad", () => {
  test("promotes an unmapped load once a lane matches, otherwise does nothing", async () => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const { loadId } = await a.mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "L-1",
      origin: DALLAS,
      destination: ATLANTA,
    });
    const before = await dump(t);
    const none = await measureMutation(a, api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId,
    });
    expect(none.result).toEqual({ promoted: false, loadType: "UNMAPPED" });
    expect(none.io.documentsWritten).toBe(0);
    expect(await dump(t)).toEqual(before);

    const laneId = await insertRawLane(t);
    const first = await a.mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId,
    });
    expect(first).toEqual({ promoted: true, loadType: "CONTRACT", laneId });
    const invoices = await t.run((ctx) =>
      ctx.db
        .query("invoices")
        .withIndex("by_load_and_status", (q) => q.eq("loadId", loadId))
        .collect(),
    );
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ status: "DRAFT", amountCents: 50_000, laneId });
    await expectCountersExact(t, ORG_A);

    const again = await measureMutation(a, api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId,
    });
    expect(again.result).toEqual({ promoted: false, loadType: "CONTRACT", laneId });
    expect(again.io.documentsWritten).toBe(0);
  });

  test("checks the caller and the load's org", async () => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const { loadId } = await a.mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "L-1",
      origin: DALLAS,
      destination: ATLANTA,
    });
    await insertRawLane(t);
    const args = { workosOrgId: ORG_A, loadId };
    await expectRejected(
      t,
      () => t.mutation(api.lazyLoadPromotion.checkAndPromoteLoad, args),
      "UNAUTHENTICATED",
    );
    const b = member(t, ORG_B);
    await expectRejected(
      t,
      () => b.mutation(api.lazyLoadPromotion.checkAndPromoteLoad, args),
      "ORG_MISMATCH",
    );
    await expectRejected(
      t,
      () => b.mutation(api.lazyLoadPromotion.checkAndPromoteLoad, { ...args, workosOrgId: ORG_B }),
      "NOT_FOUND",
    );
  });
});

describe("periodicCleanup: expiry", () => {
  async function seedPickups(t: Backend) {
    const specs = [
      { key: "stale", status: "Open" as const, pickupAt: NOW - 3 * DAY },
      { key: "inGrace", status: "Open" as const, pickupAt: NOW - HOUR },
      { key: "future", status: "Open" as const, pickupAt: NOW + DAY },
      { key: "noPickup", status: "Open" as const, pickupAt: undefined },
      { key: "assigned", status: "Assigned" as const, pickupAt: NOW - 3 * DAY },
    ];
    const ids = await seedLoads(t, ORG_A, specs.length, (i) => ({
      origin: DALLAS,
      destination: DENVER,
      status: specs[i].status,
      pickupAt: specs[i].pickupAt,
    }));
    return Object.fromEntries(specs.map((s, i) => [s.key, ids[i]]));
  }

  async function statusOf(t: Backend, id: Id<"loads">) {
    return (await t.run((ctx) => ctx.db.get("loads", id)))?.status;
  }

  test("expires Open loads whose pickup passed more than the grace period ago", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    const ids = await seedPickups(t);
    const result = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(result).toEqual({
      expired: 1,
      expiryComplete: true,
      lanesRestarted: 0,
      lanesComplete: true,
    });
    expect(await statusOf(t, ids.stale)).toBe("Expired");
    for (const key of ["inGrace", "future", "noPickup"]) {
      expect(await statusOf(t, ids[key])).toBe("Open");
    }
    expect(await statusOf(t, ids.assigned)).toBe("Assigned");
    await expectCountersExact(t, ORG_A);
    const { loads } = await storedCounters(t, ORG_A);
    expect(loads?.counts).toMatchObject({ Open: 3, Expired: 1, Assigned: 1 });

    // A shorter grace (argument) reaches the load picked up an hour ago.
    await t.mutation(internal.lazyLoadPromotion.periodicCleanup, { graceMs: HOUR / 2 });
    expect(await statusOf(t, ids.inGrace)).toBe("Expired");
    expect(await statusOf(t, ids.noPickup)).toBe("Open");
    await expectCountersExact(t, ORG_A);
  });

  test("the grace period can come from LOAD_EXPIRY_GRACE_HOURS", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    const ids = await seedPickups(t);
    vi.stubEnv("LOAD_EXPIRY_GRACE_HOURS", "0.5");
    const result = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(result.expired).toBe(2);
    expect(await statusOf(t, ids.inGrace)).toBe("Expired");
    vi.stubEnv("LOAD_EXPIRY_GRACE_HOURS", "soon");
    await expect(t.mutation(internal.lazyLoadPromotion.periodicCleanup, {})).rejects.toThrow(
      /LOAD_EXPIRY_GRACE_HOURS/,
    );
    await expectRejected(
      t,
      () => t.mutation(internal.lazyLoadPromotion.periodicCleanup, { graceMs: -1 }),
      "INVALID_ARGUMENT",
    );
    expect(DEFAULT_EXPIRY_GRACE_MS).toBe(DAY);
  });

  test("many stale loads across orgs expire in scheduled batches; counters stay exact", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    const perOrg = EXPIRY_BATCH_SIZE + 30;
    for (const org of [ORG_A, ORG_B]) {
      await seedLoads(t, org, perOrg + 10, (i) => ({
        origin: DALLAS,
        destination: DENVER,
        pickupAt: i < perOrg ? NOW - 2 * DAY - i * HOUR : NOW + DAY,
      }));
    }
    const first = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(first).toMatchObject({ expired: EXPIRY_BATCH_SIZE, expiryComplete: false });
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    for (const org of [ORG_A, ORG_B]) {
      const { loads } = await storedCounters(t, org);
      expect(loads?.counts).toMatchObject({ Open: 10, Expired: perOrg });
      await expectCountersExact(t, org);
    }
  });

  test("a deleted org's backlog of stale loads is expired once; later idle runs read ≤ 10", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend({ transactionLimits: true });
    const backlog = 1000;
    await seedLoads(t, ORG_A, 3, () => ({
      origin: DALLAS,
      destination: DENVER,
      pickupAt: NOW - 2 * DAY,
    }));
    await seedLoads(t, ORG_B, backlog, (i) => ({
      origin: DALLAS,
      destination: DENVER,
      pickupAt: NOW - 2 * DAY - i * 1000,
    }));
    await t.run((ctx) =>
      deleteOrganization(ctx, { workosOrgId: ORG_B, name: "B", workosUpdatedAt: 1 }, NOW),
    );

    const first = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(first).toMatchObject({ expired: EXPIRY_BATCH_SIZE, expiryComplete: false });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const { loads } = await storedCounters(t, ORG_B);
    expect(loads).toMatchObject({ orgDeleted: true, exact: true });
    expect(loads?.counts).toMatchObject({ Open: 0, Expired: backlog });
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);

    const idle = await measureMutation(t, internal.lazyLoadPromotion.periodicCleanup, {});
    console.log("[measure] periodicCleanup idle after a deleted org's backlog", idle.io);
    expect(idle.result).toMatchObject({ expired: 0, expiryComplete: true });
    expect(idle.io.documentsRead).toBeLessThanOrEqual(10);
    expect(idle.io.documentsWritten).toBe(0);

    // The deleted org's public functions still refuse.
    await expectRejected(
      t,
      () => member(t, ORG_B).query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_B }),
      "ORG_DELETED",
    );
  });
});

describe("periodicCleanup: catch-up promotion", () => {
  test("restarts a backfill whose chain died and promotes its loads", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    await seedLoads(t, ORG_A, 12, (i) => ({
      origin: DALLAS,
      destination: i < 9 ? ATLANTA : DENVER,
    }));
    // Lease ran out a minute ago: no batch has run for longer than the lease.
    const laneId = await insertRawLane(t, {
      rateCents: 64_000,
      // A backfill whose lease ran out a minute ago.
      ...startedBackfill(undefined, NOW - 60_000 - BACKFILL_LEASE_MS),
    });
    const result = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(result).toMatchObject({ lanesRestarted: 1, lanesComplete: true, expired: 0 });
    const restarted = await t.run((ctx) => ctx.db.get("lanes", laneId));
    expect(restarted?.backfill).toMatchObject({ runId: 2, state: "running" });
    // A new lease from now (the clock may have ticked a few ms).
    expect(restarted?.backfillDueAt).toBeGreaterThanOrEqual(NOW + BACKFILL_LEASE_MS);
    expect(restarted?.backfillDueAt).toBeLessThan(NOW + BACKFILL_LEASE_MS + 1000);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const done = await t.run((ctx) => ctx.db.get("lanes", laneId));
    expect(done?.backfill).toMatchObject({ runId: 2, state: "done", promoted: 9 });
    expect(done?.backfillDueAt).toBeUndefined();
    const counts = await member(t, ORG_A).query(api.invoices.countInvoicesByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(counts.counts).toMatchObject({ DRAFT: 9, MISSING_DATA: 3 });
    await expectCountersExact(t, ORG_A);
    // Nothing is due any more.
    const again = await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
    expect(again.lanesRestarted).toBe(0);
  });

  test("a lane that starts later prices loads without a pickup time once it is in effect", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend();
    const a = biller(t, ORG_A);
    const noPickup = await a.mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "L-1",
      origin: DALLAS,
      destination: ATLANTA,
    });
    const pickupInEffect = await a.mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "L-2",
      origin: DALLAS,
      destination: ATLANTA,
      pickupAt: NOW + 10 * DAY,
    });
    const startsAt = NOW + 7 * DAY;
    const created = await a.mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: 77_000,
      effectiveFrom: startsAt,
    });
    // Matched at its pickup time, the second load is priced now; the first waits.
    expect(created).toMatchObject({ examined: 2, promoted: 1, backfillComplete: true });
    const lane = await t.run((ctx) => ctx.db.get("lanes", created.laneId));
    expect(lane?.backfillDueAt).toBe(startsAt);
    const loadType = async (id: Id<"loads">) =>
      (await t.run((ctx) => ctx.db.get("loads", id)))?.loadType;
    expect(await loadType(pickupInEffect.loadId)).toBe("CONTRACT");
    expect(await loadType(noPickup.loadId)).toBe("UNMAPPED");

    // Before the start nothing is due.
    expect((await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {})).lanesRestarted).toBe(
      0,
    );
    vi.setSystemTime(startsAt + HOUR);
    expect((await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {})).lanesRestarted).toBe(
      1,
    );
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await loadType(noPickup.loadId)).toBe("CONTRACT");
    expect((await t.run((ctx) => ctx.db.get("lanes", created.laneId)))?.backfillDueAt).toBe(
      undefined,
    );
    await expectCountersExact(t, ORG_A);
  });
});

describe("periodicCleanup: I/O", () => {
  test("with no candidates in an org of 5,000 loads it reads at most 10 documents", async () => {
    vi.useFakeTimers({ now: NOW });
    const t = newBackend({ transactionLimits: true });
    await seedLoads(t, ORG_A, 5000, (i) => ({
      origin: DALLAS,
      destination: i % 2 === 0 ? ATLANTA : DENVER,
      // Open with a future pickup or none, plus old loads that are past Open.
      status: i % 3 === 0 ? "Completed" : i % 3 === 1 ? "Open" : "Expired",
      pickupAt: i % 3 === 1 ? (i % 2 === 0 ? NOW + DAY : undefined) : NOW - 30 * DAY,
    }));
    // Lanes exist, all with finished backfills (nothing due).
    await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: { city: "Austin", state: "TX" },
      destination: "*",
      rateCents: 1000,
    });
    const { io, result } = await measureMutation(t, internal.lazyLoadPromotion.periodicCleanup, {});
    console.log("[measure] periodicCleanup idle, 5000 loads", io);
    expect(result).toEqual({
      expired: 0,
      expiryComplete: true,
      lanesRestarted: 0,
      lanesComplete: true,
    });
    expect(io.documentsRead).toBeLessThanOrEqual(10);
    expect(io.documentsWritten).toBe(0);
  });
});
