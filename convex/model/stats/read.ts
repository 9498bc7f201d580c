/**
 * The read side of the counters: what `countLoadsByStatus` and
 * `countInvoicesByStatus` answer. One indexed read of the stats row when it is
 * exact; otherwise a bounded scan of the org's documents, flagged
 * `exact: false` when the bound was hit. Never silent zeros.
 */
import { v, type Infer } from "convex/values";
import type { QueryCtx } from "../../functions";
import { sumCounts, tally, vInvoiceCounts, vLoadCounts } from "./counters";
import { orgDeletedError } from "../../lib/errors";
import { getStatsRow, type Tally } from "../../stats_helpers";
import { INVOICE_STATUSES, LOAD_STATUSES, type StatsEntity } from "../enums";
import { countPage } from "./recount/pages";

/** Most documents a count query scans when the org has no exact stats row. */
export const FALLBACK_SCAN_LIMIT = 1000;

const vCountSource = v.union(v.literal("stats"), v.literal("scan"));

/** What `countLoadsByStatus` returns. */
export const vLoadCountsResult = v.object({
  counts: vLoadCounts,
  total: v.number(),
  /** True when `counts` are the true numbers, not a lower bound. */
  exact: v.boolean(),
  /** `stats`: read from the counters; `scan`: counted from documents. */
  source: vCountSource,
});

/** What `countInvoicesByStatus` returns: load-style counts plus cents per status. */
export const vInvoiceCountsResult = v.object({
  counts: vInvoiceCounts,
  amountCents: vInvoiceCounts,
  total: v.number(),
  exact: v.boolean(),
  source: vCountSource,
});

/** What `countLoadsByStatus` returns. */
export type LoadCountsResult = Infer<typeof vLoadCountsResult>;
/** What `countInvoicesByStatus` returns. */
export type InvoiceCountsResult = Infer<typeof vInvoiceCountsResult>;

/** Reads the org's stats row of `entity`, refusing a deleted org. */
async function statsRow(ctx: Pick<QueryCtx, "db">, workosOrgId: string, entity: StatsEntity) {
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  if (row?.orgDeleted === true) {
    throw orgDeletedError(workosOrgId);
  }
  return row;
}

/**
 * Counts the org's first `FALLBACK_SCAN_LIMIT` documents of `entity` (the
 * recount's page scan, so a tie group is never cut); `exact` when that was
 * all of them.
 */
async function boundedScan(
  ctx: Pick<QueryCtx, "db" | "meta">,
  workosOrgId: string,
  entity: StatsEntity,
): Promise<{ tally: Tally; exact: boolean }> {
  const { tally, scan } = await countPage(ctx, workosOrgId, entity, null, FALLBACK_SCAN_LIMIT);
  return { tally, exact: scan.exhausted };
}

/** Load counts of an org (see file comment for the cost). */
export async function readLoadCounts(
  ctx: Pick<QueryCtx, "db" | "meta">,
  workosOrgId: string,
): Promise<LoadCountsResult> {
  const row = await statsRow(ctx, workosOrgId, "loads");
  if (row?.entity === "loads" && row.exact) {
    return {
      counts: row.counts,
      total: sumCounts(LOAD_STATUSES, row.counts),
      exact: true,
      source: "stats",
    };
  }
  const { tally: t, exact } = await boundedScan(ctx, workosOrgId, "loads");
  const counts = tally(LOAD_STATUSES, (s) => t.counts.get(s) ?? 0);
  return { counts, total: sumCounts(LOAD_STATUSES, counts), exact, source: "scan" };
}

/** Invoice counts and amounts of an org (see file comment for the cost). */
export async function readInvoiceCounts(
  ctx: Pick<QueryCtx, "db" | "meta">,
  workosOrgId: string,
): Promise<InvoiceCountsResult> {
  const row = await statsRow(ctx, workosOrgId, "invoices");
  if (row?.entity === "invoices" && row.exact) {
    return {
      counts: row.counts,
      amountCents: row.amountCents,
      total: sumCounts(INVOICE_STATUSES, row.counts),
      exact: true,
      source: "stats",
    };
  }
  const { tally: t, exact } = await boundedScan(ctx, workosOrgId, "invoices");
  const counts = tally(INVOICE_STATUSES, (s) => t.counts.get(s) ?? 0);
  return {
    counts,
    amountCents: tally(INVOICE_STATUSES, (s) => t.amountCents.get(s) ?? 0),
    total: sumCounts(INVOICE_STATUSES, counts),
    exact,
    source: "scan",
  };
}
