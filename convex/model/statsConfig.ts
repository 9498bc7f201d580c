/**
 * This app's configuration of the stats module (`model/stats/`): its counted
 * tables (`counted.ts`), its organization registry for the recount's walk,
 * its drift alerts as the subscriber to drift reports and failed runs, and
 * the recount pool's parallelism from `STATS_MAX_PARALLELISM`. The module
 * imports none of these; it calls what it is given here.
 */
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "./ctx";
import { readEnv } from "../lib/env";
import { enqueueDriftAlert, enqueueRunFailedAlert } from "./alerts/queue";
import { COUNTED } from "./counted";
import { getOrganization } from "./organizations/registry";
import { isOrgDeleted } from "./organizations/deleted";
import { defineStatsConfig } from "./stats/config";
import type { StatsMutationCtx } from "./stats/ctx";
import { DEFAULT_MAX_PARALLELISM } from "./stats/recount/enqueue";

/** The environment variable that sets the recount pool's parallelism (1..100). */
export const MAX_PARALLELISM_ENV = "STATS_MAX_PARALLELISM";

/**
 * The pool's parallelism: `STATS_MAX_PARALLELISM` when set, else 10.
 *
 * @throws an `Error` naming the variable when it is not an integer from 1 to
 *   100 (a configuration mistake the operator must see).
 */
export function maxParallelism(): number {
  const raw = readEnv(MAX_PARALLELISM_ENV);
  if (raw === null) return DEFAULT_MAX_PARALLELISM;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new Error(`${MAX_PARALLELISM_ENV} must be an integer from 1 to 100, got ${raw}`);
  }
  return n;
}

// The module hands subscribers its own context type; this app's code takes
// the generated one, which is the same object.
const appCtx = (ctx: StatsMutationCtx) => ctx as unknown as MutationCtx;

/** The stats module, configured for this app. */
export const STATS = defineStatsConfig({
  tables: COUNTED,
  registry: {
    page: async (db, cursor, numItems) => {
      const page = await db.query("organizations").paginate({ numItems, cursor });
      return {
        orgs: page.page.map((org) => ({
          workosOrgId: String(org.workosOrgId),
          deleted: org.status === "deleted",
        })),
        continueCursor: page.continueCursor,
        isDone: page.isDone,
      };
    },
    lookup: async (db, workosOrgId) => {
      const org = await getOrganization({ db: db as MutationCtx["db"] }, workosOrgId);
      return org === null ? null : { workosOrgId, deleted: isOrgDeleted(org) };
    },
  },
  onDriftReport: async (ctx, reportId) => {
    await enqueueDriftAlert(appCtx(ctx), reportId as Id<"statsDriftReports">);
  },
  onRunFailed: async (ctx, failure) => {
    await enqueueRunFailedAlert(
      appCtx(ctx),
      failure as Parameters<typeof enqueueRunFailedAlert>[1],
    );
  },
  maxParallelism,
});
