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
import type { Doc } from "../../../_generated/dataModel";
import { hasNegative, withAlreadyReported } from "../drift";
import { entityDef } from "../entities";
import { addInvalid, EMPTY_DIGEST, listingOf, type InvalidListing } from "../invalid";
import { getStatsRow, getStatsRows, splitRow, type StatsRow } from "../rows";
import { countPage } from "../scan";
import { foldDeltas, getRecountStates, storedOf, type RecountState } from "../shadow";
import { vDriftBucket, type InvalidDocument } from "../tables";
import { freshRecountState, newRunId, startRecount } from "./start";
import { isOrgDeleted } from "../../organizations/deleted";

/** What one page did. */
export const vPageOutcome = v.object({
  /**
   * `continued`: more pages follow. `finished`: counters swapped in.
   * `restarted`: the shadow went negative (a write bypassed the write layer
   * during the run), so a new run replaced it (at most `MAX_RESTARTS` times
   * per run). `inconclusive`: it went negative again after that; the run
   * ended without swapping, the row left `exact: false` for the next run.
   * `superseded`: the row runs another recount (or none); nothing done.
   * `abandoned`: the org was deleted; the recount state was dropped.
   */
  status: literals("continued", "finished", "restarted", "inconclusive", "superseded", "abandoned"),
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
  /**
   * On `finished`: a drift report was stored (drift on a row that had been
   * exact, a changed set of invalid documents, or duplicates removed).
   */
  driftReported: v.boolean(),
});
export type PageOutcome = Infer<typeof vPageOutcome>;

/**
 * Documents a recount page counts by default (the read budget may stop it
 * earlier). 1,000 documents of ~1 KB is about 3% of the document limit and
 * 6% of the byte limit, and keeps each page's conflict window small.
 */
export const DEFAULT_PAGE_DOCS = 1_000;

/**
 * Restarts one run may make when its shadow goes negative. Only a write that
 * bypassed the write layer during the run can do that (no stored value can:
 * every document adds 1 to a count and at least 0 to an amount, see
 * `countedCents`), so one restart covers a single bypass; a run that meets
 * another ends `inconclusive` instead of looping. A run therefore takes at
 * most `(MAX_RESTARTS + 1)` passes over the org's documents.
 */
export const MAX_RESTARTS = 1;

/** Reports read back to find the `negative_counter` reports a recount settles. */
const PRIOR_REPORTS_PROBE = 20;

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
  const states = await getRecountStates(ctx.db, workosOrgId, entity);
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
  if (states === null || states.state.runId !== runId) {
    return await notCurrent(ctx, args, outcome);
  }
  const { state } = states;

  const deltas = await foldDeltas(ctx.db, state);
  const def = entityDef(entity);
  const found: InvalidDocument[] = [];
  const {
    tally,
    scan,
    firstCreationTime: first,
  } = await countPage(
    ctx,
    workosOrgId,
    entity,
    state.cursor,
    args.maxDocs ?? DEFAULT_PAGE_DOCS,
    (doc) => found.push(...def.invalidFields(doc)),
  );
  const invalid = addInvalid(listingOf(state), found);
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
    // The first document's time is kept for the badge's progress (`read.ts`).
    const firstCreationTime = fields.firstCreationTime ?? first ?? undefined;
    await ctx.db.replace("statsRecounts", _id, {
      ...fields,
      ...progress,
      firstCreationTime,
      ...storedOf(shadow),
      ...invalid,
    });
    return result;
  }
  return await finish(ctx, entity, { ...states, invalid }, shadow, progress, result);
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

/** What the last page knows besides the shadow: the state, its duplicates, the listing. */
type Ending = { state: RecountState; duplicates: RecountState[]; invalid: InvalidListing };

/**
 * The last page: compare shadow and live counters, store a drift report when
 * they differ on a row that was trusted (or the invalid documents changed,
 * or duplicates were removed), and swap the shadow in.
 *
 * A row that was never exact (created lazily for an org with data, or by
 * the recount itself) is being seeded, not repaired: its differences are
 * logged and returned but not stored as drift. A row that was exact once
 * (`exact` or `seeded`, or a previous recount finished) gets a `recount`
 * drift report, also when a negative counter has cleared `exact` since; its
 * buckets say what `negative_counter` reports since the last recount already
 * stated (`alreadyReported`, `alreadyReportedIn`), so reports add up.
 *
 * Invalid documents (values the code never writes) are listed when the set
 * differs from the one the previous finished run saw (`lastRecount.invalid`),
 * so an unchanged org gets no new report. Duplicate stats rows and recount
 * states of (org, entity) are deleted here and listed.
 */
async function finish<T extends StatsEntity>(
  ctx: PageCtx,
  entity: T,
  ending: Ending,
  shadow: Tally,
  progress: { pages: number; documentsCounted: number },
  result: PageOutcome,
): Promise<PageOutcome> {
  const def = entityDef(entity);
  const now = Date.now();
  const { state, invalid } = ending;
  const { workosOrgId } = state;
  const rows = await getStatsRows(ctx.db, workosOrgId, entity);
  const row = rows?.row ?? null;
  if (row === null || isOrgDeleted(row)) {
    await ctx.db.delete("statsRecounts", state._id);
    if (row !== null) {
      const { id, fields } = splitRow(row, entity);
      await ctx.db.replace("organizationStats", id, { ...fields, recounting: false });
    }
    console.log("[stats.recount] org deleted; recount dropped", { workosOrgId, entity });
    return { ...result, status: "abandoned" };
  }
  const { id, fields } = splitRow(row, entity);
  const trusted = fields.exact || fields.seeded === true || fields.lastRecount !== undefined;

  if (hasNegative(def, shadow)) {
    // Only a write that bypassed the write layer during the run (a dashboard
    // edit of a counted document, then a counted write of the same document)
    // can do this. The shadow is wrong, so start over rather than swap it in
    // (the row stays marked `recounting` and is not written), once: a second
    // time the run ends without a repair, so it always terminates.
    const restarts = state.restarts ?? 0;
    if (restarts < MAX_RESTARTS) {
      // Suffixed: a new id even when the clock and random seed repeat.
      const runId = `${newRunId(now)}_r${restarts + 1}`;
      await ctx.db.replace("statsRecounts", state._id, {
        ...freshRecountState(workosOrgId, entity, runId, now, state.jobId),
        pages: progress.pages,
        restarts: restarts + 1,
      });
      console.warn("[stats.recount] shadow went negative; run restarted", {
        workosOrgId,
        entity,
        oldRunId: result.runId,
        runId,
        restarts: restarts + 1,
      });
      return { ...result, status: "restarted", runId };
    }
    await ctx.db.delete("statsRecounts", state._id);
    await ctx.db.replace("organizationStats", id, {
      ...fields,
      exact: false,
      recounting: false,
      updatedAt: now,
    });
    console.warn("[stats.recount] shadow went negative again; run ended without repair", {
      workosOrgId,
      entity,
      runId: result.runId,
      restarts,
      pages: progress.pages,
    });
    return { ...result, status: "inconclusive" };
  }

  const prior = trusted ? await unsettledNegativeReports(ctx, workosOrgId, entity) : [];
  const found = withAlreadyReported(
    def,
    tallyOfStored(fields),
    shadow,
    prior.flatMap((r) => r.buckets),
  );
  const driftFound = trusted && found.length > 0;
  const seen = fields.lastRecount?.invalid ?? { total: 0, digest: EMPTY_DIGEST };
  const invalidSummary = { total: invalid.invalidTotal, digest: invalid.invalidDigest };
  const invalidChanged =
    invalidSummary.total !== seen.total || invalidSummary.digest !== seen.digest;
  const duplicatesRemoved = await removeDuplicates(ctx, rows?.duplicates ?? [], ending.duplicates);

  const driftReported = driftFound || invalidChanged || duplicatesRemoved.length > 0;
  if (driftReported) {
    const reportId = await ctx.db.insert("statsDriftReports", {
      workosOrgId,
      entity,
      source: "recount",
      runId: result.runId,
      detectedAt: now,
      buckets: driftFound ? found : [],
      ...(driftFound && prior.length > 0 ? { alreadyReportedIn: prior.map((r) => r._id) } : {}),
      ...(invalid.invalidTotal > 0 || invalidChanged
        ? { invalidDocuments: invalid.invalidDocuments, invalidTotal: invalid.invalidTotal }
        : {}),
      ...(duplicatesRemoved.length > 0 ? { duplicatesRemoved } : {}),
    });
    await enqueueDriftAlert(ctx, reportId);
    console.warn("[stats.recount] drift repaired", {
      workosOrgId,
      entity,
      runId: result.runId,
      buckets: driftFound ? found : [],
      invalidTotal: invalid.invalidTotal,
      duplicatesRemoved: duplicatesRemoved.length,
    });
  }
  const restarts = state.restarts ?? 0;
  const lastRecount = {
    runId: result.runId,
    finishedAt: now,
    driftFound,
    pages: progress.pages,
    documentsCounted: progress.documentsCounted,
    ...(restarts > 0 ? { restarts } : {}),
    ...(invalidSummary.total > 0 ? { invalid: invalidSummary } : {}),
  };
  await ctx.db.replace("organizationStats", id, {
    ...fields,
    ...def.counters(shadow),
    exact: true,
    seeded: true,
    recounting: false,
    recount: undefined,
    knownDrift: undefined,
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

/**
 * The `negative_counter` reports of (org, entity) that no recount has settled
 * yet: those newer than its newest `recount` report. (A recount that settles
 * one always stores a report, since the settled part appears as
 * `alreadyReported`; and a row reports a negative counter only while exact,
 * i.e. at most once between two finished recounts.) Reads at most
 * `PRIOR_REPORTS_PROBE` reports.
 */
async function unsettledNegativeReports(
  ctx: Pick<PageCtx, "db">,
  workosOrgId: string,
  entity: StatsEntity,
): Promise<Doc<"statsDriftReports">[]> {
  const recent = await ctx.db
    .query("statsDriftReports")
    .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId).eq("entity", entity))
    .order("desc")
    .take(PRIOR_REPORTS_PROBE);
  const out = [];
  for (const report of recent) {
    if (report.source === "recount") break;
    out.push(report);
  }
  return out;
}

/** Deletes duplicate stats rows and recount states (the recount owns both) and lists them. */
async function removeDuplicates(
  ctx: Pick<PageCtx, "db">,
  rows: StatsRow[],
  states: RecountState[],
): Promise<NonNullable<Doc<"statsDriftReports">["duplicatesRemoved"]>> {
  const removed: NonNullable<Doc<"statsDriftReports">["duplicatesRemoved"]> = [];
  for (const row of rows) {
    await ctx.db.delete("organizationStats", row._id);
    removed.push({ table: "organizationStats", id: row._id });
  }
  for (const state of states) {
    await ctx.db.delete("statsRecounts", state._id);
    removed.push({ table: "statsRecounts", id: state._id });
  }
  return removed;
}
