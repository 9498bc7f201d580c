/**
 * The one way a new load enters the system, for manual creation and for
 * imports alike: validate, match a lane, insert the load priced by that lane,
 * and create its invoice. So every load has exactly one non-void invoice from
 * the start:
 *
 * | lane found              | load type | invoice                         |
 * |-------------------------|-----------|---------------------------------|
 * | exact lane              | CONTRACT  | DRAFT at the lane's rate        |
 * | wildcard lane only      | SPOT      | DRAFT at the lane's rate        |
 * | none                    | UNMAPPED  | MISSING_DATA, 0 cents (until a lane is created) |
 *
 * A stored lane the code would not have written (a rate of -500, NaN or
 * 1e12, dates that never apply, keys that do not match its ends) is skipped
 * as if absent and reported (`LaneFinder.matchChecked`): it never fails the
 * creation with an error about an amount the caller never sent.
 */
import type { Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import type { InvoiceStatus, LoadType } from "../enums";
import { createInvoice } from "../invoices/rules";
import { LaneFinder } from "../lanes/rules";
import { prepareNewLoad, type NewLoad } from "./rules";

/** What `createLoadWithInvoice` created. */
export type CreatedLoad = {
  loadId: Id<"loads">;
  loadType: LoadType;
  laneId?: Id<"lanes">;
  invoiceId: Id<"invoices">;
  invoiceStatus: InvoiceStatus;
  /** Stored lanes the code would not have written that matching skipped (reported). */
  skippedInvalid: number;
};

/**
 * Creates a load and its invoice (see the file comment); the counters of both
 * follow. Lane effective dates are checked at the load's pickup time, or now
 * when it has none. Pass one `finder` to many calls in a mutation so loads on
 * the same lane read the lanes once. `input.loadType`/`laneId` are ignored:
 * the lane decides.
 *
 * @throws like `prepareNewLoad` (`INVALID_ARGUMENT`, `ALREADY_EXISTS`).
 */
export async function createLoadWithInvoice(
  ctx: MutationCtx,
  input: NewLoad,
  finder: LaneFinder = new LaneFinder(ctx.db),
): Promise<CreatedLoad> {
  const fields = await prepareNewLoad(ctx, input);
  const { match, skippedLaneIds } = await finder.matchChecked(fields, Date.now());
  const loadType: LoadType = match?.loadType ?? "UNMAPPED";
  const laneId = match?.lane._id;
  const loadId = await ctx.db.insert("loads", { ...fields, loadType, laneId });
  const invoiceStatus = match === null ? "MISSING_DATA" : "DRAFT";
  const invoiceId = await createInvoice(ctx, {
    load: { _id: loadId, workosOrgId: fields.workosOrgId },
    status: invoiceStatus,
    amountCents: match?.lane.rateCents ?? 0,
    laneId,
  });
  return {
    loadId,
    loadType,
    laneId,
    invoiceId,
    invoiceStatus,
    skippedInvalid: skippedLaneIds.length,
  };
}
