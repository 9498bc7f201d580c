/**
 * FourKites syncs.
 *
 * Scheduled, per org (the integration in `fourKitesIntegrations`):
 * - `dispatchDueSyncs` (cron, every minute) enqueues one `syncIntegration`
 *   per due integration on the `fourKitesWorkpool` workpool;
 * - `syncIntegration` pages through the org's FourKites API and imports
 *   (`model/fourKites/sync.ts`); `beginSyncRun`, `commitSyncPage` and
 *   `finishSyncRun` keep its lease, resume point and summary;
 * - `status`: sync health of every integration, for operators.
 *
 * Legacy, one-shot (kept for the demo and operators until they move to
 * integrations; deprecated):
 *
 * `syncFromFourKites`: pulls shipment pages from the FourKites API with one
 * set of credentials from the environment (`FOURKITES_API_BASE_URL`,
 * `FOURKITES_API_KEY`), validates each shipment, and imports the valid ones
 * in batches; invalid ones are reported and do not hold back the others.
 * Re-running it is safe: imports are idempotent. See
 * `model/fourKites/legacySync.ts`.
 */
import { Workpool } from "@convex-dev/workpool";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { components } from "./lib/components";
import { listSyncHealth, vSyncHealthList } from "./model/fourKites/integrations";
import { runLegacySync, vLegacySyncResult } from "./model/fourKites/legacySync";
import {
  beginRun,
  commitPage,
  dispatchDue,
  finishRun,
  runSync,
  vBegunRun,
  vRunEnd,
  vSyncRunResult,
  MAX_PAGES_PER_RUN,
  type SyncRunResult,
} from "./model/fourKites/sync";
import { appError } from "./lib/errors";

/**
 * Pulls and imports FourKites shipments for one org.
 *
 * ```sh
 * npx convex run fourKitesSync:syncFromFourKites '{"workosOrgId": "org_..."}'
 * npx convex run fourKitesSync:syncFromFourKites \
 *   '{"workosOrgId": "org_...", "updatedSince": "2024-05-01T00:00:00Z", "maxPages": 5}'
 * ```
 *
 * @throws `ORG_DELETED` for a deleted org (before fetching anything); on
 *   missing configuration, an HTTP error or a malformed page envelope
 *   (`INVALID_PAYLOAD`); batches imported before that stay imported.
 */
export const syncFromFourKites = internalAction({
  args: {
    workosOrgId: v.string(),
    /** Only shipments updated since this ISO time (passed to FourKites). */
    updatedSince: v.optional(v.string()),
    maxPages: v.optional(v.number()),
  },
  returns: vLegacySyncResult,
  handler: async (ctx, args) => await runLegacySync(ctx, args),
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
  args: {
    workosOrgId: v.string(),
    /** Pages this run may read (default `MAX_PAGES_PER_RUN`); the pass continues next run. */
    maxPages: v.optional(v.number()),
  },
  returns: vSyncRunResult,
  handler: async (ctx, args): Promise<SyncRunResult> => {
    const maxPages = args.maxPages ?? MAX_PAGES_PER_RUN;
    if (!Number.isSafeInteger(maxPages) || maxPages < 1 || maxPages > MAX_PAGES_PER_RUN) {
      throw appError(
        "INVALID_ARGUMENT",
        `maxPages must be an integer from 1 to ${MAX_PAGES_PER_RUN}.`,
        {
          field: "maxPages",
        },
      );
    }
    return await runSync(ctx, args.workosOrgId, maxPages);
  },
});

/** Takes the run's lease and returns its settings (credentials encrypted). */
export const beginSyncRun = internalMutation({
  args: { workosOrgId: v.string(), runId: v.string() },
  returns: vBegunRun,
  handler: async (ctx, args) => await beginRun(ctx, args.workosOrgId, args.runId, Date.now()),
});

/** Records an imported page; false when the run lost its lease. */
export const commitSyncPage = internalMutation({
  args: { workosOrgId: v.string(), runId: v.string(), page: v.number() },
  returns: v.boolean(),
  handler: async (ctx, args) =>
    await commitPage(ctx, args.workosOrgId, args.runId, args.page, Date.now()),
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
  handler: async (ctx, args) => await listSyncHealth(ctx, args.workosOrgId, Date.now()),
});
