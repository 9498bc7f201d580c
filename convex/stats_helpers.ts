/**
 * The stats engine: what a counted document counts as (its bucket), the
 * per-mutation accumulator that folds every counted write into one delta per
 * stats row, and the flush that applies it, once per touched row, in the same
 * transaction as the writes.
 *
 * Only `convex/model/stats/writer.ts` records changes here, and only the wrapped
 * builders in `convex/functions.ts` flush. The recount (`convex/model/stats/recount/pages.ts`)
 * uses the same `loadBucket`/`invoiceBucket` on every document, so the live path and the
 * recount cannot disagree about what is counted.
 */
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { DatabaseReader, MutationCtx } from "./_generated/server";
import { tally, zeroCounts, type Counts } from "./model/stats/counters";
import { orgDeletedError } from "./lib/errors";
import {
  INVOICE_STATUSES,
  LOAD_STATUSES,
  STATS_ENTITIES,
  type InvoiceStatus,
  type LoadStatus,
  type StatsEntity,
} from "./model/enums";

// ---------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------

/** What one document adds to its org's counters. */
export type Bucket = { status: string; amountCents: number };

/** The statuses counted for each entity, in display order. */
export const ENTITY_STATUSES: {
  loads: readonly LoadStatus[];
  invoices: readonly InvoiceStatus[];
} = { loads: LOAD_STATUSES, invoices: INVOICE_STATUSES };

/** Bucket of a load: its status. Loads carry no amount. */
export function loadBucket(doc: Pick<Doc<"loads">, "status">): Bucket {
  return { status: doc.status, amountCents: 0 };
}

/** Bucket of an invoice: its status and its amount in cents. */
export function invoiceBucket(doc: Pick<Doc<"invoices">, "status" | "amountCents">): Bucket {
  return { status: doc.status, amountCents: doc.amountCents };
}

function sameBucket(a: Bucket | null, b: Bucket | null): boolean {
  if (a === null || b === null) return a === b;
  return a.status === b.status && a.amountCents === b.amountCents;
}

// ---------------------------------------------------------------------------
// Tallies: untyped-key histograms used while folding
// ---------------------------------------------------------------------------

/** A histogram (or a delta of one): count and cents per status. */
export type Tally = {
  counts: Map<string, number>;
  amountCents: Map<string, number>;
};

/** A tally with no document in it. */
export function emptyTally(): Tally {
  return { counts: new Map(), amountCents: new Map() };
}

/** Adds (`sign` 1) or removes (`sign` -1) one document's bucket. */
export function addBucket(t: Tally, bucket: Bucket, sign: 1 | -1): void {
  t.counts.set(bucket.status, (t.counts.get(bucket.status) ?? 0) + sign);
  t.amountCents.set(
    bucket.status,
    (t.amountCents.get(bucket.status) ?? 0) + sign * bucket.amountCents,
  );
}

function isZeroTally(t: Tally): boolean {
  for (const n of t.counts.values()) if (n !== 0) return false;
  for (const n of t.amountCents.values()) if (n !== 0) return false;
  return true;
}

/** `base + delta`, as a typed record over `statuses`. */
export function plus<S extends string>(
  statuses: readonly S[],
  base: Counts<S>,
  delta: Map<string, number>,
): Counts<S> {
  return tally(statuses, (s) => base[s] + (delta.get(s) ?? 0));
}

// ---------------------------------------------------------------------------
// Stats rows
// ---------------------------------------------------------------------------

export type StatsRow = Doc<"organizationStats">;
/** The loads row of an org. */
export type LoadStatsRow = Extract<StatsRow, { entity: "loads" }>;
/** The invoices row of an org (counts and cents). */
export type InvoiceStatsRow = Extract<StatsRow, { entity: "invoices" }>;
/** A stats row without its system fields, as inserted or replaced. */
export type StatsRowFields =
  Omit<LoadStatsRow, "_id" | "_creationTime"> | Omit<InvoiceStatsRow, "_id" | "_creationTime">;

/** The stats row of (org, entity), or null when none was created yet. */
export async function getStatsRow(
  db: DatabaseReader,
  workosOrgId: string,
  entity: StatsEntity,
): Promise<StatsRow | null> {
  return await db
    .query("organizationStats")
    .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId).eq("entity", entity))
    .unique();
}

/** A fresh row with zero counters. */
export function newStatsRow(
  workosOrgId: string,
  entity: StatsEntity,
  exact: boolean,
  now: number,
): StatsRowFields {
  const common = { workosOrgId, exact, seeded: exact, updatedAt: now };
  return entity === "loads"
    ? { ...common, entity, counts: zeroCounts(LOAD_STATUSES) }
    : {
        ...common,
        entity,
        counts: zeroCounts(INVOICE_STATUSES),
        amountCents: zeroCounts(INVOICE_STATUSES),
      };
}

/**
 * Creates zeroed rows for both entities of an org that has no documents yet
 * (e.g. on `organization.created`), marked exact. For an entity that already
 * has documents the row is created not exact and a recount is scheduled to
 * seed it. Existing rows are left as they are. Returns the number of rows
 * created.
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

/** Whether the org has any document of `entity` other than those in `except`. */
async function orgHasDocuments(
  db: DatabaseReader,
  workosOrgId: string,
  entity: StatsEntity,
  except: Set<string>,
): Promise<boolean> {
  // Reads at most |except| + 1 documents: enough to see one foreign document.
  const docs = await db
    .query(entity)
    .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
    .take(except.size + 1);
  return docs.some((d) => !except.has(d._id));
}

// ---------------------------------------------------------------------------
// The accumulator
// ---------------------------------------------------------------------------

/** The net change of one document within the current mutation. */
export type DocChange = (
  { entity: "loads"; id: Id<"loads"> } | { entity: "invoices"; id: Id<"invoices"> }
) & {
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
   * running, one read per document this mutation inserted, to learn where it
   * sits relative to the recount cursor).
   *
   * @throws `ORG_DELETED` when a touched org was deleted and
   *   `refuseDeletedOrgs` is set; the whole mutation is then rolled back.
   */
  async flush(ctx: Pick<MutationCtx, "db" | "scheduler">): Promise<FlushResult> {
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
      const { created, negatives } = await flushRow(ctx, group, this.options);
      result.rowsWritten++;
      if (created) result.rowsCreated++;
      result.negativeCounters += negatives;
    }
    return result;
  }
}

function deltaOf(changes: DocChange[]): Tally {
  const delta = emptyTally();
  for (const c of changes) {
    if (c.before !== null) addBucket(delta, c.before, -1);
    if (c.after !== null) addBucket(delta, c.after, 1);
  }
  return delta;
}

/** Applies the changes of one (org, entity) to its stats row. */
async function flushRow(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  changes: DocChange[],
  options: { refuseDeletedOrgs: boolean },
): Promise<{ created: boolean; negatives: number }> {
  const { entity, workosOrgId } = changes[0];
  const now = Date.now();
  const delta = deltaOf(changes);
  const existing = await getStatsRow(ctx.db, workosOrgId, entity);
  if (existing?.orgDeleted === true && options.refuseDeletedOrgs) {
    throw orgDeletedError(workosOrgId);
  }
  let base: StatsRowFields;
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
    const { _id, _creationTime, ...fields } = existing;
    base = fields;
  }

  const shadowDelta = base.recount ? await shadowDeltaOf(ctx, changes, base.recount.cursor) : null;
  const negatives: DriftBucket[] = [];
  let next: StatsRowFields;
  if (base.entity === "loads") {
    const counts = plus(LOAD_STATUSES, base.counts, delta.counts);
    collectNegatives(LOAD_STATUSES, base.counts, counts, "count", negatives);
    const recount =
      base.recount && shadowDelta
        ? { ...base.recount, counts: plus(LOAD_STATUSES, base.recount.counts, shadowDelta.counts) }
        : base.recount;
    next = { ...base, counts, recount, updatedAt: now };
  } else {
    const counts = plus(INVOICE_STATUSES, base.counts, delta.counts);
    const amountCents = plus(INVOICE_STATUSES, base.amountCents, delta.amountCents);
    collectNegatives(INVOICE_STATUSES, base.counts, counts, "count", negatives);
    collectNegatives(INVOICE_STATUSES, base.amountCents, amountCents, "amountCents", negatives);
    const recount =
      base.recount && shadowDelta
        ? {
            ...base.recount,
            counts: plus(INVOICE_STATUSES, base.recount.counts, shadowDelta.counts),
            amountCents: plus(INVOICE_STATUSES, base.recount.amountCents, shadowDelta.amountCents),
          }
        : base.recount;
    next = { ...base, counts, amountCents, recount, updatedAt: now };
  }

  // A counter below zero on a row believed exact means the row had drifted
  // (a write bypassed the write layer). Keep the value, report it, and stop
  // serving the row as exact until a recount repairs it.
  if (negatives.length > 0 && base.exact) {
    next.exact = false;
    await ctx.db.insert("statsDriftReports", {
      workosOrgId,
      entity,
      source: "negative_counter",
      detectedAt: now,
      buckets: negatives,
    });
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

/** One bucket of a drift report. */
export type DriftBucket = Doc<"statsDriftReports">["buckets"][number];

function collectNegatives<S extends string>(
  statuses: readonly S[],
  before: Counts<S>,
  after: Counts<S>,
  measure: DriftBucket["measure"],
  out: DriftBucket[],
): void {
  for (const s of statuses) {
    if (after[s] < 0) {
      out.push({ status: s, measure, stored: before[s], delta: after[s] - before[s] });
    }
  }
}

/**
 * The part of the delta that falls at or behind the recount cursor, which the
 * recount has already counted and must therefore see in its shadow counters.
 */
async function shadowDeltaOf(
  ctx: Pick<MutationCtx, "db">,
  changes: DocChange[],
  cursor: number | null,
): Promise<Tally | null> {
  if (cursor === null) return null;
  const behind: DocChange[] = [];
  for (const c of changes) {
    let creationTime = c.creationTime;
    if (creationTime === null) {
      // Inserted by this mutation; not deleted again (its change is not a no-op).
      const doc =
        c.entity === "loads" ? await ctx.db.get("loads", c.id) : await ctx.db.get("invoices", c.id);
      if (doc === null) throw new Error("[stats] inserted document not found");
      creationTime = doc._creationTime;
    }
    if (creationTime <= cursor) behind.push(c);
  }
  const delta = deltaOf(behind);
  return isZeroTally(delta) ? null : delta;
}
