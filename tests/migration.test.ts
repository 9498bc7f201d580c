/**
 * The initializeOrgStats migration on data written before the counters
 * existed (raw inserts, no stats rows): exact counters, idempotent,
 * resumable, and a dry run that writes nothing.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import { ORGS_PER_PAGE } from "../convex/model/stats/recount/orgWalk";
import { insertRawDocuments, quietLogs } from "./support/recount";
import { runRecountWork } from "./support/scheduled";
import {
  type Backend,
  biller,
  dump,
  expectCountersExact,
  expectRejected,
  histogram,
  newBackend,
  ORG_A,
  ORG_B,
  storedCounters,
  DALLAS,
  ATLANTA,
} from "./support/setup";

const ORG_C = "org_01CCCCCCCCCCCCCCCCCCCCCCCC";
const ORG_D = "org_01DDDDDDDDDDDDDDDDDDDDDDDD";
const ORG_E = "org_01EEEEEEEEEEEEEEEEEEEEEEEE";
const ORG_F = "org_01FFFFFFFFFFFFFFFFFFFFFFFF";

async function liveLoad(t: Backend, org: string, externalLoadId: string, amountCents?: number) {
  const who = biller(t, org);
  const { loadId, invoiceId } = await who.mutation(api.loads.createLoad, {
    workosOrgId: org,
    externalLoadId,
    origin: DALLAS,
    destination: ATLANTA,
  });
  if (amountCents === undefined) return;
  await t.run((ctx) => ctx.db.patch("loads", loadId, { loadType: "CONTRACT" }));
  // Replace the unpriced invoice the load was created with.
  await who.mutation(api.invoices.bulkVoidInvoices, { workosOrgId: org, invoiceIds: [invoiceId] });
  await who.mutation(api.invoices.createInvoice, { workosOrgId: org, loadId, amountCents });
}

/**
 * A: registry, raw loads + invoices. B: raw loads only, nowhere else.
 * C: registry (deleted), raw data. D: no registry, live data (exact rows).
 * E: registry, no data. F: no registry, raw data plus one live load (a loads
 * row that is not exact, no invoices row).
 */
async function world(): Promise<Backend> {
  const t = newBackend();
  const now = Date.now();
  await t.run(async (ctx) => {
    for (const [org, status] of [
      [ORG_A, "active"],
      [ORG_C, "deleted"],
      [ORG_E, "active"],
    ] as const) {
      await ctx.db.insert("organizations", { workosOrgId: org, name: org, status, updatedAt: now });
    }
  });
  await insertRawDocuments(t, ORG_A, { loads: 40, withInvoices: true });
  await insertRawDocuments(t, ORG_B, { loads: 12, withInvoices: false });
  await insertRawDocuments(t, ORG_C, { loads: 5, withInvoices: true });
  await liveLoad(t, ORG_D, "D-1", 1500);
  await liveLoad(t, ORG_D, "D-2");
  await insertRawDocuments(t, ORG_F, { loads: 9, withInvoices: true });
  await liveLoad(t, ORG_F, "F-LIVE");
  // The live load came with an invoice and an invoices row; drop the row so
  // F's invoices are known only from their documents, like pre-existing data.
  await t.run(async (ctx) => {
    const row = await ctx.db
      .query("organizationStats")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_F).eq("entity", "invoices"))
      .unique();
    if (row !== null) await ctx.db.delete("organizationStats", row._id);
  });
  return t;
}

const run = internal.migrations.initializeOrgStats.run;

/**
 * Starts a dry run and runs its walk steps and pages by hand (other pending
 * jobs stay pending), then returns its report. Needs fake timers.
 */
async function dryRunToEnd(t: Backend, args: { dryRun: true; maxDocs?: number }) {
  const started = await t.action(run, args);
  if (!started.dryRun) throw new Error("expected a dry run");
  const steps = await runRecountWork(t);
  for (const step of steps) expect(step.measurement.ok).toBe(true);
  const status = await t.query(internal.migrations.initializeOrgStats.dryRunReport, {
    dryRunId: started.dryRunId,
  });
  if (status?.finished !== true) throw new Error("expected a finished dry run");
  return status.report;
}

describe("migrations/initializeOrgStats", () => {
  beforeEach(quietLogs);
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  test("dry run reports what it would write, per org, and writes nothing", async () => {
    // F's live load scheduled the seeding of F's loads row: keep it pending.
    vi.useFakeTimers();
    const t = await world();
    const before = await dump(t);
    // Small counting pages, so the dry run pages through each org.
    const report = await dryRunToEnd(t, { dryRun: true, maxDocs: 7 });
    expect(await dump(t)).toEqual(before);

    const entries = Object.fromEntries(
      report.entries.map((e) => [`${e.workosOrgId}/${e.entity}`, e]),
    );
    const truthA = await histogram(t, ORG_A);
    expect(entries[`${ORG_A}/loads`]).toMatchObject({
      foundBy: "organizations",
      action: "create_row",
      documents: 40,
    });
    expect(entries[`${ORG_A}/loads`].changes).toEqual(
      LOAD_STATUSES.map((status) => ({
        status,
        measure: "count",
        stored: 0,
        actual: truthA.loads[status],
        delta: truthA.loads[status],
      })),
    );
    expect(entries[`${ORG_A}/invoices`].changes.filter((c) => c.measure === "amountCents")).toEqual(
      INVOICE_STATUSES.map((status) => ({
        status,
        measure: "amountCents",
        stored: 0,
        actual: truthA.invoiceCents[status],
        delta: truthA.invoiceCents[status],
      })),
    );
    expect(entries[`${ORG_B}/loads`]).toMatchObject({
      foundBy: "documents",
      action: "create_row",
      documents: 12,
    });
    expect(entries[`${ORG_B}/invoices`]).toBeUndefined();
    expect(entries[`${ORG_C}/loads`]).toMatchObject({ action: "skip_deleted", documents: null });
    expect(entries[`${ORG_D}/loads`]).toMatchObject({ foundBy: "statsRow", action: "skip_exact" });
    expect(entries[`${ORG_D}/invoices`]).toMatchObject({ action: "skip_exact" });
    expect(entries[`${ORG_E}/loads`]).toMatchObject({
      action: "create_row",
      documents: 0,
      changes: [],
    });
    // F's loads row exists (one live load counted) but is not exact.
    expect(entries[`${ORG_F}/loads`]).toMatchObject({
      foundBy: "statsRow",
      action: "seed",
      documents: 10,
    });
    expect(entries[`${ORG_F}/loads`].changes).toEqual([
      { status: "Open", measure: "count", stored: 1, actual: 3, delta: 2 },
      { status: "Assigned", measure: "count", stored: 0, actual: 2, delta: 2 },
      { status: "Completed", measure: "count", stored: 0, actual: 2, delta: 2 },
      { status: "Canceled", measure: "count", stored: 0, actual: 2, delta: 2 },
      { status: "Expired", measure: "count", stored: 0, actual: 1, delta: 1 },
    ]);
    expect(entries[`${ORG_F}/invoices`]).toMatchObject({
      foundBy: "documents",
      action: "create_row",
      documents: 10,
    });
    expect(report.totals).toEqual({
      rows: 11,
      createRow: 6,
      seed: 1,
      skipExact: 2,
      skipRunning: 0,
      skipDeleted: 2,
      rowsThatWouldChange: 7,
      documentsCounted: 40 + 40 + 12 + 10 + 10,
    });
    expect(report.truncated).toBe(false);
  });

  test("seeds exact counters for every org, and a second run changes nothing", async () => {
    vi.useFakeTimers();
    const t = await world();
    const dBefore = await storedCounters(t, ORG_D);

    const first = await t.action(run, {});
    expect(first.dryRun).toBe(false);
    await t.finishAllScheduledFunctions(vi.runAllTimers);

    for (const org of [ORG_A, ORG_B, ORG_D, ORG_E, ORG_F]) await expectCountersExact(t, org);
    // Rows exist (and are exact) even for the org with no data.
    const e = await storedCounters(t, ORG_E);
    expect(e.loads).toMatchObject({ exact: true });
    expect(e.invoices).toMatchObject({ exact: true });
    // The deleted org is left alone; the exact org was not touched.
    expect(await storedCounters(t, ORG_C)).toEqual({ loads: null, invoices: null });
    expect(await storedCounters(t, ORG_D)).toEqual(dBefore);
    // Seeding is not drift.
    expect(await t.query(internal.stats.listDriftReports, {})).toEqual([]);
    const counts = await biller(t, ORG_A).query(api.loads.countLoadsByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(counts).toMatchObject({ exact: true, source: "stats", total: 40 });

    const before = await dump(t);
    await t.action(run, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await dump(t)).toEqual(before);

    const again = await dryRunToEnd(t, { dryRun: true });
    expect(again.totals).toMatchObject({ createRow: 0, seed: 0, rowsThatWouldChange: 0 });
  });

  test("resumes from a logged position, and a full rerun completes the rest", async () => {
    vi.useFakeTimers();
    const t = await world();
    // As if the walk had stopped after the registry and stats-row phases.
    await t.action(run, { phase: "loadsScan", cursor: null });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // The skip-scan phases found B's loads and F's invoices ...
    await expectCountersExact(t, ORG_B);
    expect((await storedCounters(t, ORG_F)).invoices).toMatchObject({ exact: true });
    // ... but not the registry orgs, which the earlier phases own.
    expect(await storedCounters(t, ORG_A)).toEqual({ loads: null, invoices: null });
    const bAfterResume = await storedCounters(t, ORG_B);

    await t.action(run, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    for (const org of [ORG_A, ORG_B, ORG_D, ORG_E, ORG_F]) await expectCountersExact(t, org);
    expect(await storedCounters(t, ORG_B)).toEqual(bAfterResume);
  });

  test("the dry run is paged: no transaction reads more than one page of orgs or of documents", async () => {
    vi.useFakeTimers();
    const t = newBackend({ transactionLimits: true });
    const orgs = Array.from({ length: 2 * ORGS_PER_PAGE + 30 }, (_, i) => {
      return `org_01PAGED${String(i).padStart(17, "0")}`;
    });
    await t.run(async (ctx) => {
      for (const org of orgs) {
        await ctx.db.insert("organizations", {
          workosOrgId: org,
          name: org,
          status: "active",
          updatedAt: Date.now(),
        });
      }
    });
    let documents = 0;
    for (const [i, org] of orgs.entries()) {
      // One big org (many counting pages), the rest small.
      const made = await insertRawDocuments(t, org, {
        loads: i === 0 ? 95 : (i % 4) + 1,
        withInvoices: i % 2 === 0,
      });
      documents += made.loads + made.invoices;
    }
    const before = await dump(t);
    const maxDocs = 10;
    const started = await t.action(run, { dryRun: true, maxDocs });
    if (!started.dryRun) throw new Error("expected a dry run");
    const steps = await runRecountWork(t);
    expect(await dump(t)).toEqual(before);

    const kinds = { walk: 0, page: 0, finished: 0, superseded: 0 };
    for (const step of steps) {
      if (!step.measurement.ok) throw new Error(step.measurement.error);
      const reads = step.measurement.io.documentsRead;
      if (step.name === "stats:recountWalkStep") {
        kinds.walk++;
        const result = step.measurement.result as { targets: number };
        expect(result.targets).toBeLessThanOrEqual(ORGS_PER_PAGE);
        // The walk page, per org its registry entry and per entity its stats
        // row, recount state and row again (page size), and the job.
        expect(reads).toBeLessThanOrEqual(ORGS_PER_PAGE * (2 + 2 * 3) + 2);
      } else {
        kinds.page++;
        const result = step.measurement.result as { status: string; documentsCounted: number };
        if (result.status === "finished") kinds.finished++;
        if (result.status === "superseded") kinds.superseded++;
        expect(result.documentsCounted).toBeLessThanOrEqual(maxDocs);
        // One page of documents, the look-ahead one, the state, the deltas
        // probe, and on the last page the stats row, its summary and the job.
        expect(reads, JSON.stringify(step)).toBeLessThanOrEqual(maxDocs + 6);
      }
    }
    // Several walk pages, and the big org (95 loads, 95 invoices) over many pages.
    expect(kinds.walk).toBeGreaterThanOrEqual(3);
    expect(kinds.page).toBeGreaterThanOrEqual(2 * 10);
    expect(kinds.finished).toBe(2 * orgs.length);
    expect(kinds.superseded).toBe(0);

    const status = await t.query(internal.migrations.initializeOrgStats.dryRunReport, {});
    expect(status).toMatchObject({ dryRunId: started.dryRunId, finished: true });
    expect(status?.report.totals).toMatchObject({
      rows: 2 * orgs.length,
      createRow: 2 * orgs.length,
      documentsCounted: documents,
    });
    // A duplicate of a page that ran does nothing.
    const page = steps.find((s) => s.name === "stats:recountPage");
    if (page === undefined) throw new Error("no page ran");
    const again = await t.mutation(internal.stats.recountPage, {
      ...(page.args as { workosOrgId: string; entity: "loads"; runId: string }),
    });
    expect(again.status).toBe("superseded");
  });

  test("dry run: bad input is refused with a code and writes nothing", async () => {
    vi.useFakeTimers();
    const t = await world();
    const noDryRuns = async () =>
      expect(
        await t.run(async (ctx) =>
          ctx.db
            .query("statsRecountJobs")
            .withIndex("by_kind_and_started_at", (q) => q.eq("kind", "report"))
            .first(),
        ),
      ).toBeNull();
    for (const maxDocs of [0, -5, 2.5]) {
      await expectRejected(t, () => t.action(run, { dryRun: true, maxDocs }), "INVALID_ARGUMENT");
    }
    await expectRejected(t, () => t.action(run, { maxDocs: 10 }), "INVALID_ARGUMENT");
    await noDryRuns();
    expect(await t.query(internal.migrations.initializeOrgStats.dryRunReport, {})).toBeNull();
    const started = await t.action(run, { dryRun: true });
    if (!started.dryRun) throw new Error("expected a dry run");
    await t.run(async (ctx) => ctx.db.delete("statsRecountJobs", started.dryRunId));
    await expectRejected(
      t,
      () =>
        t.query(internal.migrations.initializeOrgStats.dryRunReport, {
          dryRunId: started.dryRunId,
        }),
      "NOT_FOUND",
    );
  });
});
