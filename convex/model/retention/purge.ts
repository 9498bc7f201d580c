/**
 * Deleting records past their retention window, one bounded batch per
 * transaction, oldest first through each table's time index. A batch that
 * fills up schedules the next one with the same cutoff, so a backlog of any
 * size drains in bounded transactions and the chain always ends.
 */
import type { IndexNames, NamedTableInfo } from "convex/server";
import { v, type Infer, type ObjectType } from "convex/values";
import { internal } from "../../_generated/api";
import type { DataModel, Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { RETENTION_TABLES, vRetentionTable, type RetentionTable } from "../enums";
import { appError } from "../../lib/errors";
import { optionalPositiveInteger } from "../validate";
import {
  DRIFT_REPORT_RETENTION,
  WEBHOOK_EVENT_RETENTION,
  latestAllowedCutoff,
  retentionCutoff,
  type RetentionWindow,
} from "./windows";

/** The window of each table. */
const WINDOW: Record<RetentionTable, RetentionWindow> = {
  workosWebhookEvents: WEBHOOK_EVENT_RETENTION,
  statsDriftReports: DRIFT_REPORT_RETENTION,
  // An alert row lives as long as the reports it is about.
  statsAlerts: DRIFT_REPORT_RETENTION,
};

/**
 * Documents deleted per transaction by default: each batch reads and deletes
 * this many (small documents), far below Convex's 16,000-write and
 * 32,000-read limits, and short enough not to hold up other writers.
 */
export const PURGE_BATCH_SIZE = 256;
/** Largest batch an operator may ask for. */
export const MAX_PURGE_BATCH_SIZE = 4_000;

/** What `startPurge` returns. */
export const vPurgeStart = v.object({
  /** The cutoff each table's chain deletes up to. */
  cutoffs: v.object({
    workosWebhookEvents: v.number(),
    statsDriftReports: v.number(),
    statsAlerts: v.number(),
  }),
});
export type PurgeStart = Infer<typeof vPurgeStart>;

/** Arguments of one purge batch. */
export const vPurgeBatchArgs = {
  table: vRetentionTable,
  /** Delete records older than this (ms since epoch). */
  cutoff: v.number(),
  batchSize: v.optional(v.number()),
};
export type PurgeBatchArgs = ObjectType<typeof vPurgeBatchArgs>;

/** What one purge batch did. */
export const vPurgeBatchResult = v.object({
  table: vRetentionTable,
  deleted: v.number(),
  /** True when another batch was scheduled. */
  continued: v.boolean(),
});
export type PurgeBatchResult = Infer<typeof vPurgeBatchResult>;

/**
 * Starts one purge chain per table with the cutoffs of the configured
 * windows. Reads nothing itself.
 *
 * @throws Error when a window's env variable is malformed (nothing is scheduled).
 */
export async function startPurge(
  ctx: Pick<MutationCtx, "scheduler">,
  now: number,
): Promise<PurgeStart> {
  const cutoffs = {
    workosWebhookEvents: retentionCutoff(WEBHOOK_EVENT_RETENTION, now),
    statsDriftReports: retentionCutoff(DRIFT_REPORT_RETENTION, now),
    statsAlerts: retentionCutoff(DRIFT_REPORT_RETENTION, now),
  };
  for (const table of RETENTION_TABLES) {
    await ctx.scheduler.runAfter(0, internal.retention.purgeBatch, {
      table,
      cutoff: cutoffs[table],
    });
  }
  console.log("[retention.purge] started", { cutoffs });
  return { cutoffs };
}

/** @throws `INVALID_ARGUMENT` for a batch size or cutoff out of range. */
function checkArgs(args: PurgeBatchArgs, now: number): number {
  const batchSize =
    optionalPositiveInteger(args.batchSize, "batchSize", MAX_PURGE_BATCH_SIZE) ?? PURGE_BATCH_SIZE;
  const latest = latestAllowedCutoff(WINDOW[args.table], now);
  if (!Number.isFinite(args.cutoff) || args.cutoff > latest) {
    throw appError(
      "INVALID_ARGUMENT",
      `cutoff must be at least ${WINDOW[args.table].minDays} days in the past for ${args.table}.`,
      { field: "cutoff", cutoff: args.cutoff, latestAllowed: latest },
    );
  }
  return batchSize;
}

type PurgeDb = Pick<MutationCtx, "db">["db"];

/**
 * Each table's time index and the field it starts with: its expired records
 * come first. `satisfies` checks per table that the index and field exist.
 */
const TIME_INDEX = {
  workosWebhookEvents: { index: "by_processed_at", field: "processedAt" },
  statsDriftReports: { index: "by_detected_at", field: "detectedAt" },
  statsAlerts: { index: "by_creation_time", field: "_creationTime" },
} as const satisfies {
  [T in RetentionTable]: { index: IndexNames<NamedTableInfo<DataModel, T>>; field: keyof Doc<T> };
};

/** Deleting one record, naming its table as every `ctx.db` call must. */
const REMOVE: { [T in RetentionTable]: (db: PurgeDb, id: Id<T>) => Promise<void> } = {
  workosWebhookEvents: (db, id) => db.delete("workosWebhookEvents", id),
  statsDriftReports: (db, id) => db.delete("statsDriftReports", id),
  statsAlerts: (db, id) => db.delete("statsAlerts", id),
};

/** Deletes up to `limit` records of `table` older than `cutoff`; returns how many. */
async function purgeOldest<T extends RetentionTable>(
  db: PurgeDb,
  table: T,
  cutoff: number,
  limit: number,
): Promise<number> {
  const { index, field } = TIME_INDEX[table];
  // Convex types `withIndex` for one concrete table only; over the union of
  // these tables only the system index type-checks. TIME_INDEX is checked per
  // table above, so the range below is the table's own time index.
  const expired = (await db
    .query(table as RetentionTable)
    .withIndex(index as "by_creation_time", (q) => q.lt(field as "_creationTime", cutoff))
    .take(limit)) as unknown as Doc<T>[];
  for (const doc of expired) await REMOVE[table](db, doc._id);
  return expired.length;
}

/**
 * Deletes up to `batchSize` records of `table` older than `cutoff`, oldest
 * first, and schedules the next batch when this one was full (the next one
 * may then find nothing, which ends the chain).
 *
 * @throws `INVALID_ARGUMENT` for a batch size outside 1..`MAX_PURGE_BATCH_SIZE`
 *   or a cutoff newer than the table's floor (nothing is deleted).
 */
export async function purgeBatch(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  args: PurgeBatchArgs,
  now: number,
): Promise<PurgeBatchResult> {
  const batchSize = checkArgs(args, now);
  const deleted = await purgeOldest(ctx.db, args.table, args.cutoff, batchSize);
  const continued = deleted === batchSize;
  if (continued) {
    await ctx.scheduler.runAfter(0, internal.retention.purgeBatch, {
      table: args.table,
      cutoff: args.cutoff,
      batchSize: args.batchSize,
    });
  }
  console.log("[retention.purge] batch", { table: args.table, deleted, continued });
  return { table: args.table, deleted, continued };
}
