/**
 * Property: whatever sequence of manual loads, FourKites imports, lane
 * creations, lazy promotions, status changes and cleanups runs, the counters
 * equal a from-scratch histogram after every step, every load has exactly
 * one non-void invoice that agrees with its type, and once the scheduled
 * batches have run no unmapped load is left that some lane prices.
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { afterEach, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { LaneFinder } from "../convex/model/lanes/rules";
import { type Backend, biller, expectCountersExact, newBackend, ORG_A } from "./support/setup";

const NOW = Date.UTC(2024, 5, 15, 12);
const DAY = 24 * 60 * 60 * 1000;
const CITIES = [
  { city: "Dallas", state: "TX" },
  { city: "Atlanta", state: "GA" },
  { city: "Denver", state: "CO" },
];
const STATUSES = ["Created", "Dispatched", "InTransit", "Delivered", "Cancelled"];

afterEach(() => {
  vi.useRealTimers();
});

const city = fc.integer({ min: 0, max: CITIES.length - 1 });
const pickup = fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined });

const op = fc.oneof(
  fc.record({ kind: fc.constant("createLoad" as const), o: city, d: city, pickup }),
  fc.record({
    kind: fc.constant("import" as const),
    id: fc.integer({ min: 1, max: 4 }),
    o: city,
    d: city,
    status: fc.constantFrom(...STATUSES),
    version: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({
    kind: fc.constant("lane" as const),
    o: fc.option(city, { nil: undefined }),
    d: fc.option(city, { nil: undefined }),
    rate: fc.integer({ min: 1, max: 500_000 }),
    customer: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("promote" as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant("status" as const),
    pick: fc.nat(),
    to: fc.constantFrom("Open", "Assigned", "Completed", "Canceled"),
  }),
  fc.record({ kind: fc.constant("cleanup" as const) }),
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Runs `call`; a ConvexError with a code is an accepted outcome (a rejected step). */
async function attempt(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    if (!(e instanceof ConvexError)) throw e;
  }
}

function shipmentJson(o: Op & { kind: "import" }): string {
  const loc = (i: number) => ({ ...CITIES[i], postalCode: "00000" });
  return JSON.stringify({
    id: 900 + o.id,
    loadNumber: `LD-${o.id}`,
    status: o.status,
    updatedAt: new Date(Date.UTC(2024, 4, 1) + o.version * 3600_000).toISOString(),
    stops: [
      {
        sequence: 1,
        stopType: "PICKUP",
        ...loc(o.o),
        appointmentTime: new Date(NOW - 2 * DAY).toISOString(),
      },
      { sequence: 2, stopType: "DELIVERY", ...loc(o.d) },
    ],
  });
}

let manualSeq = 0;

async function run(t: Backend, o: Op): Promise<void> {
  const a = biller(t, ORG_A);
  const loadIds = async () =>
    await t.run(async (ctx) =>
      (
        await ctx.db
          .query("loads")
          .withIndex("by_org", (q) => q.eq("workosOrgId", ORG_A))
          .collect()
      ).map((l) => l._id),
    );
  switch (o.kind) {
    case "createLoad":
      return await attempt(() =>
        a.mutation(api.loads.createLoad, {
          workosOrgId: ORG_A,
          externalLoadId: `M-${++manualSeq}`,
          origin: CITIES[o.o],
          destination: CITIES[o.d],
          pickupAt: o.pickup === undefined ? undefined : NOW + o.pickup * DAY,
        }),
      );
    case "import":
      return await attempt(() =>
        t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
          workosOrgId: ORG_A,
          shipment: shipmentJson(o),
        }),
      );
    case "lane":
      return await attempt(() =>
        a.mutation(api.lanes.createLaneAndBackfill, {
          workosOrgId: ORG_A,
          origin: o.o === undefined ? "*" : CITIES[o.o],
          destination: o.d === undefined ? "*" : CITIES[o.d],
          rateCents: o.rate,
          effectiveFrom: Date.UTC(2024, 0, 1),
          ...(o.customer ? { customerId: "ACME" } : {}),
        }),
      );
    case "promote": {
      const ids = await loadIds();
      if (ids.length === 0) return;
      return await attempt(() =>
        a.mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
          workosOrgId: ORG_A,
          loadId: ids[o.pick % ids.length],
        }),
      );
    }
    case "status": {
      const ids = await loadIds();
      if (ids.length === 0) return;
      return await attempt(() =>
        a.mutation(api.loads.updateLoadStatus, {
          workosOrgId: ORG_A,
          loadId: ids[o.pick % ids.length],
          status: o.to,
        }),
      );
    }
    case "cleanup":
      await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
      return;
  }
}

/** Every load has one non-void invoice matching its type; no priceable load is left unmapped. */
async function expectPricingConsistent(t: Backend): Promise<void> {
  const problems = await t.run(async (ctx) => {
    const out: string[] = [];
    const finder = new LaneFinder(ctx.db);
    const loads = await ctx.db
      .query("loads")
      .withIndex("by_org", (q) => q.eq("workosOrgId", ORG_A))
      .collect();
    for (const load of loads) {
      const invoices = await ctx.db
        .query("invoices")
        .withIndex("by_load_and_status", (q) => q.eq("loadId", load._id))
        .collect();
      const active = invoices.filter((i) => i.status !== "VOID");
      if (active.length !== 1) {
        out.push(`${load.externalLoadId}: ${active.length} active invoices`);
        continue;
      }
      const [invoice] = active;
      if (load.loadType === "UNMAPPED") {
        if (invoice.status !== "MISSING_DATA" || invoice.amountCents !== 0) {
          out.push(`${load.externalLoadId}: unmapped with a ${invoice.status} invoice`);
        }
        if ((await finder.match(load, Date.now())) !== null) {
          out.push(`${load.externalLoadId}: unmapped although a lane prices it`);
        }
      } else {
        const lane = load.laneId ? await ctx.db.get("lanes", load.laneId) : null;
        if (invoice.status !== "DRAFT" || invoice.amountCents !== lane?.rateCents) {
          out.push(`${load.externalLoadId}: ${load.loadType} invoice not at the lane rate`);
        }
        const exactLane = lane !== null && lane.originKey !== "*" && lane.destinationKey !== "*";
        if ((load.loadType === "CONTRACT") !== exactLane) {
          out.push(
            `${load.externalLoadId}: ${load.loadType} on lane ${lane?.originKey}→${lane?.destinationKey}`,
          );
        }
      }
    }
    return out;
  });
  expect(problems).toEqual([]);
}

test("pricing flows keep counters exact and every load priced consistently", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
      vi.useFakeTimers({ now: NOW });
      try {
        const t = newBackend();
        for (const o of ops) {
          await run(t, o);
          await t.finishAllScheduledFunctions(vi.runAllTimers);
          await expectCountersExact(t, ORG_A);
        }
        await expectPricingConsistent(t);
      } finally {
        vi.useRealTimers();
      }
    }),
    { numRuns: 40 },
  );
});
