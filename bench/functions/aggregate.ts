/**
 * Comparison (b): @convex-dev/aggregate. A TableAggregate per counted table,
 * namespaced by org and sorted by status, maintained the way an app built on
 * the component would: every write patches the document and calls
 * `aggregate.replace`. Bench only; these functions skip auth and transition
 * rules because they cost no document reads and are not what is compared.
 */
import { TableAggregate } from "@convex-dev/aggregate";
import { v } from "convex/values";
import type { DataModel } from "../../convex/_generated/dataModel";
import { tally } from "../../convex/model/stats/counters";
import { vInvoiceCounts, vLoadCounts } from "../../convex/model/counted";
import {
  INVOICE_STATUSES,
  LOAD_STATUSES,
  vInvoiceStatus,
  vLoadStatus,
  type InvoiceStatus,
  type LoadStatus,
} from "../../convex/model/enums";
import { app } from "../app";

export const loadAggregate = new TableAggregate<{
  Namespace: string;
  Key: LoadStatus;
  DataModel: DataModel;
  TableName: "loads";
}>(app.components.loadAggregate, {
  namespace: (doc) => doc.workosOrgId,
  sortKey: (doc) => doc.status,
});

export const invoiceAggregate = new TableAggregate<{
  Namespace: string;
  Key: InvoiceStatus;
  DataModel: DataModel;
  TableName: "invoices";
}>(app.components.invoiceAggregate, {
  namespace: (doc) => doc.workosOrgId,
  sortKey: (doc) => doc.status,
  sumValue: (doc) => doc.amountCents,
});

/** Exactly one status: both bounds inclusive on the same key. */
function only<S extends string>(workosOrgId: string, status: S) {
  return {
    namespace: workosOrgId,
    bounds: { lower: { key: status, inclusive: true }, upper: { key: status, inclusive: true } },
  };
}

const vPage = v.object({ continueCursor: v.string(), isDone: v.boolean(), inserted: v.number() });

/** Adds one page of the org's loads to the load aggregate (seeding only). */
export const backfillLoads = app.mutation({
  args: { workosOrgId: v.string(), cursor: v.union(v.null(), v.string()), numItems: v.number() },
  returns: vPage,
  handler: async (ctx, { workosOrgId, cursor, numItems }) => {
    const page = await ctx.db
      .query("loads")
      .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
      .paginate({ cursor, numItems });
    for (const doc of page.page) await loadAggregate.insert(ctx, doc);
    return { continueCursor: page.continueCursor, isDone: page.isDone, inserted: page.page.length };
  },
});

/** Adds one page of the org's invoices to the invoice aggregate (seeding only). */
export const backfillInvoices = app.mutation({
  args: { workosOrgId: v.string(), cursor: v.union(v.null(), v.string()), numItems: v.number() },
  returns: vPage,
  handler: async (ctx, { workosOrgId, cursor, numItems }) => {
    const page = await ctx.db
      .query("invoices")
      .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
      .paginate({ cursor, numItems });
    for (const doc of page.page) await invoiceAggregate.insert(ctx, doc);
    return { continueCursor: page.continueCursor, isDone: page.isDone, inserted: page.page.length };
  },
});

/** Load counts by status: one batched count over the org's namespace. */
export const countLoads = app.query({
  args: { workosOrgId: v.string() },
  returns: vLoadCounts,
  handler: async (ctx, { workosOrgId }) => {
    const counts = await loadAggregate.countBatch(
      ctx,
      LOAD_STATUSES.map((s) => only(workosOrgId, s)),
    );
    return tally(LOAD_STATUSES, (s) => counts[LOAD_STATUSES.indexOf(s)]);
  },
});

/** Invoice counts and cents by status: a batched count and a batched sum. */
export const countInvoices = app.query({
  args: { workosOrgId: v.string() },
  returns: v.object({ counts: vInvoiceCounts, amountCents: vInvoiceCounts }),
  handler: async (ctx, { workosOrgId }) => {
    const queries = INVOICE_STATUSES.map((s) => only(workosOrgId, s));
    const counts = await invoiceAggregate.countBatch(ctx, queries);
    const sums = await invoiceAggregate.sumBatch(ctx, queries);
    return {
      counts: tally(INVOICE_STATUSES, (s) => counts[INVOICE_STATUSES.indexOf(s)]),
      amountCents: tally(INVOICE_STATUSES, (s) => sums[INVOICE_STATUSES.indexOf(s)]),
    };
  },
});

/** One load status change: get, patch, move the aggregate entry. */
export const updateLoadStatus = app.mutation({
  args: { loadId: v.id("loads"), status: vLoadStatus },
  returns: v.null(),
  handler: async (ctx, { loadId, status }) => {
    const load = await ctx.db.get("loads", loadId);
    if (load === null) throw new Error(`no load ${loadId}`);
    await ctx.db.patch("loads", loadId, { status, statusChangedAt: Date.now() });
    await loadAggregate.replace(ctx, load, { ...load, status });
    return null;
  },
});

/** A bulk invoice status change: per invoice a get, a patch and a replace. */
export const bulkUpdateInvoices = app.mutation({
  args: { invoiceIds: v.array(v.id("invoices")), status: vInvoiceStatus },
  returns: v.null(),
  handler: async (ctx, { invoiceIds, status }) => {
    const now = Date.now();
    for (const id of invoiceIds) {
      const invoice = await ctx.db.get("invoices", id);
      if (invoice === null) throw new Error(`no invoice ${id}`);
      await ctx.db.patch("invoices", id, { status, statusChangedAt: now });
      await invoiceAggregate.replace(ctx, invoice, { ...invoice, status });
    }
    return null;
  },
});
