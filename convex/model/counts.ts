/**
 * The read side of the counters: what `countLoadsByStatus` and
 * `countInvoicesByStatus` answer. One indexed read of the stats row when it is
 * exact; otherwise a bounded scan of the org's documents, flagged
 * `exact: false` when the bound was hit. Never silent zeros.
 */
import { v, type Infer } from "convex/values";
import type { QueryCtx } from "../functions";
import { sumCounts, tally, vInvoiceCounts, vLoadCounts } from "../lib/counters";
import { appError } from "../lib/errors";
import { addBucket, emptyTally, getStatsRow, invoiceBucket, loadBucket } from "../stats_helpers";
import { INVOICE_STATUSES, LOAD_STATUSES } from "./enums";

/** Most documents a count query scans when the org has no exact stats row. */
export const FALLBACK_SCAN_LIMIT = 1000;

const vCountSource = v.union(v.literal("stats"), v.literal("scan"));

export const vLoadCountsResult = v.object({
  counts: vLoadCounts,
  total: v.number(),
  /** True when `counts` are the true numbers, not a lower bound. */
  exact: v.boolean(),
  /** `stats`: read from the counters; `scan`: counted from documents. */
  source: vCountSource,
});

export const vInvoiceCountsResult = v.object({
  counts: vInvoiceCounts,
  amountCents: vInvoiceCounts,
  total: v.number(),
  exact: v.boolean(),
  source: vCountSource,
});

export type LoadCountsResult = Infer<typeof vLoadCountsResult>;
export type InvoiceCountsResult = Infer<typeof vInvoiceCountsResult>;

function refuseDeleted(orgDeleted: boolean | undefined, workosOrgId: string): void {
  if (orgDeleted === true) {
    throw appError("ORG_DELETED", "This organization was deleted.", { workosOrgId });
  }
}

/** Load counts of an org (see file comment for the cost). */
export async function readLoadCounts(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
): Promise<LoadCountsResult> {
  const row = await getStatsRow(ctx.db, workosOrgId, "loads");
  refuseDeleted(row?.orgDeleted, workosOrgId);
  if (row !== null && row.entity === "loads" && row.exact) {
    return {
      counts: row.counts,
      total: sumCounts(LOAD_STATUSES, row.counts),
      exact: true,
      source: "stats",
    };
  }
  const docs = await ctx.db
    .query("loads")
    .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
    .take(FALLBACK_SCAN_LIMIT + 1);
  const t = emptyTally();
  for (const doc of docs.slice(0, FALLBACK_SCAN_LIMIT)) addBucket(t, loadBucket(doc), 1);
  const counts = tally(LOAD_STATUSES, (s) => t.counts.get(s) ?? 0);
  return {
    counts,
    total: sumCounts(LOAD_STATUSES, counts),
    exact: docs.length <= FALLBACK_SCAN_LIMIT,
    source: "scan",
  };
}

/** Invoice counts and amounts of an org (see file comment for the cost). */
export async function readInvoiceCounts(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
): Promise<InvoiceCountsResult> {
  const row = await getStatsRow(ctx.db, workosOrgId, "invoices");
  refuseDeleted(row?.orgDeleted, workosOrgId);
  if (row !== null && row.entity === "invoices" && row.exact) {
    return {
      counts: row.counts,
      amountCents: row.amountCents,
      total: sumCounts(INVOICE_STATUSES, row.counts),
      exact: true,
      source: "stats",
    };
  }
  const docs = await ctx.db
    .query("invoices")
    .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
    .take(FALLBACK_SCAN_LIMIT + 1);
  const t = emptyTally();
  for (const doc of docs.slice(0, FALLBACK_SCAN_LIMIT)) addBucket(t, invoiceBucket(doc), 1);
  const counts = tally(INVOICE_STATUSES, (s) => t.counts.get(s) ?? 0);
  return {
    counts,
    amountCents: tally(INVOICE_STATUSES, (s) => t.amountCents.get(s) ?? 0),
    total: sumCounts(INVOICE_STATUSES, counts),
    exact: docs.length <= FALLBACK_SCAN_LIMIT,
    source: "scan",
  };
}
