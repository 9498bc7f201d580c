/**
 * Lazy promotion of one load: `lazyLoadPromotion.checkAndPromoteLoad` prices
 * an `UNMAPPED` load when a lane now applies (matching rules in `rules.ts`,
 * the promotion rule in `promoteLoad`). Stored values the code would not have
 * written (on the load or on a lane) never fail it: see `loadForMatching` and
 * `LaneFinder.matchChecked`; the answer counts them (`skippedInvalid`).
 */
import { v, type Infer } from "convex/values";
import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { vLoadType } from "../enums";
import { getOrgLoad } from "../loads/rules";
import { loadForMatching } from "../loads/stored";
import { LaneFinder, promoteLoad } from "./rules";

/** What `checkAndPromoteLoad` answers. */
export const vPromotionResult = v.object({
  promoted: v.boolean(),
  loadType: vLoadType,
  laneId: v.optional(v.id("lanes")),
  /**
   * Present only when the load was priced but no invoice was created because
   * its invoice had been voided (promotion never undoes a void).
   */
  invoiceNotCreated: v.optional(
    v.object({ reason: v.literal("INVOICE_VOIDED"), voidedInvoiceId: v.id("invoices") }),
  ),
  /**
   * Stored documents holding values the code would never write that this
   * call skipped (lanes; the load itself when it is not priced) or used
   * without the bad value (the load's `pickupAt`), each logged as
   * `[stored.invalid]`. Absent when there were none.
   */
  skippedInvalid: v.optional(v.number()),
});
export type PromotionResult = Infer<typeof vPromotionResult>;

/**
 * Prices `loadId` of `workosOrgId` if it is `UNMAPPED` and a lane now
 * applies; otherwise a no-op (`promoted: false`). At most 3 lane lookups. A
 * load whose stops or customer the code would not have written is not priced
 * (`promoted: false`, `skippedInvalid`); lanes it would not have written are
 * skipped as if absent.
 *
 * @throws `NOT_FOUND` for a load that is not in the org.
 */
export async function checkAndPromote(
  ctx: MutationCtx,
  workosOrgId: string,
  loadId: Id<"loads">,
): Promise<PromotionResult> {
  const load = await getOrgLoad(ctx, workosOrgId, loadId);
  if (load.loadType !== "UNMAPPED") {
    return { promoted: false, loadType: load.loadType, laneId: load.laneId };
  }
  const { matchable, invalid } = loadForMatching(load);
  if (matchable === null) return { promoted: false, loadType: load.loadType, skippedInvalid: 1 };
  const { match, skippedLaneIds } = await new LaneFinder(ctx.db).matchChecked(
    matchable,
    Date.now(),
  );
  const skippedInvalid = skippedLaneIds.length + (invalid ? 1 : 0);
  const skipped = skippedInvalid > 0 ? { skippedInvalid } : {};
  if (match === null) return { promoted: false, loadType: load.loadType, ...skipped };
  const outcome = await promoteLoad(ctx, load, match);
  const result: PromotionResult = {
    promoted: true,
    loadType: match.loadType,
    laneId: match.lane._id,
    ...skipped,
  };
  if (outcome.invoice === "voided_kept") {
    result.invoiceNotCreated = { reason: "INVOICE_VOIDED", voidedInvoiceId: outcome.invoiceId };
  }
  return result;
}
