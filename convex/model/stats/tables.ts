/**
 * The stats tables' validators (`schema.ts` defines the tables from these):
 * `organizationStats` rows built from the entity table's counter fields, and
 * `statsDriftReports`. Types are derived with `Infer`.
 */
import { v, type Infer, type PropertyValidators } from "convex/values";
import { vStatsEntity, type StatsEntity } from "../enums";
import { ENTITY_COUNTERS } from "./entities";

/**
 * A counted document holding a value the code never writes (e.g. an
 * `amountCents` of -500, 1.5 or NaN, written around the code). `value` is
 * the JavaScript `String()` of the value ("NaN", "Infinity", "-0", "1e+300"),
 * so non-finite numbers survive JSON and the CLI unchanged.
 */
export const vInvalidDocument = v.object({ id: v.string(), field: v.string(), value: v.string() });
export type InvalidDocument = Infer<typeof vInvalidDocument>;

/** Summary of the last finished recount of a stats row. */
export const vLastRecount = v.object({
  runId: v.string(),
  finishedAt: v.number(),
  driftFound: v.boolean(),
  pages: v.number(),
  documentsCounted: v.number(),
  /** Restarts of the run (its shadow went negative); `pages` includes the pages before them. */
  restarts: v.optional(v.number()),
  /**
   * The documents the run found holding values the code never writes
   * (`vInvalidSummary`); the next run reports them only if this changed.
   * Absent = none.
   */
  invalid: v.optional(v.object({ total: v.number(), digest: v.string() })),
});

/**
 * A counter known to be off since the row last was exact: it went below zero
 * (`negative_counter`), so it is at least `atLeast` below the truth (counted
 * writes change counter and truth alike, so the gap stays until a recount).
 */
export const vKnownDrift = v.object({
  status: v.string(),
  measure: v.union(v.literal("count"), v.literal("amountCents")),
  atLeast: v.number(),
});
export type KnownDrift = Infer<typeof vKnownDrift>;

/** Fields every stats row has, whatever it counts. */
const statsRowCommon = {
  workosOrgId: v.string(),
  /**
   * True when the counters are known to equal the true histogram: the row was
   * created for an org with no documents yet, or a recount has finished since.
   * False for rows created lazily for orgs that already had data, and after a
   * counter was seen going negative. Count queries fall back to a bounded
   * scan while it is false.
   */
  exact: v.boolean(),
  /**
   * True once the counters have been exact at least once (created exact, or
   * a recount finished). Unlike `exact` it stays true when a negative counter
   * is seen, so the recount that follows reports what it repairs as drift
   * rather than as a first seeding. Absent on rows that never were exact.
   */
  seeded: v.optional(v.boolean()),
  /** Set when the org was deleted in WorkOS: public functions refuse it. */
  orgDeleted: v.optional(v.boolean()),
  lastRecount: v.optional(vLastRecount),
  /**
   * While `exact` is false on a `seeded` row: the counters known to be off
   * (written by the flush that saw them go negative; cleared when a recount
   * swaps exact counters in). Lets a badge say what it knows of the error
   * without reading the drift reports.
   */
  knownDrift: v.optional(v.array(vKnownDrift)),
  /**
   * True while a recount of this row runs: its cursor and shadow counters are
   * in `statsRecounts`, which counted writes then read (and write when the
   * document sits at or behind the cursor). Changed only when a run starts or
   * ends. Absent on rows written before the field existed (= false).
   */
  recounting: v.optional(v.boolean()),
  /**
   * Decayed estimate of the org's counted writes per second (`lib/contention.ts`),
   * updated by the flush that already rewrites the row; recount pages size
   * themselves from it. Absent = no writes seen.
   */
  writeRate: v.optional(v.object({ rate: v.number(), at: v.number() })),
  updatedAt: v.number(),
};

/** Recount progress fields, whatever the entity (see `docs/recount.md`). */
const recountProgress = {
  runId: v.string(),
  startedAt: v.number(),
  /** `_creationTime` of the last counted document, or null before the first page. */
  cursor: v.union(v.null(), v.number()),
  pages: v.number(),
  documentsCounted: v.number(),
};

/** The stats row of `entity`, whose counter fields are `counters`. */
function vStatsRowOf<E extends StatsEntity, C extends PropertyValidators>(entity: E, counters: C) {
  return v.object({
    ...statsRowCommon,
    entity: v.literal(entity),
    ...counters,
    /**
     * LEGACY (read only): where a run kept its cursor and shadow before they
     * moved to `statsRecounts`. A row that still has it is restarted cleanly
     * by its run's next page or by the next `startRecount`, which remove it
     * (`recount/start.ts`); nothing writes it any more.
     */
    recount: v.optional(v.object({ ...recountProgress, ...counters })),
  });
}

/** An `organizationStats` row for loads: counts per load status. */
export const vLoadStatsRow = vStatsRowOf("loads", ENTITY_COUNTERS.loads);
/** An `organizationStats` row for invoices: counts and cents per invoice status. */
export const vInvoiceStatsRow = vStatsRowOf("invoices", ENTITY_COUNTERS.invoices);

/** Stored counters of any entity: a number per status, per measure. */
const vStoredTally = v.record(v.string(), v.number());

/**
 * The state of a running recount of one (org, entity), in its own document
 * so that pages do not write the stats row the badges read: the cursor (a
 * `_creationTime`) and the shadow counters, the histogram of every document
 * of the org with `_creationTime <= cursor`.
 */
export const vRecountStateFields = {
  workosOrgId: v.string(),
  entity: vStatsEntity,
  ...recountProgress,
  /**
   * `_creationTime` of the org's first document, set by the first page that
   * counts one: with `cursor` and `startedAt` it gives the run's progress in
   * time (see `docs/badges.md`). Absent before then.
   */
  firstCreationTime: v.optional(v.number()),
  counts: vStoredTally,
  amountCents: vStoredTally,
  /** Times this run restarted (at most `MAX_RESTARTS`); absent = 0. */
  restarts: v.optional(v.number()),
  /** Documents behind the cursor holding values the code never writes: the first ones, listed. */
  invalidDocuments: v.optional(v.array(vInvalidDocument)),
  /** How many such documents are behind the cursor (listed or not). */
  invalidTotal: v.optional(v.number()),
  /** Running digest of every such document (id, field, value) in scan order. */
  invalidDigest: v.optional(v.string()),
  /** The daily run or migration this run belongs to (absent: started by hand or by the engine). */
  jobId: v.optional(v.id("statsRecountJobs")),
  /**
   * Set when a page failed `MAX_PAGE_FAILURES` times in a row: the run stops
   * (its state kept, still exact behind the cursor) until the next start
   * replaces it. See `recount/pool.ts`.
   */
  failure: v.optional(v.object({ failures: v.number(), error: v.string(), at: v.number() })),
};

/** Kinds of recount job: the daily walk over every org, and the seeding migration. */
export const vRecountJobKind = v.union(v.literal("daily"), v.literal("seed"));
export type RecountJobKind = Infer<typeof vRecountJobKind>;

/**
 * One daily run or migration over all orgs (`statsRecountJobs`): where its
 * walk is and, per stats row (org x entity) it started, how many ended
 * which way. Written by the walk steps, by each run's end and by cancels.
 */
export const vRecountJobFields = {
  kind: vRecountJobKind,
  startedAt: v.number(),
  /** Where the walk continues; null once every org was visited. */
  walk: v.union(v.object({ phase: v.string(), cursor: v.union(v.string(), v.null()) }), v.null()),
  /** The walk step failed this many times in a row (reset by a success). */
  walkFailures: v.number(),
  /**
   * A walk step is enqueued (or running). False while the walk waits for
   * the job's running rows to drop below `WALK_RESUME` (`pool.ts`).
   */
  walkQueued: v.boolean(),
  /** Set when the walk gave up (after `MAX_PAGE_FAILURES`) or was canceled. */
  walkError: v.optional(v.string()),
  canceledAt: v.optional(v.number()),
  /** Rows whose run this job started; and how many of them ended, and how. */
  started: v.number(),
  finished: v.number(),
  failed: v.number(),
  canceled: v.number(),
  /** Rows skipped (deleted org, already exact when seeding) or already running. */
  skipped: v.number(),
  alreadyRunning: v.number(),
};

/**
 * A counted write's change to the shadow of a running recount (documents at
 * or behind the cursor), inserted rather than patched into the recount state
 * so that the write reads no more than the state; pages fold them in.
 */
export const vRecountDeltaFields = {
  workosOrgId: v.string(),
  entity: vStatsEntity,
  /** The run whose shadow this changes; deltas of replaced runs are dropped. */
  runId: v.string(),
  counts: vStoredTally,
  amountCents: vStoredTally,
};

/**
 * One bucket of a drift report. `delta` is the correction the report
 * attributes to the counter: `actual - stored` for a recount; for a
 * `negative_counter` report, `-stored` (the counter is `stored` < 0 and the
 * true value is at least 0, so at least that much is missing). On a recount
 * report, `alreadyReported` is the part of `delta` that the reports in
 * `alreadyReportedIn` stated first. Adding reports: the sum over reports of
 * `delta - (alreadyReported ?? 0)` is the total drift (docs/hardening.md).
 */
export const vDriftBucket = v.object({
  status: v.string(),
  measure: v.union(v.literal("count"), v.literal("amountCents")),
  stored: v.number(),
  actual: v.optional(v.number()),
  delta: v.number(),
  alreadyReported: v.optional(v.number()),
});
export type DriftBucket = Infer<typeof vDriftBucket>;

/** A drift report's fields. */
export const vDriftReportFields = {
  workosOrgId: v.string(),
  entity: vStatsEntity,
  source: v.union(v.literal("recount"), v.literal("negative_counter")),
  runId: v.optional(v.string()),
  detectedAt: v.number(),
  buckets: v.array(vDriftBucket),
  /** Recount reports: the earlier `negative_counter` reports its `alreadyReported` parts come from. */
  alreadyReportedIn: v.optional(v.array(v.id("statsDriftReports"))),
  /**
   * Recount reports: documents holding values the code never writes, the
   * first `MAX_INVALID_LISTED` in creation order (see `invalidTotal`).
   */
  invalidDocuments: v.optional(v.array(vInvalidDocument)),
  /** Recount reports: how many such documents the org has (listed or not). */
  invalidTotal: v.optional(v.number()),
  /** Recount reports: duplicate stats rows / recount states the recount removed. */
  duplicatesRemoved: v.optional(
    v.array(
      v.object({
        table: v.union(v.literal("organizationStats"), v.literal("statsRecounts")),
        id: v.string(),
      }),
    ),
  ),
};
