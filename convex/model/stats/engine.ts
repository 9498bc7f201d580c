/**
 * The stats engine: the per-mutation accumulator that folds every counted
 * write into one delta per stats row, and the flush that applies it, once per
 * touched row, in the same transaction as the writes. Written once over the
 * declared counted tables.
 *
 * The write layer (`write/`) records changes here; the wrapped builders flush
 * once after the handler succeeds. Drift found here is stored as a report and
 * handed to the app's subscriber (`config.onDriftReport`); the engine knows
 * nothing of who listens.
 */
import { makeFunctionReference } from "convex/server";
import type { GenericId } from "convex/values";
import { orgDeletedError } from "../../lib/errors";
import { NO_WRITES, recordWrites } from "../../lib/contention";
import type { StatsConfig } from "./config";
import {
  addBucket,
  emptyTally,
  isZeroTally,
  plusTally,
  sameBucket,
  tallyOfStored,
  type Tally,
} from "./counters";
import { statsDb, type StatsMutationCtx } from "./ctx";
import { mergeKnownDrift, negativeBuckets } from "./drift";
import { entityIn, type EntityDef, type Side } from "./entities";
import { addPlace, compareKeys, samePlace, type FacetDelta, type FacetKey } from "./facets/keys";
import { applyToLive, insertShadowDeltas, setFacetStatus } from "./facets/store";
import { getStatsRow, initialRow, isRowOrgDeleted, orgHasDocuments, splitRow } from "./rows";
import { pickPerEntity } from "./perEntity";
import { getRecountState, storedOf, type RecountState } from "./shadow";
import type { StatsRowFields, StatsWriter } from "./tables";

type EngineCtx = Pick<StatsMutationCtx, "db" | "scheduler" | "runMutation" | "runQuery">;

/** The net change of one counted document within the current mutation. */
export type DocChange = {
  entity: string;
  id: string;
  /** Null while unknown: the document was inserted by this mutation. */
  creationTime: number | null;
  /** Where it counted before the mutation; null when absent or not counted. */
  before: Side | null;
  /** Where it counts now; null when deleted or not counted. */
  after: Side | null;
};

/** What one flush did, for logs and tests. */
export type FlushResult = {
  rowsWritten: number;
  rowsCreated: number;
  negativeCounters: number;
  /** Facet documents read and written (tables with filtered counters). */
  facetDocuments: number;
};

/** Whether two sides count the same in the stats row (same org, same bucket). */
function sameRowSide(a: Side | null, b: Side | null): boolean {
  if (a === null || b === null) return a === b;
  return a.workosOrgId === b.workosOrgId && sameBucket(a.bucket, b.bucket);
}

/** Whether two sides count the same everywhere: the stats row and the facet documents. */
function sameSide(a: Side | null, b: Side | null): boolean {
  return sameRowSide(a, b) && samePlace(a?.place, b?.place);
}

/** Whether a part changes the stats row (not only the facet documents). */
function changesRow(p: RowPart): boolean {
  return !(p.before && p.after && sameRowSide(p.change.before, p.change.after));
}

/** One row's part of a change: its sign and bucket. */
type RowPart = { change: DocChange; before: boolean; after: boolean };

/**
 * Collects every counted write of one mutation and applies them at the end.
 *
 * Folding happens per document (a document inserted and then patched three
 * times is one change from "nothing" to its final bucket) and then per stats
 * row, so a mutation that touches 500 invoices reads and writes its stats row
 * once. A document that moved to another org counts as leaving one row and
 * entering the other.
 *
 * Caveat: counters read from a stats row inside the same mutation, before the
 * flush, do not include that mutation's own writes yet.
 */
export class StatsAccumulator {
  private readonly changes = new Map<string, DocChange>();
  private flushed = false;

  /**
   * @param options.refuseDeletedOrgs Public mutations refuse to change the
   *   counters of a deleted org (`ORG_DELETED`); internal maintenance keeps
   *   them exact instead.
   */
  constructor(
    private readonly config: StatsConfig,
    private readonly options: { refuseDeletedOrgs: boolean },
  ) {}

  /** Records that a counted document went from `before` to `after` (null = not counted). */
  record(change: DocChange): void {
    if (this.flushed) throw new Error("[stats] write recorded after the stats flush");
    const existing = this.changes.get(change.id);
    if (existing === undefined) {
      this.changes.set(change.id, { ...change });
      return;
    }
    existing.after = change.after;
    existing.creationTime ??= change.creationTime;
  }

  /** Whether nothing was recorded (the flush then reads nothing). */
  isEmpty(): boolean {
    return this.changes.size === 0;
  }

  /**
   * Applies all recorded changes: for each touched (org, entity) one read and
   * one write of its stats row (plus, only while a recount of that row runs,
   * what `updateShadow` reads and writes).
   *
   * @throws `ORG_DELETED` when a touched org was deleted and
   *   `refuseDeletedOrgs` is set; the whole mutation is then rolled back.
   */
  async flush(ctx: EngineCtx): Promise<FlushResult> {
    if (this.flushed) throw new Error("[stats] flushed twice");
    this.flushed = true;
    const groups = new Map<string, RowPart[]>();
    const add = (side: Side, part: RowPart, entity: string) => {
      const key = `${entity}\u0000${side.workosOrgId}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [part]);
      else group.push(part);
    };
    for (const change of this.changes.values()) {
      if (sameSide(change.before, change.after)) continue;
      const { before, after } = change;
      if (before !== null && after !== null && before.workosOrgId === after.workosOrgId) {
        add(before, { change, before: true, after: true }, change.entity);
        continue;
      }
      if (before !== null) add(before, { change, before: true, after: false }, change.entity);
      if (after !== null) add(after, { change, before: false, after: true }, change.entity);
    }
    const result: FlushResult = {
      rowsWritten: 0,
      rowsCreated: 0,
      negativeCounters: 0,
      facetDocuments: 0,
    };
    for (const [key, parts] of groups) {
      const [entity, workosOrgId] = key.split("\u0000");
      const def = entityIn(this.config.entities, entity);
      const flushed = await flushGroup(ctx, this.config, def, workosOrgId, parts, this.options);
      if (flushed.rowWritten) result.rowsWritten++;
      if (flushed.created) result.rowsCreated++;
      result.negativeCounters += flushed.negatives;
      result.facetDocuments += flushed.facetDocuments;
    }
    return result;
  }
}

/** The folded delta of `parts` on one row. */
function deltaOf(parts: RowPart[]): Tally {
  const delta = emptyTally();
  for (const p of parts) {
    if (p.before && p.change.before !== null) addBucket(delta, p.change.before.bucket, -1);
    if (p.after && p.change.after !== null) addBucket(delta, p.change.after.bucket, 1);
  }
  return delta;
}

/**
 * Applies the changes of one (org, entity): to its stats row when some part
 * changes the row, and to its facet documents when the table has filtered
 * counters. A part that moves a document only between facet cells (its lane,
 * customer or day) reads the row (for `recounting` and `orgDeleted`) but
 * does not write it.
 */
async function flushGroup(
  ctx: EngineCtx,
  config: StatsConfig,
  def: EntityDef,
  workosOrgId: string,
  parts: RowPart[],
  options: { refuseDeletedOrgs: boolean },
): Promise<{ rowWritten: boolean; created: boolean; negatives: number; facetDocuments: number }> {
  const rows = await pickPerEntity(ctx.db, "organizationStats", workosOrgId, def.table);
  const existing = rows?.doc ?? null;
  if (isRowOrgDeleted(existing) && options.refuseDeletedOrgs) {
    throw orgDeletedError(workosOrgId);
  }
  const rowParts = parts.filter(changesRow);
  const flushed =
    rowParts.length === 0
      ? { rowWritten: false, created: false, negatives: 0, row: existing }
      : { rowWritten: true, ...(await flushRow(ctx, config, def, workosOrgId, rowParts, rows)) };
  const row = flushed.row;
  if (row?.recounting === true) {
    const state = await getRecountState(ctx.db, workosOrgId, def.table);
    const times = await creationTimes(ctx, def, parts);
    if (state !== null) {
      const run: DuringRun = { db: statsDb(ctx.db), def, workosOrgId, state, times };
      if (rowParts.length > 0) await updateShadow(run, rowParts);
      if (def.facets !== null) await updateFacetShadow(run, parts);
    }
  }
  const facetDocuments =
    def.facets === null ? 0 : await flushFacets(ctx, def, workosOrgId, parts, row);
  return { ...flushed, facetDocuments };
}

/** Applies the changes of one (org, entity) to its stats row; returns the row as written. */
async function flushRow(
  ctx: EngineCtx,
  config: StatsConfig,
  def: EntityDef,
  workosOrgId: string,
  parts: RowPart[],
  rows: Awaited<ReturnType<typeof pickPerEntity<"organizationStats">>>,
): Promise<{ created: boolean; negatives: number; row: StatsRowFields }> {
  const db = statsDb(ctx.db);
  const now = Date.now();
  const delta = deltaOf(parts);
  const existing = rows?.doc ?? null;
  if (rows !== null && rows.duplicates.length > 0 && rows.doc.recounting !== true) {
    // Duplicate rows (written around the code): this write counts on the
    // picked row; the recount removes the others.
    await scheduleRecount(ctx, workosOrgId, def.table);
  }
  let base: StatsRowFields;
  if (existing === null) {
    // First counted write of this org: the row is exact only if the org had
    // no documents before this mutation: every part enters the org (an
    // insert, or a move from another org) and no other document exists.
    const entering = new Set(parts.filter((p) => !p.before).map((p) => p.change.id));
    const exact =
      entering.size === parts.length &&
      !(await orgHasDocuments(ctx.db, def, workosOrgId, entering));
    base = await initialRow(ctx.db, config, def, workosOrgId, exact);
    // The org had data before the counters: seed them now rather than serve
    // bounded scans until the daily recount.
    if (!exact) await scheduleRecount(ctx, workosOrgId, def.table);
  } else {
    base = splitRow(existing).fields;
  }

  const before = tallyOfStored(base);
  const after = plusTally(before, delta);
  const negatives = negativeBuckets(def, before, after);
  // Fields older versions kept on the row go with its next write.
  let next: StatsRowFields = {
    ...base,
    ...def.counters(after),
    updatedAt: undefined,
    lastRecount: undefined,
    writeRate: undefined,
  };
  if (base.recounting === true) {
    // The recount sizes its pages from the write rate (no extra read or write).
    next.writeRate = recordWrites(base.writeRate ?? NO_WRITES, now, parts.length);
  }

  // A counter below zero on a row believed exact means the row had drifted
  // (a write bypassed the counted writes). Keep the value, report it, and
  // stop serving the row as exact until a recount repairs it.
  if (negatives.length > 0 && !base.exact && base.seeded === true) {
    // Already drifted: what the badge knows of the error grows (no new report).
    next = { ...next, knownDrift: mergeKnownDrift(base.knownDrift, negatives) };
  }
  if (negatives.length > 0 && base.exact) {
    // `seeded` stays true and `knownDrift` names the buckets, so the badge
    // keeps answering from these counters (`read.ts`) until the repair.
    next = { ...next, exact: false, seeded: true, knownDrift: mergeKnownDrift([], negatives) };
    const reportId = await db.insert("statsDriftReports", {
      workosOrgId,
      entity: def.table,
      source: "negative_counter",
      detectedAt: now,
      buckets: negatives,
    });
    console.warn("[stats.flush] counter went negative", {
      workosOrgId,
      entity: def.table,
      buckets: negatives,
    });
    await config.onDriftReport?.(ctx as StatsMutationCtx, reportId);
    // Repair it: a recount (kept if one is running) finds the true values.
    await scheduleRecount(ctx, workosOrgId, def.table);
  }
  if (existing === null) {
    await db.insert("organizationStats", next);
    // A row created exact: the org had no documents, so its facets are exact too.
    if (def.facets !== null && next.exact) {
      await setFacetStatus(db, workosOrgId, def.table, { exact: true });
    }
  } else await db.replace("organizationStats", existing._id, next);
  return { created: existing === null, negatives: negatives.length, row: next };
}

/** `_creationTime` of each changed document (null: none known). */
type CreationTimes = Map<string, number>;

/** A counted write of (org, entity) while a recount of it runs: what its shadows need. */
type DuringRun = {
  db: StatsWriter;
  def: EntityDef;
  workosOrgId: string;
  state: RecountState;
  times: CreationTimes;
};

/**
 * The `_creationTime` of every document `parts` change: known from the
 * write layer, else (inserted by this mutation) read back, one read each.
 */
async function creationTimes(
  ctx: Pick<StatsMutationCtx, "db">,
  def: EntityDef,
  parts: RowPart[],
): Promise<CreationTimes> {
  const out: CreationTimes = new Map();
  for (const p of parts) {
    let creationTime = p.change.creationTime;
    if (creationTime === null) {
      // Inserted by this mutation and still there (its change is not a no-op).
      const doc = await ctx.db.get(def.table, p.change.id as GenericId<string>);
      if (doc === null) throw new Error("[stats] inserted document not found");
      creationTime = doc._creationTime as number;
    }
    out.set(p.change.id, creationTime);
  }
  return out;
}

/**
 * While a recount of (org, entity) runs: adds to its shadow counters the part
 * of the delta that falls at or behind the cursor, which the recount has
 * already counted. When some change sits at or behind the cursor, inserts a
 * shadow delta (an insert reads nothing, and concurrent writes behind the
 * cursor do not conflict on it); pages fold deltas in.
 */
async function updateShadow(run: DuringRun, parts: RowPart[]): Promise<void> {
  const { db, def, workosOrgId, state, times } = run;
  if (state.cursor === null || state.report !== undefined) return;
  const cursor = state.cursor;
  const behind = parts.filter((p) => (times.get(p.change.id) ?? Infinity) <= cursor);
  const delta = deltaOf(behind);
  if (isZeroTally(delta)) return;
  await db.insert("statsRecountDeltas", {
    workosOrgId,
    entity: def.table,
    runId: state.runId,
    ...storedOf(delta),
  });
}

/** The facet documents' delta of `parts` (tables with filtered counters). */
function facetDeltaOf(def: EntityDef, parts: RowPart[]): FacetDelta {
  const delta: FacetDelta = new Map();
  const spec = def.facets;
  if (spec === null) return delta;
  const n = def.statuses.length;
  const add = (side: Side | null, sign: 1 | -1) => {
    if (side?.place === undefined) return;
    addPlace(delta, spec, n, def.statuses.indexOf(side.bucket.status), side.place, sign);
  };
  for (const p of parts) {
    if (p.before) add(p.change.before, -1);
    if (p.after) add(p.change.after, 1);
  }
  return delta;
}

/**
 * Applies `parts` to the live facet documents of (org, entity): one read and
 * one write per touched document (a status change of a dated load with a lane
 * and a customer touches 5). A cell below zero on facets the row says are
 * exact means a write bypassed the counters: it is logged and a recount
 * scheduled, which repairs it and files the drift report; the badge shows
 * the answer as `approximate` meanwhile. Facets never built yet go below
 * zero routinely (their seeding recount replaces them), so nothing is
 * scheduled for them. Returns the documents touched.
 */
async function flushFacets(
  ctx: EngineCtx,
  def: EntityDef,
  workosOrgId: string,
  parts: RowPart[],
  row: StatsRowFields | null,
): Promise<number> {
  const delta = facetDeltaOf(def, parts);
  if (delta.size === 0) return 0;
  const n = def.statuses.length;
  const applied = await applyToLive(statsDb(ctx.db), workosOrgId, def.table, n, delta);
  if (applied.negative.length > 0 && row?.facetsExact === true) {
    console.warn("[stats.flush] facet count went negative", {
      workosOrgId,
      entity: def.table,
      keys: applied.negative.slice(0, 5),
      total: applied.negative.length,
    });
    if (row.recounting !== true) await scheduleRecount(ctx, workosOrgId, def.table);
  }
  return applied.documents;
}

/**
 * While a recount runs, the part of `parts` its shadow facet deltas must
 * see, inserted as deltas (no read): during the scan, the documents at or
 * behind the cursor (as for the row); during the merge, every change to a
 * key the merge has not reached (keys at or before `mergeCursor` are
 * reconciled: their live documents are exact); after the merge, none. A dry
 * run's shadows see no write.
 */
async function updateFacetShadow(run: DuringRun, parts: RowPart[]): Promise<void> {
  const { db, def, workosOrgId, state, times } = run;
  if (state.report !== undefined || state.facetPhase === "tail") return;
  const n = def.statuses.length;
  if (state.facetPhase === "merge") {
    const cursor: FacetKey | undefined = state.mergeCursor;
    const ahead = (key: FacetKey) => cursor === undefined || compareKeys(key, cursor) > 0;
    const delta = facetDeltaOf(def, parts);
    await insertShadowDeltas(db, workosOrgId, def.table, state.runId, n, delta, ahead);
    return;
  }
  const cursor = state.cursor;
  if (cursor === null) return;
  const behind = parts.filter((p) => (times.get(p.change.id) ?? Infinity) <= cursor);
  const delta = facetDeltaOf(def, behind);
  if (delta.size > 0) {
    await insertShadowDeltas(db, workosOrgId, def.table, state.runId, n, delta);
  }
}

/** `stats:recalculateOrgStats`, which every app registers at that path. */
const recalculateOrgStats = makeFunctionReference<
  "mutation",
  { workosOrgId: string; entities?: string[]; requestedAt?: number }
>("stats:recalculateOrgStats");

/**
 * Schedules an exact recount of (org, entity), e.g. for a row that is not
 * exact. A recount already running for the row is kept. The request carries
 * its time, so a cancel committed before it runs stops it (`recount/marks.ts`).
 */
export async function scheduleRecount(
  ctx: Pick<StatsMutationCtx, "scheduler">,
  workosOrgId: string,
  entity: string,
): Promise<void> {
  await ctx.scheduler.runAfter(0, recalculateOrgStats, {
    workosOrgId,
    entities: [entity],
    requestedAt: Date.now(),
  });
}

/**
 * Creates zeroed rows for every counted table of an org that has no
 * documents yet (e.g. on `organization.created`), marked exact (and, for a
 * table with filtered counters, its facet status exact). For a table
 * that already has documents the row is created not exact and a recount is
 * scheduled to seed it. Existing rows are left as they are. Returns the
 * number of documents written (rows and facet statuses).
 */
export async function ensureEmptyOrgStats(
  ctx: Pick<StatsMutationCtx, "db" | "scheduler">,
  config: StatsConfig,
  workosOrgId: string,
): Promise<number> {
  let created = 0;
  for (const def of config.entities.values()) {
    if ((await getStatsRow(ctx.db, workosOrgId, def.table)) !== null) continue;
    const exact = !(await orgHasDocuments(ctx.db, def, workosOrgId, new Set()));
    const row = await initialRow(ctx.db, config, def, workosOrgId, exact);
    await statsDb(ctx.db).insert("organizationStats", row);
    created++;
    if (def.facets !== null && exact) {
      await setFacetStatus(statsDb(ctx.db), workosOrgId, def.table, { exact: true });
      created++;
    }
    if (!exact) await scheduleRecount(ctx, workosOrgId, def.table);
  }
  return created;
}

/**
 * Marks every stats row of an org deleted (creating missing ones first, so
 * the mark is there for every counted table): public functions then refuse
 * the org, and the recount skips it. Returns the rows written.
 */
export async function markOrgStatsDeleted(
  ctx: Pick<StatsMutationCtx, "db" | "scheduler">,
  config: StatsConfig,
  workosOrgId: string,
): Promise<number> {
  let written = await ensureEmptyOrgStats(ctx, config, workosOrgId);
  for (const def of config.entities.values()) {
    const row = await getStatsRow(ctx.db, workosOrgId, def.table);
    if (row === null) throw new Error("[stats.delete] stats row missing after ensure");
    // Filtered badges read the facet status, not the row: it carries the mark too.
    if (def.facets !== null) {
      if (await setFacetStatus(statsDb(ctx.db), workosOrgId, def.table, { orgDeleted: true })) {
        written++;
      }
    }
    if (isRowOrgDeleted(row)) continue;
    await statsDb(ctx.db).patch("organizationStats", row._id, { orgDeleted: true });
    written++;
  }
  return written;
}
