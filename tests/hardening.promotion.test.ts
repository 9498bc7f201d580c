/**
 * Hardening, issue 9 item 8: promotion never creates an invoice for a load
 * whose invoice was voided, on every path that promotes (the member's
 * `checkAndPromoteLoad`, a new lane's backfill, the cleanup's restarted
 * backfill), and says why. The load is still priced, so a biller can invoice
 * it by hand.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import {
  ATLANTA,
  type Backend,
  biller,
  DALLAS,
  expectCountersExact,
  member,
  newBackend,
  ORG_A,
  insertRawLane,
} from "./support/setup";

afterEach(() => {
  vi.useRealTimers();
});

const RATE = 75_000;

async function invoicesOf(t: Backend, loadId: Id<"loads">) {
  return await t.run((ctx) =>
    ctx.db
      .query("invoices")
      .withIndex("by_load_and_status", (q) => q.eq("loadId", loadId))
      .collect(),
  );
}

/** Moves the stored invoice count of `status` by `delta`, as a raw write beside it would need. */
async function adjustInvoiceCount(
  t: Backend,
  status: "VOID" | "MISSING_DATA",
  delta: number,
): Promise<void> {
  await t.run(async (ctx) => {
    const row = await ctx.db
      .query("organizationStats")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_A).eq("entity", "invoices"))
      .first();
    if (row === null || row.entity !== "invoices") throw new Error("no invoice stats row");
    await ctx.db.patch("organizationStats", row._id, {
      counts: { ...row.counts, [status]: row.counts[status] + delta },
    });
  });
}

/** An UNMAPPED load whose MISSING_DATA invoice a biller voided `voids` times over (re-created in between by raw writes). */
async function voidedUnmappedLoad(t: Backend, voids: number) {
  const { loadId, invoiceId } = await member(t, ORG_A).mutation(api.loads.createLoad, {
    workosOrgId: ORG_A,
    externalLoadId: `L-${voids}`,
    origin: DALLAS,
    destination: ATLANTA,
  });
  let last = invoiceId;
  await biller(t, ORG_A).mutation(api.invoices.bulkVoidInvoices, {
    workosOrgId: ORG_A,
    invoiceIds: [invoiceId],
    reason: "customer dispute",
  });
  for (let i = 1; i < voids; i++) {
    last = await t.run((ctx) =>
      ctx.db.insert("invoices", {
        workosOrgId: ORG_A,
        loadId,
        status: "VOID",
        amountCents: 0,
        statusChangedAt: Date.now(),
      }),
    );
    await adjustInvoiceCount(t, "VOID", 1);
  }
  return { loadId, voidedIds: voids === 1 ? [invoiceId] : [invoiceId, last] };
}

const PATHS = [
  [
    "checkAndPromoteLoad by a member without billing permission",
    async (t: Backend, loadId: Id<"loads">) => {
      // A lane written around the backfill, so only the member's call promotes.
      await insertRawLane(t, { rateCents: RATE });
      const result = await member(t, ORG_A).mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
        workosOrgId: ORG_A,
        loadId,
      });
      expect(result).toMatchObject({
        promoted: true,
        loadType: "CONTRACT",
        invoiceNotCreated: { reason: "INVOICE_VOIDED" },
      });
    },
  ],
  [
    "a new lane's backfill",
    async (t: Backend) => {
      const created = await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
        workosOrgId: ORG_A,
        origin: DALLAS,
        destination: "*",
        rateCents: RATE,
        effectiveFrom: Date.UTC(2024, 0, 1),
      });
      expect(created).toMatchObject({ promoted: 1, backfillComplete: true });
    },
  ],
  [
    "the cleanup's restart of a due backfill",
    async (t: Backend) => {
      vi.useFakeTimers();
      await insertRawLane(t, { origin: "*", rateCents: RATE, backfillDueAt: 1 });
      await t.mutation(internal.lazyLoadPromotion.periodicCleanup, {});
      await t.finishAllScheduledFunctions(vi.runAllTimers);
    },
  ],
] as const;

const CASES = PATHS.flatMap(([path, run]) => [1, 3].map((voids) => [path, voids, run] as const));

describe("promotion never undoes a void", () => {
  test.each(CASES)("via %s, with %i voided invoice(s)", async (_, voids, promote) => {
    const t = newBackend();
    const { loadId, voidedIds } = await voidedUnmappedLoad(t, voids);
    const before = await invoicesOf(t, loadId);
    await promote(t, loadId);
    // Priced, but no new invoice: the voided ones are all there is.
    const load = await t.run((ctx) => ctx.db.get("loads", loadId));
    expect(load?.loadType).not.toBe("UNMAPPED");
    const after = await invoicesOf(t, loadId);
    expect(after).toEqual(before);
    expect(after.every((i) => i.status === "VOID")).toBe(true);
    expect(after.map((i) => i._id)).toEqual(expect.arrayContaining(voidedIds));
    await expectCountersExact(t, ORG_A);
    // A biller may still invoice the priced load by hand.
    await biller(t, ORG_A).mutation(api.invoices.createInvoice, {
      workosOrgId: ORG_A,
      loadId,
      amountCents: RATE,
    });
    await expectCountersExact(t, ORG_A);
  });

  test("the answer names the newest voided invoice, and a second call is a no-op", async () => {
    const t = newBackend();
    const { loadId, voidedIds } = await voidedUnmappedLoad(t, 3);
    await PATHS[0][1](t, loadId);
    const load = await t.run((ctx) => ctx.db.get("loads", loadId));
    expect(load?.loadType).toBe("CONTRACT");
    const again = await member(t, ORG_A).mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId,
    });
    expect(again).toEqual({ promoted: false, loadType: "CONTRACT", laneId: load?.laneId });
    // Which id the first answer named: the newest voided invoice.
    const t2 = newBackend();
    const second = await voidedUnmappedLoad(t2, 3);
    await insertRawLane(t2, { rateCents: RATE });
    const result = await member(t2, ORG_A).mutation(api.lazyLoadPromotion.checkAndPromoteLoad, {
      workosOrgId: ORG_A,
      loadId: second.loadId,
    });
    expect(result.invoiceNotCreated?.voidedInvoiceId).toBe(second.voidedIds[1]);
    expect(voidedIds).toHaveLength(2);
  });

  test("a load with no invoice at all still gets a DRAFT one", async () => {
    const t = newBackend();
    const { loadId, invoiceId } = await member(t, ORG_A).mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: "L-x",
      origin: DALLAS,
      destination: ATLANTA,
    });
    // Remove the invoice around the code (and fix the counters the same way).
    await t.run((ctx) => ctx.db.delete("invoices", invoiceId));
    await adjustInvoiceCount(t, "MISSING_DATA", -1);
    await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: RATE,
      effectiveFrom: Date.UTC(2024, 0, 1),
    });
    const invoices = await invoicesOf(t, loadId);
    expect(invoices).toMatchObject([{ status: "DRAFT", amountCents: RATE }]);
    await expectCountersExact(t, ORG_A);
  });
});
