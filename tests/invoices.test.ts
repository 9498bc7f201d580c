/**
 * Invoices: bulk status changes and voids (outcomes per id, folded
 * counters), billedAt, contract errors that write nothing, integer cents,
 * the per-load invoice cap, and access (membership and billing permission).
 */
import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { INVOICE_STATUSES } from "../convex/model/enums";
import {
  BULK_TARGET_STATUSES,
  INVOICE_TRANSITIONS,
  MAX_BULK_IDS,
  MAX_INVOICES_PER_LOAD,
} from "../convex/model/invoices/rules";
import { seedOrg } from "./support/seed";
import {
  type Accessor,
  biller,
  expectArgsRefused,
  expectCountersExact,
  expectRejected,
  member,
  newBackend,
  ORG_A,
  ORG_B,
} from "./support/setup";

type BulkTarget = (typeof BULK_TARGET_STATUSES)[number];

async function seeded(n = 12) {
  const t = newBackend();
  const a = await seedOrg(t, ORG_A, { loads: n, invoiceStatus: () => "DRAFT" });
  const b = await seedOrg(t, ORG_B, { loads: 3, invoiceStatus: () => "DRAFT" });
  return { t, a, b };
}

describe("invoices: bulk status changes", () => {
  test("bulkUpdateStatus moves every invoice and folds the counters", async () => {
    const { t, a } = await seeded();
    const who = biller(t, ORG_A);
    const res = await who.mutation(api.invoices.bulkUpdateStatus, {
      workosOrgId: ORG_A,
      invoiceIds: a.invoiceIds.slice(0, 5),
      status: "BILLED",
    });
    expect(res.updated).toBe(5);
    expect(res.results.map((r) => r.outcome)).toEqual(Array(5).fill("updated"));
    await expectCountersExact(t, ORG_A);
    const counts = await who.query(api.invoices.countInvoicesByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(counts.counts).toMatchObject({ DRAFT: 7, BILLED: 5 });
    expect(counts.amountCents.BILLED).toBe(5 * 100_000 + (0 + 1 + 2 + 3 + 4));
    expect(counts.total).toBe(12);
  });

  test("an invoice already in the target is unchanged; ineligible ones reject or skip", async () => {
    const { t, a } = await seeded();
    const who = biller(t, ORG_A);
    const ids = a.invoiceIds.slice(0, 4);
    await who.mutation(api.invoices.bulkUpdateStatus, {
      workosOrgId: ORG_A,
      invoiceIds: ids.slice(0, 2),
      status: "BILLED",
    });
    await who.mutation(api.invoices.bulkUpdateStatus, {
      workosOrgId: ORG_A,
      invoiceIds: ids.slice(0, 1),
      status: "PAID",
    });
    // ids[0] PAID (terminal), ids[1] BILLED, ids[2..3] DRAFT. DRAFT -> PENDING_PAYMENT is illegal.
    await expectRejected(
      t,
      () =>
        who.mutation(api.invoices.bulkUpdateStatus, {
          workosOrgId: ORG_A,
          invoiceIds: ids,
          status: "PENDING_PAYMENT",
        }),
      "ILLEGAL_TRANSITION",
    );
    const skipped = await who.mutation(api.invoices.bulkUpdateStatus, {
      workosOrgId: ORG_A,
      invoiceIds: ids,
      status: "PENDING_PAYMENT",
      onIneligible: "skip",
    });
    expect(skipped.results.map((r) => [r.from, r.outcome])).toEqual([
      ["PAID", "skipped"],
      ["BILLED", "updated"],
      ["DRAFT", "skipped"],
      ["DRAFT", "skipped"],
    ]);
    const same = await who.mutation(api.invoices.bulkUpdateStatus, {
      workosOrgId: ORG_A,
      invoiceIds: [ids[1]],
      status: "PENDING_PAYMENT",
    });
    expect(same.results[0].outcome).toBe("unchanged");
    await expectCountersExact(t, ORG_A);
  });

  test("bulkVoidInvoices voids, records the reason and cannot void PAID", async () => {
    const { t, a } = await seeded();
    const who = biller(t, ORG_A);
    for (const status of ["BILLED", "PAID"] as const) {
      await who.mutation(api.invoices.bulkUpdateStatus, {
        workosOrgId: ORG_A,
        invoiceIds: [a.invoiceIds[0]],
        status,
      });
    }
    await expectRejected(
      t,
      () =>
        who.mutation(api.invoices.bulkVoidInvoices, {
          workosOrgId: ORG_A,
          invoiceIds: a.invoiceIds.slice(0, 3),
        }),
      "ILLEGAL_TRANSITION",
    );
    const res = await who.mutation(api.invoices.bulkVoidInvoices, {
      workosOrgId: ORG_A,
      invoiceIds: a.invoiceIds.slice(1, 3),
      reason: "duplicate billing",
    });
    expect(res.updated).toBe(2);
    const voided = await t.run((ctx) => ctx.db.get("invoices", a.invoiceIds[1]));
    expect(voided).toMatchObject({ status: "VOID", voidReason: "duplicate billing" });
    await expectCountersExact(t, ORG_A);
  });

  test("billedAt records the first move into a billed status and survives voiding", async () => {
    const { t, a } = await seeded(4);
    const who = biller(t, ORG_A);
    const [billed, legacy, draft] = a.invoiceIds;
    const get = async (id: Id<"invoices">) => {
      const doc = await t.run((ctx) => ctx.db.get("invoices", id));
      if (doc === null) throw new Error("invoice missing");
      return doc;
    };
    const move = (ids: Id<"invoices">[], status: BulkTarget) =>
      who.mutation(api.invoices.bulkUpdateStatus, { workosOrgId: ORG_A, invoiceIds: ids, status });

    await move([billed, legacy], "BILLED");
    const billedAt = (await get(billed)).statusChangedAt;
    expect((await get(billed)).billedAt).toBe(billedAt);
    // An invoice billed before billedAt existed gets it on its next billed status.
    await t.run((ctx) => ctx.db.patch("invoices", legacy, { billedAt: undefined }));
    await move([billed, legacy], "PENDING_PAYMENT");
    const legacyBilledAt = (await get(legacy)).statusChangedAt;
    await move([billed], "PAID");
    await who.mutation(api.invoices.bulkVoidInvoices, {
      workosOrgId: ORG_A,
      invoiceIds: [legacy, draft],
    });
    expect(await get(billed)).toMatchObject({ status: "PAID", billedAt });
    expect(await get(legacy)).toMatchObject({ status: "VOID", billedAt: legacyBilledAt });
    // Voided without being billed: no billedAt.
    expect((await get(draft)).status).toBe("VOID");
    expect((await get(draft)).billedAt).toBeUndefined();
    await expectCountersExact(t, ORG_A);
  });

  test("the transition table only allows documented moves", () => {
    for (const from of INVOICE_STATUSES) {
      for (const to of INVOICE_TRANSITIONS[from]) {
        expect(to).not.toBe("MISSING_DATA");
        expect(to).not.toBe(from);
      }
    }
    expect(INVOICE_TRANSITIONS.PAID).toEqual([]);
    expect(INVOICE_TRANSITIONS.VOID).toEqual([]);
  });
});

describe("invoices: bad input writes nothing", () => {
  test("each contract violation is a ConvexError with a code", async () => {
    const { t, a, b } = await seeded();
    const who = biller(t, ORG_A);
    const bulk =
      (invoiceIds: Id<"invoices">[], status = "BILLED") =>
      () =>
        who.mutation(api.invoices.bulkUpdateStatus, {
          workosOrgId: ORG_A,
          invoiceIds,
          // Statuses that are no bulk target do not compile; cast to send them.
          status: status as BulkTarget,
        });
    await expectRejected(t, bulk([]), "INVALID_ARGUMENT");
    await expectRejected(
      t,
      bulk(Array(MAX_BULK_IDS + 1).fill(a.invoiceIds[0])),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      bulk([a.invoiceIds[0], a.invoiceIds[1], a.invoiceIds[0]]),
      "INVALID_ARGUMENT",
    );
    // Not a bulk target: refused by the literal-union validator.
    await expectArgsRefused(t, bulk(a.invoiceIds.slice(0, 2), "SENT"));
    await expectArgsRefused(t, bulk(a.invoiceIds.slice(0, 2), "MISSING_DATA"));
    await expectArgsRefused(t, bulk(a.invoiceIds.slice(0, 2), "DRAFT"));
    // Another org's invoice in the list: the whole call is rejected.
    await expectRejected(t, bulk([a.invoiceIds[0], b.invoiceIds[0]]), "NOT_FOUND");
    // An id that no longer exists.
    const gone = a.invoiceIds[5];
    await t.run((ctx) => ctx.db.delete("invoices", gone));
    await expectRejected(t, bulk([a.invoiceIds[0], gone]), "NOT_FOUND");
    await expectRejected(
      t,
      () =>
        who.mutation(api.invoices.bulkVoidInvoices, {
          workosOrgId: ORG_A,
          invoiceIds: [a.invoiceIds[0]],
          reason: " ",
        }),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      () =>
        who.mutation(api.invoices.createInvoice, {
          workosOrgId: ORG_A,
          loadId: a.loadIds[0],
          amountCents: 10,
        }),
      "ALREADY_EXISTS",
    );
    await expectRejected(
      t,
      () =>
        who.mutation(api.invoices.createInvoice, {
          workosOrgId: ORG_A,
          loadId: b.loadIds[0],
          amountCents: 10,
        }),
      "NOT_FOUND",
    );
  });

  test.each([-1, 10.5, Number.MAX_SAFE_INTEGER + 2])(
    "amounts must be integer cents: %s is rejected",
    async (amountCents) => {
      const t = newBackend();
      const { loadIds } = await seedOrg(t, ORG_A, { loads: 2, invoiceStatus: () => null });
      const who = biller(t, ORG_A);
      await expectRejected(
        t,
        () =>
          who.mutation(api.invoices.createInvoice, {
            workosOrgId: ORG_A,
            loadId: loadIds[0],
            amountCents,
          }),
        "INVALID_ARGUMENT",
      );
    },
  );

  test("amounts must be integer cents", async () => {
    const t = newBackend();
    const { loadIds } = await seedOrg(t, ORG_A, { loads: 2, invoiceStatus: () => null });
    const who = biller(t, ORG_A);
    await who.mutation(api.invoices.createInvoice, {
      workosOrgId: ORG_A,
      loadId: loadIds[0],
      amountCents: 4242,
    });
    await expectCountersExact(t, ORG_A);
  });
});

describe("invoices: at most MAX_INVOICES_PER_LOAD per load", () => {
  test("createInvoice refuses the next one with LIMIT_EXCEEDED; deleteLoad still works", async () => {
    const { t, a } = await seeded(1);
    const who = biller(t, ORG_A);
    const o = { workosOrgId: ORG_A };
    const loadId = a.loadIds[0];
    let live = a.invoiceIds[0];
    // The seeded invoice plus MAX - 1 void/create cycles: MAX invoices in all.
    for (let n = 1; n < MAX_INVOICES_PER_LOAD; n++) {
      await who.mutation(api.invoices.bulkVoidInvoices, { ...o, invoiceIds: [live] });
      live = (await who.mutation(api.invoices.createInvoice, { ...o, loadId, amountCents: n }))
        .invoiceId;
    }
    await who.mutation(api.invoices.bulkVoidInvoices, { ...o, invoiceIds: [live] });
    await expectRejected(
      t,
      () => who.mutation(api.invoices.createInvoice, { ...o, loadId, amountCents: 1 }),
      "LIMIT_EXCEEDED",
    );
    await expectCountersExact(t, ORG_A);
    // The load stays deletable: its invoices fit in one bounded read.
    const deleted = await who.mutation(api.loads.deleteLoad, { ...o, loadId });
    expect(deleted.invoicesDeleted).toBe(MAX_INVOICES_PER_LOAD);
    await expectCountersExact(t, ORG_A);
  });

  test("a load over the cap (data written around the code) is a LIMIT_EXCEEDED error", async () => {
    const { t, a } = await seeded(1);
    const loadId = a.loadIds[0];
    await t.run(async (ctx) => {
      for (let i = 0; i < MAX_INVOICES_PER_LOAD; i++) {
        await ctx.db.insert("invoices", {
          workosOrgId: ORG_A,
          loadId,
          status: "VOID",
          amountCents: 0,
          statusChangedAt: 0,
        });
      }
    });
    await expectRejected(
      t,
      () => biller(t, ORG_A).mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId }),
      "LIMIT_EXCEEDED",
    );
  });
});

describe("invoices: access", () => {
  type Seeded = Awaited<ReturnType<typeof seeded>>["a"];
  const calls: Array<[string, (who: Accessor, a: Seeded) => Promise<unknown>]> = [
    [
      "bulkUpdateStatus",
      (who, a) =>
        who.mutation(api.invoices.bulkUpdateStatus, {
          workosOrgId: ORG_A,
          invoiceIds: [a.invoiceIds[0]],
          status: "BILLED",
        }),
    ],
    [
      "bulkVoidInvoices",
      (who, a) =>
        who.mutation(api.invoices.bulkVoidInvoices, {
          workosOrgId: ORG_A,
          invoiceIds: [a.invoiceIds[0]],
        }),
    ],
    [
      "createInvoice",
      (who, a) =>
        who.mutation(api.invoices.createInvoice, {
          workosOrgId: ORG_A,
          loadId: a.loadIds[0],
          amountCents: 1,
        }),
    ],
    [
      "countInvoicesByStatus",
      (who) => who.query(api.invoices.countInvoicesByStatusDetailed, { workosOrgId: ORG_A }),
    ],
  ];

  test.each(calls)("%s rejects no identity and another org", async (_name, call) => {
    const { t, a } = await seeded(3);
    await expectRejected(t, () => call(t, a), "UNAUTHENTICATED");
    await expectRejected(t, () => call(biller(t, ORG_B), a), "ORG_MISMATCH");
  });

  test("bulk and create functions need the billing permission", async () => {
    const { t, a } = await seeded(3);
    const plain = member(t, ORG_A, ["loads:read"]);
    await expectRejected(
      t,
      () =>
        plain.mutation(api.invoices.bulkUpdateStatus, {
          workosOrgId: ORG_A,
          invoiceIds: [a.invoiceIds[0]],
          status: "BILLED",
        }),
      "MISSING_PERMISSION",
    );
    await expectRejected(
      t,
      () =>
        plain.mutation(api.invoices.bulkVoidInvoices, {
          workosOrgId: ORG_A,
          invoiceIds: [a.invoiceIds[0]],
        }),
      "MISSING_PERMISSION",
    );
    await expectRejected(
      t,
      () =>
        plain.mutation(api.invoices.createInvoice, {
          workosOrgId: ORG_A,
          loadId: a.loadIds[0],
          amountCents: 1,
        }),
      "MISSING_PERMISSION",
    );
    // Counting needs membership only.
    const counts = await plain.query(api.invoices.countInvoicesByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(counts.counts.DRAFT).toBe(3);
  });
});
