/**
 * The org-day scenario (issue 13): one deterministic day of an org, run on a
 * bench world through the module's real functions with Convex's transaction
 * limits on, every transaction measured, and the same document changes
 * applied, measured and rolled back as each comparison would make them.
 * Badge re-runs are added per the invalidation rule of each implementation.
 *
 * The profile (`DAY_PROFILE`) is the same at every org size: only the org's
 * size differs, so what grows with N is what reads the whole org (the
 * recount, scanning badges). See docs/org-day.md.
 */
import type { Doc, Id } from "../convex/_generated/dataModel";
import { api, internal } from "../convex/_generated/api";
import {
  fmtInt,
  measureMutationRolledBack,
  measureMutationToLimit,
  measureQueryToLimit,
  sumIo,
  ZERO_IO,
  type Io,
  type Measurement,
} from "../tests/support/measure";
import { runScheduled } from "../tests/support/scheduled";
import { biller, member, storedCounters } from "../tests/support/setup";
import { PLACES, twoStops, type FourKitesShipment, type Place } from "../tests/support/shipments";
import { benchApi } from "./backend";
import { countsInvoice, countsLoad, type Comparison, type DayOp } from "./functions/day";
import { progress, type World } from "./world";
import { entityIn } from "../convex/model/stats/entities";
import { filterOf } from "../convex/model/stats/facets/query";
import { readFilteredCounts } from "../convex/model/stats/read";
import { STATS } from "../convex/model/statsConfig";
import type { TestFilter } from "../tests/support/counted";
import { loggingReader } from "../tests/support/readSet";

/** The implementations compared, in report order. */
export const DAY_IMPLEMENTATIONS = ["stats", "seed", "aggregate", "scan"] as const;
export type DayImplementation = (typeof DAY_IMPLEMENTATIONS)[number];

/** Where the module's bytes go (badge re-runs are counted apart, per user). */
export const DAY_SOURCES = ["imports", "writes", "backfill", "cleanup", "recount"] as const;
export type DaySource = (typeof DAY_SOURCES)[number];

/** Users with the load and invoice badges open. */
export const DAY_USERS = [1, 20, 100] as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The day, documented in docs/org-day.md; the same at every org size. */
export const DAY_PROFILE = {
  /** FourKites pulls: every 15 minutes. */
  slots: 96,
  slotMs: 15 * MINUTE,
  /** New shipments per pull (1 in 16 on a pair without a lane, 1 in 16 past its pickup). */
  newPerPull: 4,
  /** A regular shipment is re-sent InTransit 2 pulls later and Delivered 6 pulls later. */
  inTransitAfter: 2,
  deliveredAfter: 6,
  /** Dispatcher status changes per slot, over a pool of seeded loads (Open ⇄ Assigned). */
  dispatchPerSlot: 4,
  dispatchPool: 48,
  /** Billing runs: slots (09:00, 13:00, 17:00, 21:00), DRAFT invoices billed and voided per run. */
  billingSlots: [36, 52, 68, 84],
  billedPerRun: 20,
  voidedPerRun: 5,
  /** The periodic cleanup: every hour, at the end of the hour. */
  cleanupEvery: 4,
  /** A lane for the unmapped pair at noon, backfilling the loads imported on it so far. */
  laneSlot: 48,
  /** The comparisons' badge queries are re-measured every 6 hours (the module's after every write). */
  badgeEvery: 24,
  /** The daily recount at 02:00. */
  recountSlot: 8,
  /** Seed system's recount page size (documents per transaction). */
  seedRecountPage: 2_000,
} as const;

/** Contracted pair (its lane is created before the day) and the pair that gets a lane at noon. */
const COLUMBUS = PLACES[5];
const PHOENIX = PLACES[6];
const CONTRACT_PAIR = { origin: COLUMBUS, destination: PHOENIX };
const NEW_LANE_PAIR = { origin: PHOENIX, destination: COLUMBUS };

/** What one implementation's day cost, before multiplying badge re-runs by the users. */
export type DayTally = {
  implementation: DayImplementation;
  size: number;
  /** Totals per source (all transactions of that source). */
  sources: Record<DaySource, Io>;
  transactions: Record<DaySource, number>;
  /** One user's badges: the first run of each, then every re-run. */
  badgesPerUser: Io;
  /** Re-runs per user, per badge. */
  reruns: { loads: number; invoices: number };
  /** The same, by the source of the invalidating write. */
  rerunsBySource: Record<DaySource, { loads: number; invoices: number }>;
  /** One run of each badge at the start of the day (measured). */
  badgeCost: { loads: Io; invoices: Io } | null;
  /** Set when figures were computed from other measurements, saying how. */
  computed?: string;
  /** The module only: transactions that changed each stats row (observed, not assumed). */
  statsRowWrites?: { loads: number; invoices: number; byRecount: number };
  /**
   * The module only: the filtered badges each user has open (issue 20): one run
   * of each at the start (`cost`), a user's runs and re-runs (`perUser`), and
   * the re-runs, by the source of the invalidating write.
   */
  filtered?: {
    badges: string[];
    cost: Io;
    perUser: Io;
    reruns: number;
    rerunsBySource: Record<DaySource, number>;
    /** Per badge: one run's cost at the start, and its re-runs. */
    costByBadge: Record<string, Io>;
    rerunsByBadge: Record<string, number>;
  };
  /** Set when a step could not run (a limit): the day failed. */
  failed?: string;
  /** Set when the implementation was not run at this size. */
  notRun?: string;
  note?: string;
};

function newTally(implementation: DayImplementation, size: number): DayTally {
  const sources = Object.fromEntries(DAY_SOURCES.map((s) => [s, { ...ZERO_IO }]));
  const transactions = Object.fromEntries(DAY_SOURCES.map((s) => [s, 0]));
  return {
    implementation,
    size,
    sources: sources as Record<DaySource, Io>,
    transactions: transactions as Record<DaySource, number>,
    badgesPerUser: { ...ZERO_IO },
    reruns: { loads: 0, invoices: 0 },
    rerunsBySource: Object.fromEntries(
      DAY_SOURCES.map((s) => [s, { loads: 0, invoices: 0 }]),
    ) as DayTally["rerunsBySource"],
    badgeCost: null,
  };
}

/** Counts one re-run of `entity`'s badge caused by a write of `source`, at `cost`. */
function rerun(tally: DayTally, source: DaySource, entity: "loads" | "invoices", cost: Io): void {
  tally.reruns[entity] += 1;
  tally.rerunsBySource[source][entity] += 1;
  tally.badgesPerUser = sumIo([tally.badgesPerUser, cost]);
}

function add(tally: DayTally, source: DaySource, io: Io, transactions = 1): void {
  tally.sources[source] = sumIo([tally.sources[source], io]);
  tally.transactions[source] += transactions;
}

/** ISO time of a slot's FourKites `updatedAt` (in the past, increasing). */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

type Kind = "regular" | "unmapped" | "stale";

/** New shipment k of the day: 1 in 16 on the unmapped pair, 1 in 16 stale. */
function kindOf(k: number): Kind {
  if (k % 16 === 5) return "unmapped";
  if (k % 16 === 9) return "stale";
  return "regular";
}

/** Shipment k as FourKites sends it in `status` at `updatedAt`. */
function shipment(k: number, status: string, updatedAt: number, now: number): FourKitesShipment {
  const kind = kindOf(k);
  const pair = kind === "unmapped" ? NEW_LANE_PAIR : CONTRACT_PAIR;
  const pickupAt = kind === "stale" ? now - 3 * DAY : now + 5 * DAY;
  const id = 7_000_000 + k;
  return {
    id,
    loadNumber: `DAY-${String(k).padStart(6, "0")}`,
    referenceNumbers: [`PO-${(id * 7919) % 1_000_000}`, `BOL-${id % 100_000}`],
    status,
    updatedAt: iso(updatedAt),
    customer: { id: "CUST-DAY", name: "Day Shipper" },
    mode: "TL",
    weight: 18_000 + ((k * 2_654_435) % 26_000),
    commodity: "Dry goods, 24 pallets, floor loaded. Driver checks in with the load number.",
    stops: twoStops(id, pair.origin, pair.destination, pickupAt, iso),
  };
}

type Ids = { loads: Id<"loads">[]; invoices: Id<"invoices">[] };
type Snapshot = Map<string, Doc<"loads"> | Doc<"invoices">>;

function strip<D extends { _id: unknown; _creationTime: number }>(
  doc: D,
): Omit<D, "_id" | "_creationTime"> {
  const { _id, _creationTime, ...fields } = doc;
  void _id;
  void _creationTime;
  return fields;
}

/**
 * One org's day. Returns a tally per implementation (the aggregate as not
 * run when the world has no aggregate trees).
 */
export async function runOrgDay(
  world: World,
  mode: "full day" | "recount only" = "full day",
): Promise<DayTally[]> {
  const { t, org, size } = world;
  const P = DAY_PROFILE;
  const now = Date.now();
  const slotTime = (s: number) => now - DAY + s * P.slotMs;
  const args = { workosOrgId: org };

  // --- setup (not measured) -----------------------------------------------
  // The contracted pair's lane, so the day's regular shipments arrive priced
  // (in a recount-only day too: the filtered lane badge is priced on it).
  const { laneId: contractLane } = await biller(t, org).mutation(api.lanes.createLaneAndBackfill, {
    workosOrgId: org,
    ...CONTRACT_PAIR,
    rateCents: 210_000,
  });
  await runScheduled(t);
  const pool = Array.from({ length: P.dispatchPool }, (_, i) => world.loadIds[5 * (100 + i)]);
  const poolStatus = new Map<Id<"loads">, "Open" | "Assigned">();
  // DRAFT invoices the earlier scenarios left alone (they bill the first 500; see
  // `benchInvoiceStatus`), so the aggregate's trees still hold them as seeded.
  const billing = world.invoiceIds
    .filter((_, i) => i % 10 < 6)
    .slice(500, 500 + P.billingSlots.length * (P.billedPerRun + P.voidedPerRun));
  if (billing.length < P.billingSlots.length * (P.billedPerRun + P.voidedPerRun)) {
    throw new Error(`[orgDay] the world has only ${billing.length} spare DRAFT invoices`);
  }
  for (const id of billing) {
    const invoice = await t.run((ctx) => ctx.db.get("invoices", id));
    if (invoice?.status !== "DRAFT")
      throw new Error(`[orgDay] invoice ${id} is ${invoice?.status}`);
  }
  for (const id of pool) {
    const load = await t.run((ctx) => ctx.db.get("loads", id));
    if (load?.status !== "Open") throw new Error(`[orgDay] pool load ${id} is ${load?.status}`);
    poolStatus.set(id, "Open");
  }
  const rows = await storedCounters(t, org);
  if (rows.loads?.entity !== "loads" || rows.invoices?.entity !== "invoices") {
    throw new Error("[orgDay] the world has no stats rows");
  }
  await t.mutation(benchApi.benchSeed.overwrite, {
    workosOrgId: org,
    loads: rows.loads.counts,
    invoices: rows.invoices.counts,
    invoiceAmountCents: rows.invoices.amountCents,
  });

  const stats = newTally("stats", size);
  stats.statsRowWrites = { loads: 0, invoices: 0, byRecount: 0 };
  const comparisons: Comparison[] = world.aggregate.seeded
    ? ["seed", "aggregate", "scan"]
    : ["seed", "scan"];
  const tallies = new Map<DayImplementation, DayTally>([["stats", stats]]);
  for (const c of comparisons) tallies.set(c, newTally(c, size));
  const aggregateTally = newTally("aggregate", size);
  if (!world.aggregate.seeded) aggregateTally.notRun = world.aggregate.why;

  // --- badges ---------------------------------------------------------------
  /** Latest measured cost of each comparison's badges (re-measured every hour). */
  const badgeCost = new Map<Comparison, { loads: Io; invoices: Io }>();
  const comparisonBadges = {
    seed: { loads: benchApi.benchSeed.countLoads, invoices: benchApi.benchSeed.countInvoices },
    aggregate: {
      loads: benchApi.benchAggregate.countLoads,
      invoices: benchApi.benchAggregate.countInvoices,
    },
    scan: { loads: benchApi.benchScan.countLoads, invoices: benchApi.benchScan.countInvoices },
  } as const;
  async function measureComparisonBadges(): Promise<void> {
    for (const c of comparisons) {
      const tally = tallies.get(c)!;
      if (tally.failed !== undefined) continue;
      const loads = await measureQueryToLimit(t, comparisonBadges[c].loads, args);
      const invoices = await measureQueryToLimit(t, comparisonBadges[c].invoices, args);
      const failed = [loads, invoices].find((m) => !m.ok);
      if (failed !== undefined && !failed.ok) {
        tally.failed = `badge query: ${failed.error}`;
        continue;
      }
      badgeCost.set(c, { loads: loads.io, invoices: invoices.io });
    }
  }
  async function statsBadge(entity: "loads" | "invoices"): Promise<Io> {
    const ref =
      entity === "loads"
        ? api.loads.countLoadsByStatusDetailed
        : api.invoices.countInvoicesByStatusDetailed;
    const m = await measureQueryToLimit(member(t, org), ref, args);
    if (!m.ok) throw new Error(`[orgDay] the module's ${entity} badge failed: ${m.error}`);
    return m.io;
  }

  // The stats rows as last seen: a transaction that changed one re-runs its badge.
  const observeRows = async () => {
    const r = await storedCounters(t, org);
    return { loads: JSON.stringify(r.loads), invoices: JSON.stringify(r.invoices) };
  };
  let seen = await observeRows();
  // First subscription of every badge.
  stats.badgeCost = { loads: await statsBadge("loads"), invoices: await statsBadge("invoices") };
  stats.badgesPerUser = sumIo([stats.badgeCost.loads, stats.badgeCost.invoices]);
  await measureComparisonBadges();
  for (const c of comparisons) {
    const cost = badgeCost.get(c);
    if (cost === undefined) continue;
    tallies.get(c)!.badgeCost = cost;
    tallies.get(c)!.badgesPerUser = sumIo([cost.loads, cost.invoices]);
  }
  // Filtered badges (issue 20): each user also has the planner's filtered views open.
  const filtered = filteredBadgesOf(contractLane, now);
  const readSets = new Map<string, string[]>();
  const filteredSeen = new Map<string, string>();
  async function filteredBadge(name: string): Promise<Io> {
    const filter = filtered[name];
    const m = await measureQueryToLimit(
      member(t, org),
      api.loads.countLoadsByStatusFilteredDetailed,
      { ...args, ...filter },
    );
    if (!m.ok) throw new Error(`[orgDay] the filtered badge ${name} failed: ${m.error}`);
    readSets.set(name, await readSetOf(t, org, filter));
    return m.io;
  }
  const observeFiltered = async () =>
    await snapshotKeys(t, [...new Set([...readSets.values()].flat())]);
  const f0: NonNullable<DayTally["filtered"]> = {
    badges: Object.keys(filtered),
    cost: { ...ZERO_IO },
    perUser: { ...ZERO_IO },
    reruns: 0,
    rerunsBySource: Object.fromEntries(DAY_SOURCES.map((s) => [s, 0])) as Record<DaySource, number>,
    costByBadge: {},
    rerunsByBadge: {},
  };
  for (const name of Object.keys(filtered)) {
    const cost = await filteredBadge(name);
    f0.costByBadge[name] = cost;
    f0.rerunsByBadge[name] = 0;
    f0.cost = sumIo([f0.cost, cost]);
  }
  f0.perUser = f0.cost;
  stats.filtered = f0;
  for (const [k, v] of await observeFiltered()) filteredSeen.set(k, v);

  const result = () =>
    DAY_IMPLEMENTATIONS.map((impl) =>
      impl === "aggregate" && !world.aggregate.seeded ? aggregateTally : tallies.get(impl)!,
    );
  if (mode === "recount only") {
    const m = await measureMutationToLimit(t, internal.stats.recalculateOrgStats, args);
    await moduleTx("recount", m);
    await runJobs("recount");
    await seedRecount(world, tallies.get("seed")!);
    return result();
  }

  /** Records one module transaction of `source`, then re-runs the badges it invalidated. */
  async function moduleTx(source: DaySource, m: Measurement<unknown>): Promise<void> {
    if (!m.ok) {
      stats.failed ??= `${source}: ${m.error}`;
    }
    add(stats, source, m.io);
    const now2 = await observeRows();
    for (const entity of ["loads", "invoices"] as const) {
      if (now2[entity] === seen[entity]) continue;
      stats.statsRowWrites![entity] += 1;
      if (source === "recount") stats.statsRowWrites!.byRecount += 1;
      rerun(stats, source, entity, await statsBadge(entity));
    }
    seen = now2;
    // A filtered badge re-runs when a document (or range) it read changed.
    const docs = await observeFiltered();
    const changed = new Set(
      [...docs].filter(([k, v]) => filteredSeen.get(k) !== v).map(([k]) => k),
    );
    for (const [k, v] of docs) filteredSeen.set(k, v);
    const f = stats.filtered;
    if (f === undefined || changed.size === 0) return;
    for (const name of f.badges) {
      if (!(readSets.get(name) ?? []).some((k) => changed.has(k))) continue;
      f.reruns += 1;
      f.rerunsBySource[source] += 1;
      f.rerunsByBadge[name] = (f.rerunsByBadge[name] ?? 0) + 1;
      f.perUser = sumIo([f.perUser, await filteredBadge(name)]);
    }
    for (const [k, v] of await observeFiltered()) filteredSeen.set(k, v);
  }

  async function runJobs(source: DaySource): Promise<void> {
    await runScheduled(t, async (run) => await moduleTx(source, run.measurement));
  }

  async function snapshot(ids: Ids): Promise<Snapshot> {
    const docs = await t.run(async (ctx) => {
      const out: (Doc<"loads"> | Doc<"invoices">)[] = [];
      for (const id of ids.loads) {
        const d = await ctx.db.get("loads", id);
        if (d !== null) out.push(d);
      }
      for (const id of ids.invoices) {
        const d = await ctx.db.get("invoices", id);
        if (d !== null) out.push(d);
      }
      return out;
    });
    return new Map(docs.map((d) => [d._id, d]));
  }

  function diff(before: Snapshot, after: Snapshot): DayOp[] {
    const ops: DayOp[] = [];
    for (const [id, pre] of before) {
      const post = after.get(id);
      if (post === undefined) throw new Error(`[orgDay] ${id} was deleted`);
      if (JSON.stringify(pre) === JSON.stringify(post)) continue;
      if ("loadId" in pre && "loadId" in post) {
        ops.push({
          kind: "invoice",
          id: pre._id,
          before: strip(pre),
          after: strip(post),
        });
      } else if (!("loadId" in pre) && !("loadId" in post)) {
        ops.push({ kind: "load", id: pre._id, before: strip(pre), after: strip(post) });
      }
    }
    return ops;
  }

  async function inserted(loadIds: Id<"loads">[]): Promise<DayOp[]> {
    return await t.run(async (ctx) => {
      const ops: DayOp[] = [];
      for (const loadId of loadIds) {
        const load = await ctx.db.get("loads", loadId);
        if (load === null) throw new Error(`[orgDay] created load ${loadId} not found`);
        const invoice = await ctx.db
          .query("invoices")
          .withIndex("by_load_and_status", (q) => q.eq("loadId", loadId))
          .first();
        ops.push({
          kind: "insert",
          loadId,
          load: strip(load),
          invoiceId: invoice?._id ?? null,
          invoice: invoice === null ? null : strip(invoice),
        });
      }
      return ops;
    });
  }

  /** Measures the comparisons' version of one step's changes, and their badge re-runs. */
  async function comparisonStep(source: DaySource, ops: DayOp[]): Promise<void> {
    if (ops.length === 0) return;
    for (const c of comparisons) {
      const tally = tallies.get(c)!;
      if (tally.failed !== undefined) continue;
      const m = await measureMutationRolledBack(t, benchApi.benchDay.apply, {
        implementation: c,
        ops,
      });
      add(tally, source, m.io);
      if (!m.ok) {
        tally.failed = `${source}: ${m.error}`;
        continue;
      }
      const cost = badgeCost.get(c)!;
      const loads =
        c === "scan"
          ? ops.some((op) => op.kind !== "invoice")
          : c === "seed"
            ? ops.some((op) => countsLoad(op) || countsInvoice(op))
            : ops.some(countsLoad);
      const invoices =
        c === "scan"
          ? ops.some((op) => op.kind === "invoice" || (op.kind === "insert" && op.invoice !== null))
          : c === "seed"
            ? loads
            : ops.some(countsInvoice);
      if (loads) rerun(tally, source, "loads", cost.loads);
      if (invoices) rerun(tally, source, "invoices", cost.invoices);
    }
    if (world.aggregate.seeded) await t.mutation(benchApi.benchDay.syncAggregate, { ops });
  }

  /** Runs one step: the module's transactions (and what they schedule), then the comparisons. */
  async function step(
    source: DaySource,
    touched: Ids,
    run: () => Promise<{ m: Measurement<unknown>; created?: Id<"loads">[] }>,
  ): Promise<void> {
    const before = await snapshot(touched);
    const { m, created } = await run();
    await moduleTx(source, m);
    await runJobs(source);
    const ops = [...diff(before, await snapshot(touched)), ...(await inserted(created ?? []))];
    await comparisonStep(source, ops);
  }

  // --- the day --------------------------------------------------------------
  /** Shipments imported so far: k → load id. */
  const imported = new Map<number, Id<"loads">>();
  let billingRun = 0;
  for (let s = 0; s < P.slots; s++) {
    if (s > 0 && s % P.badgeEvery === 0) await measureComparisonBadges();
    if (s % 24 === 0) progress(`org day at ${fmtInt(size)} loads: ${s / 4}:00`);

    // FourKites pull: new shipments, and earlier ones re-sent in a new status.
    const batch: FourKitesShipment[] = [];
    const updates: Id<"loads">[] = [];
    for (let j = 0; j < P.newPerPull; j++) {
      const k = s * P.newPerPull + j;
      batch.push(shipment(k, "Created", slotTime(s), now));
    }
    for (const [after, status] of [
      [P.inTransitAfter, "InTransit"],
      [P.deliveredAfter, "Delivered"],
    ] as const) {
      if (s < after) continue;
      for (let j = 0; j < P.newPerPull; j++) {
        const k = (s - after) * P.newPerPull + j;
        if (kindOf(k) !== "regular") continue;
        batch.push(shipment(k, status, slotTime(s), now));
        updates.push(imported.get(k)!);
      }
    }
    await step("imports", { loads: updates, invoices: [] }, async () => {
      const m = await measureMutationToLimit(t, internal.fourKitesSyncHelpers.importShipmentBatch, {
        workosOrgId: org,
        shipments: batch.map((b) => JSON.stringify(b)),
      });
      if (!m.ok) return { m };
      const created: Id<"loads">[] = [];
      m.result.results.forEach((r, i) => {
        if (i < P.newPerPull) {
          if (r.outcome !== "created")
            throw new Error(`[orgDay] shipment not created: ${r.outcome}`);
          imported.set(s * P.newPerPull + i, r.loadId);
          created.push(r.loadId);
        } else if (r.outcome !== "updated") {
          throw new Error(`[orgDay] shipment not updated: ${r.outcome}`);
        }
      });
      return { m, created };
    });

    // Dispatchers: Open ⇄ Assigned over the pool.
    for (let j = 0; j < P.dispatchPerSlot; j++) {
      const loadId = pool[(s * P.dispatchPerSlot + j) % pool.length];
      const to = poolStatus.get(loadId) === "Open" ? "Assigned" : "Open";
      poolStatus.set(loadId, to);
      await step("writes", { loads: [loadId], invoices: [] }, async () => ({
        m: await measureMutationToLimit(member(t, org), api.loads.updateLoadStatus, {
          workosOrgId: org,
          loadId,
          status: to,
        }),
      }));
    }

    // Billing run: bulk bill, then void a few.
    if ((P.billingSlots as readonly number[]).includes(s)) {
      const start = billingRun * (P.billedPerRun + P.voidedPerRun);
      const bill = billing.slice(start, start + P.billedPerRun);
      const voids = billing.slice(start + P.billedPerRun, start + P.billedPerRun + P.voidedPerRun);
      billingRun++;
      await step("writes", { loads: [], invoices: bill }, async () => ({
        m: await measureMutationToLimit(biller(t, org), api.invoices.bulkUpdateStatus, {
          workosOrgId: org,
          invoiceIds: bill,
          status: "BILLED",
        }),
      }));
      await step("writes", { loads: [], invoices: voids }, async () => ({
        m: await measureMutationToLimit(biller(t, org), api.invoices.bulkVoidInvoices, {
          workosOrgId: org,
          invoiceIds: voids,
          reason: "billing correction",
        }),
      }));
    }

    // A new lane at noon, backfilling the loads imported on its pair so far.
    if (s === P.laneSlot) {
      const unmapped = [...imported].filter(([k]) => kindOf(k) === "unmapped").map(([, id]) => id);
      const invoices = await t.run(async (ctx) => {
        const out: Id<"invoices">[] = [];
        for (const loadId of unmapped) {
          const inv = await ctx.db
            .query("invoices")
            .withIndex("by_load_and_status", (q) => q.eq("loadId", loadId))
            .first();
          if (inv !== null) out.push(inv._id);
        }
        return out;
      });
      await step("backfill", { loads: unmapped, invoices }, async () => ({
        m: await measureMutationToLimit(biller(t, org), api.lanes.createLaneAndBackfill, {
          workosOrgId: org,
          ...NEW_LANE_PAIR,
          rateCents: 185_000,
        }),
      }));
    }

    // The periodic cleanup, hourly: expires the stale loads imported since.
    if (s % P.cleanupEvery === P.cleanupEvery - 1) {
      const stale = [...imported].filter(([k]) => kindOf(k) === "stale").map(([, id]) => id);
      await step("cleanup", { loads: stale, invoices: [] }, async () => ({
        m: await measureMutationToLimit(t, internal.lazyLoadPromotion.periodicCleanup, {}),
      }));
    }

    // The daily recount: the module's pages; the seed system's pair-by-pair count.
    if (s === P.recountSlot) {
      const m = await measureMutationToLimit(t, internal.stats.recalculateOrgStats, args);
      await moduleTx("recount", m);
      await runJobs("recount");
      await seedRecount(world, tallies.get("seed")!);
    }
  }

  // Every counter still exact and nothing left scheduled is checked by the runner.
  return result();
}

/**
 * The seed system's daily recount: every (table, status) pair page by page,
 * then one overwrite of the counters document (which re-runs both badges).
 */
async function seedRecount(world: World, tally: DayTally): Promise<void> {
  const { t, org } = world;
  const { LOAD_STATUSES, INVOICE_STATUSES } = await import("../convex/model/enums");
  const { tally: countsOf } = await import("../convex/model/stats/counters");
  const loads: Record<string, number> = {};
  const invoices: Record<string, number> = {};
  const cents: Record<string, number> = {};
  const pairs = [
    ...LOAD_STATUSES.map((status) => ({ table: "loads" as const, status })),
    ...INVOICE_STATUSES.map((status) => ({ table: "invoices" as const, status })),
  ];
  for (const { table, status } of pairs) {
    let cursor: string | null = null;
    let count = 0;
    let amount = 0;
    for (;;) {
      const m: Measurement<{
        count: number;
        amountCents: number;
        isDone: boolean;
        continueCursor: string;
      }> = await measureMutationToLimit(t, benchApi.benchSeed.recountPage, {
        workosOrgId: org,
        table,
        status,
        cursor,
        numItems: DAY_PROFILE.seedRecountPage,
      });
      add(tally, "recount", m.io);
      if (!m.ok) {
        tally.failed = `recount: ${m.error}`;
        return;
      }
      count += m.result.count;
      amount += m.result.amountCents;
      if (m.result.isDone) break;
      cursor = m.result.continueCursor;
    }
    if (table === "loads") loads[status] = count;
    else {
      invoices[status] = count;
      cents[status] = amount;
    }
  }
  const m = await measureMutationToLimit(t, benchApi.benchSeed.overwrite, {
    workosOrgId: org,
    loads: countsOf(LOAD_STATUSES, (s) => loads[s]),
    invoices: countsOf(INVOICE_STATUSES, (s) => invoices[s]),
    invoiceAmountCents: countsOf(INVOICE_STATUSES, (s) => cents[s]),
  });
  add(tally, "recount", m.io);
  const args = { workosOrgId: org };
  const loadBadge = await measureQueryToLimit(t, benchApi.benchSeed.countLoads, args);
  const invoiceBadge = await measureQueryToLimit(t, benchApi.benchSeed.countInvoices, args);
  rerun(tally, "recount", "loads", loadBadge.io);
  rerun(tally, "recount", "invoices", invoiceBadge.io);
}

/** One implementation's day for U users. */
export type DayFigure = {
  implementation: DayImplementation;
  size: number;
  users: number;
  outcome: "ok" | "fails" | "not run";
  /** Why it failed or was not run. */
  reason?: string;
  total: Io;
  /** Bytes read + written, per source and for the badges (U users). */
  split: Record<DaySource | "badges", number>;
  /** How the figure was computed, when not measured whole at this size. */
  computed?: string;
  /** The module only: its filtered badges for U users (issue 20), not in `total`. */
  filtered?: { badges: Io; rerunsPerUser: number };
};

/** Bytes read + written. */
export function bytes(io: Io): number {
  return io.bytesRead + io.bytesWritten;
}

/** The day of `tally` for `users` users. */
export function dayFigure(tally: DayTally, users: number): DayFigure {
  const badges: Io = {
    documentsRead: tally.badgesPerUser.documentsRead * users,
    bytesRead: tally.badgesPerUser.bytesRead * users,
    documentsWritten: 0,
    bytesWritten: 0,
    databaseQueries: tally.badgesPerUser.databaseQueries * users,
  };
  const total = sumIo([...DAY_SOURCES.map((s) => tally.sources[s]), badges]);
  const split = Object.fromEntries([
    ...DAY_SOURCES.map((s) => [s, bytes(tally.sources[s])]),
    ["badges", bytes(badges)],
  ]) as Record<DaySource | "badges", number>;
  const filtered =
    tally.filtered === undefined
      ? undefined
      : {
          badges: {
            documentsRead: tally.filtered.perUser.documentsRead * users,
            bytesRead: tally.filtered.perUser.bytesRead * users,
            documentsWritten: 0,
            bytesWritten: 0,
            databaseQueries: tally.filtered.perUser.databaseQueries * users,
          },
          rerunsPerUser: tally.filtered.reruns,
        };
  const outcome =
    tally.notRun !== undefined ? "not run" : tally.failed !== undefined ? "fails" : "ok";
  const reason = tally.notRun ?? tally.failed;
  return {
    implementation: tally.implementation,
    size: tally.size,
    users,
    outcome,
    ...(reason === undefined ? {} : { reason }),
    total,
    split,
    ...(filtered === undefined ? {} : { filtered }),
    ...(tally.computed === undefined ? {} : { computed: tally.computed }),
  };
}

/**
 * A day at a size where only the size-dependent steps were run ("recount
 * only": the recount, and one run of every badge): the other steps and the
 * number of badge re-runs they cause are taken from a full day measured at a
 * smaller size (the same work at every size), priced at the badge costs
 * measured at this size. Labeled as computed in the report.
 */
export function combineDays(full: DayTally, partial: DayTally): DayTally {
  if (full.implementation !== partial.implementation)
    throw new Error("combineDays: two implementations");
  const out: DayTally = {
    ...partial,
    sources: { ...full.sources, recount: partial.sources.recount },
    transactions: { ...full.transactions, recount: partial.transactions.recount },
    reruns: { loads: 0, invoices: 0 },
    rerunsBySource: {
      ...full.rerunsBySource,
      recount: partial.rerunsBySource.recount,
    },
    computed:
      `imports, writes, backfill and cleanup and the badge re-runs they cause are the ` +
      `${fmtInt(full.size)}-load day's (same work at every size); the recount and every badge ` +
      `query cost are measured at ${fmtInt(partial.size)}`,
  };
  if (partial.notRun !== undefined || partial.failed !== undefined || partial.badgeCost === null) {
    return { ...out, failed: partial.failed ?? full.failed };
  }
  if (full.failed !== undefined) out.failed = full.failed;
  const cost = partial.badgeCost;
  // The partial day's badges: first runs plus the recount's re-runs, as measured.
  let badges = partial.badgesPerUser;
  for (const source of DAY_SOURCES) {
    const n = out.rerunsBySource[source];
    out.reruns.loads += n.loads;
    out.reruns.invoices += n.invoices;
    if (source === "recount") continue;
    for (let i = 0; i < n.loads; i++) badges = sumIo([badges, cost.loads]);
    for (let i = 0; i < n.invoices; i++) badges = sumIo([badges, cost.invoices]);
  }
  out.badgesPerUser = badges;
  if (partial.filtered !== undefined && full.filtered !== undefined) {
    // Filtered badges: the full day's re-runs of each, priced at this size.
    const f = partial.filtered;
    let perUser = f.cost;
    for (const name of f.badges) {
      const n = (full.filtered.rerunsByBadge[name] ?? 0) - (f.rerunsByBadge[name] ?? 0);
      for (let i = 0; i < n; i++) perUser = sumIo([perUser, f.costByBadge[name]]);
    }
    out.filtered = {
      ...f,
      perUser,
      reruns: full.filtered.reruns,
      rerunsBySource: { ...full.filtered.rerunsBySource, recount: f.rerunsBySource.recount },
      rerunsByBadge: full.filtered.rerunsByBadge,
    };
  }
  if (partial.statsRowWrites !== undefined) {
    // For the module, a badge re-run is a transaction that changed its stats row.
    out.statsRowWrites = { ...out.reruns, byRecount: partial.statsRowWrites.byRecount };
  }
  return out;
}

/**
 * The filtered badges a planner keeps open (issue 20): the contracted lane's
 * and the day's shipper's loads picking up within 30 days either side of now,
 * and the org's loads picking up in the coming week.
 */
export function filteredBadgesOf(lane: Id<"lanes">, now: number): Record<string, TestFilter> {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const month = { startDate: day(now - 30 * DAY), endDate: day(now + 30 * DAY) };
  return {
    "lane, ±30 days": { laneId: lane, ...month },
    "customer, ±30 days": { customerId: "CUST-DAY", ...month },
    "org, next 7 days": { startDate: day(now), endDate: day(now + 7 * DAY) },
  };
}

/** What a filtered badge reads (its facet status and facet documents, as `loggingReader` logs them). */
async function readSetOf(t: World["t"], org: string, filter: TestFilter): Promise<string[]> {
  const def = entityIn(STATS.entities, "loads");
  return await t.query(async (ctx) => {
    const log = new Set<string>();
    await readFilteredCounts(
      { ...ctx, db: loggingReader(ctx.db, log) },
      STATS,
      def,
      org,
      filterOf(def, filter),
    );
    return [...log];
  });
}

/** The current contents of the documents `keys` name (`table|org|entity|...key`), as JSON. */
async function snapshotKeys(t: World["t"], keys: string[]): Promise<[string, string][]> {
  return await t.run(async (ctx) => {
    const out: [string, string][] = [];
    for (const key of keys) {
      const [table, org, name, facet, value, period] = key.split("|");
      const entity = name as "loads";
      const doc =
        table === "statsFacets"
          ? await ctx.db
              .query("statsFacets")
              .withIndex("by_key", (q) =>
                q
                  .eq("workosOrgId", org)
                  .eq("entity", entity)
                  .eq("facet", facet)
                  .eq("value", value)
                  .eq("period", period),
              )
              .first()
          : table === "statsFacetStatus"
            ? await ctx.db
                .query("statsFacetStatus")
                .withIndex("by_org_and_entity", (q) =>
                  q.eq("workosOrgId", org).eq("entity", entity),
                )
                .first()
            : null;
      out.push([key, JSON.stringify(doc)]);
    }
    return out;
  });
}
