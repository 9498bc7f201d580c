/**
 * The stats engine: the per-mutation accumulator that folds every counted
 * write into one delta per stats row, and the flush that applies it, once per
 * touched row, in the same transaction as the writes. Written once over the
 * entity table (`entities.ts`).
 *
 * Only the write layer (`writer.ts`) records changes here, and only the
 * wrapped builders in `convex/functions.ts` flush. Reached through
 * `convex/stats_helpers.ts`, the engine's front door.
 */
import { internal } from "../../_generated/api";
import type { Id } from "../../_generated/dataModel";
import type { RawMutationCtx as MutationCtx } from "../ctx";
import { NO_WRITES, recordWrites } from "../../lib/contention";
import { orgDeletedError } from "../../lib/errors";
import { enqueueDriftAlert } from "../alerts/queue";
import { STATS_ENTITIES, type StatsEntity } from "../enums";
import {
  addBucket,
  emptyTally,
  isZeroTally,
  plusTally,
  sameBucket,
  tallyOfStored,
  type Bucket,
  type Tally,
} from "./counters";
import { mergeKnownDrift, negativeBuckets } from "./drift";
import { entityDef, type StatsRowFieldsOf } from "./entities";
import { getStatsRow, getStatsRows, newStatsRow, orgHasDocuments, splitRow } from "./rows";
import { getRecountState, storedOf } from "./shadow";
import { isOrgDeleted } from "../organizations/deleted";

// `runMutation` / `runQuery`: the flush queues drift alerts (`alerts/queue.ts`).
type EngineCtx = Pick<MutationCtx, "db" | "scheduler" | "runMutation" | "runQuery">;

/** The net change of one document within the current mutation. */
export type DocChange = {
  entity: StatsEntity;
  id: Id<StatsEntity>;
  workosOrgId: string;
  /** Null while unknown: the document was inserted by this mutation. */
  creationTime: number | null;
  /** Bucket before the mutation; null when this mutation inserted it. */
  before: Bucket | null;
  /** Bucket now; null when this mutation deleted it. */
  after: Bucket | null;
};

/** What one flush did, for logs and tests. */
export type FlushResult = {
  rowsWritten: number;
  rowsCreated: number;
  negativeCounters: number;
};

/**
 * Collects every counted write of one mutation and applies them at the end.
 *
 * Folding happens per document (a document inserted and then patched three
 * times is one change from "nothing" to its final bucket) and then per stats
 * row, so a mutation that touches 500 invoices reads and writes its stats row
 * once.
 *
 * Caveat: counters read from a stats row inside the same mutation, before the
 * flush, do not include that mutation's own writes yet.
 */
export class StatsAccumulator {
  private readonly changes = new Map<string, DocChange>();
  private flushed = false;

  /**
   * @param options.refuseDeletedOrgs Public mutations refuse to change the
   *   counters of a deleted org (`ORG_DELETED`); internal maintenance (expiry,
   *   imports that checked the registry) keeps them exact instead.
   */
  constructor(private readonly options: { refuseDeletedOrgs: boolean }) {}

  /**
   * Records that a counted document went from bucket `before` to `after`
   * (null = absent). `creationTime` is the document's `_creationTime`, or null
   * for a document this mutation inserted.
   */
  record(change: DocChange): void {
    if (this.flushed) {
      throw new Error("[stats] write recorded after the stats flush");
    }
    const existing = this.changes.get(change.id);
    if (existing === undefined) {
      this.changes.set(change.id, { ...change });
      return;
    }
    if (existing.workosOrgId !== change.workosOrgId) {
      throw new Error("[stats] a counted document cannot change organization");
    }
    existing.after = change.after;
    existing.creationTime ??= change.creationTime;
  }

  /**
   * Applies all recorded changes: for each touched (org, entity) one read and
   * one write of its stats row (plus, only while a recount of that row is
   * running, what `updateShadow` reads and writes).
   *
   * @throws `ORG_DELETED` when a touched org was deleted and
   *   `refuseDeletedOrgs` is set; the whole mutation is then rolled back.
   */
  async flush(ctx: EngineCtx): Promise<FlushResult> {
    if (this.flushed) throw new Error("[stats] flushed twice");
    this.flushed = true;
    const groups = new Map<string, DocChange[]>();
    for (const change of this.changes.values()) {
      if (sameBucket(change.before, change.after)) continue;
      const key = `${change.entity}\u0000${change.workosOrgId}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [change]);
      else group.push(change);
    }
    const result: FlushResult = { rowsWritten: 0, rowsCreated: 0, negativeCounters: 0 };
    for (const group of groups.values()) {
      const { entity, workosOrgId } = group[0];
      const { created, negatives } = await flushRow(ctx, entity, workosOrgId, group, this.options);
      result.rowsWritten++;
      if (created) result.rowsCreated++;
      result.negativeCounters += negatives;
    }
    return result;
  }
}

/** The folded delta of `changes`. */
function deltaOf(changes: DocChange[]): Tally {
  const delta = emptyTally();
  for (const c of changes) {
    if (c.before !== null) addBucket(delta, c.before, -1);
    if (c.after !== null) addBucket(delta, c.after, 1);
  }
  return delta;
}

/** Applies the changes of one (org, entity) to its stats row. */
async function flushRow<T extends StatsEntity>(
  ctx: EngineCtx,
  entity: T,
  workosOrgId: string,
  changes: DocChange[],
  options: { refuseDeletedOrgs: boolean },
): Promise<{ created: boolean; negatives: number }> {
  const def = entityDef(entity);
  const now = Date.now();
  const delta = deltaOf(changes);
  const rows = await getStatsRows(ctx.db, workosOrgId, entity);
  const existing = rows?.row ?? null;
  if (isOrgDeleted(existing) && options.refuseDeletedOrgs) {
    throw orgDeletedError(workosOrgId);
  }
  if (rows !== null && rows.duplicates.length > 0 && rows.row.recounting !== true) {
    // Duplicate rows (written around the code): this write counts on the
    // picked row; the recount removes the others.
    await scheduleRecount(ctx, workosOrgId, entity);
  }
  let base: StatsRowFieldsOf<T>;
  if (existing === null) {
    // First counted write of this org: the row is exact only if the org had
    // no documents before this mutation: every change is an insert and no
    // other document exists.
    const inserted = new Set<string>(changes.filter((c) => c.before === null).map((c) => c.id));
    const exact =
      inserted.size === changes.length &&
      !(await orgHasDocuments(ctx.db, workosOrgId, entity, inserted));
    base = newStatsRow(workosOrgId, entity, exact, now);
    if (!exact) {
      // The org had data before the counters: seed them now rather than
      // serve bounded scans until the daily recount.
      await scheduleRecount(ctx, workosOrgId, entity);
    }
  } else {
    base = splitRow(existing, entity).fields;
  }

  const before = tallyOfStored(base);
  const after = plusTally(before, delta);
  const negatives = negativeBuckets(def, before, after);
  let next: StatsRowFieldsOf<T> = {
    ...base,
    ...def.counters(after),
    // The write-rate estimate recount pages size themselves from (no extra read or write).
    writeRate: recordWrites(base.writeRate ?? NO_WRITES, now, changes.length),
    updatedAt: now,
  };
  if (base.recounting === true) await updateShadow(ctx, entity, workosOrgId, changes);

  // A counter below zero on a row believed exact means the row had drifted
  // (a write bypassed the write layer). Keep the value, report it, and stop
  // serving the row as exact until a recount repairs it.
  if (negatives.length > 0 && !base.exact && base.seeded === true) {
    // Already drifted: what the badge knows of the error grows (no new report).
    next = { ...next, knownDrift: mergeKnownDrift(base.knownDrift, negatives) };
  }
  if (negatives.length > 0 && base.exact) {
    // `seeded` stays true and `knownDrift` names the buckets, so the badge
    // keeps answering from these counters (`read.ts`) until the repair.
    next = { ...next, exact: false, seeded: true, knownDrift: mergeKnownDrift([], negatives) };
    const reportId = await ctx.db.insert("statsDriftReports", {
      workosOrgId,
      entity,
      source: "negative_counter",
      detectedAt: now,
      buckets: negatives,
    });
    await enqueueDriftAlert(ctx, reportId);
    console.warn("[stats.flush] counter went negative", {
      workosOrgId,
      entity,
      buckets: negatives,
    });
    // Repair it: a recount (kept if one is running) finds the true values.
    await scheduleRecount(ctx, workosOrgId, entity);
  }
  if (existing === null) await ctx.db.insert("organizationStats", next);
  else await ctx.db.replace("organizationStats", existing._id, next);
  return { created: existing === null, negatives: negatives.length };
}

/**
 * While a recount of (org, entity) runs: adds to its shadow counters the part
 * of the delta that falls at or behind the cursor, which the recount has
 * already counted. Reads the recount state (and each document this mutation
 * inserted, to learn its `_creationTime`); when some change sits at or behind
 * the cursor, inserts a shadow delta (an insert reads nothing, and concurrent
 * writes behind the cursor do not conflict on it); pages fold deltas in.
 */
async function updateShadow(
  ctx: Pick<MutationCtx, "db">,
  entity: StatsEntity,
  workosOrgId: string,
  changes: DocChange[],
): Promise<void> {
  const state = await getRecountState(ctx.db, workosOrgId, entity);
  if (state === null || state.cursor === null) return;
  const behind: DocChange[] = [];
  for (const c of changes) {
    let creationTime = c.creationTime;
    if (creationTime === null) {
      // Inserted by this mutation; not deleted again (its change is not a no-op).
      const doc = await entityDef(c.entity).get(ctx.db, c.id);
      if (doc === null) throw new Error("[stats] inserted document not found");
      creationTime = doc._creationTime;
    }
    if (creationTime <= state.cursor) behind.push(c);
  }
  const delta = deltaOf(behind);
  if (isZeroTally(delta)) return;
  await ctx.db.insert("statsRecountDeltas", {
    workosOrgId,
    entity,
    runId: state.runId,
    ...storedOf(delta),
  });
}

/**
 * Schedules an exact recount of (org, entity), e.g. for a row that is not
 * exact. A recount already running for the row is kept (`recalculateOrgStats`).
 */
export async function scheduleRecount(
  ctx: Pick<MutationCtx, "scheduler">,
  workosOrgId: string,
  entity: StatsEntity,
): Promise<void> {
  await ctx.scheduler.runAfter(0, internal.stats.recalculateOrgStats, {
    workosOrgId,
    entities: [entity],
  });
}

/**
 * Creates zeroed rows for every counted table of an org that has no
 * documents yet (e.g. on `organization.created`), marked exact. For an entity
 * that already has documents the row is created not exact and a recount is
 * scheduled to seed it. Existing rows are left as they are. Returns the
 * number of rows created.
 */
export async function ensureEmptyOrgStats(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  workosOrgId: string,
): Promise<number> {
  let created = 0;
  const now = Date.now();
  for (const entity of STATS_ENTITIES) {
    if ((await getStatsRow(ctx.db, workosOrgId, entity)) !== null) continue;
    const exact = !(await orgHasDocuments(ctx.db, workosOrgId, entity, new Set()));
    await ctx.db.insert("organizationStats", newStatsRow(workosOrgId, entity, exact, now));
    if (!exact) await scheduleRecount(ctx, workosOrgId, entity);
    created++;
  }
  return created;
}
