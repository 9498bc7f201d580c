/**
 * The stats tables' validators (`schema.ts` defines the tables from these):
 * `organizationStats` rows built from the entity table's counter fields, and
 * `statsDriftReports`. Types are derived with `Infer`.
 */
import { v, type Infer, type PropertyValidators } from "convex/values";
import { vStatsEntity, type StatsEntity } from "../enums";
import { ENTITY_COUNTERS } from "./entities";

/** Summary of the last finished recount of a stats row. */
export const vLastRecount = v.object({
  runId: v.string(),
  finishedAt: v.number(),
  driftFound: v.boolean(),
  pages: v.number(),
  documentsCounted: v.number(),
});

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
  updatedAt: v.number(),
};

/** Recount progress fields, whatever the entity (see `recount/pages.ts`). */
const recountCommon = {
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
    /** Histogram of every document at or behind the cursor, plus the cursor. */
    recount: v.optional(v.object({ ...recountCommon, ...counters })),
  });
}

/** An `organizationStats` row for loads: counts per load status. */
export const vLoadStatsRow = vStatsRowOf("loads", ENTITY_COUNTERS.loads);
/** An `organizationStats` row for invoices: counts and cents per invoice status. */
export const vInvoiceStatsRow = vStatsRowOf("invoices", ENTITY_COUNTERS.invoices);

/** One bucket of a drift report. */
export const vDriftBucket = v.object({
  status: v.string(),
  measure: v.union(v.literal("count"), v.literal("amountCents")),
  stored: v.number(),
  actual: v.optional(v.number()),
  delta: v.number(),
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
};
