/**
 * Lane functions: create a lane and promote the org's unmapped loads it
 * prices (first batch in the same transaction, the rest in scheduled
 * batches), and the scheduled continuation of such a backfill. The logic
 * lives in `model/lanes/backfill.ts` and `model/lanes/rules.ts`.
 */
import { internalMutation, mutation } from "./functions";
import { requireBilling, requireOrgMember } from "./lib/auth";
import {
  continueBackfill,
  createLaneWithBackfill,
  vContinueBackfillArgs,
  vContinueBackfillResult,
  vCreateLaneArgs,
  vCreateLaneResult,
} from "./model/lanes/backfill";
import { assertOrgActive } from "./model/organizations/registry";

/**
 * Creates a lane for the caller's org and promotes the org's `UNMAPPED` loads
 * it prices to `CONTRACT` (exact lane) or `SPOT` (wildcard lane), moving
 * their invoices `MISSING_DATA` → `DRAFT` at `rateCents` (a load whose
 * invoice was voided gets no new invoice; see `promoteLoad`).
 *
 * - `origin`/`destination`: a location, or `"*"` at one end (not both).
 * - `rateCents`: integer cents, 1..`MAX_AMOUNT_CENTS` ($1,000,000.00).
 * - `effectiveFrom` (default now) / `effectiveTo` (optional, exclusive), ms.
 *   A load is matched at its pickup time, or now when it has none.
 * - `customerId`: the lane then applies to that customer's loads only.
 *
 * The first `BACKFILL_BATCH_SIZE` unmapped loads in the lane's index range
 * are handled in this transaction; when more remain the rest continue in
 * scheduled batches (`backfillComplete: false`; progress on `lane.backfill`).
 *
 * Needs a billing permission (`BILLING_PERMISSIONS`) on top of org
 * membership: a lane's rate prices invoices. Refuses a deleted org even when
 * no load is promoted (the lane itself is not counted, so the stats flush
 * would not see it).
 *
 * Stored lanes the code would not have written (a rate of NaN, dates it
 * refuses, ...) neither price the backfilled loads nor count as overlapping:
 * a lane can replace one (`skippedInvalid` counts those met; docs/hardening.md).
 *
 * @throws `MISSING_PERMISSION` without the billing permission; `ORG_DELETED`
 *   for a deleted org; `ALREADY_EXISTS` for a lane with the same ends and
 *   customer whose effective period overlaps; `INVALID_ARGUMENT` for `* → *`,
 *   a bad rate, bad dates or a place name with `|` or control characters.
 */
export const createLaneAndBackfill = mutation({
  args: vCreateLaneArgs,
  returns: vCreateLaneResult,
  handler: async (ctx, args) => {
    const caller = await requireOrgMember(ctx, args.workosOrgId);
    requireBilling(caller);
    await assertOrgActive(ctx, args.workosOrgId);
    return await createLaneWithBackfill(ctx, args);
  },
});

/**
 * Runs the next batch of a lane's backfill and schedules the one after while
 * loads remain. A call for a run that is not the lane's current running one
 * (restarted, finished, lane deleted) does nothing (`stale`), so a duplicate
 * chain dies out after one read. For a deleted org the backfill is abandoned
 * (logged, `done`, no longer due) rather than run or failed: the stats flush
 * does not refuse internal mutations, and a throw would be retried by every
 * cleanup run. For the same reason a lane the code would not have written
 * ends its backfill (`done`, `skippedInvalid: 1`) instead of failing it.
 *
 * ```sh
 * npx convex run lanes:continueLaneBackfill '{"laneId": "...", "runId": 1}'
 * ```
 */
export const continueLaneBackfill = internalMutation({
  args: vContinueBackfillArgs,
  returns: vContinueBackfillResult,
  handler: async (ctx, args) => await continueBackfill(ctx, args),
});
