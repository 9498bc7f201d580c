/**
 * Migration: seed `organizationStats` for every organization that existed
 * before the counters, by running the exact recount of each row that is
 * missing or not yet exact (definitions in `model/stats/api.ts`).
 *
 * ```sh
 * npx convex run migrations/initializeOrgStats:run '{"dryRun": true}'   # report only, writes no counters
 * npx convex run migrations/initializeOrgStats:dryRunReport             # its report (`finished` when done)
 * npx convex run migrations/initializeOrgStats:run                      # seed (runs in the background)
 * npx convex run stats:recountStatus                                    # watch: running recounts
 * ```
 *
 * - Orgs are found in the registry, in existing stats rows, and by a skip
 *   scan of each counted table's org index (one read per distinct org), so
 *   orgs with documents but neither a registry entry nor a stats row are
 *   seeded too (`model/stats/recount/orgWalk.ts`).
 * - Idempotent: rows that are exact are skipped, so a second run writes
 *   nothing; a running recount is left to finish.
 * - Resumable: every walk step logs `next`; `run '{"phase": ..., "cursor": ...}'`
 *   continues from there.
 * - Dry run: the same walk and the same recount pages in report mode: each
 *   row is counted page by page in the stats workpool, and its last page
 *   compares instead of swapping; the report lives on the dry run's job.
 *   Its numbers are not a snapshot: writes landing between pages can shift
 *   them slightly (the real run is exact).
 */
import { internalAction, internalMutation, internalQuery } from "../functions";
import { migrationFunctions } from "../model/stats/api";
import { STATS } from "../model/statsConfig";

const migration = migrationFunctions(STATS);

export const seedStep = internalMutation(migration.seedStep);
export const startDryRun = internalMutation(migration.startDryRun);
export const dryRunReport = internalQuery(migration.dryRunReport);
export const run = internalAction(migration.run);
