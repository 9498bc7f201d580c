/**
 * Starting a recount of one stats row: the rule of `decideRecount` applied,
 * the fresh recount state written, the row marked `recounting`, the first
 * page enqueued. The pages themselves are in `pages.ts`.
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
import { decideRecount, freshRecountState, newRunId, vSkipReason, type RecountMode } from "./state";

/** What `startRecount` did. */
export const vStartResult = v.object({
  entity: v.string(),
  status: literals("started", "running", "skipped"),
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
};

/**
 * Starts a recount of (org, entity) following `decideRecount`: writes a fresh
 * recount state, and marks the row `recounting` (a missing row is created
 * with zero counters and `exact: false`, so count queries keep scanning until
 * the recount's last page swaps the counters in). A report-only run
 * (`mode: "report"`) writes only its state. With `schedulePages` the first
 * page is enqueued in the stats workpool; without it the caller drives the
 * pages. A run replacing one of a job (not failed) stays in that job.
 *
 * Costs 3 reads (row, state, row again to size the page), at most 2 writes
 * and 1 enqueue.
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
    return { entity, status: "running", runId: decision.runId, reason: null };
  }
  const runId = newRunId(now);
  const report = options.mode === "report";
  const replacesReport = state?.report !== undefined && !report;
  const inherits = state !== null && state.failure === undefined && !replacesReport;
  const jobId = options.jobId ?? (inherits ? state.jobId : undefined);
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
