/**
 * Rehearsal (a), docs/adopting.md step 2: the example app's mutations write
 * with plain `ctx.db.insert/patch/replace/delete` and no counter helper, and
 * the badges stay equal to a from-scratch count; what a status change and a
 * bulk change of 500 invoices read and write.
 */
import { ConvexError } from "convex/values";
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { LoadStatus } from "../convex/model/enums";
import {
  badges,
  countFromScratch,
  expectedBadges,
  insertHistory,
  measureMutation,
  measureQuery,
  member,
  newApp,
  randomWrite,
  runAllScheduled,
  seededRandom,
  type App,
} from "./support";

const ORG_A = "org_A";
const ORG_B = "org_B";

async function expectBadgesExact(t: App, org: string): Promise<void> {
  expect(await badges(t, org)).toEqual(expectedBadges(await countFromScratch(t, org)));
  const detailed = await member(t, org).query(api.loads.countLoadsByStatusDetailed, {
    workosOrgId: org,
  });
  expect(detailed.state).toBe("exact");
}

function errorCode(e: unknown): unknown {
  return e instanceof ConvexError ? (e.data as { code?: unknown }).code : e;
}

describe("plain ctx.db writes are counted", () => {
  test("insert, patch, replace, delete and bulk changes keep both badges exact", async () => {
    const t = newApp();
    const a = member(t, ORG_A);
    await a.mutation(api.lanes.createLane, { hcr: "HCR1", tripNumber: "T1", rate: 850 });
    const created = [];
    for (let i = 0; i < 6; i++) {
      created.push(
        await a.mutation(api.loads.createLoad, {
          orderNumber: `A-${i}`,
          ...(i % 2 === 0 ? { hcr: "HCR1", tripNumber: "T1" } : {}),
        }),
      );
      await expectBadgesExact(t, ORG_A);
    }
    expect(created.map((c) => c.invoiceStatus)).toEqual([
      "DRAFT",
      "MISSING_DATA",
      "DRAFT",
      "MISSING_DATA",
      "DRAFT",
      "MISSING_DATA",
    ]);
    // Another org's writes never touch ORG_A's badges.
    await member(t, ORG_B).mutation(api.loads.createLoad, { orderNumber: "B-0" });

    // patch: status changes, a cancellation with its reason.
    const [l0, l1, l2, l3] = created.map((c) => c.loadId);
    for (const [loadId, status] of [
      [l0, "Assigned"],
      [l0, "Completed"],
      [l1, "Assigned"],
      [l2, "Expired"],
    ] as [Id<"loadInformation">, LoadStatus][]) {
      await a.mutation(api.loads.updateLoadStatus, { loadId, status });
      await expectBadgesExact(t, ORG_A);
    }
    await a.mutation(api.loads.updateLoadStatus, {
      loadId: l3,
      status: "Canceled",
      cancellationReason: "shipper",
      cancellationNotes: "called off",
    });
    const canceled = await t.run(async (ctx) => await ctx.db.get("loadInformation", l3));
    expect(canceled).toMatchObject({ status: "Canceled", cancellationReason: "shipper" });
    await expectBadgesExact(t, ORG_A);

    // insert and replace of invoices.
    const extra = await a.mutation(api.invoices.createInvoice, { loadId: l0, amount: 40 });
    await a.mutation(api.invoices.updateInvoice, { invoiceId: extra, status: "BILLED" });
    await expectBadgesExact(t, ORG_A);

    // bulk patch, bulk void.
    const invoiceIds = [...created.map((c) => c.invoiceId), extra];
    await a.mutation(api.invoices.bulkUpdateStatus, {
      invoiceIds: invoiceIds.slice(0, 4),
      workosOrgId: ORG_A,
      newStatus: "PENDING_PAYMENT",
      updatedBy: "user_1",
    });
    await expectBadgesExact(t, ORG_A);
    await a.mutation(api.invoices.bulkVoidInvoices, {
      invoiceIds: invoiceIds.slice(3, 6),
      workosOrgId: ORG_A,
      reason: "duplicate",
      updatedBy: "user_1",
    });
    await expectBadgesExact(t, ORG_A);

    // delete: a load with its invoices.
    const { invoicesDeleted } = await a.mutation(api.loads.deleteLoad, { loadId: l0 });
    expect(invoicesDeleted).toBe(2);
    await expectBadgesExact(t, ORG_A);
    await expectBadgesExact(t, ORG_B);
    expect((await badges(t, ORG_B)).loads).toEqual({
      Open: 1,
      Assigned: 0,
      Delivered: 0,
      Canceled: 0,
      Expired: 0,
    });
  });

  test("a seeded random sequence of writes on two orgs keeps every badge exact", async () => {
    const t = newApp({ transactionLimits: false });
    const rand = seededRandom(19);
    for (let step = 0; step < 80; step++) {
      await randomWrite(t, [ORG_A, ORG_B][rand(2)], rand, String(step));
      for (const org of [ORG_A, ORG_B]) {
        expect(await badges(t, org)).toEqual(expectedBadges(await countFromScratch(t, org)));
      }
    }
  });

  test("a refused call writes nothing: another org's load, a foreign invoice in a bulk call, a rate limit", async () => {
    const t = newApp();
    const a = member(t, ORG_A);
    const { loadId, invoiceId } = await a.mutation(api.loads.createLoad, { orderNumber: "A-0" });
    const b = await member(t, ORG_B).mutation(api.loads.createLoad, { orderNumber: "B-0" });
    const before = { a: await badges(t, ORG_A), b: await badges(t, ORG_B) };

    await expect(
      member(t, ORG_B).mutation(api.loads.updateLoadStatus, { loadId, status: "Canceled" }),
    ).rejects.toSatisfy((e) => errorCode(e) === "NOT_FOUND");
    await expect(
      a.mutation(api.invoices.bulkUpdateStatus, {
        invoiceIds: [invoiceId, b.invoiceId],
        workosOrgId: ORG_A,
        newStatus: "BILLED",
        updatedBy: "user_1",
      }),
    ).rejects.toSatisfy((e) => errorCode(e) === "NOT_FOUND");
    await expect(
      a.mutation(api.invoices.bulkUpdateStatus, {
        invoiceIds: [invoiceId],
        workosOrgId: ORG_B,
        newStatus: "BILLED",
        updatedBy: "user_1",
      }),
    ).rejects.toSatisfy((e) => errorCode(e) === "ORG_MISMATCH");
    // The rate limiter the app already had (5 bulk voids at once per org).
    for (let i = 0; i < 5; i++) {
      await a.mutation(api.invoices.bulkVoidInvoices, {
        invoiceIds: [invoiceId],
        workosOrgId: ORG_A,
        updatedBy: "user_1",
      });
    }
    const afterVoids = await badges(t, ORG_A);
    expect(afterVoids.invoices.VOID).toBe(1);
    await a.mutation(api.loads.updateLoadStatus, { loadId, status: "Assigned" });
    await expect(
      a.mutation(api.invoices.bulkVoidInvoices, {
        invoiceIds: [invoiceId],
        workosOrgId: ORG_A,
        updatedBy: "user_1",
      }),
    ).rejects.toSatisfy((e) => errorCode(e) === "RATE_LIMITED");
    expect(await badges(t, ORG_B)).toEqual(before.b);
    await expectBadgesExact(t, ORG_A);
    expect((await badges(t, ORG_A)).loads.Assigned).toBe(1);
  });
});

describe("the old runbook's recount", () => {
  test("stats:recalculateAllOrgs (the daily cron) repairs a write that bypassed the builders and reports it", async () => {
    vi.useFakeTimers();
    try {
      const t = newApp();
      const a = member(t, ORG_A);
      const loads: Id<"loadInformation">[] = [];
      for (let i = 0; i < 4; i++) {
        loads.push((await a.mutation(api.loads.createLoad, { orderNumber: `A-${i}` })).loadId);
      }
      await t.run(async (ctx) => {
        await ctx.db.insert("organizations", { name: "A", workosOrgId: ORG_A });
        await ctx.db.insert("organizations", { name: "not linked yet" });
        // A dashboard edit: around the counted builders.
        await ctx.db.patch("loadInformation", loads[0], { status: "Completed" });
      });
      expect((await badges(t, ORG_A)).loads).toMatchObject({ Open: 4, Delivered: 0 });

      await t.mutation(internal.stats.recalculateAllOrgs, {});
      await runAllScheduled(t);
      await expectBadgesExact(t, ORG_A);
      expect((await badges(t, ORG_A)).loads).toMatchObject({ Open: 3, Delivered: 1 });
      const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ entity: "loadInformation", source: "recount" });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("I/O, with Convex's transaction limits on", () => {
  async function seededOrg(loads: number) {
    vi.useFakeTimers();
    try {
      const t = newApp();
      const { loadIds, invoiceIds } = await insertHistory(t, ORG_A, loads);
      await t.run(async (ctx) => {
        await ctx.db.insert("organizations", { name: "A", workosOrgId: ORG_A });
      });
      // The org's counters are seeded as the migration's last step does.
      await t.action(internal.migrations.initializeOrgStats.run, {});
      await runAllScheduled(t);
      return { t, loadIds, invoiceIds };
    } finally {
      vi.useRealTimers();
    }
  }

  test("a badge reads one document; a status change reads 4 and writes 2, as in the module's own app", async () => {
    const { t, loadIds } = await seededOrg(1_000);
    const a = member(t, ORG_A);
    const badge = await measureQuery(a, api.loads.countLoadsByStatus, { workosOrgId: ORG_A });
    expect(badge.result.Open).toBe(1_000);
    expect(badge.io.documentsRead).toBe(1);
    const change = await measureMutation(a, api.loads.updateLoadStatus, {
      loadId: loadIds[999],
      status: "Assigned",
    });
    // The module's budget (docs/DESIGN.md §4: at most 4 read, 2 written):
    // the handler's get, the patch (a patch reads what it changes), the org's
    // stats row read and replaced; the load and the row written.
    expect(change.io).toMatchObject({ documentsRead: 4, documentsWritten: 2 });
    await expectBadgesExact(t, ORG_A);
  });

  test("bulkUpdateStatus of 500 invoices reads 1,002 and writes 501 documents", async () => {
    const { t, invoiceIds } = await seededOrg(600);
    const { io, result } = await measureMutation(member(t, ORG_A), api.invoices.bulkUpdateStatus, {
      invoiceIds: invoiceIds.slice(0, 500),
      workosOrgId: ORG_A,
      newStatus: "BILLED",
      updatedBy: "user_1",
    });
    expect(result.updated).toBe(500);
    // Within the module's budget (1,010 read, 505 written): each invoice read
    // twice (the handler's get, the patch), one stats row read and replaced
    // once for the 500 changes.
    expect(io).toMatchObject({ documentsRead: 1_002, documentsWritten: 501 });
    await expectBadgesExact(t, ORG_A);
    // bulkVoidInvoices also calls the rate limiter component in the same
    // transaction: one document more written (its state for the org).
    const voids = await measureMutation(member(t, ORG_A), api.invoices.bulkVoidInvoices, {
      invoiceIds: invoiceIds.slice(0, 500),
      workosOrgId: ORG_A,
      updatedBy: "user_1",
    });
    expect(voids.io).toMatchObject({ documentsRead: 1_002, documentsWritten: 502 });
    await expectBadgesExact(t, ORG_A);
  });
});
