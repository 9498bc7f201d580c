/**
 * Seeding the counters of every org (docs/adopting.md, step 9): an exact
 * recount of each stats row that is missing or not exact, in the stats
 * workpool, while writes continue. The module calls `seedStep` and
 * `startDryRun` at these paths.
 *
 * ```sh
 * npx convex run migrations/initializeOrgStats:verifyStats      # report only: what seeding would change
 * npx convex run migrations/initializeOrgStats:dryRunReport     # that report (`finished` when done)
 * npx convex run migrations/initializeOrgStats:initialize       # seed (same as `run`)
 * ```
 */
import { v } from "convex/values";
import { migrationFunctions } from "../../../../convex/model/stats/api";
import { internalAction, internalMutation, internalQuery } from "../functions";
import { STATS } from "../model/statsConfig";

const migration = migrationFunctions(STATS);

export const seedStep = internalMutation(migration.seedStep);
export const startDryRun = internalMutation(migration.startDryRun);
export const dryRunReport = internalQuery(migration.dryRunReport);
export const run = internalAction(migration.run);

/** The old runbook's `initialize`: seeds every org's counters (the same function as `run`). */
export const initialize = internalAction(migration.run);

/**
 * The old runbook's `verifyStats`: starts the report-only run, which counts
 * every org as the seeding would and writes no counter. Returns its id; read
 * the report with `dryRunReport`.
 */
export const verifyStats = internalAction({
  args: { maxDocs: v.optional(v.number()) },
  returns: v.id("statsRecountJobs"),
  handler: async (ctx, args) => {
    const started = await migration.run.handler(ctx, { dryRun: true, maxDocs: args.maxDocs });
    if (!started.dryRun) throw new Error("[migrations.verifyStats] expected a dry run");
    return started.dryRunId;
  },
});
