/**
 * Operator views of the counters: per-row recount status, running recounts
 * and drift reports (`stats:recountStatus`, `stats:listDriftReports`).
 * Read-only; every range is bounded by `limit`.
 */
import { v, type Infer } from "convex/values";
import { appError } from "../../lib/errors";
import type { StatsConfig } from "./config";
import { statsDb, type AnyReader } from "./ctx";
import { jobActive, latestJob, type RecountJob } from "./recount/jobs";
import { readSummary } from "./recount/summaries";
import { getStatsRow, isRowOrgDeleted } from "./rows";
import { getRecountState, type RecountState } from "./shadow";
import { vDriftReportFields, vLastRecount, vRecountJobKind, type StatsRow } from "./tables";

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/** `limit` as given (1..100), or the default 20. */
export function requireLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw appError("INVALID_ARGUMENT", `limit must be an integer from 1 to ${MAX_LIMIT}.`, {
      field: "limit",
    });
  }
  return limit;
}

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
      runId: v.string(),
      startedAt: v.number(),
      cursor: v.union(v.number(), v.null()),
      pages: v.number(),
      documentsCounted: v.number(),
      /** Set when the run gave up after repeated page failures (retried by the next daily run). */
      failure: v.union(
        v.object({ failures: v.number(), error: v.string(), at: v.number() }),
        v.null(),
      ),
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
 * A daily run or migration at a glance. Counts are per stats row (org x
 * entity) the job started: `running = started - finished - failed - canceled`.
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
  const running = Math.max(0, job.started - job.finished - job.failed - job.canceled);
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
    total: job.started,
    finished: job.finished,
    running: job.canceledAt !== undefined ? 0 : running,
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
 * Without `workosOrgId`, `rows` is one page of all stats rows.
 */
export async function recountStatus(
  db: AnyReader,
  config: StatsConfig,
  args: { workosOrgId?: string; limit?: number; cursor?: string | null },
): Promise<RecountStatus> {
  const limit = requireLimit(args.limit);
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
    .paginate({ numItems: limit, cursor: args.cursor ?? null });
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
