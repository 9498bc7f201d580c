/**
 * Starting a recount of one stats row: a request made before a cancel
 * refused (`marks.ts`), the rule of `decideRecount` applied, a running run
 * adopted into the job that found it, the fresh recount state written, the
 * row marked `recounting`, the first page enqueued. The pages themselves are
 * in `pages.ts`.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { StatsConfig } from "../config";
import { statsDb, type StatsMutationCtx } from "../ctx";
import { entityIn } from "../entities";
import type { Id } from "../ids";
import { getStatsRow, initialRow, splitRow } from "../rows";
import { getRecountState } from "../shadow";
import type { FoundBy } from "../tables";
import { enqueuePage } from "./enqueue";
import { countJob } from "./jobs";
import { canceledSince } from "./marks";
import { decideRecount, freshRecountState, newRunId, vSkipReason, type RecountMode } from "./state";

/**
 * What `startRecount` did. `adopted`: a run already running without a job (a
 * write's seeding, an operator's start) joined the job that found it, which
 * now counts its end; `running`: the run belongs to another job (or, for a
 * start outside a job, to anyone), which counts its end.
 */
export const vStartResult = v.object({
  entity: v.string(),
  status: literals("started", "adopted", "running", "skipped"),
  runId: v.union(v.string(), v.null()),
  reason: v.union(vSkipReason, v.null()),
});
export type StartResult = Infer<typeof vStartResult>;

/** How a run starts. */
export type StartOptions = {
  mode: RecountMode;
  force?: boolean;
  registryDeleted?: boolean;
  schedulePages: boolean;
  jobId?: Id<"statsRecountJobs">;
  /** Most documents a page reads (a dry run's `maxDocs`). */
  maxPage?: number;
  /** How the walk found the row (a report-only run lists it). */
  foundBy?: FoundBy;
  /**
   * A request made before this transaction (a write's scheduled seeding, a
   * job's walk step): `at` when it was made, and whether a cancel of all
   * recounts stops it too (a job's walk learns that from its job instead).
   * Absent: the request is this transaction (it starts).
   */
  request?: { at: number; includeCancelAll: boolean };
};

/**
 * Starts a recount of (org, entity) following `decideRecount`: writes a fresh
 * recount state, and marks the row `recounting` (a missing row is created
 * with zero counters and `exact: false`, so count queries keep scanning until
 * the recount's last page swaps the counters in). A report-only run
 * (`mode: "report"`) writes only its state. With `schedulePages` the first
 * page is enqueued in the stats workpool; without it the caller drives the
 * pages.
 *
 * Jobs count every row once: a run replacing one of a job (not failed) stays
 * in that job, unless another job replaces it, which counts the old run
 * `canceled` in its job; a running run without a job is adopted by the job
 * that finds it (`adopted`), so that job counts its end.
 *
 * Costs 3 reads (row, state, row again to size the page), at most 2 writes
 * and 1 enqueue; a `request` adds 1-2 reads (its cancel marks).
 */
export async function startRecount(
  ctx: Pick<StatsMutationCtx, "db" | "runMutation">,
  config: StatsConfig,
  workosOrgId: string,
  entity: string,
  options: StartOptions,
): Promise<StartResult> {
  const def = entityIn(config.entities, entity);
  if (options.registryDeleted === true) {
    return { entity, status: "skipped", runId: null, reason: "org_deleted" };
  }
  const { request } = options;
  if (
    request !== undefined &&
    (await canceledSince(ctx, workosOrgId, request.at, { all: request.includeCancelAll }))
  ) {
    console.log("[stats.recount] request canceled before it started", {
      workosOrgId,
      entity,
      requestedAt: request.at,
    });
    return { entity, status: "skipped", runId: null, reason: "canceled" };
  }
  const db = statsDb(ctx.db);
  const now = Date.now();
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  const state = await getRecountState(ctx.db, workosOrgId, entity);
  // Filtered counters never built (`facetsExact` unset) need a run even on an exact row:
  // the seeding migration and its dry run must not skip them.
  const facetsMissing = def.facets !== null && row !== null && row.facetsExact !== true;
  const decision = decideRecount(
    facetsMissing ? { ...row, exact: false } : row,
    state,
    options,
    now,
  );
  if (decision.kind === "skip") {
    return { entity, status: "skipped", runId: null, reason: decision.reason };
  }
  if (decision.kind === "running") {
    if (
      state !== null &&
      options.jobId !== undefined &&
      options.mode !== "report" &&
      state.jobId === undefined &&
      state.report === undefined
    ) {
      // A run nobody counts (a write's seeding, an operator's start): the
      // job takes it, so its end shows in the job's totals.
      await db.patch("statsRecounts", state._id, { jobId: options.jobId });
      return { entity, status: "adopted", runId: decision.runId, reason: null };
    }
    return { entity, status: "running", runId: decision.runId, reason: null };
  }
  const runId = newRunId(now);
  const report = options.mode === "report";
  const replacesReport = state?.report !== undefined && !report;
  const inherits = state !== null && state.failure === undefined && !replacesReport;
  const jobId = options.jobId ?? (inherits ? state.jobId : undefined);
  if (inherits && state.jobId !== undefined && state.jobId !== jobId) {
    // Another job's run, replaced (stale or forced) by this job: it ends here for its job.
    await countJob(ctx, state.jobId, { canceled: 1 });
  }
  if (replacesReport && state.jobId !== undefined) {
    // A real run takes the row from a dry run: the dry run lists it as running.
    await countJob(ctx, state.jobId, { canceled: 1 }, [
      {
        workosOrgId,
        entity,
        foundBy: state.report?.foundBy ?? "documents",
        action: "skip_running",
        documents: null,
        changes: [],
      },
    ]);
  }
  const fresh = freshRecountState(workosOrgId, entity, runId, now, {
    jobId,
    reportFoundBy: report ? (options.foundBy ?? "documents") : undefined,
  });
  if (state === null) await db.insert("statsRecounts", fresh);
  else await db.replace("statsRecounts", state._id, fresh);
  if (!report && row === null) {
    const fields = await initialRow(ctx.db, config, def, workosOrgId, false);
    await db.insert("organizationStats", { ...fields, recounting: true });
  } else if (!report && row !== null && row.recounting !== true) {
    // The only row writes of a run: here and at its end.
    const { id, fields } = splitRow(row);
    await db.replace("organizationStats", id, { ...fields, recounting: true });
  }
  if (state !== null) {
    console.log("[stats.recount] replacing run", {
      workosOrgId,
      entity,
      oldRunId: state.runId,
      runId,
    });
  }
  if (options.schedulePages) {
    await enqueuePage(ctx, config, {
      workosOrgId,
      entity,
      runId,
      jobId: jobId ?? null,
      maxPage: options.maxPage,
    });
  }
  return { entity, status: "started", runId, reason: null };
}
