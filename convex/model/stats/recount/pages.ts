/**
 * The exact recount of one stats row (one org, one entity), in pages, while
 * writes continue. The argument is written down in `docs/recount.md`.
 *
 * State lives in the stats row's `recount` field: a cursor (a
 * `_creationTime`) and shadow counters holding the histogram of every
 * document of the org with `_creationTime <= cursor`. A page counts the next
 * documents of the entity's recount index after the cursor, adds them to the
 * shadow and moves the cursor, in one transaction. Live writes add their
 * delta to the shadow when the changed document sits at or behind the cursor
 * (`shadowDelta` in `engine.ts`). So the shadow is always the true histogram
 * of the documents behind the cursor, and the last page, which finds nothing
 * after the cursor, swaps it in exactly.
 *
 * Starting a run: `recount/start.ts`. Walking all orgs: `recount/orgWalk.ts`.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { Id } from "../../../_generated/dataModel";
import type { MutationCtx } from "../../ctx";
import type { StatsEntity } from "../../enums";
import { plusTally, tallyOfStored, type Tally } from "../counters";
import { differences, hasNegative } from "../drift";
import { entityDef, type StatsRowFieldsOf } from "../entities";
import { getStatsRow, splitRow } from "../rows";
import { countPage } from "../scan";
import { vDriftBucket } from "../tables";
import { newRunId, withFreshRecount } from "./start";

/** What one page did. */
export const vPageOutcome = v.object({
  /**
   * `continued`: more pages follow. `finished`: counters swapped in.
   * `restarted`: the shadow went negative (a write bypassed the write layer
   * during the run), so a new run replaced it. `superseded`: the row runs
   * another recount (or none); nothing done. `abandoned`: the org was
   * deleted; the recount state was dropped.
   */
  status: literals("continued", "finished", "restarted", "superseded", "abandoned"),
  /** The run the next page belongs to (the new one after a restart). */
  runId: v.string(),
  /** Pages of this run so far, this one included. */
  pages: v.number(),
  /** Documents this page counted. */
  documentsCounted: v.number(),
  /** Documents this page read without counting them (0 or 1). */
  lookahead: v.number(),
  /** Transaction totals when the scan ended (before the row was written). */
  documentsRead: v.number(),
  bytesRead: v.number(),
  /** On `finished`: every bucket where the stored counters differed. */
  differences: v.array(vDriftBucket),
  /** On `finished`: a drift report was stored (the row had been exact). */
  driftReported: v.boolean(),
});
export type PageOutcome = Infer<typeof vPageOutcome>;

/**
 * Documents a recount page counts by default (the read budget may stop it
 * earlier). 1,000 documents of ~1 KB is about 3% of the document limit and
 * 6% of the byte limit, and keeps each page's conflict window small.
 */
export const DEFAULT_PAGE_DOCS = 1_000;

type PageCtx = Pick<MutationCtx, "db" | "meta">;

/**
 * Runs one page of recount `runId` of (org, entity): counts the next
 * documents, and on the last page compares, reports drift and swaps, all in
 * this transaction. Scheduling the next page is the caller's job.
 *
 * Reads: the stats row, every counted document once, and at most one
 * document more (the first of the next page). Writes: the stats row, plus a
 * drift report on a last page that found drift.
 */
export async function runRecountPage<T extends StatsEntity>(
  ctx: PageCtx,
  args: { workosOrgId: string; entity: T; runId: string; maxDocs?: number },
): Promise<PageOutcome> {
  const { workosOrgId, entity, runId } = args;
  const def = entityDef(entity);
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
  const { id, fields } = splitRow(row, entity);
  const shadow = row.recount;
  if (fields.orgDeleted === true) {
    await ctx.db.replace("organizationStats", id, { ...fields, recount: undefined });
    console.log("[stats.recount] org deleted; recount dropped", { workosOrgId, entity, runId });
    return outcome("abandoned");
  }

  const { tally, scan } = await countPage(
    ctx,
    workosOrgId,
    entity,
    shadow.cursor,
    args.maxDocs ?? DEFAULT_PAGE_DOCS,
  );
  const metrics = await ctx.meta.getTransactionMetrics();
  const counted = plusTally(tallyOfStored(shadow), tally);
  const progress = {
    cursor: scan.lastCreationTime ?? shadow.cursor,
    pages: shadow.pages + 1,
    documentsCounted: shadow.documentsCounted + scan.counted,
  };
  const result: PageOutcome = {
    ...outcome("continued"),
    pages: progress.pages,
    documentsCounted: scan.counted,
    lookahead: scan.lookahead,
    documentsRead: metrics.documentsRead.used,
    bytesRead: metrics.bytesRead.used,
  };
  if (!scan.exhausted) {
    const recount = { ...shadow, ...progress, ...def.counters(counted) };
    await ctx.db.replace("organizationStats", id, { ...fields, recount, updatedAt: Date.now() });
    return result;
  }
  return await finish(ctx, entity, id, fields, counted, progress, result);
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
async function finish<T extends StatsEntity>(
  ctx: PageCtx,
  entity: T,
  id: Id<"organizationStats">,
  fields: StatsRowFieldsOf<T>,
  shadow: Tally,
  progress: { pages: number; documentsCounted: number },
  result: PageOutcome,
): Promise<PageOutcome> {
  const def = entityDef(entity);
  const now = Date.now();
  const { workosOrgId } = fields;
  const found = differences(def, tallyOfStored(fields), shadow);
  const trusted = fields.exact || fields.seeded === true || fields.lastRecount !== undefined;

  if (hasNegative(def, shadow)) {
    // Only a write that bypassed the write layer during the run (a dashboard
    // edit of a counted document, then a counted write of the same document)
    // can do this. The shadow is wrong, so start over rather than swap it in.
    const runId = newRunId(now);
    await ctx.db.replace("organizationStats", id, withFreshRecount(entity, fields, runId, now));
    console.warn("[stats.recount] shadow went negative; run restarted", {
      workosOrgId,
      entity,
      oldRunId: result.runId,
      runId,
    });
    return { ...result, status: "restarted", runId };
  }

  const driftReported = trusted && found.length > 0;
  if (driftReported) {
    await ctx.db.insert("statsDriftReports", {
      workosOrgId,
      entity,
      source: "recount",
      runId: result.runId,
      detectedAt: now,
      buckets: found,
    });
    console.warn("[stats.recount] drift repaired", {
      workosOrgId,
      entity,
      runId: result.runId,
      buckets: found,
    });
  }
  const lastRecount = {
    runId: result.runId,
    finishedAt: now,
    driftFound: driftReported,
    pages: progress.pages,
    documentsCounted: progress.documentsCounted,
  };
  await ctx.db.replace("organizationStats", id, {
    ...fields,
    ...def.counters(shadow),
    exact: true,
    seeded: true,
    recount: undefined,
    lastRecount,
    updatedAt: now,
  });
  console.log("[stats.recount] finished", {
    workosOrgId,
    entity,
    runId: result.runId,
    pages: progress.pages,
    documentsCounted: progress.documentsCounted,
    differences: found.length,
    seeded: !trusted,
  });
  return { ...result, status: "finished", differences: found, driftReported };
}
