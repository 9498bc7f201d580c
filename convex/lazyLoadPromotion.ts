/**
 * Lazy promotion and the periodic cleanup.
 *
 * - `checkAndPromoteLoad`: prices one `UNMAPPED` load when a lane now applies.
 * - `periodicCleanup` (cron, `crons.ts`): restarts lane backfills that are due
 *   (a chain of scheduled batches that died, or a lane that has just come into
 *   effect) and expires `Open` loads whose pickup passed more than a grace
 *   period ago. Both are driven by indexes and bounded per transaction, and
 *   continue in scheduled batches. Every item handled leaves its index range
 *   (an expired load is no longer `Open`, deleted orgs' loads included; a
 *   restarted lane gets a new due time), so with nothing to do the cleanup
 *   reads no document.
 *
 * Why catch-up goes through lanes: unmapped loads only become priceable when
 * a lane appears or comes into effect, and both are lane events. Keeping a
 * "due" time on the lane (`lanes.backfillDueAt`) lets the cleanup find the
 * work with one index range that is empty when there is none, instead of
 * walking unmapped loads (which would read every unmapped load on every run).
 */
import { v } from "convex/values";
import { internalMutation, mutation } from "./functions";
import { requireOrgMember } from "./lib/auth";
import { checkAndPromote, vPromotionResult } from "./model/lanes/promotion";
import {
  continueExpiry,
  continueLaneRestarts,
  runPeriodicCleanup,
  vCleanupResult,
  vExpiryContinuationArgs,
  vExpiryContinuationResult,
  vRestartResult,
} from "./model/loads/cleanup";

/**
 * Prices one load of the caller's org if it is `UNMAPPED` and a lane now
 * applies (see `model/lanes/rules.ts` for the matching rules): the load becomes
 * `CONTRACT`/`SPOT` and its `MISSING_DATA` invoice `DRAFT` at the lane's
 * rate. Promotion never undoes a void: a load without a live invoice whose
 * invoice was voided is priced but gets no new invoice, and the answer says
 * why (`invoiceNotCreated: { reason: "INVOICE_VOIDED", voidedInvoiceId }`).
 * Otherwise a no-op (`promoted: false`). At most 3 lane lookups. Stored
 * values the code would not write never fail it: such lanes are skipped, such
 * a load is not priced (a bad `pickupAt` is disregarded), and `skippedInvalid`
 * counts them (docs/hardening.md).
 */
export const checkAndPromoteLoad = mutation({
  args: { workosOrgId: v.string(), loadId: v.id("loads") },
  returns: vPromotionResult,
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    return await checkAndPromote(ctx, args.workosOrgId, args.loadId);
  },
});

/**
 * The cron entry. Runs one batch of each job and schedules continuations
 * while work remains:
 *
 * - expiry: `Open` loads with a pickup time more than `graceMs` ago (default:
 *   `LOAD_EXPIRY_GRACE_HOURS`, else 24 h) become `Expired`, up to
 *   `EXPIRY_BATCH_SIZE` per transaction;
 * - catch-up promotion: up to `LANE_RESTARTS_PER_RUN` lanes whose
 *   `backfillDueAt` has passed get a new backfill run (scheduled); a due
 *   lane the code would not have written has its backfill ended instead
 *   (`lanesSkippedInvalid`), so it cannot fail every run.
 *
 * ```sh
 * npx convex run lazyLoadPromotion:periodicCleanup '{}'
 * npx convex run lazyLoadPromotion:periodicCleanup '{"graceMs": 3600000}'
 * ```
 */
export const periodicCleanup = internalMutation({
  args: { graceMs: v.optional(v.number()) },
  returns: vCleanupResult,
  handler: async (ctx, args) => await runPeriodicCleanup(ctx, args.graceMs),
});

/**
 * Continues the expiry of one cleanup run from `cursor`, with that run's
 * `cutoff`, scheduling itself while candidates remain.
 */
export const expireStaleLoads = internalMutation({
  args: vExpiryContinuationArgs,
  returns: vExpiryContinuationResult,
  handler: async (ctx, args) => await continueExpiry(ctx, args),
});

/** Restarts the next due lane backfills, scheduling itself while more are due. */
export const restartDueLaneBackfills = internalMutation({
  args: {},
  returns: vRestartResult,
  handler: async (ctx) => await continueLaneRestarts(ctx),
});
