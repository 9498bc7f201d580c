/**
 * Comparison (a): counting by scanning, registered as bench-only queries.
 * The counting itself is the test kit's (`tests/support/scanCount.ts`).
 */
import { v } from "convex/values";
import { vInvoiceCounts, vLoadCounts } from "../../convex/model/stats/counters";
import { scanInvoiceCounts, scanLoadCounts } from "../../tests/support/scanCount";
import { app } from "../app";

/** Load counts of an org, counted from every load. */
export const countLoads = app.query({
  args: { workosOrgId: v.string() },
  returns: vLoadCounts,
  handler: async (ctx, { workosOrgId }) => await scanLoadCounts(ctx.db, workosOrgId),
});

/** Invoice counts and cents of an org, counted from every invoice. */
export const countInvoices = app.query({
  args: { workosOrgId: v.string() },
  returns: v.object({ counts: vInvoiceCounts, amountCents: vInvoiceCounts }),
  handler: async (ctx, { workosOrgId }) => await scanInvoiceCounts(ctx.db, workosOrgId),
});
