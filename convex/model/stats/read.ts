/**
 * The read side of the counters: what the count queries
 * (`countLoadsByStatus`, `countInvoicesByStatus`) answer, for any counted
 * table. One indexed read of the stats row when it is exact; otherwise a
 * bounded scan of the org's documents, flagged `exact: false` when the bound
 * was hit. Never silent zeros. Does not depend on the recount: the scan is
 * the shared primitive in `scan.ts`.
 */
import { v, type Infer, type PropertyValidators } from "convex/values";
import { orgDeletedError } from "../../lib/errors";
import type { QueryCtx } from "../ctx";
import type { StatsEntity } from "../enums";
import { tallyOfStored, type Tally } from "./counters";
import { ENTITY_COUNTERS, entityDef, type CountersOf } from "./entities";
import { getStatsRow } from "./rows";
import { countPage } from "./scan";

/** Most documents a count query scans when the org has no exact stats row. */
export const FALLBACK_SCAN_LIMIT = 1000;

const vCountSource = v.union(v.literal("stats"), v.literal("scan"));

/** A count query's result: the entity's counter fields plus what they mean. */
export function vCountsResultOf<C extends PropertyValidators>(counters: C) {
  return v.object({
    ...counters,
    total: v.number(),
    /** True when the counters are the true numbers, not a lower bound. */
    exact: v.boolean(),
    /** `stats`: read from the counters; `scan`: counted from documents. */
    source: vCountSource,
  });
}

/** What `countLoadsByStatus` returns. */
export const vLoadCountsResult = vCountsResultOf(ENTITY_COUNTERS.loads);
/** What `countInvoicesByStatus` returns: load-style counts plus cents per status. */
export const vInvoiceCountsResult = vCountsResultOf(ENTITY_COUNTERS.invoices);
/** What `countLoadsByStatus` returns. */
export type LoadCountsResult = Infer<typeof vLoadCountsResult>;
/** What `countInvoicesByStatus` returns. */
export type InvoiceCountsResult = Infer<typeof vInvoiceCountsResult>;

/** What a count query of `T` returns. */
export type CountsResult<T extends StatsEntity> = CountersOf<T> & {
  total: number;
  exact: boolean;
  source: Infer<typeof vCountSource>;
};

type ReadCtx = Pick<QueryCtx, "db" | "meta">;

/**
 * Counters of (org, entity): one read when the row is exact, else a bounded
 * scan of at most `FALLBACK_SCAN_LIMIT` documents (the recount's page scan,
 * so a tie group is never cut).
 *
 * @throws `ORG_DELETED` for a deleted org.
 */
export async function readCounts<T extends StatsEntity>(
  ctx: ReadCtx,
  workosOrgId: string,
  entity: T,
): Promise<CountsResult<T>> {
  const def = entityDef(entity);
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  if (row?.orgDeleted === true) throw orgDeletedError(workosOrgId);
  const answer = (t: Tally, exact: boolean, source: "stats" | "scan") => ({
    ...def.counters(t),
    total: def.statuses.reduce((n, s) => n + (t.count.get(s) ?? 0), 0),
    exact,
    source,
  });
  if (row !== null && row.exact) return answer(tallyOfStored(row), true, "stats");
  const { tally, scan } = await countPage(ctx, workosOrgId, entity, null, FALLBACK_SCAN_LIMIT);
  return answer(tally, scan.exhausted, "scan");
}

/** Load counts of an org (see `readCounts` for the cost). */
export async function readLoadCounts(ctx: ReadCtx, workosOrgId: string): Promise<LoadCountsResult> {
  return await readCounts(ctx, workosOrgId, "loads");
}

/** Invoice counts and amounts of an org (see `readCounts` for the cost). */
export async function readInvoiceCounts(
  ctx: ReadCtx,
  workosOrgId: string,
): Promise<InvoiceCountsResult> {
  return await readCounts(ctx, workosOrgId, "invoices");
}
