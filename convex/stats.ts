/**
 * The daily exact recount and its operator views (all internal).
 *
 * - `recalculateOrgStats`: start the recount of one org (both entities).
 * - `recountPage`: one page of a running recount (a work item of the
 *   `statsWorkpool`; `recountWorkDone` enqueues the next one or retries it).
 * - `recalculateAllOrgs`: the daily job (`crons.ts`): walks every org a page
 *   at a time (`recountWalkStep`, also pool work) and starts its recount.
 * - `recountStatus`, `listDriftReports`, `cancelRecounts`: for operators:
 *
 * ```sh
 * npx convex run stats:recountStatus --watch
 * npx convex run stats:recountStatus '{"workosOrgId": "org_..."}'
 * npx convex run stats:cancelRecounts '{"workosOrgId": "org_..."}'   # or '{}' for all
 * npx convex run stats:listDriftReports '{"limit": 20}'
 * npx convex run stats:recalculateOrgStats '{"workosOrgId": "org_..."}'
 * ```
 *
 * At most `STATS_MAX_PARALLELISM` (default 10) pool items run at once
 * (`model/stats/recount/pool.ts`).
 *
 * How a recount stays exact while writes continue: `model/stats/recount/pages.ts`.
 */
import type { RunResult } from "@convex-dev/workpool";
import { v } from "convex/values";
import { internalMutation, internalQuery } from "./functions";
import { appError } from "./lib/errors";
import { STATS_ENTITIES, vStatsEntity } from "./model/enums";
import { getOrganization } from "./model/organizations/registry";
import {
  cancelBatch,
  cancelRecounts as cancelModel,
  vCancelResult,
} from "./model/stats/recount/cancel";
import { throwIfFaulted } from "./model/stats/recount/faults";
import { startJob, walkJobStep } from "./model/stats/recount/jobWalk";
import { vWalkPhase, vWalkStep } from "./model/stats/recount/orgWalk";
import { runRecountPage, vPageOutcome } from "./model/stats/recount/pages";
import { onWorkDone, vWorkContext } from "./model/stats/recount/pool";
import { startRecount, vStartResult } from "./model/stats/recount/start";
import {
  recentDriftReports,
  recountStatus as readRecountStatus,
  requireLimit,
  vDriftReport,
  vRecountStatus,
} from "./model/stats/status";
import { MAX_ID_LENGTH, optionalPositiveInteger, requireText } from "./model/validate";
import { isOrgDeleted } from "./model/organizations/deleted";

/**
 * Starts an exact recount of one org (both entities unless `entities` says
 * otherwise). A recount already running for a row is kept and its run id
 * returned, unless it started more than an hour ago (presumed dead) or
 * `force` is set. Deleted orgs are skipped. `schedulePages: false` leaves
 * the pages to the caller (tests and the bench drive `recountPage` by hand).
 *
 * ```sh
 * npx convex run stats:recalculateOrgStats '{"workosOrgId": "org_..."}'
 * ```
 */
export const recalculateOrgStats = internalMutation({
  args: {
    workosOrgId: v.string(),
    entities: v.optional(v.array(vStatsEntity)),
    force: v.optional(v.boolean()),
    schedulePages: v.optional(v.boolean()),
  },
  returns: v.array(vStartResult),
  handler: async (ctx, args) => {
    const workosOrgId = requireText(args.workosOrgId, "workosOrgId", MAX_ID_LENGTH);
    const registry = await getOrganization(ctx, workosOrgId);
    const entities = STATS_ENTITIES.filter((e) => args.entities?.includes(e) ?? true);
    const results = [];
    for (const entity of entities) {
      results.push(
        await startRecount(ctx, workosOrgId, entity, {
          mode: "daily",
          force: args.force,
          registryDeleted: isOrgDeleted(registry),
          schedulePages: args.schedulePages ?? true,
        }),
      );
    }
    console.log("[stats.recalculateOrgStats]", { workosOrgId, results });
    return results;
  },
});

/**
 * One page of recount `runId` of (org, entity): at most `maxDocs` documents
 * (default `DEFAULT_PAGE_DOCS`, 1,000), fewer when the transaction's read
 * budget runs out first (see `model/stats/scan.ts`). A page of a run that was
 * replaced or canceled does nothing. Pages never schedule themselves: run as
 * pool work, the pool's completion (`recountWorkDone`) continues the run;
 * called directly (tests, the bench), the caller drives the pages.
 * `scheduleNext` is accepted for older callers and ignored.
 */
export const recountPage = internalMutation({
  args: {
    workosOrgId: v.string(),
    entity: vStatsEntity,
    runId: v.string(),
    maxDocs: v.optional(v.number()),
    scheduleNext: v.optional(v.boolean()),
  },
  returns: vPageOutcome,
  handler: async (ctx, args) => {
    optionalPositiveInteger(args.maxDocs, "maxDocs");
    throwIfFaulted({ ...args, maxDocs: args.maxDocs });
    const outcome = await runRecountPage(ctx, args);
    const { status, pages, documentsCounted, documentsRead, bytesRead } = outcome;
    const page = { status, pages, documentsCounted, documentsRead, bytesRead };
    console.log("[stats.recountPage]", { ...args, ...page });
    return outcome;
  },
});

/**
 * The stats pool's completion handler for recount pages and walk steps:
 * continues a run, retries a failed page with a smaller page after a
 * backoff, marks a run failed after repeated failures (see
 * `model/stats/recount/pool.ts`).
 */
export const recountWorkDone = internalMutation({
  args: {
    workId: v.string(),
    context: vWorkContext,
    result: v.union(
      v.object({
        kind: v.literal("success"),
        returnValue: v.union(vPageOutcome, vWalkStep, v.null()),
      }),
      v.object({ kind: v.literal("failed"), error: v.string() }),
      v.object({ kind: v.literal("canceled") }),
    ),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const result: RunResult = args.result;
    await onWorkDone(ctx, args.context, result);
    return null;
  },
});

/**
 * The daily recount: creates a job (`statsRecountJobs`, see `recountStatus`),
 * walks the first page of orgs (registry, then stats rows, then a skip scan
 * of the documents; see `model/stats/recount/orgWalk.ts`) starting each
 * org's recount (a running one is kept; deleted orgs are skipped), and
 * enqueues the rest of the walk in the stats pool. Called by `crons.ts` with
 * no arguments; `phase` / `cursor` start the walk elsewhere.
 *
 * ```sh
 * npx convex run stats:recalculateAllOrgs
 * ```
 */
export const recalculateAllOrgs = internalMutation({
  args: {
    phase: v.optional(vWalkPhase),
    cursor: v.optional(v.union(v.string(), v.null())),
  },
  returns: vWalkStep,
  handler: async (ctx, args) => {
    const { jobId, step } = await startJob(ctx, "daily", {
      phase: args.phase ?? "organizations",
      cursor: args.cursor ?? null,
    });
    console.log("[stats.recalculateAllOrgs] started", { jobId, step });
    return step;
  },
});

/** One step of a job's walk over all orgs (pool work; see `recalculateAllOrgs`). */
export const recountWalkStep = internalMutation({
  args: { jobId: v.id("statsRecountJobs") },
  returns: v.union(vWalkStep, v.null()),
  handler: async (ctx, args) => {
    const step = await walkJobStep(ctx, args.jobId);
    console.log("[stats.recountWalkStep]", { jobId: args.jobId, step });
    return step;
  },
});

/**
 * Cancels the recounts of one org, or (`{}`) every recount and the running
 * daily run and migration. Each run stops within one page; live counters are
 * not touched (exact rows stay exact). `recountStatus` shows the canceled
 * counts. NOT_FOUND for an unknown org or when nothing runs.
 *
 * ```sh
 * npx convex run stats:cancelRecounts '{}'
 * npx convex run stats:cancelRecounts '{"workosOrgId": "org_..."}'
 * ```
 */
export const cancelRecounts = internalMutation({
  args: { workosOrgId: v.optional(v.string()) },
  returns: vCancelResult,
  handler: async (ctx, args) => {
    const workosOrgId =
      args.workosOrgId === undefined
        ? undefined
        : requireText(args.workosOrgId, "workosOrgId", MAX_ID_LENGTH);
    return await cancelModel(ctx, workosOrgId);
  },
});

/** The rest of a cancel-all, `CANCEL_BATCH` runs at a time (scheduled by `cancelRecounts`). */
export const cancelRecountsBatch = internalMutation({
  args: {},
  returns: v.object({ canceledRuns: v.number(), more: v.boolean() }),
  handler: async (ctx) => await cancelBatch(ctx),
});

// ---------------------------------------------------------------------------
// Operator views (logic in model/stats/status.ts)
// ---------------------------------------------------------------------------

/**
 * Recount status for operators, at a glance: the current daily run and
 * migration (rows total / finished / running / failed / canceled), rows not
 * exact, the oldest running run, alert deliveries; then per stats row its
 * last finished recount and the running one; every running recount (at most
 * `limit`); the newest drift reports (at most `limit`). Without
 * `workosOrgId`, `rows` is one page of all stats rows; pass `continueCursor`
 * back as `cursor` for the next.
 *
 * ```sh
 * npx convex run stats:recountStatus --watch
 * npx convex run stats:recountStatus '{"workosOrgId": "org_..."}'
 * ```
 */
export const recountStatus = internalQuery({
  args: {
    workosOrgId: v.optional(v.string()),
    limit: v.optional(v.number()),
    cursor: v.optional(v.union(v.string(), v.null())),
  },
  returns: vRecountStatus,
  handler: async (ctx, args) => await readRecountStatus(ctx, args),
});

/**
 * Drift reports, newest first: all orgs, or one org (optionally one entity).
 * Each lists, per differing bucket, the stored value, the actual value and
 * `delta = actual - stored` (source `recount`), or the counter that would
 * have gone negative (source `negative_counter`).
 *
 * ```sh
 * npx convex run stats:listDriftReports
 * npx convex run stats:listDriftReports '{"workosOrgId": "org_...", "entity": "loads", "limit": 50}'
 * ```
 */
export const listDriftReports = internalQuery({
  args: {
    workosOrgId: v.optional(v.string()),
    entity: v.optional(vStatsEntity),
    limit: v.optional(v.number()),
  },
  returns: v.array(vDriftReport),
  handler: async (ctx, args) => {
    const limit = requireLimit(args.limit);
    if (args.entity !== undefined && args.workosOrgId === undefined) {
      throw appError(
        "INVALID_ARGUMENT",
        "entity filters the reports of one org: pass workosOrgId.",
        {
          field: "entity",
        },
      );
    }
    return await recentDriftReports(ctx, limit, args.workosOrgId, args.entity);
  },
});
