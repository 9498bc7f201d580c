/**
 * Comparison (a): counting by scanning. What a badge query costs when it
 * reads every document of the org through its index and counts by status.
 * Deliberately unbounded: the benchmark shows where it breaks Convex's
 * per-transaction read limits. Never copy this into `convex/`.
 */
import { v } from "convex/values";
import { vInvoiceCounts, vLoadCounts, zeroCounts } from "../../convex/model/stats/counters";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../../convex/model/enums";
import { app } from "../app";

/** Load counts of an org, counted from every load. */
export const countLoads = app.query({
  args: { workosOrgId: v.string() },
  returns: vLoadCounts,
  handler: async (ctx, { workosOrgId }) => {
    const counts = zeroCounts(LOAD_STATUSES);
    const loads = ctx.db
      .query("loads")
      .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId));
    for await (const load of loads) counts[load.status] += 1;
    return counts;
  },
});

/** Invoice counts and cents of an org, counted from every invoice. */
export const countInvoices = app.query({
  args: { workosOrgId: v.string() },
  returns: v.object({ counts: vInvoiceCounts, amountCents: vInvoiceCounts }),
  handler: async (ctx, { workosOrgId }) => {
    const counts = zeroCounts(INVOICE_STATUSES);
    const amountCents = zeroCounts(INVOICE_STATUSES);
    const invoices = ctx.db
      .query("invoices")
      .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId));
    for await (const invoice of invoices) {
      counts[invoice.status] += 1;
      amountCents[invoice.status] += invoice.amountCents;
    }
    return { counts, amountCents };
  },
});
