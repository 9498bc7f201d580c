/**
 * The exact recount of one stats row (one org, one entity), in pages, while
 * writes continue (DESIGN §3).
 *
 * State lives in the stats row's `recount` field: a cursor (a
 * `_creationTime`) and shadow counters holding the histogram of every
 * document of the org with `_creationTime <= cursor`. A page counts the next
 * documents of the `by_org` index after the cursor, adds them to the shadow
 * and moves the cursor, in one transaction. Live writes, which read and write
 * the same row, add their delta to the shadow when the changed document sits
 * at or behind the cursor (`shadowDeltaOf` in `stats_helpers.ts`). So the
 * shadow is always the true histogram of the documents behind the cursor, and
 * the last page, which finds nothing after the cursor, swaps it in exactly.
 *
 * Starting a run: `recount/start.ts`. Walking all orgs: `recount/orgWalk.ts`.
 */
import type { Doc, Id } from "../../../_generated/dataModel";
import type { DatabaseReader, MutationCtx } from "../../../_generated/server";
import type { Counts } from "../counters";
import {
  addBucket,
  emptyTally,
  getStatsRow,
  invoiceBucket,
  loadBucket,
  plus,
  type DriftBucket,
  type StatsRowFields,
  type Tally,
} from "../../../stats_helpers";
import { INVOICE_STATUSES, LOAD_STATUSES, type StatsEntity } from "../../enums";
import { newRunId, withFreshRecount } from "./start";
import { budgetFromMetrics, scanPage, type PageScan } from "../scan";

/** What one page did. */
export type PageOutcome = {
  /**
   * `continued`: more pages follow. `finished`: counters swapped in.
   * `restarted`: the shadow went negative (a write bypassed the write layer
   * during the run), so a new run replaced it. `superseded`: the row runs
   * another recount (or none); nothing done. `abandoned`: the org was
   * deleted; the recount state was dropped.
   */
  status: "continued" | "finished" | "restarted" | "superseded" | "abandoned";
  /** The run the next page belongs to (the new one after a restart). */
  runId: string;
  /** Pages of this run so far, this one included. */
  pages: number;
  /** Documents this page counted. */
  documentsCounted: number;
  /** Documents this page read without counting them (0 or 1). */
  lookahead: number;
  /** Transaction totals when the scan ended (before the row was written). */
  documentsRead: number;
  bytesRead: number;
  /** On `finished`: every bucket where the stored counters differed. */
  differences: DriftBucket[];
  /** On `finished`: a drift report was stored (the row had been exact). */
  driftReported: boolean;
};

/** The org's documents of `entity` after `cursor`, in index order. */
function documentsAfter(
  db: DatabaseReader,
  workosOrgId: string,
  entity: "loads",
  cursor: number | null,
): AsyncIterable<Doc<"loads">>;
function documentsAfter(
  db: DatabaseReader,
  workosOrgId: string,
  entity: "invoices",
  cursor: number | null,
): AsyncIterable<Doc<"invoices">>;
function documentsAfter(
  db: DatabaseReader,
  workosOrgId: string,
  entity: StatsEntity,
  cursor: number | null,
): AsyncIterable<Doc<"loads"> | Doc<"invoices">> {
  return db
    .query(entity)
    .withIndex("by_org", (q) =>
      cursor === null
        ? q.eq("workosOrgId", workosOrgId)
        : q.eq("workosOrgId", workosOrgId).gt("_creationTime", cursor),
    );
}

/**
 * Counts one page of the org's `entity` documents after `cursor` into a
 * tally, within the transaction's read budget. Used by the recount pages, by
 * the migration's dry run and by the count queries' bounded fallback scan.
 */
export async function countPage(
  ctx: { db: DatabaseReader; meta: Pick<MutationCtx["meta"], "getTransactionMetrics"> },
  workosOrgId: string,
  entity: StatsEntity,
  cursor: number | null,
  maxDocs: number,
): Promise<{ tally: Tally; scan: PageScan }> {
  const tally = emptyTally();
  const budget = {
    maxDocs,
    check: async () => budgetFromMetrics(await ctx.meta.getTransactionMetrics()),
  };
  const scan =
    entity === "loads"
      ? await scanPage(
          documentsAfter(ctx.db, workosOrgId, "loads", cursor),
          (doc) => addBucket(tally, loadBucket(doc), 1),
          budget,
        )
      : await scanPage(
          documentsAfter(ctx.db, workosOrgId, "invoices", cursor),
          (doc) => addBucket(tally, invoiceBucket(doc), 1),
          budget,
        );
  return { tally, scan };
}

/** Stands for "no page-size cap": the read budget alone decides. */
export const UNLIMITED_PAGE = Number.MAX_SAFE_INTEGER;

/**
 * Documents a recount page counts by default (the read budget may stop it
 * earlier). Every page reads the org's stats row, which every counted write
 * of the org also writes, so a long page on a busy org keeps conflicting and
 * retrying; short pages keep that window small. 1,000 documents of ~1 KB is
 * about 3% of the document limit and 6% of the byte limit, and costs 3 extra
 * reads per page.
 */
export const DEFAULT_PAGE_DOCS = 1_000;

/**
 * Runs one page of recount `runId` of (org, entity): counts the next
 * documents, and on the last page compares, reports drift and swaps, all in
 * this transaction. Scheduling the next page is the caller's job.
 *
 * Reads: the stats row, every counted document once, and at most one
 * document more (the first of the next page). Writes: the stats row, plus a
 * drift report on a last page that found drift.
 */
export async function runRecountPage(
  ctx: Pick<MutationCtx, "db" | "meta">,
  args: { workosOrgId: string; entity: StatsEntity; runId: string; maxDocs?: number },
): Promise<PageOutcome> {
  const { workosOrgId, entity, runId } = args;
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  const outcome = (status: PageOutcome["status"]): PageOutcome => ({
    status,
    runId,
    pages: 0,
    documentsCounted: 0,
    lookahead: 0,
    documentsRead: 0,
    bytesRead: 0,
    differences: [],
    driftReported: false,
  });
  if (row === null || row.recount === undefined || row.recount.runId !== runId) {
    console.log("[stats.recount] page of a replaced run skipped", { workosOrgId, entity, runId });
    return outcome("superseded");
  }
  const { _id, _creationTime, ...fields } = row;
  if (fields.orgDeleted === true) {
    await ctx.db.replace("organizationStats", _id, { ...fields, recount: undefined });
    console.log("[stats.recount] org deleted; recount dropped", { workosOrgId, entity, runId });
    return outcome("abandoned");
  }

  const { tally, scan } = await countPage(
    ctx,
    workosOrgId,
    entity,
    row.recount.cursor,
    args.maxDocs ?? DEFAULT_PAGE_DOCS,
  );
  const metrics = await ctx.meta.getTransactionMetrics();
  const advanced = advance(fields, tally, scan);
  const recount = requireShadow(advanced.recount);
  const result: PageOutcome = {
    ...outcome("continued"),
    pages: recount.pages,
    documentsCounted: scan.counted,
    lookahead: scan.lookahead,
    documentsRead: metrics.documentsRead.used,
    bytesRead: metrics.bytesRead.used,
  };
  if (!scan.exhausted) {
    await ctx.db.replace("organizationStats", _id, advanced);
    return result;
  }
  return await finish(ctx, _id, advanced, result);
}

function requireShadow<R>(recount: R | undefined): R {
  if (recount === undefined) throw new Error("[stats.recount] recount state missing");
  return recount;
}

/** Adds a page's tally to the shadow and moves the cursor. */
function advance(fields: StatsRowFields, tally: Tally, scan: PageScan): StatsRowFields {
  const now = Date.now();
  const step = (r: { cursor: number | null; pages: number; documentsCounted: number }) => ({
    cursor: scan.lastCreationTime ?? r.cursor,
    pages: r.pages + 1,
    documentsCounted: r.documentsCounted + scan.counted,
  });
  if (fields.entity === "loads") {
    const shadow = requireShadow(fields.recount);
    return {
      ...fields,
      recount: {
        ...shadow,
        ...step(shadow),
        counts: plus(LOAD_STATUSES, shadow.counts, tally.counts),
      },
      updatedAt: now,
    };
  }
  const shadow = requireShadow(fields.recount);
  return {
    ...fields,
    recount: {
      ...shadow,
      ...step(shadow),
      counts: plus(INVOICE_STATUSES, shadow.counts, tally.counts),
      amountCents: plus(INVOICE_STATUSES, shadow.amountCents, tally.amountCents),
    },
    updatedAt: now,
  };
}

function collectDifferences<S extends string>(
  statuses: readonly S[],
  stored: Counts<S>,
  actual: Counts<S>,
  measure: DriftBucket["measure"],
  out: DriftBucket[],
): void {
  for (const s of statuses) {
    if (stored[s] !== actual[s]) {
      out.push({
        status: s,
        measure,
        stored: stored[s],
        actual: actual[s],
        delta: actual[s] - stored[s],
      });
    }
  }
}

function hasNegative<S extends string>(statuses: readonly S[], counts: Counts<S>): boolean {
  return statuses.some((s) => counts[s] < 0);
}

/**
 * The last page: compare shadow and live counters, store a drift report when
 * they differ on a row that was trusted, and swap the shadow in.
 *
 * A row that was never exact (created lazily for an org with data, or by
 * the recount itself) is being seeded, not repaired: its differences are
 * logged and returned but not stored as drift. A row that was exact once
 * (`exact` or `seeded`, or a previous recount finished) gets a `recount`
 * drift report, also when a negative counter has cleared `exact` since.
 */
async function finish(
  ctx: Pick<MutationCtx, "db">,
  id: Id<"organizationStats">,
  fields: StatsRowFields,
  result: PageOutcome,
): Promise<PageOutcome> {
  const now = Date.now();
  const { workosOrgId, entity } = fields;
  const differences: DriftBucket[] = [];
  let negative: boolean;
  let swapped: StatsRowFields;
  const lastRecount = (driftFound: boolean, pages: number, documentsCounted: number) => ({
    runId: result.runId,
    finishedAt: now,
    driftFound,
    pages,
    documentsCounted,
  });
  const trusted = fields.exact || fields.seeded === true || fields.lastRecount !== undefined;
  if (fields.entity === "loads") {
    const shadow = requireShadow(fields.recount);
    collectDifferences(LOAD_STATUSES, fields.counts, shadow.counts, "count", differences);
    negative = hasNegative(LOAD_STATUSES, shadow.counts);
    swapped = {
      ...fields,
      counts: shadow.counts,
      exact: true,
      seeded: true,
      recount: undefined,
      lastRecount: lastRecount(
        trusted && differences.length > 0,
        shadow.pages,
        shadow.documentsCounted,
      ),
      updatedAt: now,
    };
  } else {
    const shadow = requireShadow(fields.recount);
    collectDifferences(INVOICE_STATUSES, fields.counts, shadow.counts, "count", differences);
    collectDifferences(
      INVOICE_STATUSES,
      fields.amountCents,
      shadow.amountCents,
      "amountCents",
      differences,
    );
    negative =
      hasNegative(INVOICE_STATUSES, shadow.counts) ||
      hasNegative(INVOICE_STATUSES, shadow.amountCents);
    swapped = {
      ...fields,
      counts: shadow.counts,
      amountCents: shadow.amountCents,
      exact: true,
      seeded: true,
      recount: undefined,
      lastRecount: lastRecount(
        trusted && differences.length > 0,
        shadow.pages,
        shadow.documentsCounted,
      ),
      updatedAt: now,
    };
  }

  if (negative) {
    // Only a write that bypassed the write layer during the run (a dashboard
    // edit of a counted document, then a counted write of the same document)
    // can do this. The shadow is wrong, so start over rather than swap it in.
    const runId = newRunId(now);
    await ctx.db.replace("organizationStats", id, withFreshRecount(fields, runId, now));
    console.warn("[stats.recount] shadow went negative; run restarted", {
      workosOrgId,
      entity,
      oldRunId: result.runId,
      runId,
    });
    return { ...result, status: "restarted", runId };
  }

  const driftReported = trusted && differences.length > 0;
  if (driftReported) {
    await ctx.db.insert("statsDriftReports", {
      workosOrgId,
      entity,
      source: "recount",
      runId: result.runId,
      detectedAt: now,
      buckets: differences,
    });
    console.warn("[stats.recount] drift repaired", {
      workosOrgId,
      entity,
      runId: result.runId,
      buckets: differences,
    });
  }
  await ctx.db.replace("organizationStats", id, swapped);
  console.log("[stats.recount] finished", {
    workosOrgId,
    entity,
    runId: result.runId,
    pages: swapped.lastRecount?.pages,
    documentsCounted: swapped.lastRecount?.documentsCounted,
    differences: differences.length,
    seeded: !trusted,
  });
  return { ...result, status: "finished", differences, driftReported };
}
