/**
 * The stats module's tables, as validators: stats rows (what badges read),
 * recount states and their shadow deltas, recount summaries, jobs and drift
 * reports. `statsTables(COUNTED)` builds the table definitions an app spreads
 * into its schema, precise for its counted tables (entity names, one counter
 * field per status); the module's own code is typed against the same tables
 * built generically (`StatsDataModel`), so it needs nothing from the app's
 * `_generated` code. Pure declarations: imports only `convex` and `declare.ts`.
 */
import {
  defineSchema,
  defineTable,
  type DataModelFromSchemaDefinition,
  type DocumentByName,
  type GenericDatabaseReader,
  type GenericDatabaseWriter,
  type WithoutSystemFields,
} from "convex/server";
import { v, type Infer, type Validator, type VFloat64, type VObject } from "convex/values";
import type { CountedTable, CountedTables, StatusOf } from "./declare";

/** The measures a counted table may store per status. */
export const MEASURES = ["count", "amountCents"] as const;
export type Measure = (typeof MEASURES)[number];
export const vMeasure = v.union(v.literal("count"), v.literal("amountCents"));

/**
 * A counted document holding a value the code never writes (e.g. an amount
 * of -500, 1.5 or NaN, or a status the declaration does not list, written
 * around the code). `value` is the JavaScript `String()` of the value ("NaN",
 * "Infinity", "-0", "1e+300"), so non-finite numbers survive JSON and the CLI.
 */
export const vInvalidDocument = v.object({ id: v.string(), field: v.string(), value: v.string() });
export type InvalidDocument = Infer<typeof vInvalidDocument>;

/**
 * A counter known to be off since the row last was exact: it went below zero
 * (`negative_counter`), so it is at least `atLeast` below the truth (counted
 * writes change counter and truth alike, so the gap stays until a recount).
 */
export const vKnownDrift = v.object({ status: v.string(), measure: vMeasure, atLeast: v.number() });
export type KnownDrift = Infer<typeof vKnownDrift>;

/**
 * The summary of a finished recount of one stats row: `restarts` counts the
 * run's restarts (its shadow went negative; `pages` includes the pages before
 * them); `invalid` summarizes the documents the run found holding values the
 * code never writes, so the next run reports them only if this changed.
 */
export const vLastRecount = v.object({
  runId: v.string(),
  finishedAt: v.number(),
  driftFound: v.boolean(),
  pages: v.number(),
  documentsCounted: v.number(),
  restarts: v.optional(v.number()),
  invalid: v.optional(v.object({ total: v.number(), digest: v.string() })),
});

/** What a facet document (live or a recount's shadow) holds besides its key. */
const facetContent = {
  /**
   * Year documents: the day counts of the year (days with documents only),
   * packed `MMDD=n0,n1,...;...` (`facets/keys.ts`, `encodeCells`).
   */
  days: v.optional(v.string()),
  /** All-time documents: counts of every document with the value, undated included. */
  counts: v.optional(v.array(v.number())),
  /** All-time documents: per year, the counts of its dated documents, packed `YYYY=...;...`. */
  years: v.optional(v.string()),
};

/** A facet document's key: facet (`""`: the org as a whole), value, period (`YYYY` or `all`). */
export const vFacetKey = v.object({ facet: v.string(), value: v.string(), period: v.string() });
export type FacetKeyFields = Infer<typeof vFacetKey>;

/**
 * One cell where a stored facet document differed from the recount: `cell`
 * is `MMDD` (a day of a year document), `YYYY` (a year's total in an
 * all-time document) or `total` (an all-time count).
 */
export const vFacetCellDiff = v.object({
  ...vFacetKey.fields,
  cell: v.string(),
  status: v.string(),
  stored: v.number(),
  actual: v.number(),
});

/** What a recount's merge of the facet documents found (the first cells listed, totals). */
export const vFacetMerge = v.object({
  /** Facet documents compared (live or counted). */
  compared: v.number(),
  /** Documents that differed (repaired, or for a dry run: would be). */
  differing: v.number(),
  /** Cells that differed. */
  cells: v.number(),
  /** Duplicate live facet documents removed. */
  duplicatesRemoved: v.number(),
  /** The first differing cells (`FACET_DRIFT_LISTED`). */
  rows: v.array(vFacetCellDiff),
});
export type FacetMerge = Infer<typeof vFacetMerge>;

/** Decayed estimate of counted writes per second (`lib/contention.ts`). */
export const vWriteRate = v.object({ rate: v.number(), at: v.number() });

/**
 * Fields every stats row has, whatever it counts: only what a badge shows or
 * the flush needs on every write. Operator summaries live in
 * `statsRecountSummaries`, the recount's cursor and shadow in `statsRecounts`.
 */
const statsRowCommon = {
  workosOrgId: v.string(),
  /**
   * True when the counters are known to equal the true histogram: the row was
   * created for an org with no documents yet, or a recount has finished since.
   */
  exact: v.boolean(),
  /**
   * True once the counters have been exact at least once. Unlike `exact` it
   * stays true when a negative counter is seen, so the recount that follows
   * reports what it repairs as drift rather than as a first seeding.
   */
  seeded: v.optional(v.boolean()),
  /**
   * Counters carried over from a previous counting system (the migration of
   * an app's old stats documents): the closest numbers known, kept up to date
   * by counted writes, never verified; the seeding recount replaces them.
   */
  carried: v.optional(v.boolean()),
  /** Set when the org was deleted: public functions refuse it. */
  orgDeleted: v.optional(v.boolean()),
  /**
   * While `exact` is false on a `seeded` row: the counters known to be off
   * (written by the flush that saw them go negative; cleared by a recount).
   */
  knownDrift: v.optional(v.array(vKnownDrift)),
  /**
   * True while a recount of this row runs: its cursor and shadow are in
   * `statsRecounts`, which counted writes then read. Spelled out (`false`)
   * so the row's size does not change when a run starts.
   */
  recounting: v.optional(v.boolean()),
  /**
   * Only while `recounting`: the org's counted writes per second, updated by
   * the flush that rewrites the row anyway; the recount sizes its pages from
   * it and removes it when the run ends.
   */
  writeRate: v.optional(vWriteRate),
  /**
   * Written by older versions, removed by the row's next write: the badge
   * does not show them (the summary moved to `statsRecountSummaries`).
   */
  updatedAt: v.optional(v.number()),
  lastRecount: v.optional(vLastRecount),
  /**
   * Tables with filtered counters: true once a recount has made the org's
   * facet documents exact (or the row was created exact). Written with the
   * row's own writes; the flush reads it to tell drift (a facet cell below
   * zero) from facet documents never built. Badges read `statsFacetStatus`.
   */
  facetsExact: v.optional(v.boolean()),
};

/** Stored counters of any table: a number per status. */
const vStoredTally = v.record(v.string(), v.number());

/** A recount's shadow counters (its state's, or one delta to them): counts and amounts per status. */
const shadowCounters = { counts: vStoredTally, amountCents: vStoredTally };

/** A stats row of any counted table (how the module's code sees them). */
const vAnyStatsRow = v.object({
  ...statsRowCommon,
  entity: v.string(),
  counts: vStoredTally,
  amountCents: v.optional(vStoredTally),
});

/** The fields every stats row has besides its counters. */
type StatsRowBase = Omit<Infer<typeof vAnyStatsRow>, "entity" | "counts" | "amountCents">;

/** The stats row of table `E` declared as `D`: its own statuses as counter fields. */
type StatsRowFor<E extends string, D extends CountedTable> = D["amountField"] extends string
  ? StatsRowBase & {
      entity: E;
      counts: Record<StatusOf<D>, number>;
      amountCents: Record<StatusOf<D>, number>;
    }
  : StatsRowBase & { entity: E; counts: Record<StatusOf<D>, number> };

/** A stats row of `T`'s tables, by table. */
export type StatsRowOf<T extends CountedTables> = {
  [E in keyof T & string]: StatsRowFor<E, T[E]>;
}[keyof T & string];

/** `{ [status]: number }` for the given statuses. */
export function vCounts<S extends string>(statuses: readonly S[]) {
  const fields = {} as Record<S, VFloat64>;
  for (const status of statuses) fields[status] = v.number();
  return v.object(fields);
}

/** The stats row of one declared table: its statuses as counter fields. */
function vStatsRowOf(entity: string, decl: CountedTable) {
  const counts = vCounts(decl.statuses);
  return v.object({
    ...statsRowCommon,
    entity: v.literal(entity),
    counts,
    // Per status, the sum of the amounts (tables with an `amountField`).
    ...(decl.amountField === undefined ? {} : { amountCents: counts }),
  });
}

/** Recount progress fields, whatever the entity (see `docs/recount.md`). */
/** Where a running recount is: what the recount state and the operator status both show. */
export const recountProgress = {
  runId: v.string(),
  startedAt: v.number(),
  /** `_creationTime` of the last counted document, or null before the first page. */
  cursor: v.union(v.null(), v.number()),
  pages: v.number(),
  documentsCounted: v.number(),
};

/** Why a run stopped: its page failed `failures` times in a row, the last with `error`. */
export const vRecountFailure = v.object({
  failures: v.number(),
  error: v.string(),
  at: v.number(),
});

/** Kinds of recount job: the daily run, the seeding migration and its report-only run. */
export const vRecountJobKind = v.union(v.literal("daily"), v.literal("seed"), v.literal("report"));
export type RecountJobKind = Infer<typeof vRecountJobKind>;

/** How the walk over orgs found a row: registry, stats rows, or documents. */
export const vFoundBy = v.union(
  v.literal("organizations"),
  v.literal("statsRow"),
  v.literal("documents"),
);
export type FoundBy = Infer<typeof vFoundBy>;

/**
 * What the seeding would do with a row: create it, seed it, or skip it
 * (already exact, a run in progress, org deleted, the org's recounts canceled
 * after the dry run started). A report-only run lists it.
 */
export const vSeedAction = v.union(
  v.literal("create_row"),
  v.literal("seed"),
  v.literal("skip_exact"),
  v.literal("skip_running"),
  v.literal("skip_deleted"),
  v.literal("skip_canceled"),
);
export type SeedAction = Infer<typeof vSeedAction>;

/** One row of a report-only run: what seeding it would change. */
export const vSeedReportEntry = v.object({
  workosOrgId: v.string(),
  entity: v.string(),
  foundBy: vFoundBy,
  action: vSeedAction,
  /** Documents counted (null when the row would be skipped). */
  documents: v.union(v.number(), v.null()),
  /** Tables with filtered counters: what seeding would change in the facet documents. */
  facets: v.optional(vFacetMerge),
  /** Buckets the seeding would change: stored (0 for a new row) vs counted. */
  changes: v.array(
    v.object({
      status: v.string(),
      measure: vMeasure,
      stored: v.number(),
      actual: v.number(),
      delta: v.number(),
    }),
  ),
});
export type SeedReportEntry = Infer<typeof vSeedReportEntry>;

/** A report-only run's report (kept on its job). */
export const vSeedReport = v.object({
  dryRun: v.literal(true),
  totals: v.object({
    rows: v.number(),
    createRow: v.number(),
    seed: v.number(),
    skipExact: v.number(),
    skipRunning: v.number(),
    skipDeleted: v.number(),
    /** Absent: none (reports written before cancels were recorded have no such rows). */
    skipCanceled: v.optional(v.number()),
    rowsThatWouldChange: v.number(),
    documentsCounted: v.number(),
  }),
  entries: v.array(vSeedReportEntry),
  truncated: v.boolean(),
});
export type SeedReport = Infer<typeof vSeedReport>;

export type LastRecount = Infer<typeof vLastRecount>;

/**
 * One bucket of a drift report. `delta` is the correction the report
 * attributes to the counter: `actual - stored` for a recount; for a
 * `negative_counter` report, `-stored` (the counter is `stored` < 0 and the
 * true value is at least 0). On a recount report, `alreadyReported` is the
 * part of `delta` that the reports in `alreadyReportedIn` stated first, so
 * the sum over reports of `delta - (alreadyReported ?? 0)` is the total drift.
 */
export const vDriftBucket = v.object({
  status: v.string(),
  measure: vMeasure,
  stored: v.number(),
  actual: v.optional(v.number()),
  delta: v.number(),
  alreadyReported: v.optional(v.number()),
});
export type DriftBucket = Infer<typeof vDriftBucket>;

/** The table definitions, with `entity` and the stats row as given. */
function statsTableDefs<
  E extends Validator<string, "required", string>,
  R extends Validator<Record<string, unknown>, "required", string>,
  P extends Validator<string, "required", string>,
>(vEntity: E, vStatsRow: R, vWalkPhase: P) {
  const driftReportFields = {
    workosOrgId: v.string(),
    entity: vEntity,
    source: v.union(v.literal("recount"), v.literal("negative_counter")),
    runId: v.optional(v.string()),
    detectedAt: v.number(),
    buckets: v.array(vDriftBucket),
    /** Recount reports: the `negative_counter` reports its `alreadyReported` parts come from. */
    alreadyReportedIn: v.optional(v.array(v.id("statsDriftReports"))),
    /** Recount reports: documents holding values the code never writes, the first ones listed. */
    invalidDocuments: v.optional(v.array(vInvalidDocument)),
    /** Recount reports: how many such documents the org has (listed or not). */
    invalidTotal: v.optional(v.number()),
    /** Recount reports of tables with filtered counters: the facet documents repaired. */
    facetDrift: v.optional(vFacetMerge),
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
  return {
    /** Counters: one row per (org, counted table). What a badge reads. */
    organizationStats: defineTable(vStatsRow)
      .index("by_org_and_entity", ["workosOrgId", "entity"])
      .index("by_entity", ["entity"])
      // Operator status: rows not exact.
      .index("by_exact", ["exact"]),

    /**
     * A running recount of one (org, entity): its cursor (a `_creationTime`)
     * and shadow counters, the histogram of every document of the org with
     * `_creationTime <= cursor`. See `docs/recount.md`.
     */
    statsRecounts: defineTable({
      workosOrgId: v.string(),
      entity: vEntity,
      ...recountProgress,
      /** `_creationTime` of the org's first document (for the badge's progress). */
      firstCreationTime: v.optional(v.number()),
      ...shadowCounters,
      /** Times this run restarted (at most `MAX_RESTARTS`); absent = 0. */
      restarts: v.optional(v.number()),
      /** Documents behind the cursor holding values the code never writes: the first ones. */
      invalidDocuments: v.optional(v.array(vInvalidDocument)),
      /** How many such documents are behind the cursor (listed or not). */
      invalidTotal: v.optional(v.number()),
      /** Running digest of every such document (id, field, value) in scan order. */
      invalidDigest: v.optional(v.string()),
      /** The daily run or migration this run belongs to (absent: started by hand or by a write). */
      jobId: v.optional(v.id("statsRecountJobs")),
      /**
       * A report-only run (the migration's dry run): it counts like a seeding
       * run but writes nothing besides its own state and its job's report.
       */
      report: v.optional(v.object({ foundBy: vFoundBy })),
      /** Set when a page failed `MAX_PAGE_FAILURES` times in a row: the run stopped. */
      failure: v.optional(vRecountFailure),
      /**
       * Tables with filtered counters: after the scan, `merge` (live facet
       * documents reconciled with the run's shadow ones, in key order, up to
       * `mergeCursor`), then `tail` (the documents created meanwhile, for the
       * row). Absent: the scan. See `docs/filtered-counts.md`.
       */
      facetPhase: v.optional(v.union(v.literal("merge"), v.literal("tail"))),
      /** The last facet key merged (absent before the first merge page). */
      mergeCursor: v.optional(vFacetKey),
      /** What the merge found so far. */
      facetMerge: v.optional(vFacetMerge),
    })
      .index("by_org_and_entity", ["workosOrgId", "entity"])
      .index("by_started_at", ["startedAt"]),

    /** The last finished recount of each (org, entity), for operators and the next run. */
    statsRecountSummaries: defineTable({
      workosOrgId: v.string(),
      entity: vEntity,
      lastRecount: vLastRecount,
    }).index("by_org_and_entity", ["workosOrgId", "entity"]),

    /**
     * One daily run or migration over all orgs: where its walk is and, per
     * stats row it started, how many ended which way.
     */
    statsRecountJobs: defineTable({
      kind: vRecountJobKind,
      startedAt: v.number(),
      /** Where the walk continues; null once every org was visited. */
      walk: v.union(
        v.object({ phase: vWalkPhase, cursor: v.union(v.string(), v.null()) }),
        v.null(),
      ),
      /** The walk step failed this many times in a row (reset by a success). */
      walkFailures: v.number(),
      /** A walk step is enqueued (or running); false while the walk waits for runs to end. */
      walkQueued: v.boolean(),
      /** Set when the walk gave up (after `MAX_PAGE_FAILURES`) or was canceled. */
      walkError: v.optional(v.string()),
      canceledAt: v.optional(v.number()),
      /** Most documents one page of this job's runs reads (absent: the default). */
      pageCap: v.optional(v.number()),
      /** Rows whose run this job started; and how many of them ended, and how. */
      started: v.number(),
      finished: v.number(),
      failed: v.number(),
      canceled: v.number(),
      /** Rows skipped (deleted org, already exact when seeding) or already running. */
      skipped: v.number(),
      alreadyRunning: v.number(),
      /** Report-only jobs: the report so far. */
      report: v.optional(vSeedReport),
    }).index("by_kind_and_started_at", ["kind", "startedAt"]),

    /**
     * A cancel's mark (`recount/marks.ts`): recounts requested before it do
     * not start. One per org canceled (`workosOrgId`) and one for the cancel
     * of all recounts (`workosOrgId: null`), replaced by the next cancel.
     * `sealedAt` is set by the first transaction to read the mark after the
     * cancel committed (null until then).
     */
    statsRecountCancels: defineTable({
      workosOrgId: v.union(v.string(), v.null()),
      canceledAt: v.number(),
      sealedAt: v.union(v.number(), v.null()),
    })
      .index("by_org", ["workosOrgId"])
      .index("by_sealed_at", ["sealedAt"]),

    /**
     * A counted write's change to the shadow of a running recount (documents
     * at or behind the cursor), inserted rather than patched into the state so
     * the write reads no more than the state; pages fold them in.
     */
    statsRecountDeltas: defineTable({
      workosOrgId: v.string(),
      entity: vEntity,
      /** The run whose shadow this changes; deltas of replaced runs are dropped. */
      runId: v.string(),
      ...shadowCounters,
    }).index("by_org_and_entity", ["workosOrgId", "entity"]),

    /**
     * Filtered counters (`docs/filtered-counts.md`): one document per (org,
     * table, facet, value, period) of a table declaring facets or a date
     * field. What filtered badges read; counted writes keep them exact.
     */
    statsFacets: defineTable({
      workosOrgId: v.string(),
      entity: vEntity,
      ...vFacetKey.fields,
      ...facetContent,
    }).index("by_key", ["workosOrgId", "entity", "facet", "value", "period"]),

    /**
     * A running recount's shadow deltas: each a change to one key's cells (a
     * page's documents, or a write during the run), same layout; a key's shadow
     * is the sum of its deltas, folded by the merge.
     */
    statsFacetShadows: defineTable({
      workosOrgId: v.string(),
      entity: vEntity,
      runId: v.string(),
      ...vFacetKey.fields,
      ...facetContent,
    }).index("by_run_and_key", ["workosOrgId", "entity", "runId", "facet", "value", "period"]),

    /**
     * Whether an org's facet documents of a table are exact: what a filtered
     * badge reads first. Written when the row is created exact, when a
     * recount's merge ends and when the org is deleted; never by a counted
     * write, so writes do not re-run badges filtered on other facets.
     */
    statsFacetStatus: defineTable({
      workosOrgId: v.string(),
      entity: vEntity,
      exact: v.boolean(),
      /** Set when the org was deleted: filtered queries refuse it. */
      orgDeleted: v.optional(v.boolean()),
    }).index("by_org_and_entity", ["workosOrgId", "entity"]),

    /** Drift found in counters: by a recount, or live when a counter went negative. */
    statsDriftReports: defineTable(driftReportFields)
      .index("by_org_and_entity", ["workosOrgId", "entity"])
      .index("by_detected_at", ["detectedAt"]),
  };
}

/** The validator of a counted table's name (`v.literal` union of the declared tables). */
export function vEntityOf<T extends CountedTables>(
  tables: T,
): Validator<keyof T & string, "required", string> {
  const names = Object.keys(tables) as (keyof T & string)[];
  const members = names.map((name) => v.literal(name));
  if (members.length === 0) throw new Error("[stats.tables] no counted table declared");
  return members.length === 1 ? members[0] : v.union(...members);
}

/**
 * The stats module's tables for an app's schema, built from its counted
 * tables: spread into `defineSchema({ ...appTables, ...statsTables(COUNTED) })`.
 *
 * `legacyStatsRow` widens `organizationStats` to also accept an app's
 * previous stats documents while they are migrated (`docs/adopting.md`): the
 * module never reads them (its lookups name an `entity`, which they lack);
 * drop the option once they are gone.
 */
export function statsTables<T extends CountedTables>(
  tables: T,
  options: { legacyStatsRow?: Validator<Record<string, unknown>, "required", string> } = {},
) {
  const rows: Validator<Record<string, unknown>, "required", string>[] = Object.entries(tables).map(
    ([name, decl]) => vStatsRowOf(name, decl),
  );
  if (options.legacyStatsRow !== undefined) rows.push(options.legacyStatsRow);
  // Built at run time from the declarations; the type says the same per table.
  const vRow = (rows.length === 1 ? rows[0] : v.union(...rows)) as unknown as Validator<
    StatsRowOf<T>,
    "required",
    (typeof vAnyStatsRow)["fieldPaths"]
  >;
  const phases = walkPhases(tables).map((phase) => v.literal(phase));
  return statsTableDefs(vEntityOf(tables), vRow, v.union(...phases));
}

/**
 * The phases of the recount's walk over orgs, in order: the app's registry
 * (when it has one; an empty phase otherwise), then per counted table its
 * stats rows, then per counted table a skip scan of its documents.
 */
export function walkPhases(tables: CountedTables): string[] {
  const names = Object.keys(tables);
  return ["organizations", ...names.map((e) => `${e}Rows`), ...names.map((e) => `${e}Scan`)];
}

// The same tables over any counted table: what the module's code is typed against.
const genericSchema = defineSchema(statsTableDefs(v.string(), vAnyStatsRow, v.string()));

/** The stats tables as the module's code sees them. */
export type StatsDataModel = DataModelFromSchemaDefinition<typeof genericSchema>;
/** A stats table's document. */
export type StatsDoc<T extends keyof StatsDataModel & string> = DocumentByName<StatsDataModel, T>;
/** A stats table's document without system fields. */
export type StatsFields<T extends keyof StatsDataModel & string> = WithoutSystemFields<StatsDoc<T>>;
export type StatsReader = GenericDatabaseReader<StatsDataModel>;
export type StatsWriter = GenericDatabaseWriter<StatsDataModel>;

/** Any stats row. */
export type StatsRow = StatsDoc<"organizationStats">;
/** A stats row without its system fields, as inserted or replaced. */
export type StatsRowFields = StatsFields<"organizationStats">;
/** A running recount's state. */
export type RecountState = StatsDoc<"statsRecounts">;
/** A recount job. */
export type RecountJob = StatsDoc<"statsRecountJobs">;
/** A drift report. */
export type DriftReportDoc = StatsDoc<"statsDriftReports">;
/** A live facet document. */
export type FacetDoc = StatsDoc<"statsFacets">;
/** A recount's shadow delta of one facet key. */
export type FacetShadowDoc = StatsDoc<"statsFacetShadows">;
/** The readiness of an org's facet documents. */
export type FacetStatusDoc = StatsDoc<"statsFacetStatus">;
/** Validators of the stored drift report and job documents, for results. */
export const vDriftReportFields = genericSchema.tables.statsDriftReports.validator.fields;
export const vRecountJobFields = genericSchema.tables.statsRecountJobs.validator.fields;
