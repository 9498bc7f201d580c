import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import {
  type Accessor,
  expectCountersExact,
  expectRejected,
  member,
  newBackend,
  ORG_A,
  ORG_B,
  storedCounters,
} from "./setup";

const DALLAS = { city: "Dallas", state: "TX" };
const ATLANTA = { city: "Atlanta", state: "GA" };

function newLoad(externalLoadId: string) {
  return { workosOrgId: ORG_A, externalLoadId, origin: DALLAS, destination: ATLANTA };
}

describe("loads", () => {
  test("createLoad inserts an Open load and counts it", async () => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const created = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    const { loadId } = created;
    const load = await t.run((ctx) => ctx.db.get("loads", loadId));
    expect(load).toMatchObject({ status: "Open", loadType: "UNMAPPED", originKey: "DALLAS|TX" });
    // No lane yet: the load comes with a MISSING_DATA invoice of 0 cents.
    expect(created).toMatchObject({ loadType: "UNMAPPED", invoiceStatus: "MISSING_DATA" });
    const invoice = await t.run((ctx) => ctx.db.get("invoices", created.invoiceId));
    expect(invoice).toMatchObject({ loadId, status: "MISSING_DATA", amountCents: 0 });
    const counts = await a.query(api.loads.countLoadsByStatus, { workosOrgId: ORG_A });
    expect(counts).toMatchObject({ exact: true, source: "stats", total: 1 });
    expect(counts.counts.Open).toBe(1);
    await expectCountersExact(t, ORG_A);
  });

  test("updateLoadStatus follows the transition table and keeps counters", async () => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const { loadId } = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    const moved = await a.mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId,
      status: "Assigned",
    });
    expect(moved).toEqual({ loadId, from: "Open", to: "Assigned", changed: true });
    await expectCountersExact(t, ORG_A);
    const again = await a.mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId,
      status: "Assigned",
    });
    expect(again.changed).toBe(false);
    await a.mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId,
      status: "Completed",
    });
    const counts = await a.query(api.loads.countLoadsByStatus, { workosOrgId: ORG_A });
    expect(counts.counts).toMatchObject({ Open: 0, Assigned: 0, Completed: 1 });
    await expectCountersExact(t, ORG_A);
    // Completed is terminal.
    await expectRejected(
      t,
      () => a.mutation(api.loads.updateLoadStatus, { workosOrgId: ORG_A, loadId, status: "Open" }),
      "ILLEGAL_TRANSITION",
    );
  });

  test("bad input is rejected with a code and writes nothing", async () => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const { loadId } = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    await expectRejected(
      t,
      () => a.mutation(api.loads.updateLoadStatus, { workosOrgId: ORG_A, loadId, status: "Lost" }),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      () =>
        a.mutation(api.loads.updateLoadStatus, { workosOrgId: ORG_A, loadId, status: "Expired" }),
      "ILLEGAL_TRANSITION",
    );
    await expectRejected(
      t,
      () => a.mutation(api.loads.createLoad, newLoad("L-1")),
      "ALREADY_EXISTS",
    );
    await expectRejected(
      t,
      () => a.mutation(api.loads.createLoad, newLoad("   ")),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      () => a.mutation(api.loads.createLoad, newLoad("x".repeat(129))),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      () =>
        a.mutation(api.loads.createLoad, {
          ...newLoad("L-2"),
          origin: { city: "", state: "TX" },
        }),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      () =>
        a.mutation(api.loads.createLoad, {
          ...newLoad("L-2"),
          pickupAt: 2_000_000_000_000,
          deliveryAt: 1_000_000_000_000,
        }),
      "INVALID_ARGUMENT",
    );
    // A deleted load id is unknown.
    await a.mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId });
    await expectRejected(
      t,
      () =>
        a.mutation(api.loads.updateLoadStatus, { workosOrgId: ORG_A, loadId, status: "Assigned" }),
      "NOT_FOUND",
    );
    await expectCountersExact(t, ORG_A);
  });

  test("deleteLoad removes unbilled invoices and refuses billed ones", async () => {
    const t = newBackend();
    const a = member(t, ORG_A, ["invoices:bulk-update"]);
    // With a lane, the new load is CONTRACT and comes with a DRAFT invoice.
    await a.mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: 125_000,
      effectiveFrom: 1,
    });
    const { loadId, loadType, invoiceId } = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    expect(loadType).toBe("CONTRACT");
    await a.mutation(api.invoices.bulkUpdateStatus, {
      workosOrgId: ORG_A,
      invoiceIds: [invoiceId],
      status: "BILLED",
    });
    await expectRejected(
      t,
      () => a.mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId }),
      "HAS_BILLED_INVOICE",
    );
    await a.mutation(api.invoices.bulkVoidInvoices, {
      workosOrgId: ORG_A,
      invoiceIds: [invoiceId],
    });
    const { invoiceId: second } = await a.mutation(api.invoices.createInvoice, {
      workosOrgId: ORG_A,
      loadId,
      amountCents: 99_00,
    });
    await expectCountersExact(t, ORG_A);
    const result = await a.mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId });
    expect(result.invoicesDeleted).toBe(2);
    expect(await t.run((ctx) => ctx.db.get("invoices", second))).toBeNull();
    await expectCountersExact(t, ORG_A);
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads?.counts.Open).toBe(0);
    expect(invoices?.counts.VOID).toBe(0);
  });
});

describe("loads: access", () => {
  test("every public load function rejects no identity and another org", async () => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const { loadId } = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    const b = member(t, ORG_B);
    const calls: Array<[string, (who: Accessor) => Promise<unknown>]> = [
      ["createLoad", (who) => who.mutation(api.loads.createLoad, newLoad("L-2"))],
      [
        "updateLoadStatus",
        (who) =>
          who.mutation(api.loads.updateLoadStatus, {
            workosOrgId: ORG_A,
            loadId,
            status: "Assigned",
          }),
      ],
      ["deleteLoad", (who) => who.mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId })],
      [
        "countLoadsByStatus",
        (who) => who.query(api.loads.countLoadsByStatus, { workosOrgId: ORG_A }),
      ],
    ];
    for (const [, call] of calls) {
      await expectRejected(t, () => call(t), "UNAUTHENTICATED");
      await expectRejected(t, () => call(b), "ORG_MISMATCH");
      const noOrg = t.withIdentity({ subject: "user_x" });
      await expectRejected(t, () => call(noOrg), "ORG_MISMATCH");
    }
  });
});
