/**
 * Load rules: finding a caller's load, the invoice a new load starts with
 * (priced by the org's contract lane), and deleting a load with its invoices.
 * Plain `ctx.db` writes: the counted builders (`functions.ts`) count them.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";

/** Most invoices one load carries (deleting a load deletes them in one transaction). */
export const MAX_INVOICES_PER_LOAD = 100;

/**
 * The load, when it belongs to `workosOrgId`.
 *
 * @throws `NOT_FOUND` when there is no such load in the org.
 */
export async function getOrgLoad(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
  loadId: Id<"loadInformation">,
): Promise<Doc<"loadInformation">> {
  const load = await ctx.db.get("loadInformation", loadId);
  if (load === null || load.workosOrgId !== workosOrgId) {
    throw appError("NOT_FOUND", "No such load in this organization.", { loadId });
  }
  return load;
}

/** The org's contract rate (dollars) for (HCR, trip), or null without a lane. */
export async function laneRate(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
  hcr: string | undefined,
  tripNumber: string | undefined,
): Promise<number | null> {
  if (hcr === undefined || tripNumber === undefined) return null;
  const lanes = await ctx.db
    .query("contractLanes")
    .withIndex("by_org_and_contract", (q) =>
      q.eq("workosOrgId", workosOrgId).eq("hcr", hcr).eq("tripNumber", tripNumber),
    )
    .take(1);
  return lanes[0]?.rate ?? null;
}

/** Deletes a load and its invoices; returns how many invoices went with it. */
export async function deleteLoadWithInvoices(
  ctx: Pick<MutationCtx, "db">,
  load: Doc<"loadInformation">,
): Promise<number> {
  const invoices = await ctx.db
    .query("loadInvoices")
    .withIndex("by_load", (q) => q.eq("loadId", load._id))
    .take(MAX_INVOICES_PER_LOAD);
  for (const invoice of invoices) await ctx.db.delete("loadInvoices", invoice._id);
  await ctx.db.delete("loadInformation", load._id);
  return invoices.length;
}
