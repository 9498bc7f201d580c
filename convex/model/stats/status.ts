/**
 * Operator views of the counters: per-row recount status, running recounts
 * and drift reports (`stats:recountStatus`, `stats:listDriftReports`).
 * Read-only; every range is bounded by `limit`.
 */
import { v, type Infer } from "convex/values";
import type { StatsConfig } from "./config";
import { statsDb, type AnyReader } from "./ctx";
import { jobActive, jobRunning, latestJob, type RecountJob } from "./recount/jobs";
import { readSummary } from "./recount/summaries";
import { getStatsRow, isRowOrgDeleted } from "./rows";
import { getRecountState, type RecountState } from "./shadow";
import {
  recountProgress,
  vDriftReportFields,
  vLastRecount,
  vRecountFailure,
  vRecountJobKind,
  type StatsRow,
} from "./tables";

/** A drift report as stored. */
export const vDriftReport = v.object({
  _id: v.id("statsDriftReports"),
  _creationTime: v.number(),
  ...vDriftReportFields,
});
export type DriftReport = Infer<typeof vDriftReport>;

/** One stats row's recount status. */
export const vRowStatus = v.object({
  workosOrgId: v.string(),
  entity: v.string(),
  exact: v.boolean(),
  orgDeleted: v.boolean(),
  lastRecount: v.union(vLastRecount, v.null()),
  running: v.union(
    v.object({
      ...recountProgress,
      /** Set when the run gave up after repeated page failures (retried by the next daily run). */
      failure: v.union(vRecountFailure, v.null()),
    }),
    v.null(),
  ),
});
export type RowStatus = Infer<typeof vRowStatus>;

function rowStatus(
  row: StatsRow,
  state: RecountState | null,
  lastRecount: RowStatus["lastRecount"],
): RowStatus {
  return {
    workosOrgId: row.workosOrgId,
    entity: row.entity,
    exact: row.exact,
    orgDeleted: isRowOrgDeleted(row),
    lastRecount,
    running:
      state === null
        ? null
        : {
            runId: state.runId,
            startedAt: state.startedAt,
            cursor: state.cursor,
            pages: state.pages,
            documentsCounted: state.documentsCounted,
            failure: state.failure ?? null,
          },
  };
}

/** The last finished recount of `row` (its summary; rows of older versions carry it). */
async function lastRecountOf(db: AnyReader, row: StatsRow): Promise<RowStatus["lastRecount"]> {
  const summary = await readSummary(db, row.workosOrgId, row.entity);
  return summary?.lastRecount ?? row.lastRecount ?? null;
}

/** The status of `row`, reading its recount state only when the row says one runs. */
async function statusOf(db: AnyReader, row: StatsRow): Promise<RowStatus> {
  const state =
    row.recounting === true ? await getRecountState(db, row.workosOrgId, row.entity) : null;
  return rowStatus(row, state, await lastRecountOf(db, row));
}

/** Newest drift reports, optionally of one org (and entity), at most `limit`. */
export async function recentDriftReports(
  db: AnyReader,
  config: StatsConfig,
  limit: number,
  workosOrgId: string | undefined,
  entity: string | undefined,
): Promise<DriftReport[]> {
  if (workosOrgId === undefined) {
    return await statsDb(db)
      .query("statsDriftReports")
      .withIndex("by_detected_at")
      .order("desc")
      .take(limit);
  }
  const perEntity = [];
  for (const e of entity === undefined ? config.entities.keys() : [entity]) {
    perEntity.push(
      ...(await statsDb(db)
        .query("statsDriftReports")
        .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId).eq("entity", e))
        .order("desc")
        .take(limit)),
    );
  }
  return perEntity.sort((a, b) => b.detectedAt - a.detectedAt).slice(0, limit);
}

/**
 * A daily run or migration at a glance, per stats row (org x entity). The
 * totals add up, always:
 * - `visited = total + skipped + alreadyRunning`: every row the walk looked
 *   at is counted once;
 * - `total = finished + failed + canceled + running`: every row the job
 *   counts ends once. `total` holds the runs the job started and the ones it
 *   adopted (already running without a job: a write's seeding, an
 *   operator's start), so their ends show here too; a run another job
 *   replaces ends `canceled` in its own job.
 * `alreadyRunning` rows belong to another job, whose totals show their end.
 * A canceled job's `running` drops to 0 as the cancel's batches delete its runs.
 */
export const vJobSummary = v.object({
  jobId: v.id("statsRecountJobs"),
  kind: vRecountJobKind,
  startedAt: v.number(),
  /** `walking`: still finding orgs; `running`: walk done, runs left; `done`; `canceled`; `walk_failed`. */
  state: v.union(
    v.literal("walking"),
    v.literal("running"),
    v.literal("done"),
    v.literal("canceled"),
    v.literal("walk_failed"),
  ),
  visited: v.number(),
  total: v.number(),
  finished: v.number(),
  running: v.number(),
  failed: v.number(),
  canceled: v.number(),
  skipped: v.number(),
  alreadyRunning: v.number(),
  walkError: v.union(v.string(), v.null()),
});
export type JobSummary = Infer<typeof vJobSummary>;

export function jobSummary(job: RecountJob): JobSummary {
  const state =
    job.canceledAt !== undefined
      ? "canceled"
      : job.walkError !== undefined
        ? "walk_failed"
        : job.walk !== null
          ? "walking"
          : jobActive(job)
            ? "running"
            : "done";
  return {
    jobId: job._id,
    kind: job.kind,
    startedAt: job.startedAt,
    state,
    visited: job.started + job.skipped + job.alreadyRunning,
    total: job.started,
    finished: job.finished,
    running: jobRunning(job),
    failed: job.failed,
    canceled: job.canceled,
    skipped: job.skipped,
    alreadyRunning: job.alreadyRunning,
    walkError: job.walkError ?? null,
  };
}

/** Rows not exact are counted up to this (`1000` means "1,000 or more"). */
export const NOT_EXACT_CAP = 1_000;

/** What `recountStatus` returns. */
export const vRecountStatus = v.object({
  /** The newest daily run and migration (null: none yet). */
  daily: v.union(vJobSummary, v.null()),
  migration: v.union(vJobSummary, v.null()),
  /** Stats rows with `exact: false` (count queries scan for them), up to 1,000. */
  rowsNotExact: v.number(),
  /** The oldest run still in progress (not failed): a stuck one shows here. */
  oldestRunning: v.union(vRowStatus, v.null()),
  rows: v.array(vRowStatus),
  continueCursor: v.union(v.string(), v.null()),
  running: v.array(vRowStatus),
  recentDrift: v.array(vDriftReport),
});
export type RecountStatus = Infer<typeof vRecountStatus>;

/**
 * Recount status: per stats row, its last finished recount and the running
 * one; every running recount (at most `limit`); the newest drift reports.
 * Without `workosOrgId`, `rows` is one page of all stats rows. Arguments are
 * checked by the caller (`api.ts`).
 */
export async function recountStatus(
  db: AnyReader,
  config: StatsConfig,
  args: { workosOrgId: string | undefined; limit: number; cursor: string | null },
): Promise<RecountStatus> {
  const { limit } = args;
  const recentDrift = await recentDriftReports(db, config, limit, args.workosOrgId, undefined);
  const overview = await runOverview(db);
  const workosOrgId = args.workosOrgId;
  const stats = statsDb(db);
  if (workosOrgId !== undefined) {
    const rows = await stats
      .query("organizationStats")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId))
      .take(config.entities.size);
    const statuses = await Promise.all(rows.map((row) => statusOf(db, row)));
    return {
      ...overview,
      rows: statuses,
      continueCursor: null,
      running: statuses.filter((s) => s.running !== null),
      recentDrift,
    };
  }
  const page = await stats
    .query("organizationStats")
    .paginate({ numItems: limit, cursor: args.cursor });
  // Oldest runs first: a stuck one shows at the top.
  const states = await stats.query("statsRecounts").withIndex("by_started_at").take(limit);
  const running = [];
  for (const state of states) {
    const row = await getStatsRow(db, state.workosOrgId, state.entity);
    if (row !== null) running.push(rowStatus(row, state, await lastRecountOf(db, row)));
  }
  // An app's previous stats documents (kept while migrated) have no entity.
  const rows = page.page.filter((row) => typeof row.entity === "string");
  return {
    ...overview,
    rows: await Promise.all(rows.map((row) => statusOf(db, row))),
    continueCursor: page.isDone ? null : page.continueCursor,
    running,
    recentDrift,
  };
}

/** The jobs, rows not exact and the oldest running run. */
async function runOverview(db: AnyReader) {
  const stats = statsDb(db);
  const daily = await latestJob(db, "daily");
  const migration = await latestJob(db, "seed");
  const notExact = await stats
    .query("organizationStats")
    .withIndex("by_exact", (q) => q.eq("exact", false))
    .take(NOT_EXACT_CAP);
  let oldestRunning: RowStatus | null = null;
  // Failed runs are skipped (they show in the jobs' counts); bounded.
  for (const state of await stats.query("statsRecounts").withIndex("by_started_at").take(100)) {
    if (state.failure !== undefined) continue;
    const row = await getStatsRow(db, state.workosOrgId, state.entity);
    if (row !== null) oldestRunning = rowStatus(row, state, await lastRecountOf(db, row));
    break;
  }
  return {
    daily: daily === null ? null : jobSummary(daily),
    migration: migration === null ? null : jobSummary(migration),
    rowsNotExact: notExact.length,
    oldestRunning,
  };
}
