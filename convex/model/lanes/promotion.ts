/**
 * Lazy promotion of one load: `lazyLoadPromotion.checkAndPromoteLoad` prices
 * an `UNMAPPED` load when a lane now applies (matching rules in `rules.ts`,
 * the promotion rule in `promoteLoad`).
 */
import { v, type Infer } from "convex/values";
import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { vLoadType } from "../enums";
import { getOrgLoad } from "../loads/rules";
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
});
export type PromotionResult = Infer<typeof vPromotionResult>;

/**
 * Prices `loadId` of `workosOrgId` if it is `UNMAPPED` and a lane now
 * applies; otherwise a no-op (`promoted: false`). At most 3 lane lookups.
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
  const match = await new LaneFinder(ctx.db).match(load, Date.now());
  if (match === null) return { promoted: false, loadType: load.loadType };
  const outcome = await promoteLoad(ctx, load, match);
  const result: PromotionResult = {
    promoted: true,
    loadType: match.loadType,
    laneId: match.lane._id,
  };
  if (outcome.invoice === "voided_kept") {
    result.invoiceNotCreated = { reason: "INVOICE_VOIDED", voidedInvoiceId: outcome.invoiceId };
  }
  return result;
}
