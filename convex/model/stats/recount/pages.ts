/**
 * The exact recount of one stats row (one org, one entity), in pages, while
 * writes continue. The argument is written down in `docs/recount.md`.
 *
 * State lives in its own document (`statsRecounts`, see `shadow.ts`): a
 * cursor (a `_creationTime`) and shadow counters holding the histogram of
 * every document of the org with `_creationTime <= cursor`. A page counts the
 * next documents of the entity's recount index after the cursor, adds them
 * to the shadow and moves the cursor, in one transaction, without touching
 * the stats row. Counted writes add their delta to the shadow when the
 * changed document sits at or behind the cursor (`engine.ts`). So the shadow
 * is always the true histogram of the documents behind the cursor, and the
 * last page, which finds nothing after the cursor, swaps it into the row.
 *
 * Starting a run: `recount/start.ts`. Walking all orgs: `recount/orgWalk.ts`.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import { enqueueDriftAlert } from "../../alerts/queue";
import type { MutationCtx } from "../../ctx";
import type { StatsEntity } from "../../enums";
import { plusTally, tallyOfStored, type Tally } from "../counters";
import { differences, hasNegative } from "../drift";
import { entityDef } from "../entities";
import { getStatsRow, splitRow } from "../rows";
import { countPage } from "../scan";
import { foldDeltas, getRecountState, storedOf, type RecountState } from "../shadow";
import { vDriftBucket } from "../tables";
import { freshRecountState, newRunId, startRecount } from "./start";

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

type PageCtx = Pick<MutationCtx, "db" | "meta" | "runMutation" | "runQuery">;

/**
 * Runs one page of recount `runId` of (org, entity): counts the next
 * documents, and on the last page compares, reports drift and swaps, all in
 * this transaction. Scheduling the next page is the caller's job.
 *
 * Reads: the recount state, the shadow deltas written since the last page
 * (each read and deleted), every counted document once, and at most one
 * document more (the first of the next page); the last page also reads the
 * stats row. Writes: the recount state; the last page instead writes the
 * stats row, deletes the state, and adds a drift report when it found drift.
 */
export async function runRecountPage(
  ctx: PageCtx,
  args: { workosOrgId: string; entity: StatsEntity; runId: string; maxDocs?: number },
): Promise<PageOutcome> {
  const { workosOrgId, entity, runId } = args;
  const state = await getRecountState(ctx.db, workosOrgId, entity);
  const outcome = (status: PageOutcome["status"], run = runId): PageOutcome => ({
    status,
    runId: run,
    pages: 0,
    documentsCounted: 0,
    lookahead: 0,
    documentsRead: 0,
    bytesRead: 0,
    differences: [],
    driftReported: false,
  });
  if (state === null || state.runId !== runId) {
    return await notCurrent(ctx, args, outcome);
  }

  const deltas = await foldDeltas(ctx.db, state);
  const { tally, scan } = await countPage(
    ctx,
    workosOrgId,
    entity,
    state.cursor,
    args.maxDocs ?? DEFAULT_PAGE_DOCS,
  );
  const metrics = await ctx.meta.getTransactionMetrics();
  const shadow = plusTally(plusTally(tallyOfStored(state), deltas.tally), tally);
  const progress = {
    cursor: scan.lastCreationTime ?? state.cursor,
    pages: state.pages + 1,
    documentsCounted: state.documentsCounted + scan.counted,
  };
  const result: PageOutcome = {
    ...outcome("continued"),
    pages: progress.pages,
    documentsCounted: scan.counted,
    lookahead: scan.lookahead,
    documentsRead: metrics.documentsRead.used,
    bytesRead: metrics.bytesRead.used,
  };
  if (!scan.exhausted || !deltas.done) {
    const { _id, _creationTime, ...fields } = state;
    await ctx.db.replace("statsRecounts", _id, { ...fields, ...progress, ...storedOf(shadow) });
    return result;
  }
  return await finish(ctx, entity, state, shadow, progress, result);
}

/**
 * A page whose run is not the current one: `superseded`, except for a run
 * that kept its state in the legacy `recount` field of the row, which is
 * restarted cleanly (the field removed) or, for a deleted org, dropped.
 */
async function notCurrent(
  ctx: PageCtx,
  args: { workosOrgId: string; entity: StatsEntity; runId: string },
  outcome: (status: PageOutcome["status"], run?: string) => PageOutcome,
): Promise<PageOutcome> {
  const { workosOrgId, entity, runId } = args;
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  if (row?.recount?.runId !== runId) {
    console.log("[stats.recount] page of a replaced run skipped", { workosOrgId, entity, runId });
    return outcome("superseded");
  }
  const restart = await startRecount(ctx, workosOrgId, entity, {
    mode: "daily",
    force: true,
    schedulePages: false,
  });
  console.warn("[stats.recount] legacy recount state found; run restarted", {
    workosOrgId,
    entity,
    oldRunId: runId,
    start: restart,
  });
  if (restart.runId !== null) return outcome("restarted", restart.runId);
  const { id, fields } = splitRow(row, entity);
  await ctx.db.replace("organizationStats", id, { ...fields, recount: undefined });
  return outcome("abandoned");
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
  state: RecountState,
  shadow: Tally,
  progress: { pages: number; documentsCounted: number },
  result: PageOutcome,
): Promise<PageOutcome> {
  const def = entityDef(entity);
  const now = Date.now();
  const { workosOrgId } = state;
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  if (row === null || row.orgDeleted === true) {
    await ctx.db.delete("statsRecounts", state._id);
    if (row !== null) {
      const { id, fields } = splitRow(row, entity);
      await ctx.db.replace("organizationStats", id, { ...fields, recounting: false });
    }
    console.log("[stats.recount] org deleted; recount dropped", { workosOrgId, entity });
    return { ...result, status: "abandoned" };
  }
  const { id, fields } = splitRow(row, entity);
  const found = differences(def, tallyOfStored(fields), shadow);
  const trusted = fields.exact || fields.seeded === true || fields.lastRecount !== undefined;

  if (hasNegative(def, shadow)) {
    // Only a write that bypassed the write layer during the run (a dashboard
    // edit of a counted document, then a counted write of the same document)
    // can do this. The shadow is wrong, so start over rather than swap it in;
    // the row stays marked `recounting` and is not written.
    const runId = newRunId(now);
    await ctx.db.replace(
      "statsRecounts",
      state._id,
      freshRecountState(workosOrgId, entity, runId, now, state.jobId),
    );
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
    const reportId = await ctx.db.insert("statsDriftReports", {
      workosOrgId,
      entity,
      source: "recount",
      runId: result.runId,
      detectedAt: now,
      buckets: found,
    });
    await enqueueDriftAlert(ctx, reportId);
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
    recounting: false,
    recount: undefined,
    lastRecount,
    updatedAt: now,
  });
  await ctx.db.delete("statsRecounts", state._id);
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
