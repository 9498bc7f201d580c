/**
 * FourKites syncs, per org (the integration in `fourKitesIntegrations`):
 * - `dispatchDueSyncs` (cron, every minute) enqueues one `syncIntegration`
 *   per due integration on the `fourKitesWorkpool` workpool;
 * - `syncIntegration` pages through the org's FourKites API and imports
 *   (`model/fourKites/syncRun.ts`); `beginSyncRun`, `commitSyncPage` and
 *   `finishSyncRun` keep its lease, resume point and summary;
 * - `syncFromFourKites`: the same run, for operators, refused with a coded
 *   error when it cannot run;
 * - `status`: sync health of every integration, for operators.
 */
import { Workpool } from "@convex-dev/workpool";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { components } from "./lib/components";
import { vPassCheckpoint } from "./model/fourKites/fields";
import { listSyncHealth, vSyncHealthList } from "./model/fourKites/integrations";
import {
  assertOperatorRunAllowed,
  beginRun,
  commitPage,
  dispatchDue,
  finishRun,
  vBegunRun,
  vRunEnd,
} from "./model/fourKites/sync";
import {
  MAX_PAGES_PER_RUN,
  runSync,
  vSyncRunResult,
  type SyncRunResult,
} from "./model/fourKites/syncRun";
import { optionalOrgId, optionalPositiveInteger, requireOrgId } from "./model/validate";

/** The run arguments checked: the org id, and the pages a run may move past (or the default). */
function checkRunArgs(args: { workosOrgId: string; maxPages?: number }) {
  return {
    workosOrgId: requireOrgId(args.workosOrgId),
    maxPages:
      optionalPositiveInteger(args.maxPages, "maxPages", MAX_PAGES_PER_RUN) ?? MAX_PAGES_PER_RUN,
  };
}

const vRunArgs = {
  workosOrgId: v.string(),
  /** Pages this run may move past (default `MAX_PAGES_PER_RUN`); the pass continues next run. */
  maxPages: v.optional(v.number()),
};

/**
 * Runs the org's own FourKites integration now, for operators: the same run
 * as the scheduled `syncIntegration` (same pass, lease, checks and summary;
 * it continues a pass in progress), after checks that refuse it before
 * anything is fetched.
 *
 * ```sh
 * npx convex run fourKitesSync:syncFromFourKites '{"workosOrgId": "org_..."}'
 * npx convex run fourKitesSync:syncFromFourKites '{"workosOrgId": "org_...", "maxPages": 5}'
 * ```
 *
 * Returns the run's result (`skipped` with `reason: "running"` while another
 * run holds the lease).
 *
 * @throws `ORG_DELETED`; `NOT_FOUND` (`reason`: `unknown_org`, or
 *   `no_integration` for a known org without one); `INTEGRATION_DISABLED`;
 *   `INVALID_ARGUMENT` for `workosOrgId` or `maxPages`.
 */
export const syncFromFourKites = internalAction({
  args: vRunArgs,
  returns: vSyncRunResult,
  handler: async (ctx, args): Promise<SyncRunResult> => {
    const { workosOrgId, maxPages } = checkRunArgs(args);
    await ctx.runQuery(internal.fourKitesSync.checkOperatorRun, { workosOrgId });
    return await runSync(ctx, workosOrgId, maxPages);
  },
});

/** The checks of `syncFromFourKites` (see `assertOperatorRunAllowed`). */
export const checkOperatorRun = internalQuery({
  args: { workosOrgId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await assertOperatorRunAllowed(ctx, args.workosOrgId);
    return null;
  },
});

// ------------------------------------------------------------ scheduled syncs

/**
 * The pool FourKites syncs run on: its own, so slow external HTTP never
 * holds the recount's slots, and at most 4 orgs sync at once.
 */
const fourKitesPool = new Workpool(components.fourKitesWorkpool, { maxParallelism: 4 });

/**
 * Cron: enqueues one sync per due integration and moves its next due time.
 *
 * ```sh
 * npx convex run fourKitesSync:dispatchDueSyncs
 * ```
 */
export const dispatchDueSyncs = internalMutation({
  args: {},
  returns: v.object({ enqueued: v.number(), busy: v.number(), more: v.boolean() }),
  handler: async (ctx) =>
    await dispatchDue(ctx, Date.now(), async (workosOrgId) => {
      await fourKitesPool.enqueueAction(ctx, internal.fourKitesSync.syncIntegration, {
        workosOrgId,
      });
    }),
});

/**
 * One sync run of the org's integration (see `runSync`). Safe to call by
 * hand: it skips when another run holds the lease.
 *
 * ```sh
 * npx convex run fourKitesSync:syncIntegration '{"workosOrgId": "org_..."}'
 * ```
 */
export const syncIntegration = internalAction({
  args: vRunArgs,
  returns: vSyncRunResult,
  handler: async (ctx, args): Promise<SyncRunResult> => {
    const { workosOrgId, maxPages } = checkRunArgs(args);
    return await runSync(ctx, workosOrgId, maxPages);
  },
});

/** Takes the run's lease and returns its settings (credentials encrypted). */
export const beginSyncRun = internalMutation({
  args: { workosOrgId: v.string(), runId: v.string() },
  returns: vBegunRun,
  handler: async (ctx, args) => await beginRun(ctx, args.workosOrgId, args.runId, Date.now()),
});

/** Records an imported page and the pass's checkpoint; false when the run lost its lease. */
export const commitSyncPage = internalMutation({
  args: {
    workosOrgId: v.string(),
    runId: v.string(),
    page: v.number(),
    checkpoint: vPassCheckpoint,
  },
  returns: v.boolean(),
  handler: async (ctx, args) =>
    await commitPage(ctx, args.workosOrgId, args.runId, args.page, args.checkpoint, Date.now()),
});

/** Ends a run: summary, error, watermark, lease. */
export const finishSyncRun = internalMutation({
  args: { workosOrgId: v.string(), runId: v.string(), end: vRunEnd },
  returns: v.null(),
  handler: async (ctx, args) => {
    await finishRun(ctx, args.workosOrgId, args.runId, args.end, Date.now());
    return null;
  },
});

/**
 * Operator view of sync health: every integration (or one org's), with its
 * last run, last error, next due time and any pass in progress. Never
 * credentials.
 *
 * ```sh
 * npx convex run fourKitesSync:status
 * npx convex run fourKitesSync:status '{"workosOrgId": "org_..."}'
 * ```
 */
export const status = internalQuery({
  args: { workosOrgId: v.optional(v.string()) },
  returns: vSyncHealthList,
  handler: async (ctx, args) =>
    await listSyncHealth(ctx, optionalOrgId(args.workosOrgId), Date.now()),
});
