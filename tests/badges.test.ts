/**
 * What the count queries answer while the counters are not exact
 * (docs/badges.md): a drifted row answers from its counters with the
 * counters known to be off (1 document read); a row being seeded answers from
 * the recount's shadow, exact for the documents behind the cursor, with a
 * progress that rises page by page to 1 (at most 2 reads); an org with no
 * counters gets a bounded scan, and its seeding is scheduled by the next
 * counted write or by the daily walk.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import type { StatsEntity } from "../convex/model/counted";
import { FALLBACK_SCAN_LIMIT } from "../convex/model/stats/read";
import { defined, insertRawDocuments, quietLogs } from "./support/recount";
import { pendingJobs } from "./support/scheduled";
import { seedOrg } from "./support/seed";
import {
  type Backend,
  ATLANTA,
  biller,
  DALLAS,
  histogram,
  measureMutation,
  measureQuery,
  newBackend,
  ORG_A,
  storedCounters,
} from "./support/setup";

beforeEach(quietLogs);
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The badge of `entity`, measured. */
async function badge(t: Backend, entity: StatsEntity) {
  const who = biller(t, ORG_A);
  if (entity === "loads") {
    return await measureQuery(who, api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A });
  }
  return await measureQuery(who, api.invoices.countInvoicesByStatusDetailed, {
    workosOrgId: ORG_A,
  });
}

/** Sum of |delta| over a report's buckets of `measure`. */
function driftOf(
  buckets: Array<{ measure: string; delta: number }>,
  measure: "count" | "amountCents",
): number {
  return buckets.filter((b) => b.measure === measure).reduce((n, b) => n + Math.abs(b.delta), 0);
}

describe("a drifted row (seeded, then a counter went negative)", () => {
  test.each([1_000, 5_000])(
    "loads, %i: the badge reads 1 document and is within the drift of the truth",
    async (size) => {
      vi.useFakeTimers();
      const t = newLimited();
      const { loadIds } = await seedOrg(t, ORG_A, { loads: size, loadStatus: () => "Open" });
      // Dashboard edits around the write layer: one load moved to Assigned,
      // one deleted. The counters still say `size` Open loads.
      await t.run(async (ctx) => {
        await ctx.db.patch("loads", loadIds[0], { status: "Assigned" });
        await ctx.db.delete("loads", loadIds[1]);
      });
      // A counted write moves the edited load on: Assigned goes to -1.
      await biller(t, ORG_A).mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId: loadIds[0],
        status: "Completed",
      });
      const row = defined((await storedCounters(t, ORG_A)).loads, "the loads row");
      expect(row).toMatchObject({ exact: false, seeded: true });

      const { io, result } = await badge(t, "loads");
      expect(io.documentsRead).toBe(1);
      expect(result).toMatchObject({
        exact: false,
        source: "stats",
        state: "approximate",
        progress: 1,
        knownDrift: [{ status: "Assigned", measure: "count", atLeast: 1 }],
      });
      // From the counters, not a 1,000-document scan.
      expect(result.total).toBe(size);
      expect(result.counts).toEqual(row.entity === "loads" ? row.counts : null);

      // The repair finds the true drift; the badge was within it.
      const truth = await histogram(t, ORG_A);
      const trueTotal = LOAD_STATUSES.reduce((n, s) => n + truth.loads[s], 0);
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      const [report] = await t.query(internal.stats.listDriftReports, {
        workosOrgId: ORG_A,
        entity: "loads",
        limit: 1,
      });
      expect(report.source).toBe("recount");
      const drift = driftOf(report.buckets, "count");
      expect(drift).toBe(3); // Open -2, Assigned +1
      expect(Math.abs(result.total - trueTotal)).toBeLessThanOrEqual(drift);
      for (const k of result.knownDrift ?? []) {
        const repaired = defined(
          report.buckets.find((b) => b.status === k.status && b.measure === k.measure),
          "the repaired bucket",
        );
        expect(repaired.delta).toBeGreaterThanOrEqual(k.atLeast);
      }
      // Repaired: exact again, the known drift is gone.
      const after = await badge(t, "loads");
      expect(after.result).toMatchObject({ exact: true, state: "exact", total: trueTotal });
      expect(after.result.knownDrift).toBeUndefined();
      expect((await storedCounters(t, ORG_A)).loads?.knownDrift).toBeUndefined();
    },
  );

  test("invoices: counts and cents from the counters; later negatives add to the known drift", async () => {
    vi.useFakeTimers();
    const t = newLimited();
    const { invoiceIds } = await seedOrg(t, ORG_A, {
      loads: 1_500,
      invoiceStatus: () => "DRAFT",
      amountCents: () => 10_000,
    });
    await t.run(async (ctx) => {
      await ctx.db.patch("invoices", invoiceIds[0], { status: "BILLED", amountCents: 25_000 });
      await ctx.db.patch("invoices", invoiceIds[1], { status: "PENDING_PAYMENT" });
    });
    const pay = (invoiceId: Id<"invoices">) =>
      biller(t, ORG_A).mutation(api.invoices.bulkUpdateStatus, {
        workosOrgId: ORG_A,
        invoiceIds: [invoiceId],
        status: "PAID",
      });
    await pay(invoiceIds[0]);
    const first = await badge(t, "invoices");
    expect(first.io.documentsRead).toBe(1);
    expect(first.result).toMatchObject({ exact: false, source: "stats", state: "approximate" });
    expect(first.result.knownDrift).toEqual([
      { status: "BILLED", measure: "count", atLeast: 1 },
      { status: "BILLED", measure: "amountCents", atLeast: 25_000 },
    ]);
    expect(first.result.total).toBe(1_500);
    // A second drifted invoice seen while the row is already not exact.
    await pay(invoiceIds[1]);
    const second = await badge(t, "invoices");
    expect(second.io.documentsRead).toBe(1);
    expect(second.result.knownDrift).toEqual([
      { status: "BILLED", measure: "count", atLeast: 1 },
      { status: "BILLED", measure: "amountCents", atLeast: 25_000 },
      { status: "PENDING_PAYMENT", measure: "count", atLeast: 1 },
      { status: "PENDING_PAYMENT", measure: "amountCents", atLeast: 10_000 },
    ]);
    const truth = await histogram(t, ORG_A);
    expect(second.result.total).toBe(INVOICE_STATUSES.reduce((n, s) => n + truth.invoices[s], 0));
    const stored = defined((await storedCounters(t, ORG_A)).invoices, "the invoices row");
    expect("amountCents" in second.result ? second.result.amountCents : null).toEqual(
      stored.entity === "invoices" ? stored.amountCents : null,
    );
    // One negative_counter report for the episode (the row stopped being exact once).
    const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
    expect(reports.filter((r) => r.source === "negative_counter")).toHaveLength(1);
  });
});

/** A backend with Convex's transaction limits on. */
function newLimited(): Backend {
  return newBackend({ transactionLimits: true });
}

/** Histogram of the org's `entity` documents with `_creationTime <= cursor`. */
async function behind(t: Backend, entity: StatsEntity, cursor: number | null) {
  return await t.run(async (ctx) => {
    const counts = new Map<string, number>();
    const cents = new Map<string, number>();
    const docs: Array<Doc<"loads"> | Doc<"invoices">> = await ctx.db
      .query(entity)
      .withIndex("by_org", (q) => q.eq("workosOrgId", ORG_A))
      .collect();
    for (const d of docs) {
      if (cursor === null || d._creationTime > cursor) continue;
      counts.set(d.status, (counts.get(d.status) ?? 0) + 1);
      if ("amountCents" in d) cents.set(d.status, (cents.get(d.status) ?? 0) + d.amountCents);
    }
    const statuses: readonly string[] = entity === "loads" ? LOAD_STATUSES : INVOICE_STATUSES;
    return {
      counts: Object.fromEntries(statuses.map((s) => [s, counts.get(s) ?? 0])),
      amountCents: Object.fromEntries(statuses.map((s) => [s, cents.get(s) ?? 0])),
    };
  });
}

async function recountState(t: Backend, entity: StatsEntity) {
  return await t.run((ctx) =>
    ctx.db
      .query("statsRecounts")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_A).eq("entity", entity))
      .unique(),
  );
}

describe("a row being seeded", () => {
  test.each(["loads", "invoices"] as const)(
    "%s: exact behind the cursor, at most 2 reads, progress rising page by page to 1",
    async (entity) => {
      const t = newLimited();
      await insertRawDocuments(t, ORG_A, { loads: 3_000, withInvoices: true });
      const [start] = await t.mutation(internal.stats.recalculateOrgStats, {
        workosOrgId: ORG_A,
        entities: [entity],
        schedulePages: false,
      });
      let runId = defined(start.runId, "a run");
      const before = await badge(t, entity);
      expect(before.io.documentsRead).toBe(2);
      expect(before.result).toMatchObject({ exact: false, state: "counting", total: 0 });
      expect(before.result.progress).toBe(0);

      const progress: number[] = [];
      let pages = 0;
      for (;;) {
        const { result: page } = await measureMutation(t, internal.stats.recountPage, {
          workosOrgId: ORG_A,
          entity,
          runId,
          maxDocs: 400,
        });
        pages++;
        if (pages === 3) {
          // A counted write to a document behind the cursor, then one ahead of
          // it; the next page folds the first in.
          await moveOne(t, entity, "behind");
          await moveOne(t, entity, "ahead");
        }
        const { io, result } = await badge(t, entity);
        progress.push(defined(result.progress, "progress"));
        if (page.status === "finished") {
          expect(io.documentsRead).toBe(1);
          expect(result).toMatchObject({ exact: true, state: "exact", source: "stats" });
          break;
        }
        expect(page.status).toBe("continued");
        runId = page.runId;
        expect(io.documentsRead).toBeLessThanOrEqual(2);
        expect(result).toMatchObject({ exact: false, state: "counting", source: "stats" });
        const state = defined(await recountState(t, entity), "the recount state");
        const truth = await behind(t, entity, state.cursor);
        if (pages !== 3) {
          expect(result.counts).toEqual(truth.counts);
          if (entity === "invoices" && "amountCents" in result) {
            expect(result.amountCents).toEqual(truth.amountCents);
          }
        }
      }
      expect(pages).toBeGreaterThanOrEqual(8);
      expect(progress.at(-1)).toBe(1);
      for (let i = 1; i < progress.length; i++) {
        expect(progress[i]).toBeGreaterThan(progress[i - 1]);
      }
      expect(progress.slice(0, -1).every((p) => p > 0 && p < 1)).toBe(true);
    },
  );
});

/** Moves one document behind (the first) or ahead of (the last) the cursor by a counted write. */
async function moveOne(t: Backend, entity: StatsEntity, where: "behind" | "ahead") {
  const who = biller(t, ORG_A);
  if (entity === "loads") {
    const load = await t.run(async (ctx) => {
      const q = ctx.db
        .query("loads")
        .withIndex("by_org", (r) => r.eq("workosOrgId", ORG_A))
        .order(where === "behind" ? "asc" : "desc");
      for await (const l of q) if (l.status === "Open") return l;
      return null;
    });
    const l = defined(load, "an Open load");
    await who.mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId: l._id,
      status: "Canceled",
    });
    return;
  }
  const invoice = await t.run(async (ctx) => {
    const q = ctx.db
      .query("invoices")
      .withIndex("by_org", (r) => r.eq("workosOrgId", ORG_A))
      .order(where === "behind" ? "asc" : "desc");
    for await (const i of q) if (i.status === "DRAFT") return i;
    return null;
  });
  const i = defined(invoice, "a DRAFT invoice");
  await who.mutation(api.invoices.bulkUpdateStatus, {
    workosOrgId: ORG_A,
    invoiceIds: [i._id],
    status: "BILLED",
  });
}

describe("an org with no counters", () => {
  test("bounded scan; the next counted write schedules the seeding", async () => {
    vi.useFakeTimers();
    const t = newLimited();
    await insertRawDocuments(t, ORG_A, { loads: FALLBACK_SCAN_LIMIT + 300, withInvoices: false });
    const scan = await badge(t, "loads");
    expect(scan.result).toMatchObject({
      exact: false,
      source: "scan",
      state: "partial",
      total: FALLBACK_SCAN_LIMIT,
    });
    expect(scan.result.progress).toBeUndefined();
    expect(scan.io.documentsRead).toBeLessThanOrEqual(FALLBACK_SCAN_LIMIT + 2);
    expect(await pendingJobs(t)).toBe(0);

    await biller(t, ORG_A).mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "NEW-1",
      origin: DALLAS,
      destination: ATLANTA,
    });
    // The write created the row (not exact) and scheduled its seeding.
    const scheduled = await t.run(async (ctx) => {
      const names: string[] = [];
      for await (const job of ctx.db.system.query("_scheduled_functions")) {
        if (job.state.kind === "pending") names.push(job.name);
      }
      return names;
    });
    expect(scheduled).toContain("stats:recalculateOrgStats");
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const after = await badge(t, "loads");
    expect(after.io.documentsRead).toBe(1);
    expect(after.result).toMatchObject({
      exact: true,
      state: "exact",
      total: FALLBACK_SCAN_LIMIT + 301,
    });
  });

  test("with no writes, the daily walk seeds it", async () => {
    vi.useFakeTimers();
    const t = newLimited();
    await insertRawDocuments(t, ORG_A, { loads: FALLBACK_SCAN_LIMIT + 300, withInvoices: true });
    expect((await badge(t, "invoices")).result).toMatchObject({ source: "scan", state: "partial" });
    await t.mutation(internal.stats.recalculateAllOrgs, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    for (const entity of ["loads", "invoices"] as const) {
      const { io, result } = await badge(t, entity);
      expect(io.documentsRead).toBe(1);
      expect(result).toMatchObject({
        exact: true,
        state: "exact",
        total: FALLBACK_SCAN_LIMIT + 300,
      });
    }
  });

  test("a small org's scan sees every document: exact from the scan", async () => {
    const t = newLimited();
    await insertRawDocuments(t, ORG_A, { loads: 40, withInvoices: false });
    const { result } = await badge(t, "loads");
    expect(result).toMatchObject({
      exact: true,
      source: "scan",
      state: "exact",
      total: 40,
      progress: 1,
    });
  });
});

describe("I/O of the badge at 1k and 10k documents", () => {
  test.each([1_000, 10_000])(
    "%i loads: 1 read drifted, at most 2 while seeding",
    async (size) => {
      vi.useFakeTimers();
      const t = newLimited();
      await insertRawDocuments(t, ORG_A, { loads: size, withInvoices: false });
      // Seeding: measured after each page.
      const [start] = await t.mutation(internal.stats.recalculateOrgStats, {
        workosOrgId: ORG_A,
        entities: ["loads"],
        schedulePages: false,
      });
      let runId = defined(start.runId, "a run");
      const reads: number[] = [];
      for (;;) {
        const { result: page } = await measureMutation(t, internal.stats.recountPage, {
          workosOrgId: ORG_A,
          entity: "loads",
          runId,
        });
        const { io, result } = await badge(t, "loads");
        if (page.status === "finished") break;
        runId = page.runId;
        reads.push(io.documentsRead);
        expect(result.state).toBe("counting");
      }
      expect(Math.max(...reads)).toBeLessThanOrEqual(2);
      // Drift: a bypassed edit, then a counted write that drives a counter negative.
      const load = await t.run(async (ctx) =>
        ctx.db
          .query("loads")
          .withIndex("by_org_and_status", (q) => q.eq("workosOrgId", ORG_A).eq("status", "Open"))
          .first(),
      );
      const l = defined(load, "an Open load");
      await t.run((ctx) => ctx.db.delete("loads", l._id));
      await t.run(async (ctx) => {
        const row = defined(
          await ctx.db
            .query("organizationStats")
            .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_A).eq("entity", "loads"))
            .unique(),
          "row",
        );
        if (row.entity !== "loads") throw new Error("row");
        // The bypass is seen once a counter is 0 and a counted write takes from it.
        await ctx.db.patch("organizationStats", row._id, {
          counts: { ...row.counts, Assigned: 0 },
        });
      });
      const assigned = await t.run(async (ctx) =>
        ctx.db
          .query("loads")
          .withIndex("by_org_and_status", (q) =>
            q.eq("workosOrgId", ORG_A).eq("status", "Assigned"),
          )
          .first(),
      );
      await biller(t, ORG_A).mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId: defined(assigned, "an Assigned load")._id,
        status: "Completed",
      });
      const drifted = await badge(t, "loads");
      expect(drifted.result).toMatchObject({ state: "approximate", exact: false });
      expect(drifted.io.documentsRead).toBe(1);
      // The scheduled repair makes it exact again.
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      expect((await badge(t, "loads")).result).toMatchObject({ state: "exact", total: size - 1 });
    },
    120_000,
  );
});
