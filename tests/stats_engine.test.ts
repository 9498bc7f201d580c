/**
 * The stats engine's edge cases: the first counted write to an org that had
 * data before the counters, count queries on a row that is not exact, and a
 * recount whose shadow a bypassing edit has made negative.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { STATS_ENTITIES } from "../convex/model/counted";
import { FALLBACK_SCAN_LIMIT } from "../convex/model/stats/read";
import schema from "../convex/schema";
import { defined, insertRawDocuments, quietLogs } from "./support/recount";
import {
  biller,
  expectCountersExact,
  measureQuery,
  member,
  newBackend,
  ORG_A,
  storedCounters,
  DALLAS,
  ATLANTA,
  createLoads,
} from "./support/setup";

beforeEach(() => {
  quietLogs();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("an org with data from before the counters", () => {
  test("its first counted write creates rows that are not exact and seeds them", async () => {
    const t = newBackend();
    // One load (with a MISSING_DATA invoice): after deleting it the org has no
    // documents left, yet its counters did not start at zero.
    await insertRawDocuments(t, ORG_A, { loads: 1, withInvoices: true });
    const loadId = await t.run(async (ctx) => {
      const invoice = defined(
        await ctx.db
          .query("invoices")
          .withIndex("by_org_and_status", (q) =>
            q.eq("workosOrgId", ORG_A).eq("status", "MISSING_DATA"),
          )
          .first(),
        "a MISSING_DATA invoice",
      );
      return invoice.loadId;
    });
    // Deleting a pre-existing load: both rows are created by this write.
    await member(t, ORG_A).mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId });
    const rows = await storedCounters(t, ORG_A);
    expect(rows.loads).toMatchObject({ exact: false, seeded: false });
    expect(rows.invoices).toMatchObject({ exact: false, seeded: false });
    // Not drift: nothing claimed these counters were exact.
    expect(await t.query(internal.stats.listDriftReports, {})).toEqual([]);

    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await expectCountersExact(t, ORG_A);
    expect(await t.query(internal.stats.listDriftReports, {})).toEqual([]);
    expect((await storedCounters(t, ORG_A)).loads).toMatchObject({ exact: true, seeded: true });
  });

  test("count queries scan a bounded range until the seeding recount swaps", async () => {
    const t = newBackend({ transactionLimits: true });
    await insertRawDocuments(t, ORG_A, { loads: FALLBACK_SCAN_LIMIT + 200, withInvoices: false });
    await member(t, ORG_A).mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "NEW-1",
      origin: DALLAS,
      destination: ATLANTA,
    });
    const who = member(t, ORG_A);
    const before = await measureQuery(who, api.loads.countLoadsByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(before.result).toMatchObject({ exact: false, source: "scan" });
    expect(before.result.total).toBe(FALLBACK_SCAN_LIMIT);
    expect(before.io.documentsRead).toBeLessThanOrEqual(FALLBACK_SCAN_LIMIT + 2);

    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const after = await measureQuery(who, api.loads.countLoadsByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(after.result).toMatchObject({
      exact: true,
      source: "stats",
      total: FALLBACK_SCAN_LIMIT + 201,
    });
    expect(after.io.documentsRead).toBe(1);
  });
});

describe("a recount whose shadow goes negative", () => {
  test("restarts, then finishes exact and reports the whole repair", async () => {
    const t = newBackend();
    const who = biller(t, ORG_A);
    const loadIds = await createLoads(t, ORG_A, 3);
    const [start] = await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      entities: ["loads"],
      schedulePages: false,
    });
    const page = (runId: string) =>
      t.mutation(internal.stats.recountPage, {
        workosOrgId: ORG_A,
        entity: "loads",
        runId,
        maxDocs: 2,
      });
    const first = await page(defined(start.runId, "a run id"));
    expect(first).toMatchObject({ status: "continued", documentsCounted: 2 });

    // A dashboard edit moves a counted load behind the cursor; then a real
    // mutation moves it on. The shadow (and the live row) lose an Assigned
    // they never had.
    await t.run((ctx) => ctx.db.patch("loads", loadIds[0], { status: "Assigned" }));
    await who.mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId: loadIds[0],
      status: "Completed",
    });

    const statuses = [];
    let outcome = await page(first.runId);
    statuses.push(outcome.status);
    while (outcome.status === "continued" || outcome.status === "restarted") {
      outcome = await page(outcome.runId);
      statuses.push(outcome.status);
    }
    expect(statuses).toContain("restarted");
    expect(statuses.at(-1)).toBe("finished");
    // The restarted run swapped exact values in, and, the row having been
    // exact, reported every bucket it repaired.
    await expectCountersExact(t, ORG_A);
    const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
    expect(reports.map((r) => r.source)).toEqual(["recount", "negative_counter"]);
    expect(reports[0].buckets).toEqual([
      { status: "Open", measure: "count", stored: 3, actual: 2, delta: -1 },
      // The negative_counter report stated this part first (delta 1).
      { status: "Assigned", measure: "count", stored: -1, actual: 0, delta: 1, alreadyReported: 1 },
    ]);
    expect(reports[0].alreadyReportedIn).toEqual([reports[1]._id]);
    expect(reports[1].buckets).toEqual([
      { status: "Assigned", measure: "count", stored: -1, delta: 1 },
    ]);
  });
});

describe("the entity table's shared walk", () => {
  // `byOrgWalk` in convex/model/stats/entities.ts queries every counted table
  // through one `by_org` index on (workosOrgId, _creationTime); a counted
  // table declared without it would compile and then walk nothing.
  test.each(STATS_ENTITIES)("%s declares by_org on workosOrgId (then creation time)", (entity) => {
    const indexes = schema.tables[entity][" indexes"]();
    expect(indexes.find((i) => i.indexDescriptor === "by_org")?.fields).toEqual(["workosOrgId"]);
  });
});
