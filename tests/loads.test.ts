/**
 * Loads: creation with lane pricing, the status transition table, bad
 * input, deletion with its invoices, and access checks.
 */
import { describe, expect, test } from "vitest";
import type { Id } from "../convex/_generated/dataModel";
import { api } from "../convex/_generated/api";
import type { LoadStatus } from "../convex/model/enums";
import {
  type Accessor,
  biller,
  errorMessage,
  expectArgsRefused,
  expectCountersExact,
  expectRejected,
  member,
  newBackend,
  ORG_A,
  ORG_B,
  storedCounters,
  DALLAS,
  ATLANTA,
} from "./support/setup";

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
    const counts = await a.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A });
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
    const counts = await a.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A });
    expect(counts.counts).toMatchObject({ Open: 0, Assigned: 0, Completed: 1 });
    await expectCountersExact(t, ORG_A);
    // Completed is terminal.
    await expectRejected(
      t,
      () => a.mutation(api.loads.updateLoadStatus, { workosOrgId: ORG_A, loadId, status: "Open" }),
      "ILLEGAL_TRANSITION",
    );
  });

  const BAD_NEW_LOADS: Array<
    [string, ReturnType<typeof newLoad> & { pickupAt?: number; deliveryAt?: number }]
  > = [
    ["blank load number", newLoad("   ")],
    ["load number too long", newLoad("x".repeat(129))],
    ["empty city", { ...newLoad("L-2"), origin: { city: "", state: "TX" } }],
    [
      "delivery before pickup",
      { ...newLoad("L-2"), pickupAt: 2_000_000_000_000, deliveryAt: 1_000_000_000_000 },
    ],
  ];

  test.each(BAD_NEW_LOADS)("createLoad rejects %s and writes nothing", async (_name, args) => {
    const t = newBackend();
    const a = member(t, ORG_A);
    await a.mutation(api.loads.createLoad, newLoad("L-1"));
    await expectRejected(t, () => a.mutation(api.loads.createLoad, args), "INVALID_ARGUMENT");
  });

  test("bad input is rejected with a code and writes nothing", async () => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const { loadId } = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    // Not a status: refused by the literal-union validator (and does not compile).
    await expectArgsRefused(t, () =>
      a.mutation(api.loads.updateLoadStatus, {
        workosOrgId: ORG_A,
        loadId,
        status: "Lost" as LoadStatus,
      }),
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

  test("deleteLoad removes never-billed invoices; refuses billed ones, voided or not", async () => {
    const t = newBackend();
    const a = biller(t, ORG_A);
    // With a lane, each new load is CONTRACT and comes with a DRAFT invoice.
    await a.mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: 125_000,
      effectiveFrom: 1,
    });
    const o = { workosOrgId: ORG_A };
    const billed = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    expect(billed.loadType).toBe("CONTRACT");
    await a.mutation(api.invoices.bulkUpdateStatus, {
      ...o,
      invoiceIds: [billed.invoiceId],
      status: "BILLED",
    });
    const refuse = () => a.mutation(api.loads.deleteLoad, { ...o, loadId: billed.loadId });
    await expectRejected(t, refuse, "HAS_BILLED_INVOICE");
    // Voided after billing, it is still a record to keep; the advice is to cancel.
    await a.mutation(api.invoices.bulkVoidInvoices, { ...o, invoiceIds: [billed.invoiceId] });
    await expectRejected(t, refuse, "HAS_BILLED_INVOICE");
    expect(await errorMessage(refuse())).toMatch(/cancel the load/);
    // Even with a new, unbilled invoice next to it.
    await a.mutation(api.invoices.createInvoice, { ...o, loadId: billed.loadId, amountCents: 1 });
    await expectRejected(t, refuse, "HAS_BILLED_INVOICE");
    await a.mutation(api.loads.updateLoadStatus, {
      ...o,
      loadId: billed.loadId,
      status: "Canceled",
    });

    // Voided without ever being billed: deleted with the load.
    const draft = await a.mutation(api.loads.createLoad, newLoad("L-2"));
    await a.mutation(api.invoices.bulkVoidInvoices, { ...o, invoiceIds: [draft.invoiceId] });
    const { invoiceId: second } = await a.mutation(api.invoices.createInvoice, {
      ...o,
      loadId: draft.loadId,
      amountCents: 99_00,
    });
    await expectCountersExact(t, ORG_A);
    const result = await a.mutation(api.loads.deleteLoad, { ...o, loadId: draft.loadId });
    expect(result.invoicesDeleted).toBe(2);
    expect(await t.run((ctx) => ctx.db.get("invoices", second))).toBeNull();
    expect(await t.run((ctx) => ctx.db.get("loads", draft.loadId))).toBeNull();
    await expectCountersExact(t, ORG_A);
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads?.counts).toMatchObject({ Open: 0, Canceled: 1 });
    expect(invoices?.counts).toMatchObject({ VOID: 1, DRAFT: 1 });
  });
});

describe("loads: access", () => {
  const calls: Array<[string, (who: Accessor, loadId: Id<"loads">) => Promise<unknown>]> = [
    ["createLoad", (who) => who.mutation(api.loads.createLoad, newLoad("L-2"))],
    [
      "updateLoadStatus",
      (who, loadId) =>
        who.mutation(api.loads.updateLoadStatus, {
          workosOrgId: ORG_A,
          loadId,
          status: "Assigned",
        }),
    ],
    [
      "deleteLoad",
      (who, loadId) => who.mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId }),
    ],
    [
      "countLoadsByStatus",
      (who) => who.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A }),
    ],
  ];

  test.each(calls)("%s rejects no identity and another org", async (_name, call) => {
    const t = newBackend();
    const a = member(t, ORG_A);
    const { loadId } = await a.mutation(api.loads.createLoad, newLoad("L-1"));
    const b = member(t, ORG_B);
    await expectRejected(t, () => call(t, loadId), "UNAUTHENTICATED");
    await expectRejected(t, () => call(b, loadId), "ORG_MISMATCH");
    const noOrg = t.withIdentity({ subject: "user_x" });
    await expectRejected(t, () => call(noOrg, loadId), "ORG_MISMATCH");
  });
});
