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
import { literals } from "convex-helpers/validators";
import { doc } from "convex-helpers/validators";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { QueryCtx } from "./_generated/server";
import { internalMutation, internalQuery } from "./functions";
import { appError } from "./lib/errors";
import { STATS_ENTITIES, vStatsEntity, type StatsEntity } from "./model/enums";
import { vWalkPhase, walkAndStart } from "./model/stats/recount/orgWalk";
import { runRecountPage } from "./model/stats/recount/pages";
import { getOrganization } from "./model/organizations/registry";
import { startRecount } from "./model/stats/recount/start";
import { MAX_ID_LENGTH, optionalPositiveInteger, requireText } from "./model/validate";
import schema, { vLastRecount } from "./schema";
import type { StatsRow } from "./stats_helpers";

const vDriftReport = doc(schema, "statsDriftReports");
const vDriftBucket = vDriftReport.fields.buckets.element;

const vStartResult = v.object({
  entity: vStatsEntity,
  status: literals("started", "running", "skipped"),
  runId: v.union(v.string(), v.null()),
  reason: v.union(literals("org_deleted", "already_exact"), v.null()),
});

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

const vPageOutcome = v.object({
  status: literals("continued", "finished", "restarted", "superseded", "abandoned"),
  runId: v.string(),
  pages: v.number(),
  documentsCounted: v.number(),
  lookahead: v.number(),
  documentsRead: v.number(),
  bytesRead: v.number(),
  differences: v.array(vDriftBucket),
  driftReported: v.boolean(),
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
    console.log("[stats.recountPage]", {
      workosOrgId: args.workosOrgId,
      entity: args.entity,
      runId: args.runId,
      status: outcome.status,
      pages: outcome.pages,
      documentsCounted: outcome.documentsCounted,
      documentsRead: outcome.documentsRead,
      bytesRead: outcome.bytesRead,
    });
    return outcome;
  },
});

const vWalkPosition = v.object({ phase: vWalkPhase, cursor: v.union(v.string(), v.null()) });
/** Result of one step of a walk over all orgs. */
export const vWalkStep = v.object({
  position: vWalkPosition,
  targets: v.number(),
  started: v.number(),
  running: v.number(),
  skipped: v.number(),
  next: v.union(vWalkPosition, v.null()),
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
// Operator views
// ---------------------------------------------------------------------------

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

function requireLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw appError("INVALID_ARGUMENT", `limit must be an integer from 1 to ${MAX_LIMIT}.`, {
      field: "limit",
    });
  }
  return limit;
}

const vRowStatus = v.object({
  workosOrgId: v.string(),
  entity: vStatsEntity,
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
    }),
    v.null(),
  ),
});

function rowStatus(row: StatsRow) {
  const r = row.recount;
  return {
    workosOrgId: row.workosOrgId,
    entity: row.entity,
    exact: row.exact,
    orgDeleted: row.orgDeleted === true,
    lastRecount: row.lastRecount ?? null,
    running:
      r === undefined
        ? null
        : {
            runId: r.runId,
            startedAt: r.startedAt,
            cursor: r.cursor,
            pages: r.pages,
            documentsCounted: r.documentsCounted,
          },
  };
}

/** Newest drift reports, optionally of one org (and entity), at most `limit`. */
async function recentDriftReports(
  ctx: Pick<QueryCtx, "db">,
  limit: number,
  workosOrgId: string | undefined,
  entity: StatsEntity | undefined,
) {
  if (workosOrgId === undefined) {
    return await ctx.db
      .query("statsDriftReports")
      .withIndex("by_detected_at")
      .order("desc")
      .take(limit);
  }
  const perEntity = [];
  for (const e of entity === undefined ? STATS_ENTITIES : [entity]) {
    perEntity.push(
      ...(await ctx.db
        .query("statsDriftReports")
        .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId).eq("entity", e))
        .order("desc")
        .take(limit)),
    );
  }
  return perEntity.sort((a, b) => b.detectedAt - a.detectedAt).slice(0, limit);
}

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
  returns: v.object({
    rows: v.array(vRowStatus),
    continueCursor: v.union(v.string(), v.null()),
    running: v.array(vRowStatus),
    recentDrift: v.array(vDriftReport),
  }),
  handler: async (ctx, args) => {
    const limit = requireLimit(args.limit);
    const recentDrift = await recentDriftReports(ctx, limit, args.workosOrgId, undefined);
    const workosOrgId = args.workosOrgId;
    if (workosOrgId !== undefined) {
      const rows = await ctx.db
        .query("organizationStats")
        .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId))
        .take(STATS_ENTITIES.length);
      const statuses = rows.map(rowStatus);
      return {
        rows: statuses,
        continueCursor: null,
        running: statuses.filter((s) => s.running !== null),
        recentDrift,
      };
    }
    const page = await ctx.db
      .query("organizationStats")
      .paginate({ numItems: limit, cursor: args.cursor ?? null });
    // Rows without a running recount have no `recount.startedAt` and sort
    // before every number, so this range holds exactly the running ones.
    const running = await ctx.db
      .query("organizationStats")
      .withIndex("by_recount_started", (q) => q.gte("recount.startedAt", 0))
      .take(limit);
    return {
      rows: page.page.map(rowStatus),
      continueCursor: page.isDone ? null : page.continueCursor,
      running: running.map(rowStatus),
      recentDrift,
    };
  },
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
