/**
 * The exact recount of one stats row (one org, one counted table), in pages,
 * while writes continue. The argument is written down in `docs/recount.md`.
 *
 * State lives in its own document (`statsRecounts`, see `shadow.ts`): a
 * cursor (a `_creationTime`) and shadow counters holding the histogram of
 * every document of the org with `_creationTime <= cursor`. A page counts the
 * next documents of the table's org index after the cursor, adds them to the
 * shadow and moves the cursor, in one transaction, without touching the stats
 * row. Counted writes add their delta to the shadow when the changed document
 * sits at or behind the cursor (`engine.ts`). So the shadow is always the true
 * histogram of the documents behind the cursor, and the last page, which
 * finds nothing after the cursor, swaps it into the row.
 *
 * A report-only run (the migration's dry run) pages the same way but its last
 * page only compares: it returns what seeding would change, writes no row.
 *
 * A table with filtered counters takes two more phases between the scan and
 * the last page (`facetMerge.ts`, `docs/filtered-counts.md`): the scan pages
 * also insert their documents' facet cells as the run's shadow deltas; when the
 * scan is through, merge pages reconcile the live facet documents with them;
 * then tail pages count the documents created meanwhile (for the row, as the
 * scan did) and the last page swaps the row and marks the facets exact.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { StatsConfig } from "../config";
import { emptyTally, plusTally, tallyOfStored, type Tally } from "../counters";
import { statsDb, type StatsMutationCtx } from "../ctx";
import { differences, hasNegative, withAlreadyReported } from "../drift";
import { entityIn, type EntityDef } from "../entities";
import { addInvalid, EMPTY_DIGEST, listingOf, type InvalidListing } from "../invalid";
import { isRowOrgDeleted, splitRow } from "../rows";
import { pickPerEntity } from "../perEntity";
import {
  deleteStaleShadows,
  getFacetStatus,
  insertShadowDeltas,
  setFacetStatus,
} from "../facets/store";
import type { FacetDelta } from "../facets/keys";
import { countPage } from "../scan";
import { foldDeltas, storedOf } from "../shadow";
import {
  vDriftBucket,
  vFacetMerge,
  vSeedReportEntry,
  type DriftReportDoc,
  type InvalidDocument,
  type RecountState,
  type SeedReportEntry,
  type StatsFields,
  type StatsRow,
} from "../tables";
import {
  addDocumentFacets,
  emptyMerge,
  mergeBatch,
  mergeStep,
  type MergeBatch,
  STALE_SHADOW_BATCH,
} from "./facetMerge";
import { countJob } from "./jobs";
import { DEFAULT_PAGE_DOCS, freshRecountState, MAX_RESTARTS, newRunId } from "./state";
import { readSummary, writeSummary } from "./summaries";

/** What one page did. */
export const vPageOutcome = v.object({
  /**
   * `continued`: more pages follow. `finished`: counters swapped in (or, for
   * a report-only run, compared). `restarted`: the shadow went negative (a
   * write bypassed the counted writes during the run), so a new run replaced
   * it (at most `MAX_RESTARTS` times per run). `inconclusive`: it went
   * negative again after that; the run ended without swapping, the row left
   * `exact: false` for the next run. `superseded`: the row runs another
   * recount (or none); nothing done. `abandoned`: the org was deleted.
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
  /** On `finished`: a drift report was stored. */
  driftReported: v.boolean(),
  /** On `finished` of a report-only run: the row's line of the dry run's report. */
  seedReport: v.optional(vSeedReportEntry),
  /**
   * Tables with filtered counters: the phase this page started in (`scan`,
   * `merge`, `tail`; a page may go on to the next), the facet documents it read (shadows during the scan, live and
   * shadow during the merge, stale shadows it deleted) and, on `finished`,
   * what the merge found.
   */
  phase: v.optional(literals("scan", "merge", "tail")),
  facetDocuments: v.optional(v.number()),
  facetMerge: v.optional(vFacetMerge),
});
export type PageOutcome = Infer<typeof vPageOutcome>;

/** Reports read back to find the `negative_counter` reports a recount settles. */
const PRIOR_REPORTS_PROBE = 20;

type PageCtx = Pick<StatsMutationCtx, "db" | "meta" | "runMutation" | "runQuery">;

/**
 * Runs one page of recount `runId` of (org, entity): counts the next
 * documents, and on the last page compares, reports drift and swaps, all in
 * this transaction. Scheduling the next page is the caller's job.
 *
 * Reads: the recount state, the shadow deltas written since the last page
 * (each read and deleted), every counted document once, and at most one
 * document more (the first of the next page); the last page also reads the
 * stats row and the run summary. Writes: the recount state; the last page
 * instead writes the stats row and the summary, deletes the state, and adds a
 * drift report when it found drift.
 */
export async function runRecountPage(
  ctx: PageCtx,
  config: StatsConfig,
  args: { workosOrgId: string; entity: string; runId: string; maxDocs?: number },
): Promise<PageOutcome> {
  const { workosOrgId, entity, runId } = args;
  const def = entityIn(config.entities, entity);
  const states = await pickPerEntity(ctx.db, "statsRecounts", workosOrgId, entity);
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
  if (states === null || states.doc.runId !== runId) {
    console.log("[stats.recount] page of a replaced run skipped", { workosOrgId, entity, runId });
    return outcome("superseded");
  }
  const state = states.doc;
  const db = statsDb(ctx.db);
  const maxDocs = args.maxDocs ?? DEFAULT_PAGE_DOCS;

  const deltas = await foldDeltas(db, state);
  const faceted = def.facets !== null;
  let phase: "scan" | "merge" | "tail" | undefined = faceted
    ? (state.facetPhase ?? "scan")
    : undefined;
  /** The phase the page starts in (it may go on to the next ones). */
  const started = phase;
  let facetDocuments = faceted
    ? await deleteStaleShadows(db, workosOrgId, entity, runId, STALE_SHADOW_BATCH)
    : 0;
  let merging = { mergeCursor: state.mergeCursor, facetMerge: state.facetMerge };
  /** One merge step from `from`; false when keys are left for the next page. */
  const merge = async (from: RecountState, batch: MergeBatch): Promise<boolean> => {
    const step = await mergeStep(ctx, def, from, batch);
    facetDocuments += step.documents;
    merging = { mergeCursor: step.cursor, facetMerge: step.merge };
    return step.done;
  };
  const save = async (fields: Partial<StatsFields<"statsRecounts">>) => {
    const { _id, _creationTime, ...current } = state;
    await db.replace("statsRecounts", _id, {
      ...current,
      ...fields,
      ...(phase === undefined || phase === "scan" ? {} : { facetPhase: phase, ...merging }),
    });
  };
  if (phase === "merge" && !(await merge(state, mergeBatch(maxDocs)))) {
    const metrics = await ctx.meta.getTransactionMetrics();
    await save({
      pages: state.pages + 1,
      ...storedOf(plusTally(tallyOfStored(state), deltas.tally)),
    });
    return {
      ...outcome("continued"),
      pages: state.pages + 1,
      documentsRead: metrics.documentsRead.used,
      bytesRead: metrics.bytesRead.used,
      phase,
      facetDocuments,
    };
  }
  // A merge that ended in this page goes on with the tail in the same page.
  if (phase === "merge") phase = "tail";

  const found: InvalidDocument[] = [];
  const facetDelta: FacetDelta = new Map();
  const scanning = phase === "scan";
  const {
    tally,
    scan,
    firstCreationTime: first,
  } = await countPage(ctx, def, workosOrgId, state.cursor, maxDocs, (doc) => {
    found.push(...def.invalidFields(doc));
    if (scanning) addDocumentFacets(def, facetDelta, doc);
  });
  if (facetDelta.size > 0) {
    // The scan's facet part: a shadow delta per touched key (an insert: no read).
    const n = def.statuses.length;
    facetDocuments += await insertShadowDeltas(db, workosOrgId, entity, runId, n, facetDelta);
  }
  let through = scan.exhausted && deltas.done;
  if (through && phase === "scan") {
    // The scan is through: each key's deltas add up to its truth. The merge
    // starts in this page when the page is small (a small org's run keeps its
    // number of pages); ended here, no document can have been created since
    // the scan, so no tail is needed either.
    phase = "merge";
    merging = { mergeCursor: undefined, facetMerge: emptyMerge() };
    const fresh = { ...state, ...merging };
    const full = mergeBatch(maxDocs);
    const batch = {
      keys: Math.min(INLINE_MERGE_BATCH.keys, full.keys),
      deltas: Math.min(INLINE_MERGE_BATCH.deltas, full.deltas),
    };
    if (!(await roomForMerge(ctx)) || !(await merge(fresh, batch))) through = false;
    else phase = "tail";
  }
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
    ...(started === undefined ? {} : { phase: started, facetDocuments }),
  };
  if (!through) {
    // The first document's time is kept for the badge's progress (`read.ts`).
    const firstCreationTime = state.firstCreationTime ?? first ?? undefined;
    await save({ ...progress, firstCreationTime, ...storedOf(shadow), ...invalid });
    return result;
  }
  const ending = { ...states, state: { ...state, ...merging }, invalid };
  const ended =
    state.report !== undefined
      ? await finishReport(ctx, def, ending, shadow, progress, result)
      : await finish(ctx, config, def, ending, shadow, progress, result);
  if (ended.status !== "restarted" && state.jobId !== undefined) {
    // The run ended: its job counts it in the same transaction.
    const entries = ended.seedReport === undefined ? [] : [ended.seedReport];
    await countJob(ctx, state.jobId, { finished: 1 }, entries);
  }
  return ended;
}

/** Keys per side a scan page merges when it has room (`roomForMerge`). */
const INLINE_MERGE_BATCH: MergeBatch = { keys: 50, deltas: 200 };
/** A page whose reads are below this fraction of every limit may merge in the same page. */
const INLINE_MERGE_FRACTION = 0.1;

/** Whether the page has read little enough to start the merge too. */
async function roomForMerge(ctx: PageCtx): Promise<boolean> {
  const m = await ctx.meta.getTransactionMetrics();
  const docs = m.documentsRead.used / (m.documentsRead.used + m.documentsRead.remaining);
  const bytes = m.bytesRead.used / (m.bytesRead.used + m.bytesRead.remaining);
  return Math.max(docs, bytes) < INLINE_MERGE_FRACTION;
}

/** What the last page knows besides the shadow: the state, its duplicates, the listing. */
type Ending = { state: RecountState; duplicates: RecountState[]; invalid: InvalidListing };

/** The last page of a report-only run: what seeding the row would change; no row written. */
async function finishReport(
  ctx: PageCtx,
  def: EntityDef,
  ending: Ending,
  shadow: Tally,
  progress: { documentsCounted: number },
  result: PageOutcome,
): Promise<PageOutcome> {
  const { state } = ending;
  const rows = await pickPerEntity(ctx.db, "organizationStats", state.workosOrgId, def.table);
  const row = rows?.doc ?? null;
  await statsDb(ctx.db).delete("statsRecounts", state._id);
  const changes = differences(def, row === null ? emptyTally() : tallyOfStored(row), shadow).map(
    ({ status, measure, stored, delta }) => ({
      status,
      measure,
      stored,
      actual: stored + delta,
      delta,
    }),
  );
  const seedReport: SeedReportEntry = {
    workosOrgId: state.workosOrgId,
    entity: def.table,
    foundBy: state.report?.foundBy ?? "documents",
    action: row === null ? "create_row" : "seed",
    documents: progress.documentsCounted,
    ...(state.facetMerge === undefined ? {} : { facets: state.facetMerge }),
    changes,
  };
  return {
    ...result,
    status: "finished",
    differences: [],
    seedReport,
    ...(state.facetMerge === undefined ? {} : { facetMerge: state.facetMerge }),
  };
}

/**
 * The last page: compare shadow and live counters, store a drift report when
 * they differ on a row that was trusted (or the invalid documents changed,
 * or duplicates were removed), and swap the shadow in.
 *
 * A row that was never exact (created for an org with data, or carried over
 * from an app's previous counters) is being seeded, not repaired: its
 * differences are logged and returned but not stored as drift. A row that
 * was exact once gets a `recount` drift report, also when a negative counter
 * has cleared `exact` since; its buckets say what `negative_counter` reports
 * since the last recount already stated (`alreadyReported`), so reports add up.
 *
 * Invalid documents (values the code never writes) are listed when the set
 * differs from the one the previous finished run saw, so an unchanged org
 * gets no new report. Duplicate stats rows and recount states of (org,
 * entity) are deleted here and listed.
 */
async function finish(
  ctx: PageCtx,
  config: StatsConfig,
  def: EntityDef,
  ending: Ending,
  shadow: Tally,
  progress: { pages: number; documentsCounted: number },
  result: PageOutcome,
): Promise<PageOutcome> {
  const db = statsDb(ctx.db);
  const now = Date.now();
  const { state, invalid } = ending;
  const { workosOrgId } = state;
  const entity = def.table;
  const rows = await pickPerEntity(ctx.db, "organizationStats", workosOrgId, entity);
  const row = rows?.doc ?? null;
  if (row === null || isRowOrgDeleted(row)) {
    await db.delete("statsRecounts", state._id);
    if (row !== null) {
      const { id, fields } = splitRow(row);
      await db.replace("organizationStats", id, {
        ...fields,
        recounting: false,
        writeRate: undefined,
      });
    }
    console.log("[stats.recount] org deleted; recount dropped", { workosOrgId, entity });
    return { ...result, status: "abandoned" };
  }
  const { id, fields } = splitRow(row);
  const summary = await readSummary(ctx.db, workosOrgId, entity);
  const lastRecount = summary?.lastRecount ?? fields.lastRecount;
  const trusted = fields.exact || fields.seeded === true || lastRecount !== undefined;

  if (hasNegative(def, shadow)) {
    // Only a write that bypassed the counted writes during the run (a
    // dashboard edit of a counted document, then a counted write of the same
    // document) can do this. The shadow is wrong, so start over rather than
    // swap it in, once: a second time the run ends without a repair.
    const restarts = state.restarts ?? 0;
    if (restarts < MAX_RESTARTS) {
      // Suffixed: a new id even when the clock and random seed repeat.
      const runId = `${newRunId(now)}_r${restarts + 1}`;
      await db.replace("statsRecounts", state._id, {
        ...freshRecountState(workosOrgId, entity, runId, now, { jobId: state.jobId }),
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
    await db.delete("statsRecounts", state._id);
    await db.replace("organizationStats", id, {
      ...fields,
      exact: false,
      recounting: false,
      writeRate: undefined,
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
  const seen = lastRecount?.invalid ?? { total: 0, digest: EMPTY_DIGEST };
  const invalidSummary = { total: invalid.invalidTotal, digest: invalid.invalidDigest };
  const invalidChanged =
    invalidSummary.total !== seen.total || invalidSummary.digest !== seen.digest;
  const duplicatesRemoved = await removeDuplicates(ctx, rows?.duplicates ?? [], ending.duplicates);

  // Filtered counters: the merge repaired the facet documents; drift only if they were exact.
  const facetMerge = state.facetMerge;
  const facetStatus =
    def.facets === null ? null : await getFacetStatus(ctx.db, workosOrgId, entity);
  const facetsTrusted = facetStatus?.exact === true;
  const facetDriftFound =
    facetsTrusted &&
    facetMerge !== undefined &&
    (facetMerge.differing > 0 || facetMerge.duplicatesRemoved > 0);
  const driftReported =
    driftFound || invalidChanged || duplicatesRemoved.length > 0 || facetDriftFound;
  let reportId: DriftReportDoc["_id"] | null = null;
  if (driftReported) {
    reportId = await db.insert("statsDriftReports", {
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
      ...(facetDriftFound ? { facetDrift: facetMerge } : {}),
    });
    console.warn("[stats.recount] drift repaired", {
      workosOrgId,
      entity,
      runId: result.runId,
      buckets: driftFound ? found : [],
      invalidTotal: invalid.invalidTotal,
      duplicatesRemoved: duplicatesRemoved.length,
      facetDocumentsRepaired: facetDriftFound ? facetMerge.differing : 0,
    });
  }
  const restarts = state.restarts ?? 0;
  await writeSummary(ctx.db, summary, {
    workosOrgId,
    entity,
    lastRecount: {
      runId: result.runId,
      finishedAt: now,
      driftFound,
      pages: progress.pages,
      documentsCounted: progress.documentsCounted,
      ...(restarts > 0 ? { restarts } : {}),
      ...(invalidSummary.total > 0 ? { invalid: invalidSummary } : {}),
    },
  });
  await db.replace("organizationStats", id, {
    ...fields,
    ...def.counters(shadow),
    exact: true,
    seeded: true,
    carried: undefined,
    recounting: false,
    knownDrift: undefined,
    writeRate: undefined,
    lastRecount: undefined,
    updatedAt: undefined,
    ...(def.facets === null ? {} : { facetsExact: true }),
  });
  await db.delete("statsRecounts", state._id);
  // Written only when it changes: a daily run over exact facets leaves filtered badges alone.
  if (def.facets !== null) await setFacetStatus(db, workosOrgId, entity, { exact: true });
  if (reportId !== null) await config.onDriftReport?.(ctx as StatsMutationCtx, reportId);
  console.log("[stats.recount] finished", {
    workosOrgId,
    entity,
    runId: result.runId,
    pages: progress.pages,
    documentsCounted: progress.documentsCounted,
    differences: found.length,
    seeded: !trusted,
    ...(facetMerge === undefined
      ? {}
      : { facetDocumentsDiffering: facetMerge.differing, facetsSeeded: !facetsTrusted }),
  });
  return {
    ...result,
    status: "finished",
    differences: found,
    driftReported,
    ...(facetMerge === undefined ? {} : { facetMerge }),
  };
}

/**
 * The `negative_counter` reports of (org, entity) that no recount has settled
 * yet: those newer than its newest `recount` report. Reads at most
 * `PRIOR_REPORTS_PROBE` reports.
 */
async function unsettledNegativeReports(
  ctx: Pick<PageCtx, "db">,
  workosOrgId: string,
  entity: string,
): Promise<DriftReportDoc[]> {
  const recent = await statsDb(ctx.db)
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
): Promise<NonNullable<DriftReportDoc["duplicatesRemoved"]>> {
  const db = statsDb(ctx.db);
  const removed: NonNullable<DriftReportDoc["duplicatesRemoved"]> = [];
  for (const row of rows) {
    await db.delete("organizationStats", row._id);
    removed.push({ table: "organizationStats", id: row._id });
  }
  for (const state of states) {
    await db.delete("statsRecounts", state._id);
    removed.push({ table: "statsRecounts", id: state._id });
  }
  return removed;
}
