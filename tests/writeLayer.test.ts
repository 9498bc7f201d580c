/**
 * The write layer (issue 19): in a mutation built with `convex/functions.ts`,
 * plain `ctx.db.insert/patch/replace/delete` on a counted table keep the
 * counters exact, folded and flushed once per mutation. Shown on the layer
 * itself (`countedWrites`, the customization the builders apply), run inside
 * `t.run` the way a wrapped mutation runs its handler, and on random
 * sequences of every kind of write.
 */
import fc from "fast-check";
import type { GenericId } from "convex/values";
import { describe, expect, test } from "vitest";
import type { DataModel, Doc, Id } from "../convex/_generated/dataModel";
import type { MutationCtx } from "../convex/_generated/server";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import { countedWrites } from "../convex/model/stats/write/builders";
import { STATS } from "../convex/model/statsConfig";
import {
  type Backend,
  errorCode,
  expectCountersExact,
  newBackend,
  ORG_A,
  ORG_B,
  rawLoad,
  storedCounters,
} from "./support/setup";

/**
 * Runs `body` as a wrapped internal mutation runs its handler: with the
 * counted `ctx.db`, then the flush. Returns the body's result.
 */
async function counted<T>(t: Backend, body: (ctx: MutationCtx) => Promise<T>): Promise<T> {
  return await t.run(async (raw) => {
    const layer = countedWrites<DataModel>(STATS, { refuseDeletedOrgs: false });
    const { ctx, onSuccess } = await layer.input(raw);
    const result = await body({ ...raw, ...ctx });
    await onSuccess();
    return result;
  });
}

const invoice = (workosOrgId: string, loadId: Id<"loads">, status = "DRAFT" as const) => ({
  workosOrgId,
  loadId,
  status,
  amountCents: 1_000,
  statusChangedAt: 0,
});

describe("plain ctx.db writes are counted", () => {
  test("insert, patch, replace and delete, with the table named or (legacy) only the id", async () => {
    const t = newBackend();
    const ids = await counted(t, async (ctx) => {
      const a = await ctx.db.insert("loads", rawLoad({ externalLoadId: "A" }));
      const b = await ctx.db.insert("loads", rawLoad({ externalLoadId: "B", status: "Assigned" }));
      const i = await ctx.db.insert("invoices", invoice(ORG_A, a));
      return { a, b, i };
    });
    await expectCountersExact(t, ORG_A);
    await counted(t, async (ctx) => {
      await ctx.db.patch("loads", ids.a, { status: "Assigned" });
      // The legacy overload without a table name is counted too.
      await ctx.db.patch(ids.b, { status: "Completed" });
      await ctx.db.patch("invoices", ids.i, { status: "BILLED", amountCents: 2_500 });
    });
    await expectCountersExact(t, ORG_A);
    await counted(t, async (ctx) => {
      const load = await ctx.db.get("loads", ids.a);
      if (load === null) throw new Error("missing");
      const { _id, _creationTime, ...fields } = load;
      await ctx.db.replace("loads", ids.a, { ...fields, status: "Canceled" });
      await ctx.db.delete(ids.i);
      await ctx.db.delete("loads", ids.b);
    });
    await expectCountersExact(t, ORG_A);
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads?.counts).toMatchObject({ Canceled: 1, Assigned: 0, Completed: 0 });
    expect(invoices?.counts).toMatchObject({ BILLED: 0, DRAFT: 0 });
  });

  test("a document moved to another org leaves one row and enters the other", async () => {
    const t = newBackend();
    const id = await counted(t, (ctx) => ctx.db.insert("loads", rawLoad({ externalLoadId: "M" })));
    await counted(t, (ctx) => ctx.db.patch("loads", id, { workosOrgId: ORG_B }));
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
    expect((await storedCounters(t, ORG_B)).loads?.counts.Open).toBe(1);
    expect((await storedCounters(t, ORG_A)).loads?.counts.Open).toBe(0);
  });

  test("writes that change no bucket, or cancel out, write no stats row", async () => {
    const t = newBackend();
    const id = await counted(t, (ctx) => ctx.db.insert("loads", rawLoad({ externalLoadId: "N" })));
    const before = await storedCounters(t, ORG_A);
    await counted(t, async (ctx) => {
      // An uncounted field, and a status change undone in the same mutation.
      await ctx.db.patch("loads", id, { weightLbs: 12 });
      await ctx.db.patch("loads", id, { status: "Assigned" });
      await ctx.db.patch("loads", id, { status: "Open" });
      // A document inserted and deleted again.
      const gone = await ctx.db.insert("loads", rawLoad({ externalLoadId: "GONE" }));
      await ctx.db.delete("loads", gone);
    });
    expect(await storedCounters(t, ORG_A)).toEqual(before);
  });

  test("a failed write records nothing, and a refused amount writes nothing", async () => {
    const t = newBackend();
    const id = await counted(t, (ctx) => ctx.db.insert("loads", rawLoad({ externalLoadId: "F" })));
    await counted(t, (ctx) => ctx.db.delete("loads", id));
    // Patching a deleted document fails as Convex fails it; the counters stay.
    await expect(
      counted(t, (ctx) => ctx.db.patch("loads", id, { status: "Assigned" })),
    ).rejects.toThrow();
    await expectCountersExact(t, ORG_A);
    const load = await counted(t, (ctx) =>
      ctx.db.insert("loads", rawLoad({ externalLoadId: "G" })),
    );
    for (const amountCents of [-1, 0.5, Number.NaN, 1e12]) {
      const code = await errorCode(
        counted(t, (ctx) => ctx.db.insert("invoices", { ...invoice(ORG_A, load), amountCents })),
      );
      expect(code).toBe("INVALID_ARGUMENT");
    }
    await expectCountersExact(t, ORG_A);
  });

  test("a document read by get or by a query is not read again to be written", async () => {
    const t = newBackend({ transactionLimits: true });
    const ids = await counted(t, async (ctx) => {
      const out: Id<"loads">[] = [];
      for (let i = 0; i < 3; i++) {
        out.push(await ctx.db.insert("loads", rawLoad({ externalLoadId: `Q${i}` })));
      }
      // Not among what the next mutation reads.
      out.push(await ctx.db.insert("loads", rawLoad({ workosOrgId: ORG_B, externalLoadId: "U" })));
      return out;
    });
    const reads = await counted(t, async (ctx) => {
      const used = async () => (await ctx.meta.getTransactionMetrics()).documentsRead.used;
      const loads = await ctx.db
        .query("loads")
        .withIndex("by_org", (q) => q.eq("workosOrgId", ORG_A))
        .take(3);
      const afterQuery = await used();
      for (const load of loads) await ctx.db.patch("loads", load._id, { status: "Assigned" });
      const afterPatches = await used();
      const one = await ctx.db.get("loads", ids[0]);
      const afterGet = await used();
      if (one !== null) await ctx.db.patch("loads", one._id, { status: "Completed" });
      const afterLast = await used();
      // A write the handler did not read first costs one get more.
      await ctx.db.patch("loads", ids[3], { status: "Canceled" });
      const afterUnread = await used();
      return {
        patches: afterPatches - afterQuery,
        get: afterGet - afterPatches,
        patchAfterGet: afterLast - afterGet,
        patchUnread: afterUnread - afterLast,
      };
    });
    // Each patch reads its document once (Convex's own read), never twice.
    expect(reads).toEqual({ patches: 3, get: 1, patchAfterGet: 1, patchUnread: 2 });
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
  });
});

/** One write of the property test, over the documents made so far. */
type Op =
  | { kind: "insertLoad"; org: 0 | 1; status: number }
  | { kind: "insertInvoice"; org: 0 | 1; pick: number; status: number; cents: number }
  | { kind: "patchStatus"; pick: number; status: number }
  | { kind: "patchLegacy"; pick: number; status: number }
  | { kind: "patchCents"; pick: number; cents: number }
  | { kind: "moveOrg"; pick: number }
  | { kind: "replace"; pick: number; status: number }
  | { kind: "delete"; pick: number }
  | { kind: "uncounted"; pick: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("insertLoad" as const),
    org: fc.constantFrom(0 as const, 1 as const),
    status: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("insertInvoice" as const),
    org: fc.constantFrom(0 as const, 1 as const),
    pick: fc.nat(),
    status: fc.nat(),
    cents: fc.integer({ min: 0, max: 100_000_000 }),
  }),
  fc.record({ kind: fc.constant("patchStatus" as const), pick: fc.nat(), status: fc.nat() }),
  fc.record({ kind: fc.constant("patchLegacy" as const), pick: fc.nat(), status: fc.nat() }),
  fc.record({
    kind: fc.constant("patchCents" as const),
    pick: fc.nat(),
    cents: fc.integer({ min: 0, max: 100_000_000 }),
  }),
  fc.record({ kind: fc.constant("moveOrg" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("replace" as const), pick: fc.nat(), status: fc.nat() }),
  fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("uncounted" as const), pick: fc.nat() }),
);

const ORGS = [ORG_A, ORG_B] as const;

/** The live documents of both counted tables, in one list, to pick from. */
async function liveDocs(ctx: MutationCtx): Promise<(Doc<"loads"> | Doc<"invoices">)[]> {
  const out: (Doc<"loads"> | Doc<"invoices">)[] = [];
  for (const org of ORGS) {
    out.push(
      ...(await ctx.db
        .query("loads")
        .withIndex("by_org", (q) => q.eq("workosOrgId", org))
        .take(200)),
      ...(await ctx.db
        .query("invoices")
        .withIndex("by_org", (q) => q.eq("workosOrgId", org))
        .take(200)),
    );
  }
  return out;
}

function isLoad(doc: Doc<"loads"> | Doc<"invoices">): doc is Doc<"loads"> {
  return "externalLoadId" in doc;
}

/** Applies one op with plain `ctx.db` writes. */
async function apply(ctx: MutationCtx, op: Op, n: number): Promise<void> {
  const docs = await liveDocs(ctx);
  const pick = "pick" in op && docs.length > 0 ? docs[op.pick % docs.length] : null;
  const loadStatus = (i: number) => LOAD_STATUSES[i % LOAD_STATUSES.length];
  const invoiceStatus = (i: number) => INVOICE_STATUSES[i % INVOICE_STATUSES.length];
  switch (op.kind) {
    case "insertLoad":
      await ctx.db.insert(
        "loads",
        rawLoad({
          workosOrgId: ORGS[op.org],
          externalLoadId: `P${n}`,
          status: loadStatus(op.status),
        }),
      );
      return;
    case "insertInvoice": {
      const load = docs.find(isLoad);
      if (load === undefined) return;
      await ctx.db.insert("invoices", {
        workosOrgId: ORGS[op.org],
        loadId: load._id,
        status: invoiceStatus(op.status),
        amountCents: op.cents,
        statusChangedAt: 0,
      });
      return;
    }
  }
  if (pick === null) return;
  const table = isLoad(pick) ? ("loads" as const) : ("invoices" as const);
  switch (op.kind) {
    case "patchStatus":
      if (isLoad(pick)) await ctx.db.patch("loads", pick._id, { status: loadStatus(op.status) });
      else await ctx.db.patch("invoices", pick._id, { status: invoiceStatus(op.status) });
      return;
    case "patchLegacy":
      if (isLoad(pick)) await ctx.db.patch(pick._id, { status: loadStatus(op.status) });
      else await ctx.db.patch(pick._id, { status: invoiceStatus(op.status) });
      return;
    case "patchCents":
      if (!isLoad(pick)) await ctx.db.patch("invoices", pick._id, { amountCents: op.cents });
      return;
    case "moveOrg": {
      const other = pick.workosOrgId === ORG_A ? ORG_B : ORG_A;
      await ctx.db.patch(table, pick._id as GenericId<typeof table>, { workosOrgId: other });
      return;
    }
    case "replace": {
      const { _id, _creationTime, ...fields } = pick;
      if (isLoad(pick)) {
        const { _id: _, _creationTime: __, ...load } = pick;
        await ctx.db.replace("loads", _id as Id<"loads">, {
          ...load,
          status: loadStatus(op.status),
        });
      } else {
        await ctx.db.replace("invoices", _id as Id<"invoices">, {
          ...(fields as Omit<Doc<"invoices">, "_id" | "_creationTime">),
          status: invoiceStatus(op.status),
        });
      }
      return;
    }
    case "delete":
      await ctx.db.delete(table, pick._id as GenericId<typeof table>);
      return;
    case "uncounted":
      if (isLoad(pick)) await ctx.db.patch("loads", pick._id, { weightLbs: op.pick });
      else await ctx.db.patch("invoices", pick._id, { voidReason: "x" });
      return;
  }
}

test("random sequences of plain ctx.db writes, one or many per mutation, keep every counter exact", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(opArbitrary, { minLength: 1, maxLength: 12 }), {
        minLength: 1,
        maxLength: 8,
      }),
      async (mutations) => {
        const t = newBackend();
        let n = 0;
        for (const ops of mutations) {
          await counted(t, async (ctx) => {
            for (const op of ops) await apply(ctx, op, n++);
          });
          for (const org of ORGS) await expectCountersExact(t, org);
        }
      },
    ),
    { numRuns: 40 },
  );
});
