/**
 * Hardening, issue 9 items 1, 7 and 9 (stats): whatever is stored in the
 * counted tables, and whatever duplicates sit next to the stats rows, the
 * recount terminates within a stated page bound, repairs the counters to the
 * histogram of what is stored (invalid amounts counted in `counts`, adding 0
 * to `amountCents`), lists the documents the code would never have written,
 * reports each drift once across reports (`delta - alreadyReported`), and a
 * second recount of an unchanged org reports nothing.
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import type { StatsEntity } from "../convex/model/counted";
import { MAX_INVALID_LISTED } from "../convex/model/stats/invalid";
import { MAX_RESTARTS } from "../convex/model/stats/recount/state";
import { MAX_AMOUNT_CENTS } from "../convex/model/validate";
import { defined, quietLogs } from "./support/recount";
import { seedOrg } from "./support/seed";
import {
  ATLANTA,
  type Backend,
  biller,
  countedCents,
  DALLAS,
  expectCountersExact,
  newBackend,
  ORG_A,
  orgDocuments,
  lastRecounts,
  recountStates,
  storedCounters,
  rawLoad,
  createLoads,
} from "./support/setup";

beforeEach(() => {
  vi.useFakeTimers();
  quietLogs();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Amounts the code never writes, each of a different kind. */
const INVALID_AMOUNTS = [
  ["-500", -500],
  ["-1", -1],
  ["a fraction", 10.5],
  ["a tiny fraction", 1e-9],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["one over the cap", MAX_AMOUNT_CENTS + 1],
  ["past 2^53", 2 ** 53 + 2],
  ["1e300", 1e300],
  ["Number.MAX_VALUE", Number.MAX_VALUE],
] as const;

type Report = Doc<"statsDriftReports">;

async function reportsOf(t: Backend, org: string): Promise<Report[]> {
  const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: org, limit: 100 });
  return reports as Report[];
}

/**
 * Starts a recount of `org` and runs it as scheduled (each page schedules
 * the next) to the end, `maxDocs` documents per page. Returns the rows'
 * `lastRecount`.
 */
async function recountAsScheduled(t: Backend, org: string, maxDocs = 1000) {
  const started = await t.mutation(internal.stats.recalculateOrgStats, {
    workosOrgId: org,
    schedulePages: false,
  });
  // Pages of `maxDocs` documents, each run's next page after the last one
  // (restarts included), as the stats pool chains them.
  for (const r of started) {
    if (r.status !== "started") continue;
    let runId = defined(r.runId, "run id");
    for (;;) {
      const page = await t.mutation(internal.stats.recountPage, {
        workosOrgId: org,
        entity: r.entity,
        runId,
        maxDocs,
      });
      if (page.status !== "continued" && page.status !== "restarted") break;
      runId = page.runId;
    }
  }
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  return await lastRecounts(t, org);
}

/** Inserts an invoice around the code (as a dashboard edit or an import would). */
async function insertInvoiceAround(
  t: Backend,
  org: string,
  loadId: Id<"loads">,
  status: Doc<"invoices">["status"],
  amountCents: number,
): Promise<Id<"invoices">> {
  return await t.run((ctx) =>
    ctx.db.insert("invoices", {
      workosOrgId: org,
      loadId,
      status,
      amountCents,
      statusChangedAt: 0,
    }),
  );
}

async function rowCount(t: Backend, org: string): Promise<number> {
  return await t.run(
    async (ctx) =>
      (
        await ctx.db
          .query("organizationStats")
          .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org))
          .collect()
      ).length,
  );
}

describe("item 1: a recount terminates and repairs whatever amounts are stored", () => {
  test.each(INVALID_AMOUNTS)(
    "an invoice of %s written around the code: counted, listed once, live path agrees",
    async (_, amountCents) => {
      const t = newBackend();
      const { loadIds } = await seedOrg(t, ORG_A, { loads: 3 });
      const id = await insertInvoiceAround(t, ORG_A, loadIds[0], "DRAFT", amountCents);
      const draftsBefore = (await storedCounters(t, ORG_A)).invoices;
      const storedDrafts = draftsBefore?.entity === "invoices" ? draftsBefore.counts.DRAFT : -1;

      const last = await recountAsScheduled(t, ORG_A);
      expect(last.invoices).toMatchObject({ driftFound: true, pages: 1 });
      await expectCountersExact(t, ORG_A);
      const reports = await reportsOf(t, ORG_A);
      expect(reports).toHaveLength(1);
      // Counted once in `counts`, 0 in `amountCents`: only the count drifted.
      expect(reports[0].buckets).toEqual([
        {
          status: "DRAFT",
          measure: "count",
          stored: storedDrafts,
          actual: storedDrafts + 1,
          delta: 1,
        },
      ]);
      expect(reports[0].invalidTotal).toBe(1);
      expect(reports[0].invalidDocuments).toEqual([
        { id, field: "amountCents", value: String(amountCents) },
      ]);

      // The live path counts the same document the same way: voiding it
      // through the code keeps the counters exact without a recount.
      await biller(t, ORG_A).mutation(api.invoices.bulkVoidInvoices, {
        workosOrgId: ORG_A,
        invoiceIds: [id],
        reason: "bad amount",
      });
      await expectCountersExact(t, ORG_A);

      // Same invalid document, same value: the next recount reports nothing.
      const again = await recountAsScheduled(t, ORG_A);
      expect(again.invoices).toMatchObject({ driftFound: false });
      expect(await reportsOf(t, ORG_A)).toHaveLength(1);
    },
  );

  test.each([
    ["-0", -0],
    ["0", 0],
    ["the cap", MAX_AMOUNT_CENTS],
  ])("an amount of %s is one the code writes: counted as itself, not listed", async (_, cents) => {
    const t = newBackend();
    const { loadIds } = await seedOrg(t, ORG_A, { loads: 2 });
    await insertInvoiceAround(t, ORG_A, loadIds[0], "BILLED", cents);
    await recountAsScheduled(t, ORG_A);
    await expectCountersExact(t, ORG_A);
    const [report] = await reportsOf(t, ORG_A);
    expect(report.invalidTotal).toBeUndefined();
    expect(report.buckets.map((b) => b.measure)).toEqual(
      cents === MAX_AMOUNT_CENTS ? ["count", "amountCents"] : ["count"],
    );
    const { invoices } = await storedCounters(t, ORG_A);
    expect(invoices?.entity === "invoices" && Object.is(invoices.amountCents.BILLED, -0)).toBe(
      false,
    );
  });

  test("the listing is bounded, follows creation order, and is reported again only when it changes", async () => {
    const t = newBackend();
    const { loadIds } = await seedOrg(t, ORG_A, { loads: 1, withStats: false });
    const total = MAX_INVALID_LISTED + 30;
    const ids = await t.run(async (ctx) => {
      const out: Id<"invoices">[] = [];
      for (let i = 0; i < total; i++) {
        out.push(
          await ctx.db.insert("invoices", {
            workosOrgId: ORG_A,
            loadId: loadIds[0],
            status: INVOICE_STATUSES[i % INVOICE_STATUSES.length],
            amountCents: -1 - i,
            statusChangedAt: 0,
          }),
        );
      }
      return out;
    });
    // Seeding (no row yet), in pages of 7: the listing is carried page to page.
    const first = await recountAsScheduled(t, ORG_A, 7);
    expect(first.invoices?.pages).toBe(Math.ceil(total / 7));
    await expectCountersExact(t, ORG_A);
    let reports = await reportsOf(t, ORG_A);
    expect(reports).toHaveLength(1);
    expect(reports[0].buckets).toEqual([]); // seeding: no drift, only the listing
    expect(reports[0].invalidTotal).toBe(total);
    expect(reports[0].invalidDocuments?.map((d) => d.id)).toEqual(ids.slice(0, MAX_INVALID_LISTED));

    // Unchanged: nothing. One value fixed: a new report (total one less).
    await recountAsScheduled(t, ORG_A, 7);
    expect(await reportsOf(t, ORG_A)).toHaveLength(1);
    await t.run((ctx) => ctx.db.patch("invoices", ids[5], { amountCents: 100 }));
    await recountAsScheduled(t, ORG_A, 7);
    reports = await reportsOf(t, ORG_A);
    expect(reports).toHaveLength(2);
    expect(reports[0].invalidTotal).toBe(total - 1);
    expect(reports[0].invalidDocuments?.map((d) => d.id)).not.toContain(ids[5]);
    // A changed value of a listed document is a change too.
    await t.run((ctx) => ctx.db.patch("invoices", ids[6], { amountCents: Number.NaN }));
    await recountAsScheduled(t, ORG_A, 7);
    reports = await reportsOf(t, ORG_A);
    expect(reports).toHaveLength(3);
    expect(reports[0].invalidDocuments?.find((d) => d.id === ids[6])?.value).toBe("NaN");
    await recountAsScheduled(t, ORG_A, 7);
    expect(await reportsOf(t, ORG_A)).toHaveLength(3);
  });

  test.each([1, 2, 3, 5])(
    "%i bypass(es) during one run: at most MAX_RESTARTS restarts, then it ends (bound holds)",
    async (bypasses) => {
      const t = newBackend();
      const who = biller(t, ORG_A);
      const N = 8;
      const loadIds = await createLoads(t, ORG_A, N);
      const [start] = await t.mutation(internal.stats.recalculateOrgStats, {
        workosOrgId: ORG_A,
        entities: ["loads"],
        schedulePages: false,
      });
      let runId = defined(start.runId, "run id");
      let done = 0;
      let pass = 0;
      let pagesInPass = 0;
      const statuses: string[] = [];
      for (let guard = 0; guard < 100; guard++) {
        const page = await t.mutation(internal.stats.recountPage, {
          workosOrgId: ORG_A,
          entity: "loads",
          runId,
          maxDocs: 1,
        });
        statuses.push(page.status);
        pagesInPass++;
        if (page.status === "restarted") {
          pass++;
          pagesInPass = 0;
        }
        if (page.status !== "continued" && page.status !== "restarted") break;
        runId = page.runId;
        // Pass k: after its k-th page, load k-1 (behind the cursor, still
        // Open) is moved by a dashboard edit, then by the code.
        const due = pass === done || pass > MAX_RESTARTS;
        if (done < bypasses && due && page.status === "continued" && pagesInPass === done + 1) {
          const target = loadIds[done];
          await t.run((ctx) => ctx.db.patch("loads", target, { status: "Assigned" }));
          await who.mutation(api.loads.updateLoadStatus, {
            workosOrgId: ORG_A,
            loadId: target,
            status: "Completed",
          });
          done++;
        }
      }
      const restarts = statuses.filter((s) => s === "restarted").length;
      expect(restarts).toBe(Math.min(bypasses, MAX_RESTARTS));
      expect(statuses.at(-1)).toBe(bypasses > MAX_RESTARTS ? "inconclusive" : "finished");
      // Bound: (MAX_RESTARTS + 1) passes of at most N pages (1 document each).
      expect(statuses.length).toBeLessThanOrEqual((MAX_RESTARTS + 1) * N);
      const { loads } = await storedCounters(t, ORG_A);
      if (bypasses > MAX_RESTARTS) {
        expect(loads).toMatchObject({ exact: false, recounting: false });
        expect(await t.run((ctx) => ctx.db.query("statsRecounts").collect())).toEqual([]);
      }
      // The recount the negative counter scheduled (or the next daily one) repairs it.
      await recountAsScheduled(t, ORG_A);
      await expectCountersExact(t, ORG_A);
      const before = (await reportsOf(t, ORG_A)).length;
      await recountAsScheduled(t, ORG_A);
      expect(await reportsOf(t, ORG_A)).toHaveLength(before);
    },
  );
});

/** Per bucket, `sum(delta - alreadyReported)` over `reports` (non-zero entries). */
function addUp(reports: Report[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reports) {
    for (const b of r.buckets) {
      const key = `${r.entity}.${b.measure}.${b.status}`;
      out[key] = (out[key] ?? 0) + b.delta - (b.alreadyReported ?? 0);
      if (out[key] === 0) delete out[key];
    }
  }
  return out;
}

describe("item 7: reports add up without double counting", () => {
  type Scenario = {
    name: string;
    run: (t: Backend) => Promise<void>;
    /** The net correction the bypasses make necessary, per bucket. */
    expected: Record<string, number>;
  };

  /** Two Open loads; the Open counter lowered by one around the code; both moved to Assigned. */
  async function negativeOpen(t: Backend, prefix: string): Promise<Id<"loads">[]> {
    const who = biller(t, ORG_A);
    const ids: Id<"loads">[] = [];
    for (const n of [1, 2]) {
      const { loadId } = await who.mutation(api.loads.createLoad, {
        workosOrgId: ORG_A,
        externalLoadId: `${prefix}-${n}`,
        origin: DALLAS,
        destination: ATLANTA,
      });
      ids.push(loadId);
    }
    await lowerCounter(t, "Open");
    for (const loadId of ids) {
      await who.mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId,
        status: "Assigned",
      });
    }
    return ids;
  }

  async function lowerCounter(t: Backend, status: "Open" | "Assigned"): Promise<void> {
    const { loads } = await storedCounters(t, ORG_A);
    await t.run(async (ctx) => {
      if (loads?.entity !== "loads") throw new Error("no loads row");
      const counts = { ...loads.counts, [status]: loads.counts[status] - 1 };
      await ctx.db.patch("organizationStats", loads._id, { counts });
    });
  }

  const scenarios: Scenario[] = [
    {
      name: "a negative counter, then the recount of the same difference",
      run: async (t) => {
        await negativeOpen(t, "A");
        await t.finishAllScheduledFunctions(vi.runAllTimers);
      },
      expected: { "loads.count.Open": 1 },
    },
    {
      name: "a negative counter, then a bypass that cancels it (recount delta 0)",
      run: async (t) => {
        await negativeOpen(t, "A");
        const { loadId } = await biller(t, ORG_A).mutation(api.loads.createLoad, {
          workosOrgId: ORG_A,
          externalLoadId: "C",
          origin: DALLAS,
          destination: ATLANTA,
        });
        await t.run((ctx) => ctx.db.delete("loads", loadId));
        await t.finishAllScheduledFunctions(vi.runAllTimers);
      },
      expected: {},
    },
    {
      name: "a negative counter plus more drift in the same and other buckets",
      run: async (t) => {
        await negativeOpen(t, "A");
        await t.run(async (ctx) => {
          await ctx.db.insert("loads", rawLoad({ externalLoadId: "X1", status: "Open" }));
          await ctx.db.insert("loads", rawLoad({ externalLoadId: "X2", status: "Canceled" }));
        });
        await t.finishAllScheduledFunctions(vi.runAllTimers);
      },
      expected: { "loads.count.Open": 2, "loads.count.Canceled": 1 },
    },
    {
      name: "two periods, each a negative counter and its recount",
      run: async (t) => {
        const ids = await negativeOpen(t, "A");
        await t.finishAllScheduledFunctions(vi.runAllTimers);
        await lowerCounter(t, "Assigned");
        await lowerCounter(t, "Assigned");
        for (const loadId of ids) {
          await biller(t, ORG_A).mutation(api.loads.updateLoadStatus, {
            workosOrgId: ORG_A,
            loadId,
            status: "Completed",
          });
        }
        await t.finishAllScheduledFunctions(vi.runAllTimers);
      },
      expected: { "loads.count.Open": 1, "loads.count.Assigned": 2 },
    },
  ];

  test.each(scenarios)("$name", async ({ run, expected }) => {
    const t = newBackend();
    await run(t);
    await expectCountersExact(t, ORG_A);
    const reports = await reportsOf(t, ORG_A);
    const negatives = reports.filter((r) => r.source === "negative_counter");
    expect(negatives.length).toBeGreaterThan(0);
    expect(addUp(reports)).toEqual(expected);
    // Every negative_counter report is settled by exactly one later recount report.
    const linked = reports.flatMap((r) => r.alreadyReportedIn ?? []);
    expect([...linked].sort()).toEqual(negatives.map((r) => r._id).sort());
    for (const r of reports.filter((x) => (x.alreadyReportedIn ?? []).length > 0)) {
      for (const id of r.alreadyReportedIn ?? []) {
        const neg = defined(
          reports.find((x) => x._id === id),
          "linked report",
        );
        expect(neg.detectedAt).toBeLessThanOrEqual(r.detectedAt);
      }
    }
    // Nothing left to settle: another recount adds no report.
    await recountAsScheduled(t, ORG_A);
    expect(await reportsOf(t, ORG_A)).toHaveLength(reports.length);
  });
});

describe("item 9 (stats): duplicate rows and recount states never wedge an org", () => {
  type Dup = { name: string; entity: StatsEntity; copies: number };
  const dups: Dup[] = [
    { name: "a copy of the loads row", entity: "loads", copies: 1 },
    { name: "a copy of the invoices row", entity: "invoices", copies: 1 },
    { name: "three copies of the loads row", entity: "loads", copies: 3 },
  ];

  test.each(dups)(
    "$name (other counters): reads and writes use the oldest; the recount removes the copies",
    async ({ entity, copies }) => {
      const t = newBackend();
      const { loadIds } = await seedOrg(t, ORG_A, { loads: 4 });
      const original = defined((await storedCounters(t, ORG_A))[entity], "row");
      const copyIds = await t.run(async (ctx) => {
        const { _id, _creationTime, ...fields } = original;
        const out = [];
        for (let i = 0; i < copies; i++) {
          const counts = Object.fromEntries(Object.keys(fields.counts).map((k) => [k, 999]));
          out.push(
            await ctx.db.insert("organizationStats", { ...fields, counts } as typeof fields),
          );
        }
        return out;
      });
      // Reads answer from the oldest row (the real counters), writes count on it.
      const who = biller(t, ORG_A);
      const loads = await who.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A });
      expect(loads.total).toBe(4);
      await who.query(api.invoices.countInvoicesByStatusDetailed, { workosOrgId: ORG_A });
      await who.mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId: loadIds[0],
        status: "Canceled",
      });
      await who.mutation(api.invoices.bulkVoidInvoices, {
        workosOrgId: ORG_A,
        invoiceIds: (await orgDocuments(t, ORG_A)).invoices.slice(0, 1).map((i) => i._id),
        reason: "test",
      });
      // The flush saw the duplicates and scheduled the recount.
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      expect(await rowCount(t, ORG_A)).toBe(2);
      await expectCountersExact(t, ORG_A);
      const reports = await reportsOf(t, ORG_A);
      const removed = reports.flatMap((r) => r.duplicatesRemoved ?? []);
      expect(removed.map((d) => d.id).sort()).toEqual([...copyIds].sort());
      expect(removed.every((d) => d.table === "organizationStats")).toBe(true);
      await recountAsScheduled(t, ORG_A);
      expect(await reportsOf(t, ORG_A)).toHaveLength(reports.length);
    },
  );

  test.each([1, 2])(
    "%i copies of a running recount state: the run goes on and its last page removes them",
    async (copies) => {
      const t = newBackend();
      await seedOrg(t, ORG_A, { loads: 5 });
      const [start] = await t.mutation(internal.stats.recalculateOrgStats, {
        workosOrgId: ORG_A,
        entities: ["loads"],
        schedulePages: false,
      });
      const runId = defined(start.runId, "run id");
      await t.mutation(internal.stats.recountPage, {
        workosOrgId: ORG_A,
        entity: "loads",
        runId,
        maxDocs: 2,
      });
      await t.run(async (ctx) => {
        const state = defined(await ctx.db.query("statsRecounts").first(), "state");
        const { _id, _creationTime, ...fields } = state;
        for (let i = 0; i < copies; i++) {
          await ctx.db.insert("statsRecounts", { ...fields, counts: {}, cursor: null });
        }
      });
      // A counted write during the run reads the state: no unique() error.
      await biller(t, ORG_A).query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A });
      // The rest of the run, page by page, as the stats pool chains it.
      for (;;) {
        const page = await t.mutation(internal.stats.recountPage, {
          workosOrgId: ORG_A,
          entity: "loads",
          runId,
          maxDocs: 2,
        });
        if (page.status !== "continued") break;
      }
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      expect(await t.run((ctx) => ctx.db.query("statsRecounts").collect())).toEqual([]);
      await expectCountersExact(t, ORG_A);
      const [report] = await reportsOf(t, ORG_A);
      expect(report.duplicatesRemoved).toHaveLength(copies);
      expect(report.duplicatesRemoved?.every((d) => d.table === "statsRecounts")).toBe(true);
      await recountAsScheduled(t, ORG_A);
      expect(await reportsOf(t, ORG_A)).toHaveLength(1);
    },
  );
});

// ---------------------------------------------------------------------------
// Property: arbitrary schema-valid values written around the code
// ---------------------------------------------------------------------------

const amountArb = fc.oneof(
  fc.integer({ min: 0, max: MAX_AMOUNT_CENTS }),
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    0.5,
    -500,
    MAX_AMOUNT_CENTS + 1,
    2 ** 53 + 2,
    1e300,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
);

type Op =
  | { kind: "insertInvoice"; status: number; amountCents: number; load: number }
  | { kind: "patchInvoice"; pick: number; status: number | null; amountCents: number | null }
  | { kind: "deleteInvoice"; pick: number }
  | { kind: "insertLoad"; status: number }
  | { kind: "patchLoad"; pick: number; status: number }
  | { kind: "deleteLoad"; pick: number }
  | { kind: "voidInvoice"; pick: number }
  | { kind: "moveLoad"; pick: number; status: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("insertInvoice" as const),
    status: fc.nat(),
    amountCents: amountArb,
    load: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("patchInvoice" as const),
    pick: fc.nat(),
    status: fc.option(fc.nat(), { nil: null }),
    amountCents: fc.option(amountArb, { nil: null }),
  }),
  fc.record({ kind: fc.constant("deleteInvoice" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("insertLoad" as const), status: fc.nat() }),
  fc.record({ kind: fc.constant("patchLoad" as const), pick: fc.nat(), status: fc.nat() }),
  fc.record({ kind: fc.constant("deleteLoad" as const), pick: fc.nat() }),
  // Through the code, on whatever the documents now hold:
  fc.record({ kind: fc.constant("voidInvoice" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("moveLoad" as const), pick: fc.nat(), status: fc.nat() }),
);

async function apply(t: Backend, op: Op): Promise<void> {
  const { loads, invoices } = await orgDocuments(t, ORG_A);
  const pickOf = <D>(docs: D[], n: number): D | undefined =>
    docs.length === 0 ? undefined : docs[n % docs.length];
  const loadStatus = (n: number) => LOAD_STATUSES[n % LOAD_STATUSES.length];
  const invoiceStatus = (n: number) => INVOICE_STATUSES[n % INVOICE_STATUSES.length];
  const ignoreRefusals = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof ConvexError)) throw e;
    }
  };
  switch (op.kind) {
    case "insertInvoice": {
      const load = pickOf(loads, op.load);
      if (load === undefined) return;
      await insertInvoiceAround(t, ORG_A, load._id, invoiceStatus(op.status), op.amountCents);
      return;
    }
    case "patchInvoice": {
      const inv = pickOf(invoices, op.pick);
      if (inv === undefined) return;
      await t.run((ctx) =>
        ctx.db.patch("invoices", inv._id, {
          ...(op.status === null ? {} : { status: invoiceStatus(op.status) }),
          ...(op.amountCents === null ? {} : { amountCents: op.amountCents }),
        }),
      );
      return;
    }
    case "deleteInvoice": {
      const inv = pickOf(invoices, op.pick);
      if (inv !== undefined) await t.run((ctx) => ctx.db.delete("invoices", inv._id));
      return;
    }
    case "insertLoad":
      await t.run((ctx) =>
        ctx.db.insert(
          "loads",
          rawLoad({ externalLoadId: `RAW-${Math.random()}`, status: loadStatus(op.status) }),
        ),
      );
      return;
    case "patchLoad": {
      const load = pickOf(loads, op.pick);
      if (load === undefined) return;
      await t.run((ctx) => ctx.db.patch("loads", load._id, { status: loadStatus(op.status) }));
      return;
    }
    case "deleteLoad": {
      const load = pickOf(loads, op.pick);
      if (load !== undefined) await t.run((ctx) => ctx.db.delete("loads", load._id));
      return;
    }
    case "voidInvoice": {
      const inv = pickOf(invoices, op.pick);
      if (inv === undefined) return;
      await ignoreRefusals(
        biller(t, ORG_A).mutation(api.invoices.bulkVoidInvoices, {
          workosOrgId: ORG_A,
          invoiceIds: [inv._id],
          reason: "property",
        }),
      );
      return;
    }
    case "moveLoad": {
      const load = pickOf(loads, op.pick);
      if (load === undefined) return;
      await ignoreRefusals(
        biller(t, ORG_A).mutation(api.loads.updateLoadStatus, {
          workosOrgId: ORG_A,
          loadId: load._id,
          status: loadStatus(op.status),
        }),
      );
      return;
    }
  }
}

describe("property: arbitrary stored values, then the scheduled recount", () => {
  test("finishes within ceil(N / P) + 1 pages, counters = histogram, second recount reports nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 4 }),
        async (ops, pageDocs) => {
          const t = newBackend();
          await seedOrg(t, ORG_A, { loads: 4 });
          for (const op of ops) await apply(t, op);
          // Negative counters seen by the code's writes scheduled recounts: run them too.
          await t.finishAllScheduledFunctions(vi.runAllTimers);
          const { loads, invoices } = await orgDocuments(t, ORG_A);
          const last = await recountAsScheduled(t, ORG_A, pageDocs);

          // Page bound (no write during the run, so no restart).
          expect(defined(last.loads, "loads recount").pages).toBeLessThanOrEqual(
            Math.ceil(loads.length / pageDocs) + 1,
          );
          expect(defined(last.invoices, "invoices recount").pages).toBeLessThanOrEqual(
            Math.ceil(invoices.length / pageDocs) + 1,
          );
          // Counters = from-scratch histogram under the counting rule (exact, finite, >= 0).
          await expectCountersExact(t, ORG_A);
          const rows = await storedCounters(t, ORG_A);
          if (rows.invoices?.entity === "invoices") {
            for (const n of Object.values(rows.invoices.amountCents)) {
              expect(Number.isSafeInteger(n)).toBe(true);
            }
          }
          // The newest invoices report lists exactly the invalid amounts stored.
          const invalid = invoices.filter((i) => countedCents(i.amountCents) !== i.amountCents);
          const reports = await reportsOf(t, ORG_A);
          const newest = reports.find((r) => r.entity === "invoices" && r.source === "recount");
          if (invalid.length > 0) {
            const listed = reports.find(
              (r) => r.entity === "invoices" && r.invalidTotal !== undefined,
            );
            expect(listed?.invalidTotal).toBe(invalid.length);
            expect(listed?.invalidDocuments?.map((d) => d.id)).toEqual(
              invalid.slice(0, MAX_INVALID_LISTED).map((i) => i._id),
            );
          } else if (newest?.invalidTotal !== undefined) {
            expect(newest.invalidTotal).toBe(0);
          }
          // Reports add up: each negative_counter report settled once.
          const negatives = reports.filter((r) => r.source === "negative_counter");
          const linked = reports.flatMap((r) => r.alreadyReportedIn ?? []);
          expect([...linked].sort()).toEqual(negatives.map((r) => r._id).sort());

          // A second recount of the unchanged org reports nothing.
          const again = await recountAsScheduled(t, ORG_A, pageDocs);
          expect(again.loads?.driftFound).toBe(false);
          expect(again.invoices?.driftFound).toBe(false);
          expect(await reportsOf(t, ORG_A)).toHaveLength(reports.length);
          await expectCountersExact(t, ORG_A);
        },
      ),
      { numRuns: 30 },
    );
  });
});
