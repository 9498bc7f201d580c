/**
 * Operator views of the counters: per-row recount status, running recounts
 * and drift reports (`stats:recountStatus`, `stats:listDriftReports`).
 * Read-only; every range is bounded by `limit`.
 */
import { v, type Infer } from "convex/values";
import { appError } from "../../lib/errors";
import type { QueryCtx } from "../ctx";
import { STATS_ENTITIES, vStatsEntity, type StatsEntity } from "../enums";
import type { StatsRow } from "./rows";
import { vDriftReportFields, vLastRecount } from "./tables";

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
export type RowStatus = Infer<typeof vRowStatus>;

function rowStatus(row: StatsRow): RowStatus {
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
export async function recentDriftReports(
  ctx: Pick<QueryCtx, "db">,
  limit: number,
  workosOrgId: string | undefined,
  entity: StatsEntity | undefined,
): Promise<DriftReport[]> {
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

/** What `recountStatus` returns. */
export const vRecountStatus = v.object({
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
  ctx: Pick<QueryCtx, "db">,
  args: { workosOrgId?: string; limit?: number; cursor?: string | null },
): Promise<RecountStatus> {
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
}
