/**
 * The org-day comparisons' write side (`bench/orgDay.ts`): applies the
 * document changes one step of the day made through the module's functions,
 * the way each comparison would make them. Every implementation reads each
 * document before writing it and writes it whole; then
 * - `scan` does nothing else (its badges count by reading everything);
 * - `seed` calls the seed system's helper per counted change (`seed.ts`);
 * - `aggregate` calls `insert`/`replace` on the load or invoice aggregate
 *   when a document's key (status) or summand (amount) changes.
 * The runner measures `apply` and rolls it back; `syncAggregate` then
 * commits the aggregate's part alone, so its trees follow the module's
 * committed documents. Bench only.
 */
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import schema from "../../convex/schema";
import { app } from "../app";
import { invoiceAggregate, loadAggregate } from "./aggregate";
import { seedHelper, type SeedMutationCtx } from "./seed";

const vLoadFields = schema.tables.loads.validator;
const vInvoiceFields = schema.tables.invoices.validator;

/** One document change of a day's step, as the module committed it. */
export const vDayOp = v.union(
  v.object({
    kind: v.literal("insert"),
    /** The module's ids of the load and its invoice (for `syncAggregate`). */
    loadId: v.id("loads"),
    load: vLoadFields,
    invoiceId: v.union(v.null(), v.id("invoices")),
    invoice: v.union(v.null(), vInvoiceFields),
  }),
  v.object({ kind: v.literal("load"), id: v.id("loads"), before: vLoadFields, after: vLoadFields }),
  v.object({
    kind: v.literal("invoice"),
    id: v.id("invoices"),
    before: vInvoiceFields,
    after: vInvoiceFields,
  }),
);
export type DayOp = Infer<typeof vDayOp>;

export const vImplementation = v.union(
  v.literal("scan"),
  v.literal("seed"),
  v.literal("aggregate"),
);
export type Comparison = Infer<typeof vImplementation>;

/** Whether an op changes what a load badge counts (new load, status change). */
export function countsLoad(op: DayOp): boolean {
  return op.kind === "insert" || (op.kind === "load" && op.before.status !== op.after.status);
}

/** Whether an op changes what an invoice badge counts (status or amount). */
export function countsInvoice(op: DayOp): boolean {
  if (op.kind === "insert") return op.invoice !== null;
  return (
    op.kind === "invoice" &&
    (op.before.status !== op.after.status || op.before.amountCents !== op.after.amountCents)
  );
}

/** A document with an id, for the aggregate's key functions (which read only fields). */
function asLoad(
  id: Id<"loads">,
  fields: Omit<Doc<"loads">, "_id" | "_creationTime">,
): Doc<"loads"> {
  return { ...fields, _id: id, _creationTime: 0 };
}
function asInvoice(
  id: Id<"invoices">,
  fields: Omit<Doc<"invoices">, "_id" | "_creationTime">,
): Doc<"invoices"> {
  return { ...fields, _id: id, _creationTime: 0 };
}

async function applyOne(
  ctx: SeedMutationCtx,
  implementation: Comparison,
  op: DayOp,
): Promise<void> {
  if (op.kind === "insert") {
    const loadId = await ctx.db.insert("loads", op.load);
    const invoiceId =
      op.invoice === null ? null : await ctx.db.insert("invoices", { ...op.invoice, loadId });
    if (implementation === "seed") {
      await seedHelper(ctx, op.load.workosOrgId, {
        entity: "loads",
        from: null,
        to: op.load.status,
      });
      if (op.invoice !== null) {
        const to = { status: op.invoice.status, amountCents: op.invoice.amountCents };
        await seedHelper(ctx, op.load.workosOrgId, { entity: "invoices", from: null, to });
      }
    }
    if (implementation === "aggregate") {
      await loadAggregate.insert(ctx, asLoad(loadId, op.load));
      if (op.invoice !== null && invoiceId !== null) {
        await invoiceAggregate.insert(ctx, asInvoice(invoiceId, { ...op.invoice, loadId }));
      }
    }
    return;
  }
  if (op.kind === "load") {
    if ((await ctx.db.get("loads", op.id)) === null) throw new Error(`no load ${op.id}`);
    await ctx.db.replace("loads", op.id, op.after);
    if (!countsLoad(op)) return;
    if (implementation === "seed") {
      await seedHelper(ctx, op.after.workosOrgId, {
        entity: "loads",
        from: op.before.status,
        to: op.after.status,
      });
    }
    if (implementation === "aggregate") {
      await loadAggregate.replace(ctx, asLoad(op.id, op.before), asLoad(op.id, op.after));
    }
    return;
  }
  if ((await ctx.db.get("invoices", op.id)) === null) throw new Error(`no invoice ${op.id}`);
  await ctx.db.replace("invoices", op.id, op.after);
  if (!countsInvoice(op)) return;
  if (implementation === "seed") {
    await seedHelper(ctx, op.after.workosOrgId, {
      entity: "invoices",
      from: { status: op.before.status, amountCents: op.before.amountCents },
      to: { status: op.after.status, amountCents: op.after.amountCents },
    });
  }
  if (implementation === "aggregate") {
    await invoiceAggregate.replace(ctx, asInvoice(op.id, op.before), asInvoice(op.id, op.after));
  }
}

/** Applies one step's document changes as `implementation` would (measured, rolled back). */
export const apply = app.mutation({
  args: { implementation: vImplementation, ops: v.array(vDayOp) },
  returns: v.null(),
  handler: async (ctx, { implementation, ops }) => {
    for (const op of ops) await applyOne(ctx, implementation, op);
    return null;
  },
});

/** Commits the aggregate entries of one step's changes for the module's own documents. */
export const syncAggregate = app.mutation({
  args: { ops: v.array(vDayOp) },
  returns: v.null(),
  handler: async (ctx, { ops }) => {
    for (const op of ops) {
      if (op.kind === "insert") {
        await loadAggregate.insert(ctx, asLoad(op.loadId, op.load));
        if (op.invoice !== null && op.invoiceId !== null) {
          await invoiceAggregate.insert(ctx, asInvoice(op.invoiceId, op.invoice));
        }
      } else if (op.kind === "load" && countsLoad(op)) {
        await loadAggregate.replace(ctx, asLoad(op.id, op.before), asLoad(op.id, op.after));
      } else if (op.kind === "invoice" && countsInvoice(op)) {
        await invoiceAggregate.replace(
          ctx,
          asInvoice(op.id, op.before),
          asInvoice(op.id, op.after),
        );
      }
    }
    return null;
  },
});
