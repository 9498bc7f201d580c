/**
 * The stats module's recount, registered at the paths the module calls
 * (`stats:recountPage`, `stats:recountWorkDone`, `stats:recountWalkStep`,
 * `stats:recalculateOrgStats`, `stats:cancelRecountsBatch`). The old runbook
 * paths keep working:
 *
 * ```sh
 * npx convex run stats:recalculateOrgStats '{"workosOrgId": "org_..."}'   # one org, exact
 * npx convex run stats:recalculateAllOrgs                                 # every org (the daily cron)
 * npx convex run stats:recountStatus                                      # what is running, what drifted
 * ```
 */
import { recountFunctions } from "../../../convex/model/stats/api";
import { internalMutation, internalQuery } from "./functions";
import { STATS } from "./model/statsConfig";

const recount = recountFunctions(STATS);

export const recalculateOrgStats = internalMutation(recount.recalculateOrgStats);
export const recalculateAllOrgs = internalMutation(recount.recalculateAllOrgs);
export const recountPage = internalMutation(recount.recountPage);
export const recountWorkDone = internalMutation(recount.recountWorkDone);
export const recountWalkStep = internalMutation(recount.recountWalkStep);
export const cancelRecounts = internalMutation(recount.cancelRecounts);
export const cancelRecountsBatch = internalMutation(recount.cancelRecountsBatch);
export const recountStatus = internalQuery(recount.recountStatus);
export const listDriftReports = internalQuery(recount.listDriftReports);
