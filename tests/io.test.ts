/**
 * I/O budgets of docs/DESIGN.md §4, asserted as document counts from
 * ctx.meta.getTransactionMetrics() with Convex's transaction limits enforced;
 * and the filtered counters' (docs/filtered-counts.md): documents a filtered
 * badge reads per facet and range, and what they add to a write, filters on
 * vs off (the same tables declared without facets or date field).
 */
import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { MutationCtx } from "../convex/_generated/server";
import { importShipmentBatch } from "../convex/model/fourKites/import";
import { getOrgLoad, transitionLoad } from "../convex/model/loads/rules";
import {
  countedRun,
  countUnder,
  facetedFields,
  filteredTruth,
  orgLoads,
  facetDocumentsOf,
  STATS_WITHOUT_FILTERS,
} from "./support/counted";
import { seedOrg } from "./support/seed";
import {
  type Backend,
  biller,
  expectCountersExact,
  insertRawLane,
  measureMutation,
  measureQuery,
  member,
  newBackend,
  ORG_A,
  ORG_B,
} from "./support/setup";
import { generateShipments, LANE_PLACES, type Place } from "./support/shipments";

describe.each([1_000, 10_000])("I/O at %i loads per org", (size) => {
  test("count queries read exactly one document of at most 2 KiB", async () => {
    const t = newBackend({ transactionLimits: true });
    await seedOrg(t, ORG_A, { loads: size });
    await seedOrg(t, ORG_B, { loads: 10 });
    const who = member(t, ORG_A);
    const loads = await measureQuery(who, api.loads.countLoadsByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(loads.result).toMatchObject({ total: size, exact: true, source: "stats" });
    expect(loads.io.documentsRead).toBe(1);
    expect(loads.io.bytesRead).toBeLessThanOrEqual(2048);
    const invoices = await measureQuery(who, api.invoices.countInvoicesByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(invoices.result).toMatchObject({ total: size, exact: true, source: "stats" });
    expect(invoices.io.documentsRead).toBe(1);
    expect(invoices.io.bytesRead).toBeLessThanOrEqual(2048);
  });

  test("filters off: a load status change reads at most 4 and writes at most 2 documents", async () => {
    // The same load tables without facets or date field (a deployment that does
    // not want filtered counters): what updateLoadStatus does after its auth
    // check (which reads nothing), under that configuration, rolled back.
    const t = newBackend({ transactionLimits: true });
    const { loadIds } = await seedOpenFacetedLoads(t, size);
    const { io, result } = await countedRun(
      t,
      async (ctx) =>
        await transitionLoad(ctx, await getOrgLoad(ctx, ORG_A, loadIds[size - 1]), "Assigned"),
      { config: STATS_WITHOUT_FILTERS, rollBack: true },
    );
    expect(result).toBe(true);
    expect(io.documentsRead).toBeLessThanOrEqual(4);
    expect(io.documentsWritten).toBeLessThanOrEqual(2);
  });

  test("filters on: a load status change also reads 2 and writes 1 per facet document, 5 for a dated load with a lane and a customer", async () => {
    const t = newBackend({ transactionLimits: true });
    const { lanes, loadIds } = await seedOpenFacetedLoads(t, size);
    // Load 0 has a lane, a customer and a pickup day: the org's year document,
    // the lane's and the customer's year and all-time documents.
    const { io, result } = await measureMutation(member(t, ORG_A), api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId: loadIds[0],
      status: "Assigned",
    });
    expect(result.changed).toBe(true);
    expect(io.documentsRead).toBeLessThanOrEqual(4 + 2 * 5);
    expect(io.documentsWritten).toBe(2 + 5);
    await expectCountersExact(t, ORG_A);
    const filter = { laneId: lanes[0], startDate: "2020-01-01", endDate: "2020-12-31" };
    const badge = await member(t, ORG_A).query(api.loads.countLoadsByStatusFilteredDetailed, {
      workosOrgId: ORG_A,
      ...filter,
    });
    expect(badge).toMatchObject({ state: "exact", counts: await filteredTruth(t, ORG_A, filter) });
  });
});

/** `n` lanes of ORG_A (raw: no backfill), Dallas to each of n destinations. */
async function someLanes(t: Backend, n: number): Promise<Id<"lanes">[]> {
  const out: Id<"lanes">[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await insertRawLane(t, { destination: { city: `Town${i}`, state: "TX" } }));
  }
  return out;
}

/** `size` open loads of ORG_A on 4 lanes, with customers and pickup days (`facetedFields`). */
async function seedOpenFacetedLoads(
  t: Backend,
  size: number,
): Promise<{ lanes: Id<"lanes">[]; loadIds: Id<"loads">[] }> {
  const lanes = await someLanes(t, 4);
  const { loadIds } = await seedOrg(t, ORG_A, {
    loads: size,
    loadStatus: () => "Open",
    loadFields: (i) => facetedFields(i, lanes),
  });
  return { lanes, loadIds };
}

describe.each([1_000, 10_000])("filtered badges at %i loads", (size) => {
  // Each case: the filter, and the documents it reads (facet status, the lane
  // check, the facet documents: docs/filtered-counts.md).
  const ranges = {
    undated: {},
    day: { startDate: "2023-06-15", endDate: "2023-06-15" },
    month: { startDate: "2023-06-01", endDate: "2023-06-30" },
    year: { startDate: "2023-01-01", endDate: "2023-12-31" },
    "5 years": { startDate: "2020-12-31", endDate: "2025-12-30" },
  } as const;
  // Documents read per facet and range: facet status + lane check + facet documents.
  const expected = {
    org: { undated: 1, day: 2, month: 2, year: 2, "5 years": 7 },
    lane: { undated: 3, day: 3, month: 3, year: 3, "5 years": 5 },
    customer: { undated: 2, day: 2, month: 2, year: 2, "5 years": 4 },
  } as const;

  test("any facet and any range up to 5 years: at most 8 documents, exact", async () => {
    const t = newBackend({ transactionLimits: true });
    const lanes = await someLanes(t, 4);
    await seedOrg(t, ORG_A, { loads: size, loadFields: (i) => facetedFields(i, lanes) });
    await seedOrg(t, ORG_B, { loads: 10, loadFields: (i) => facetedFields(i, []) });
    const facets = { org: {}, lane: { laneId: lanes[1] }, customer: { customerId: "CUST-007" } };
    const loads = await orgLoads(t, ORG_A);
    for (const [facet, facetArgs] of Object.entries(facets)) {
      for (const [range, rangeArgs] of Object.entries(ranges)) {
        const filter = { ...facetArgs, ...rangeArgs };
        const { io, result } = await measureQuery(
          member(t, ORG_A),
          api.loads.countLoadsByStatusFilteredDetailed,
          { workosOrgId: ORG_A, ...filter },
        );
        const where = `${facet}, ${range}`;
        expect(result.state, where).toBe("exact");
        expect(result.counts, where).toEqual(countUnder(loads, filter));
        const reads = expected[facet as keyof typeof expected][range as keyof typeof ranges];
        expect(io.documentsRead, where).toBe(reads);
        expect(io.documentsRead, where).toBeLessThanOrEqual(8);
      }
    }
  });
});

describe("write cost, filters on vs off (one transaction each)", () => {
  test("a status change of 500 loads: one read pair and one write per distinct facet document", async () => {
    const t = newBackend({ transactionLimits: true });
    const lanes = await someLanes(t, 10);
    const { loadIds } = await seedOrg(t, ORG_A, {
      loads: 2_000,
      loadStatus: () => "Open",
      loadFields: (i) => facetedFields(i, lanes, { customers: 50 }),
    });
    const ids = loadIds.slice(0, 500);
    const bulk = async (ctx: MutationCtx) => {
      for (const id of ids) await transitionLoad(ctx, await getOrgLoad(ctx, ORG_A, id), "Assigned");
    };
    const off = await countedRun(t, bulk, { config: STATS_WITHOUT_FILTERS, rollBack: true });
    // The existing budget for a bulk of 500 holds with filters off.
    expect(off.io.documentsRead).toBeLessThanOrEqual(1_010);
    expect(off.io.documentsWritten).toBe(501);
    const loads = (await orgLoads(t, ORG_A)).filter((l) => ids.includes(l._id));
    const touched = facetDocumentsOf(loads);
    const stored = await storedFacetKeys(t, ORG_A);
    // Every one exists already (the seeded loads are in them): each is read
    // twice (the lookup, and the replace reads it again) and written once.
    expect([...touched].every((k) => stored.has(k))).toBe(true);
    const on = await countedRun(t, bulk);
    expect(on.io.documentsWritten - off.io.documentsWritten).toBe(touched.size);
    expect(on.io.documentsRead - off.io.documentsRead).toBe(2 * touched.size);
    expect(touched.size).toBeGreaterThan(50);
    expect(touched.size).toBeLessThan(500);
    await expectCountersExact(t, ORG_A);
  });

  test("a FourKites import batch of 100 new loads: the same rule", async () => {
    const t = newBackend({ transactionLimits: true });
    await seedOrg(t, ORG_A, { loads: 200 });
    await insertRawLanesBetween(t, LANE_PLACES);
    const shipments = generateShipments(
      { prefix: "IO", idBase: 5_000_000, seed: 11, now: Date.UTC(2025, 2, 1) },
      100,
    ).map((s) => JSON.stringify(s));
    const run = (ctx: MutationCtx) => importShipmentBatch(ctx, ORG_A, shipments);
    const off = await countedRun(t, run, { config: STATS_WITHOUT_FILTERS, rollBack: true });
    const before = await storedFacetKeys(t, ORG_A);
    const on = await countedRun(t, run);
    const created = new Set(on.result.results.flatMap((r) => ("loadId" in r ? [r.loadId] : [])));
    expect(created.size).toBe(100);
    const loads = (await orgLoads(t, ORG_A)).filter((l) => created.has(l._id));
    const touched = facetDocumentsOf(loads);
    // A document the batch creates is inserted (a lookup that finds nothing reads
    // nothing); one that existed is read twice and replaced.
    const existed = [...touched].filter((k) => before.has(k)).length;
    expect(on.io.documentsWritten - off.io.documentsWritten).toBe(touched.size);
    expect(on.io.documentsRead - off.io.documentsRead).toBe(2 * existed);
    expect(loads.filter((l) => l.laneId !== undefined).length).toBeGreaterThan(90);
    await expectCountersExact(t, ORG_A);
  });
});

/** The keys of `org`'s live facet documents, as `facetDocumentsOf` spells them. */
async function storedFacetKeys(t: Backend, org: string): Promise<Set<string>> {
  const docs = await t.run((ctx) =>
    ctx.db
      .query("statsFacets")
      .withIndex("by_key", (q) => q.eq("workosOrgId", org).eq("entity", "loads"))
      .collect(),
  );
  return new Set(docs.map((d) => `${d.facet}|${d.value}|${d.period}`));
}

/** A raw lane between every two of `places`. */
async function insertRawLanesBetween(t: Backend, places: readonly Place[]): Promise<void> {
  for (const a of places) {
    for (const b of places) {
      if (a === b) continue;
      await insertRawLane(t, {
        origin: { city: a.city, state: a.state },
        destination: { city: b.city, state: b.state },
        effectiveFrom: Date.UTC(2020, 0, 1),
      });
    }
  }
}

test("bulkUpdateStatus of 500 invoices reads at most 1,010 and writes at most 505 documents", async () => {
  const t = newBackend({ transactionLimits: true });
  const { invoiceIds } = await seedOrg(t, ORG_A, { loads: 2_000, invoiceStatus: () => "DRAFT" });
  const { io, result } = await measureMutation(biller(t, ORG_A), api.invoices.bulkUpdateStatus, {
    workosOrgId: ORG_A,
    invoiceIds: invoiceIds.slice(0, 500),
    status: "BILLED",
  });
  expect(result.updated).toBe(500);
  expect(io.documentsRead).toBeLessThanOrEqual(1_010);
  expect(io.documentsWritten).toBeLessThanOrEqual(505);
  // One stats row written, not 500.
  expect(io.documentsWritten).toBe(501);
  await expectCountersExact(t, ORG_A);
});

test("bulkVoidInvoices of 500 invoices has the same cost", async () => {
  const t = newBackend({ transactionLimits: true });
  const { invoiceIds } = await seedOrg(t, ORG_A, { loads: 600, invoiceStatus: () => "BILLED" });
  const { io } = await measureMutation(biller(t, ORG_A), api.invoices.bulkVoidInvoices, {
    workosOrgId: ORG_A,
    invoiceIds: invoiceIds.slice(0, 500),
  });
  expect(io.documentsRead).toBeLessThanOrEqual(1_010);
  expect(io.documentsWritten).toBe(501);
  await expectCountersExact(t, ORG_A);
});

test("a write that changes no bucket does not touch the stats row", async () => {
  const t = newBackend({ transactionLimits: true });
  const { loadIds } = await seedOrg(t, ORG_A, { loads: 5, loadStatus: () => "Open" });
  const { io, result } = await measureMutation(member(t, ORG_A), api.loads.updateLoadStatus, {
    workosOrgId: ORG_A,
    loadId: loadIds[0],
    status: "Open",
  });
  expect(result.changed).toBe(false);
  expect(io.documentsRead).toBe(1);
  expect(io.documentsWritten).toBe(0);
});

test("createLoad of a new load reads only the stats rows (lookups that find nothing read nothing)", async () => {
  const t = newBackend({ transactionLimits: true });
  await seedOrg(t, ORG_A, { loads: 1_000 });
  const { io, result } = await measureMutation(member(t, ORG_A), api.loads.createLoad, {
    workosOrgId: ORG_A,
    externalLoadId: "NEW-1",
    origin: { city: "Reno", state: "NV" },
    destination: { city: "Boise", state: "ID" },
  });
  expect(result).toMatchObject({ loadType: "UNMAPPED", invoiceStatus: "MISSING_DATA" });
  // Lane, duplicate, live-invoice and invoice-cap lookups find nothing: 0 reads. The flush
  // reads and replaces the loads and invoices stats rows: 4 reads, 4 writes with the inserts.
  expect(io.documentsRead).toBeLessThanOrEqual(4);
  expect(io.documentsWritten).toBeLessThanOrEqual(4);
  await expectCountersExact(t, ORG_A);
});
