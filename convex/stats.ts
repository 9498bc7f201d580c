/**
 * The daily exact recount and its operator views (all internal), built from
 * the stats module's definitions (`model/stats/api.ts`) with this app's
 * configuration (`model/statsConfig.ts`).
 *
 * - `recalculateOrgStats`: start the recount of one org (every counted table).
 * - `recountPage`: one page of a running recount (a work item of the
 *   `statsWorkpool`; `recountWorkDone` enqueues the next one or retries it).
 * - `recalculateAllOrgs`: the daily job (`crons.ts`): walks every org a page
 *   at a time (`recountWalkStep`, also pool work) and starts its recount.
 * - `recountStatus`, `listDriftReports`, `cancelRecounts`: for operators
 *   (arguments checked before any read; a cancel stops what was requested
 *   before it, `cancelRecountsBatch` is its continuation; docs/operations.md):
 *
 * ```sh
 * npx convex run stats:recountStatus --watch
 * npx convex run stats:recountStatus '{"workosOrgId": "org_..."}'
 * npx convex run stats:cancelRecounts '{"workosOrgId": "org_..."}'   # or '{}' for all
 * npx convex run stats:listDriftReports '{"limit": 20}'
 * npx convex run stats:recalculateOrgStats '{"workosOrgId": "org_..."}'
 * ```
 *
 * At most `STATS_MAX_PARALLELISM` (default 10) pool items run at once. How a
 * recount stays exact while writes continue: `model/stats/recount/pages.ts`.
 */
import { v } from "convex/values";
import { internalMutation, internalQuery } from "./functions";
import { alertStatus, vAlertStatus } from "./model/alerts/queue";
import { recountFunctions } from "./model/stats/api";
import { vRecountStatus } from "./model/stats/status";
import { STATS } from "./model/statsConfig";

const recount = recountFunctions(STATS);

export const recalculateOrgStats = internalMutation(recount.recalculateOrgStats);
export const recountPage = internalMutation(recount.recountPage);
export const recountWorkDone = internalMutation(recount.recountWorkDone);
export const recalculateAllOrgs = internalMutation(recount.recalculateAllOrgs);
export const recountWalkStep = internalMutation(recount.recountWalkStep);
export const cancelRecounts = internalMutation(recount.cancelRecounts);
export const cancelRecountsBatch = internalMutation(recount.cancelRecountsBatch);
export const listDriftReports = internalQuery(recount.listDriftReports);

/**
 * Recount status for operators (see `model/stats/api.ts`), with the drift
 * alert deliveries (`alerts:alertStatus`) beside it.
 */
export const recountStatus = internalQuery({
  args: recount.recountStatus.args,
  returns: v.object({ ...vRecountStatus.fields, alerts: vAlertStatus }),
  handler: async (ctx, args) => {
    const status = await recount.recountStatus.handler(ctx, args);
    return { ...status, alerts: await alertStatus(ctx, 20) };
  },
});
