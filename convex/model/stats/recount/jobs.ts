/**
 * Recount jobs (`statsRecountJobs`): one document per daily run or seeding
 * migration (or its report-only dry run) over all orgs, holding where its
 * walk is, how many of the rows it started (or adopted) finished, failed or
 * were canceled, and for a dry run its report. Status reads it; the walk
 * steps, each run's end and cancels write it (a few writes per run).
 *
 * The totals add up: every stats row a walk visits is counted once as
 * `started`, `skipped` or `alreadyRunning`, and every `started` row once
 * more when its run ends, as `finished`, `failed` or `canceled`.
 */
import { statsDb, type AnyReader, type StatsMutationCtx } from "../ctx";
import type { Id } from "../ids";
import type {
  RecountJob,
  RecountJobKind,
  SeedReport,
  SeedReportEntry,
  StatsFields,
} from "../tables";

export type { RecountJob };

/** Where a walk continues: a phase and its cursor (a paginate cursor or the last org id). */
export type WalkPosition = NonNullable<StatsFields<"statsRecountJobs">["walk"]>;

/** Most rows a dry run's report lists (the totals cover all of them). */
export const SEED_REPORT_LIMIT = 200;

/** The counters of a job that `countJob` adds to. */
export type JobCounts = Partial<
  Pick<RecountJob, "started" | "finished" | "failed" | "canceled" | "skipped" | "alreadyRunning">
>;

function emptyReport(): SeedReport {
  return {
    dryRun: true,
    totals: {
      rows: 0,
      createRow: 0,
      seed: 0,
      skipExact: 0,
      skipRunning: 0,
      skipDeleted: 0,
      rowsThatWouldChange: 0,
      documentsCounted: 0,
    },
    entries: [],
    truncated: false,
  };
}

/** Creates a job whose walk starts at `start`. */
export async function createJob(
  ctx: Pick<StatsMutationCtx, "db">,
  kind: RecountJobKind,
  start: WalkPosition,
  options: { pageCap?: number } = {},
): Promise<Id<"statsRecountJobs">> {
  return await statsDb(ctx.db).insert("statsRecountJobs", {
    kind,
    startedAt: Date.now(),
    walk: start,
    walkFailures: 0,
    walkQueued: false,
    pageCap: options.pageCap,
    started: 0,
    finished: 0,
    failed: 0,
    canceled: 0,
    skipped: 0,
    alreadyRunning: 0,
    report: kind === "report" ? emptyReport() : undefined,
  });
}

const TOTALS_KEY = {
  create_row: "createRow",
  seed: "seed",
  skip_exact: "skipExact",
  skip_running: "skipRunning",
  skip_deleted: "skipDeleted",
  skip_canceled: "skipCanceled",
} as const;

/** `report` with `entries` added (totals for all, the first `SEED_REPORT_LIMIT` listed). */
function withEntries(report: SeedReport, entries: SeedReportEntry[]): SeedReport {
  const next: SeedReport = {
    ...report,
    totals: { ...report.totals },
    entries: [...report.entries],
  };
  for (const entry of entries) {
    next.totals.rows++;
    const key = TOTALS_KEY[entry.action];
    next.totals[key] = (next.totals[key] ?? 0) + 1;
    next.totals.documentsCounted += entry.documents ?? 0;
    if (entry.changes.length > 0 || entry.action === "create_row")
      next.totals.rowsThatWouldChange++;
    if (next.entries.length < SEED_REPORT_LIMIT) next.entries.push(entry);
    else next.truncated = true;
    console.log("[stats.seedReport] row", entry);
  }
  return next;
}

/**
 * Adds `counts` to job `jobId`'s counters (and, for a dry run, `entries` to
 * its report) and returns the job as updated (null when the job is gone).
 */
export async function countJob(
  ctx: Pick<StatsMutationCtx, "db">,
  jobId: Id<"statsRecountJobs">,
  counts: JobCounts,
  entries: SeedReportEntry[] = [],
): Promise<RecountJob | null> {
  const db = statsDb(ctx.db);
  const job = await db.get("statsRecountJobs", jobId);
  if (job === null) return null;
  const patch: Partial<StatsFields<"statsRecountJobs">> = {};
  for (const [key, n] of Object.entries(counts) as [keyof JobCounts, number][]) {
    patch[key] = job[key] + n;
  }
  if (job.report !== undefined && entries.length > 0)
    patch.report = withEntries(job.report, entries);
  await db.patch("statsRecountJobs", jobId, patch);
  return { ...job, ...patch };
}

/** The newest job of `kind`, or null. One indexed read. */
export async function latestJob(db: AnyReader, kind: RecountJobKind): Promise<RecountJob | null> {
  const [job] = await newestJobs(db, kind, 1);
  return job ?? null;
}

/** The newest `n` jobs of `kind`, newest first. */
export async function newestJobs(
  db: AnyReader,
  kind: RecountJobKind,
  n: number,
): Promise<RecountJob[]> {
  return await statsDb(db)
    .query("statsRecountJobs")
    .withIndex("by_kind_and_started_at", (q) => q.eq("kind", kind))
    .order("desc")
    .take(n);
}

/**
 * Rows the job started (or adopted) that have not ended yet. Not clamped:
 * every row it counts as started ends once, so a negative value is a bug
 * to see, not to hide.
 */
export function jobRunning(job: RecountJob): number {
  return job.started - job.finished - job.failed - job.canceled;
}

/** Whether a job still has work: its walk, or rows that have not ended. */
export function jobActive(job: RecountJob): boolean {
  if (job.canceledAt !== undefined) return false;
  const ended = job.finished + job.failed + job.canceled;
  return (job.walk !== null && job.walkError === undefined) || ended < job.started;
}
