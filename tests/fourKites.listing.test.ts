/**
 * A FourKites listing that does not hold still, against a real HTTP server on
 * 127.0.0.1 (tests/support/fourKitesServer.ts): shipments removed, updated
 * (moving in update-time order), added or swapped between the requests of a
 * pass, and a server serving fewer shipments per page than asked, with and
 * without `totalCount`. A pass may only say `completed` when it can stand
 * behind it (`model/fourKites/pass.ts`); otherwise it says `unverified`, the
 * watermark stays, and a later pass imports what it missed: no shipment is
 * lost for good. Also: the daily full pass, and fields the parser does not read.
 */
import { describe, expect, test } from "vitest";
import { internal } from "../convex/_generated/api";
import type { SyncRunResult } from "../convex/model/fourKites/syncRun";
import { fakeFourKitesPerFile, type Tenant } from "./support/fourKitesServer";
import {
  createIntegration,
  integrations,
  passRequests,
  syncEnvPerTest,
} from "./support/fourKitesSync";
import { makeShipment, type ShipmentJson } from "./support/shipmentFixtures";
import {
  expectCountersExact,
  newBackend,
  orgDocuments,
  ORG_A,
  type Backend,
} from "./support/setup";

const server = fakeFourKitesPerFile();
syncEnvPerTest();

const KEY = { kind: "apikey" as const, apiKey: "listing-key" };
const T0 = Date.UTC(2024, 4, 2);
const MINUTE = 60_000;

let seq = 0;
/** A tenant of its own on the shared server, and the org's integration on it. */
async function setUp(
  t: Backend,
  tenant: Omit<Tenant, "auth" | "shape"> & Partial<Tenant>,
  settings: { lookbackMinutes?: number } = {},
) {
  const name = `listing-${++seq}`;
  server().tenants.set(name, { auth: KEY, shape: "data", ...tenant });
  await createIntegration(t, ORG_A, server().baseUrl(name), KEY, settings);
  return name;
}

/** `n` shipments with ids from `firstId`, updated one second apart from `from` (update-time order). */
function listing(n: number, firstId: number, from = T0): ShipmentJson[] {
  return Array.from({ length: n }, (_, i) => makeShipment(firstId + i, from + i * 1000));
}

const ids = (shipments: readonly ShipmentJson[]) => shipments.map((s) => String(s.id));

async function importedIds(t: Backend): Promise<string[]> {
  return (await orgDocuments(t, ORG_A)).loads.map((l) => l.externalLoadId).sort();
}

async function pass(t: Backend): Promise<Extract<SyncRunResult, { runId: string }>> {
  const result = await t.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
  if (result.outcome === "skipped") throw new Error(`skipped: ${result.reason}`);
  return result;
}

/** The kinds and pages of a run's doubts. */
const doubtsOf = (r: { doubts: Array<{ kind: string; page: number }> }) =>
  r.doubts.map((d) => `${d.kind}@${d.page}`);

/** Runs `change` once, just before the first request for page `page`. */
function before(page: number, change: () => void): Tenant["onPage"] {
  let done = false;
  return (request) => {
    if (done || request.page !== page) return;
    done = true;
    change();
  };
}

describe("shipments removed mid-pass (the reproduction: 350, one on page 1 removed before page 3)", () => {
  test.each([true, false])(
    "totalCount %s: unverified, the slid shipment imported, the next pass completes",
    async (withTotal) => {
      const t = newBackend();
      const shipments = listing(350, 1_000_000);
      const everyId = ids(shipments).sort();
      const slid = String(shipments[200].id);
      const name = await setUp(t, {
        withTotal,
        shipments,
        onPage: before(3, () => shipments.splice(10, 1)),
      });
      const first = await pass(t);
      // Page 2 read again after page 3 holds the shipment that slid back onto it.
      expect(first.outcome).toBe("unverified");
      expect(doubtsOf(first)).toEqual(["listing_shifted@2"]);
      expect(await importedIds(t)).toContain(slid);
      // The removed one was imported before it left: nothing is missing.
      expect(await importedIds(t)).toEqual(everyId);
      expect((await integrations(t))[0].watermark).toBeUndefined();
      const requestsBefore = server().requests.length;
      const second = await pass(t);
      expect(second).toMatchObject({ outcome: "completed", doubts: [] });
      expect((await integrations(t))[0].watermark).toEqual(expect.any(Number));
      await expectCountersExact(t, ORG_A);
      // Request cost of the checks: each page once, and each page but the last once more.
      const secondPass = server()
        .requests.slice(requestsBefore)
        .filter((r) => r.tenant === name)
        .map((r) => r.page);
      expect(secondPass).toEqual(passRequests(4));
    },
  );

  test("more than a page removed at once: the pass misses shipments, says so, and the next pass imports them", async () => {
    const t = newBackend();
    const shipments = listing(500, 1_100_000);
    const everyId = ids(shipments);
    await setUp(t, {
      withTotal: true,
      shipments,
      // 150 shipments of pages 1-2 leave before page 4: 50 of page 4's slide back past page 3.
      onPage: before(4, () => shipments.splice(20, 150)),
    });
    const first = await pass(t);
    expect(first.outcome).toBe("unverified");
    expect(doubtsOf(first)).toContain("listing_shifted@3");
    // The 50 that slid from page 4 back onto page 2 were never on a page when it was read.
    const afterFirst = await importedIds(t);
    expect(everyId.filter((id) => !afterFirst.includes(id))).toEqual(everyId.slice(300, 350));
    const second = await pass(t);
    expect(second.outcome).toBe("completed");
    const imported = await importedIds(t);
    // Every shipment still listed is imported (the removed ones were, before they left or not at all).
    expect(ids(shipments).filter((id) => !imported.includes(id))).toEqual([]);
    await expectCountersExact(t, ORG_A);
  });
});

describe("shipments updated mid-pass in update-time order", () => {
  test("the reproduction: 30 updated between pages 2 and 3 move to the end; nothing is lost", async () => {
    const t = newBackend();
    const shipments = listing(350, 1_200_000);
    const everyId = ids(shipments).sort();
    const now = Date.now();
    await setUp(t, {
      withTotal: true,
      shipments,
      onPage: before(3, () => {
        const updated = shipments
          .splice(50, 30)
          .map((s, i) => makeShipment(Number(s.id), now - MINUTE + i * 1000, "Delivered"));
        shipments.push(...updated);
      }),
    });
    const first = await pass(t);
    expect(first.outcome).toBe("unverified");
    expect(doubtsOf(first)).toContain("listing_shifted@2");
    expect(await importedIds(t)).toEqual(everyId);
    const second = await pass(t);
    expect(second.outcome).toBe("completed");
    const { loads } = await orgDocuments(t, ORG_A);
    expect(loads.filter((l) => l.status === "Completed")).toHaveLength(30);
    await expectCountersExact(t, ORG_A);
  });

  test("a later pass that misses recently updated shipments keeps the watermark; the next one imports them", async () => {
    const t = newBackend();
    const shipments = listing(350, 1_300_000);
    // No lookback: a shipment updated between two passes' starts and missed by the second
    // would be older than the third pass's cutoff, were the watermark moved.
    const name = await setUp(t, { withTotal: true, shipments }, { lookbackMinutes: 0 });
    expect((await pass(t)).outcome).toBe("completed");
    const watermark = (await integrations(t))[0].watermark;
    // Updated after the first pass started: 50 shipments, now at the end of the listing.
    const recent = shipments
      .splice(0, 50)
      .map((s) => makeShipment(Number(s.id), Date.now(), "Delivered"));
    shipments.push(...recent);
    await new Promise((r) => setTimeout(r, 5));
    // Mid-pass, 250 more are updated: the 50 slide back past everything read.
    server().tenants.get(name)!.onPage = before(3, () => {
      const at = Date.now();
      const moved = shipments
        .splice(0, 250)
        .map((s) => makeShipment(Number(s.id), at, "Cancelled"));
      shipments.push(...moved);
    });
    const second = await pass(t);
    expect(second.outcome).toBe("unverified");
    const missed = recent.map((s) => String(s.id));
    const statusAfterSecond = new Map(
      (await orgDocuments(t, ORG_A)).loads.map((l) => [l.externalLoadId, l.status]),
    );
    expect(missed.filter((id) => statusAfterSecond.get(id) === "Completed")).toEqual([]);
    expect((await integrations(t))[0].watermark).toBe(watermark);
    const third = await pass(t);
    expect(third.outcome).toBe("completed");
    const status = new Map(
      (await orgDocuments(t, ORG_A)).loads.map((l) => [l.externalLoadId, l.status]),
    );
    for (const s of shipments) {
      expect(status.get(String(s.id))).toBe(
        s.status === "Delivered" ? "Completed" : s.status === "Cancelled" ? "Canceled" : "Assigned",
      );
    }
    await expectCountersExact(t, ORG_A);
  });

  test("descending order: updated shipments move to the front; the pass says so and nothing is lost", async () => {
    const t = newBackend();
    const shipments = listing(300, 1_400_000).reverse();
    const now = Date.now();
    await setUp(t, {
      withTotal: false,
      shipments,
      onPage: before(2, () => {
        const updated = shipments
          .splice(120, 40)
          .map((s, i) => makeShipment(Number(s.id), now - MINUTE + i, "Delivered"));
        shipments.unshift(...updated.reverse());
      }),
    });
    const first = await pass(t);
    expect(first.outcome).toBe("unverified");
    expect(doubtsOf(first)).toEqual(expect.arrayContaining(["listing_shifted@1", "duplicates@2"]));
    expect((await pass(t)).outcome).toBe("completed");
    const { loads } = await orgDocuments(t, ORG_A);
    expect(loads).toHaveLength(300);
    expect(loads.filter((l) => l.status === "Completed")).toHaveLength(40);
    await expectCountersExact(t, ORG_A);
  });
});

describe("shipments added mid-pass", () => {
  test("appended at the end (creation order): no doubt, the pass completes with them", async () => {
    const t = newBackend();
    const shipments = listing(250, 1_500_000);
    const now = Date.now();
    await setUp(t, {
      withTotal: true,
      shipments,
      onPage: before(2, () => shipments.push(...listing(30, 1_509_000, now - MINUTE))),
    });
    const first = await pass(t);
    expect(first).toMatchObject({ outcome: "completed", doubts: [], counts: { created: 280 } });
  });

  test("added at the front (newest first): the pass says so; the next pass completes; nothing is lost", async () => {
    const t = newBackend();
    const shipments = listing(250, 1_600_000).reverse();
    const now = Date.now();
    await setUp(t, {
      withTotal: true,
      shipments,
      onPage: before(3, () => shipments.unshift(...listing(30, 1_609_000, now - MINUTE).reverse())),
    });
    const first = await pass(t);
    expect(first.outcome).toBe("unverified");
    expect(doubtsOf(first)).toEqual(expect.arrayContaining(["listing_shifted@2"]));
    expect((await pass(t)).outcome).toBe("completed");
    expect(await importedIds(t)).toEqual(ids(shipments).sort());
    await expectCountersExact(t, ORG_A);
  });
});

describe("duplicates across pages", () => {
  test("an unstable order swaps two shipments across a page boundary: the one pushed back is read again", async () => {
    const t = newBackend();
    const shipments = listing(150, 1_700_000);
    const pushedBack = String(shipments[100].id);
    await setUp(t, {
      withTotal: true,
      shipments,
      onPage: before(2, () => {
        [shipments[99], shipments[100]] = [shipments[100], shipments[99]];
      }),
    });
    const first = await pass(t);
    expect(first.outcome).toBe("unverified");
    expect(doubtsOf(first)).toEqual(["listing_shifted@1", "duplicates@2"]);
    expect(first.counts.duplicates).toBe(1);
    expect(await importedIds(t)).toContain(pushedBack);
    expect(await importedIds(t)).toHaveLength(150);
    expect((await pass(t)).outcome).toBe("completed");
  });

  test("a listing that names one shipment twice is never completed; what it holds is imported", async () => {
    const t = newBackend();
    const shipments = listing(120, 1_800_000);
    shipments.splice(110, 0, shipments[5]);
    await setUp(t, { withTotal: true, shipments });
    for (let run = 0; run < 2; run++) {
      const r = await pass(t);
      expect(r.outcome).toBe("unverified");
      expect(doubtsOf(r)).toEqual(["duplicates@2"]);
    }
    expect(await importedIds(t)).toHaveLength(120);
    expect((await integrations(t))[0].watermark).toBeUndefined();
  });
});

describe("a server serving fewer shipments per page than asked", () => {
  test.each([true, false])(
    "capped at 50, totalCount %s: the pass follows the server's page size to the end",
    async (withTotal) => {
      const t = newBackend();
      const shipments = listing(350, 1_900_000);
      const name = await setUp(t, { withTotal, shipments, maxPerPage: 50 });
      const r = await pass(t);
      // With a total: 7 pages of 50. Without: 7 full pages, then an empty 8th.
      const pages = withTotal ? 7 : 8;
      expect(r).toMatchObject({
        outcome: "completed",
        doubts: [],
        counts: { pages, received: 350, created: 350, rereads: pages - 1 },
      });
      const gets = server().requests.filter((x) => x.tenant === name);
      expect(gets.map((x) => x.page)).toEqual(passRequests(pages));
      expect(gets.every((x) => x.perPage === 100)).toBe(true);
      expect((await integrations(t))[0].pass).toBeUndefined();
      await expectCountersExact(t, ORG_A);
    },
  );

  test("a short first page without totalCount is confirmed by page 2; a stated total that does not add up is a doubt", async () => {
    const t = newBackend();
    const few = listing(30, 2_000_000);
    const name = await setUp(t, { withTotal: false, shipments: few });
    expect(await pass(t)).toMatchObject({
      outcome: "completed",
      counts: { pages: 2, created: 30 },
    });
    expect(
      server()
        .requests.filter((x) => x.tenant === name)
        .map((x) => x.page),
    ).toEqual([1, 2, 1]);

    const t2 = newBackend();
    await setUp(t2, {
      withTotal: true,
      shipments: listing(180, 2_100_000),
      maxPerPage: 50,
      statedTotal: 200,
    });
    const r = await t2.action(internal.fourKitesSync.syncIntegration, { workosOrgId: ORG_A });
    expect(r).toMatchObject({
      outcome: "unverified",
      counts: { created: 180 },
      doubts: [expect.objectContaining({ kind: "count_mismatch", page: 4 })],
    });
  });
});

describe("the daily full pass", () => {
  test("a shipment indexed late, older than the lookback, is skipped by normal passes and imported by the full one", async () => {
    const t = newBackend();
    const now = Date.now();
    const shipments = listing(20, 2_200_000, now - 10 * MINUTE);
    await setUp(t, { withTotal: true, shipments });
    expect(await pass(t)).toMatchObject({ outcome: "completed", counts: { created: 20 } });
    const [after] = await integrations(t);
    expect(after.fullPassAt).toBe(after.watermark);
    // FourKites lists a shipment whose update time is a day old.
    shipments.push(makeShipment(2_299_999, now - 24 * 60 * MINUTE, "Delivered"));
    expect(await pass(t)).toMatchObject({ counts: { skippedOld: 1, created: 0 } });
    // A day after the last full pass, the next pass is a full one.
    await t.run(async (ctx) => {
      const [i] = await ctx.db.query("fourKitesIntegrations").take(1);
      await ctx.db.patch("fourKitesIntegrations", i._id, { fullPassAt: now - 25 * 60 * MINUTE });
    });
    const full = await pass(t);
    expect(full).toMatchObject({ outcome: "completed", counts: { skippedOld: 0, created: 1 } });
    const [last] = await integrations(t);
    expect(last.lastRun?.fullPass).toBe(true);
    expect(last.fullPassAt).toBe(last.watermark);
    expect(await importedIds(t)).toContain("2299999");
  });
});

describe("fields in a style the parser does not read", () => {
  test("are counted and listed in the sync health; the documented shape counts none", async () => {
    const t = newBackend();
    const now = Date.now();
    const nested = makeShipment(2_300_001, now, "Created", (s) => {
      // The appointment nested under `schedule`: the parser reads `appointmentTime`.
      for (const stop of s.stops) {
        stop.schedule = { appointmentTime: stop.appointmentTime ?? stop.appointmentWindowStart };
        delete stop.appointmentTime;
        delete stop.appointmentWindowStart;
        delete stop.appointmentWindowEnd;
      }
    });
    const snake = makeShipment(2_300_002, now, "Created", (s) => {
      s.reference_numbers = s.referenceNumbers;
      s.customer = { id: "CUST-ACME", externalId: "acme-7" };
    });
    const located = makeShipment(2_300_003, now, "Created", (s) => {
      s.stops[1].location = { postal_code: "30336", lat: 33.7, lng: -84.5 };
      s.stops[1].appointment_time = "2024-05-03T15:00:00Z";
    });
    const plain = makeShipment(2_300_004, now);
    await setUp(t, { withTotal: true, shipments: [nested, snake, located, plain] });
    const r = await pass(t);
    expect(r).toMatchObject({ outcome: "completed", counts: { created: 4, unreadFields: 3 } });
    const [i] = await integrations(t);
    expect(i.lastRun?.unreadFieldPaths).toEqual([
      "stops[].schedule.appointmentTime",
      "reference_numbers",
      "customer.externalId",
      "stops[].location.postal_code",
      "stops[].location.lat",
      "stops[].location.lng",
      "stops[].appointment_time",
    ]);
    // The nested appointment did not reach the load: that is what the count is for.
    const load = (await orgDocuments(t, ORG_A)).loads.find((l) => l.externalLoadId === "2300001");
    expect(load?.pickupAt).toBeUndefined();
  });
});
