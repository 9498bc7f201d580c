/**
 * Invoice rules shared by the invoice mutations: the bulk size limit and
 * finding an org's invoice.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";

/** Most invoices one bulk call changes (one transaction: 2 reads and 1 write each). */
export const MAX_BULK_INVOICES = 1_000;

/**
 * Checks a bulk call's id list: not empty, not above `MAX_BULK_INVOICES`, no repeats.
 *
 * @throws `INVALID_ARGUMENT` naming the problem.
 */
export function requireBulkIds(invoiceIds: Id<"loadInvoices">[]): void {
  if (invoiceIds.length === 0 || invoiceIds.length > MAX_BULK_INVOICES) {
    throw appError("INVALID_ARGUMENT", `invoiceIds must list 1 to ${MAX_BULK_INVOICES} invoices.`, {
      count: invoiceIds.length,
    });
  }
  if (new Set(invoiceIds).size !== invoiceIds.length) {
    throw appError("INVALID_ARGUMENT", "invoiceIds lists an invoice twice.");
  }
}

/**
 * The invoice, when it belongs to `workosOrgId`.
 *
 * @throws `NOT_FOUND` otherwise (the whole call is rolled back).
 */
export async function getOrgInvoice(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
  invoiceId: Id<"loadInvoices">,
): Promise<Doc<"loadInvoices">> {
  const invoice = await ctx.db.get("loadInvoices", invoiceId);
  if (invoice === null || invoice.workosOrgId !== workosOrgId) {
    throw appError("NOT_FOUND", "No such invoice in this organization.", { invoiceId });
  }
  return invoice;
}
