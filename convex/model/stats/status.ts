/**
 * Operator views of the counters: per-row recount status, running recounts
 * and drift reports (`stats:recountStatus`, `stats:listDriftReports`).
 * Read-only; every range is bounded by `limit`.
 */
import { v, type Infer } from "convex/values";
import { appError } from "../../lib/errors";
import type { QueryCtx } from "../ctx";
import { STATS_ENTITIES, vStatsEntity, type StatsEntity } from "../enums";
import { getStatsRow, type StatsRow } from "./rows";
import { getRecountState, type RecountState } from "./shadow";
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

function rowStatus(row: StatsRow, state: RecountState | null): RowStatus {
  return {
    workosOrgId: row.workosOrgId,
    entity: row.entity,
    exact: row.exact,
    orgDeleted: row.orgDeleted === true,
    lastRecount: row.lastRecount ?? null,
    running:
      state === null
        ? null
        : {
            runId: state.runId,
            startedAt: state.startedAt,
            cursor: state.cursor,
            pages: state.pages,
            documentsCounted: state.documentsCounted,
          },
  };
}

/** The status of `row`, reading its recount state only when the row says one runs. */
async function statusOf(ctx: Pick<QueryCtx, "db">, row: StatsRow): Promise<RowStatus> {
  const state =
    row.recounting === true ? await getRecountState(ctx.db, row.workosOrgId, row.entity) : null;
  return rowStatus(row, state);
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
    const statuses = await Promise.all(rows.map((row) => statusOf(ctx, row)));
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
  // Oldest runs first: a stuck one shows at the top.
  const states = await ctx.db.query("statsRecounts").withIndex("by_started_at").take(limit);
  const running = [];
  for (const state of states) {
    const row = await getStatsRow(ctx.db, state.workosOrgId, state.entity);
    if (row !== null) running.push(rowStatus(row, state));
  }
  return {
    rows: await Promise.all(page.page.map((row) => statusOf(ctx, row))),
    continueCursor: page.isDone ? null : page.continueCursor,
    running,
    recentDrift,
  };
}
