/**
 * Deleting records past their retention window, one bounded batch per
 * transaction, oldest first through each table's time index. A batch that
 * fills up schedules the next one with the same cutoff, so a backlog of any
 * size drains in bounded transactions and the chain always ends.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer, type ObjectType } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import {
  DRIFT_REPORT_RETENTION,
  WEBHOOK_EVENT_RETENTION,
  latestAllowedCutoff,
  retentionCutoff,
  type RetentionWindow,
} from "./windows";

/** The tables the purge keeps bounded. */
export const RETENTION_TABLES = [
  "workosWebhookEvents",
  "statsDriftReports",
  "statsAlerts",
] as const;
export const vRetentionTable = literals(...RETENTION_TABLES);
export type RetentionTable = Infer<typeof vRetentionTable>;

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

/** Arguments of one purge batch. */
export const vPurgeBatchArgs = {
  table: vRetentionTable,
  /** Delete records older than this (ms since epoch). */
  cutoff: v.number(),
  batchSize: v.optional(v.number()),
};
export type PurgeBatchArgs = ObjectType<typeof vPurgeBatchArgs>;

export const vPurgeBatchResult = v.object({
  table: vRetentionTable,
  deleted: v.number(),
  /** True when another batch was scheduled. */
  continued: v.boolean(),
});
export type PurgeBatchResult = Infer<typeof vPurgeBatchResult>;

export const vPurgeStart = v.object({
  /** The cutoff each table's chain deletes up to. */
  cutoffs: v.object({
    workosWebhookEvents: v.number(),
    statsDriftReports: v.number(),
    statsAlerts: v.number(),
  }),
});
export type PurgeStart = Infer<typeof vPurgeStart>;

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
  const batchSize = args.batchSize ?? PURGE_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_PURGE_BATCH_SIZE) {
    throw appError(
      "INVALID_ARGUMENT",
      `batchSize must be an integer from 1 to ${MAX_PURGE_BATCH_SIZE}.`,
      { batchSize },
    );
  }
  const latest = latestAllowedCutoff(WINDOW[args.table], now);
  if (!Number.isFinite(args.cutoff) || args.cutoff > latest) {
    throw appError(
      "INVALID_ARGUMENT",
      `cutoff must be at least ${WINDOW[args.table].minDays} days in the past for ${args.table}.`,
      { cutoff: args.cutoff, latestAllowed: latest },
    );
  }
  return batchSize;
}

/**
 * How each table finds its expired records: up to `limit` of them, oldest
 * first through its time index. Deleting them is shared (`purgeOldest`); the
 * delete names its table through `remove`, as every `ctx.db` call must.
 */
type PurgeDb = Pick<MutationCtx, "db">["db"];
interface PurgeTable<T extends RetentionTable> {
  oldest: (db: PurgeDb, cutoff: number, limit: number) => Promise<Doc<T>[]>;
  remove: (db: PurgeDb, id: Id<T>) => Promise<void>;
}

const PURGE: { [T in RetentionTable]: PurgeTable<T> } = {
  workosWebhookEvents: {
    oldest: (db, cutoff, limit) =>
      db
        .query("workosWebhookEvents")
        .withIndex("by_processed_at", (q) => q.lt("processedAt", cutoff))
        .take(limit),
    remove: (db, id) => db.delete("workosWebhookEvents", id),
  },
  statsDriftReports: {
    oldest: (db, cutoff, limit) =>
      db
        .query("statsDriftReports")
        .withIndex("by_detected_at", (q) => q.lt("detectedAt", cutoff))
        .take(limit),
    remove: (db, id) => db.delete("statsDriftReports", id),
  },
  statsAlerts: {
    oldest: (db, cutoff, limit) =>
      db
        .query("statsAlerts")
        .withIndex("by_creation_time", (q) => q.lt("_creationTime", cutoff))
        .take(limit),
    remove: (db, id) => db.delete("statsAlerts", id),
  },
};

/** Deletes up to `limit` records of `table` older than `cutoff`; returns how many. */
async function purgeOldest<T extends RetentionTable>(
  db: PurgeDb,
  table: T,
  cutoff: number,
  limit: number,
): Promise<number> {
  const purge: PurgeTable<T> = PURGE[table];
  const expired = await purge.oldest(db, cutoff, limit);
  for (const doc of expired) await purge.remove(db, doc._id);
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
