/**
 * Comparison (a): counting by scanning, registered as bench-only queries.
 * The counting itself is the test kit's (`tests/support/scanCount.ts`).
 */
import { v } from "convex/values";
import type { DatabaseReader } from "../../convex/_generated/server";
import { vInvoiceCounts, vLoadCounts } from "../../convex/model/counted";
import { scanInvoiceCounts, scanLoadCounts } from "../../tests/support/scanCount";
import { app } from "../app";

/** The bench app's reader seen as the project's (it only adds a bench table). */
function projectDb(db: unknown): DatabaseReader {
  return db as DatabaseReader;
}

/** Load counts of an org, counted from every load. */
export const countLoads = app.query({
  args: { workosOrgId: v.string() },
  returns: vLoadCounts,
  handler: async (ctx, { workosOrgId }) => await scanLoadCounts(projectDb(ctx.db), workosOrgId),
});

/** Invoice counts and cents of an org, counted from every invoice. */
export const countInvoices = app.query({
  args: { workosOrgId: v.string() },
  returns: v.object({ counts: vInvoiceCounts, amountCents: vInvoiceCounts }),
  handler: async (ctx, { workosOrgId }) => await scanInvoiceCounts(projectDb(ctx.db), workosOrgId),
});
