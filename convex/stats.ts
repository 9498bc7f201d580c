/**
 * The daily exact recount and its operator views (all internal).
 *
 * - `recalculateOrgStats`: start the recount of one org (both entities).
 * - `recountPage`: one page of a running recount; schedules the next one.
 * - `recalculateAllOrgs`: the daily job (`crons.ts`): walks every org a page
 *   at a time and starts its recount.
 * - `recountStatus`, `listDriftReports`: what operators read from the CLI:
 *
 * ```sh
 * npx convex run stats:recountStatus '{"workosOrgId": "org_..."}'
 * npx convex run stats:listDriftReports '{"limit": 20}'
 * npx convex run stats:recalculateOrgStats '{"workosOrgId": "org_..."}'
 * ```
 *
 * How a recount stays exact while writes continue: `model/stats/recount/pages.ts`.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation, internalQuery } from "./functions";
import { appError } from "./lib/errors";
import { STATS_ENTITIES, vStatsEntity } from "./model/enums";
import { getOrganization } from "./model/organizations/registry";
import { vWalkPhase, vWalkStep, walkAndStart } from "./model/stats/recount/orgWalk";
import { runRecountPage, vPageOutcome } from "./model/stats/recount/pages";
import { startRecount, vStartResult } from "./model/stats/recount/start";
import {
  recentDriftReports,
  recountStatus as readRecountStatus,
  requireLimit,
  vDriftReport,
  vRecountStatus,
} from "./model/stats/status";
import { MAX_ID_LENGTH, optionalPositiveInteger, requireText } from "./model/validate";

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
          registryDeleted: registry?.status === "deleted",
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
 * budget runs out first (see `model/stats/scan.ts`). Schedules the next page unless
 * `scheduleNext` is false. A page of a run that was replaced does nothing.
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
    const outcome = await runRecountPage(ctx, args);
    const more = outcome.status === "continued" || outcome.status === "restarted";
    if (more && args.scheduleNext !== false) {
      await ctx.scheduler.runAfter(0, internal.stats.recountPage, {
        workosOrgId: args.workosOrgId,
        entity: args.entity,
        runId: outcome.runId,
        maxDocs: args.maxDocs,
      });
    }
    const { status, pages, documentsCounted, documentsRead, bytesRead } = outcome;
    const page = { status, pages, documentsCounted, documentsRead, bytesRead };
    console.log("[stats.recountPage]", { ...args, ...page });
    return outcome;
  },
});

/**
 * The daily recount: walks every org (registry, then stats rows, then a skip
 * scan of the documents; see `model/stats/recount/orgWalk.ts`) a page at a time, starts the
 * recount of each (a running one is kept), and schedules itself for the next
 * page. Deleted orgs are skipped. Called by `crons.ts` with no arguments.
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
    const step = await walkAndStart(ctx, "daily", {
      phase: args.phase ?? "organizations",
      cursor: args.cursor ?? null,
    });
    if (step.next !== null) {
      await ctx.scheduler.runAfter(0, internal.stats.recalculateAllOrgs, step.next);
    }
    console.log("[stats.recalculateAllOrgs] step", step);
    return step;
  },
});

// ---------------------------------------------------------------------------
// Operator views (logic in model/stats/status.ts)
// ---------------------------------------------------------------------------

/**
 * Recount status for operators: per stats row, its last finished recount and
 * the running one; every running recount (at most `limit`); the newest drift
 * reports (at most `limit`). Without `workosOrgId`, `rows` is one page of all
 * stats rows; pass `continueCursor` back as `cursor` for the next.
 *
 * ```sh
 * npx convex run stats:recountStatus
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
