/**
 * Counting by scanning: what a badge costs when it reads every load or
 * invoice of the org through its index and counts by status. Deliberately
 * unbounded, so a measurement shows where it breaks Convex's per-transaction
 * read limits. The bench registers it as its `scan` comparison
 * (`bench/functions/scan.ts`); the demo measures it inline. Never copy this
 * into `convex/`.
 */
import type { DatabaseReader } from "../../convex/_generated/server";
import { zeroCounts } from "../../convex/model/stats/counters";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../../convex/model/enums";

/** Load counts of an org, counted from every load. */
export async function scanLoadCounts(db: DatabaseReader, workosOrgId: string) {
  const counts = zeroCounts(LOAD_STATUSES);
  const loads = db.query("loads").withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId));
  for await (const load of loads) counts[load.status] += 1;
  return counts;
}

/** Invoice counts and cents of an org, counted from every invoice. */
export async function scanInvoiceCounts(db: DatabaseReader, workosOrgId: string) {
  const counts = zeroCounts(INVOICE_STATUSES);
  const amountCents = zeroCounts(INVOICE_STATUSES);
  const invoices = db
    .query("invoices")
    .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId));
  for await (const invoice of invoices) {
    counts[invoice.status] += 1;
    amountCents[invoice.status] += invoice.amountCents;
  }
  return { counts, amountCents };
}
