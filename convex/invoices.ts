/**
 * Public invoice functions. Bulk changes and manual invoices need the billing
 * permission (any of `BILLING_PERMISSIONS`, see `lib/auth.ts`) on top of org
 * membership; counting needs membership only.
 */
import { v, type Infer } from "convex/values";
import { literals } from "convex-helpers/validators";
import type { Id } from "./_generated/dataModel";
import { mutation, query } from "./functions";
import { requireBilling, requireOrgMember } from "./lib/auth";
import { appError } from "./lib/errors";
import type { QueryCtx } from "./model/ctx";
import { COUNTED } from "./model/counted";
import { vInvoiceStatus } from "./model/enums";
import { countQueries } from "./model/stats/api";
import { STATS } from "./model/statsConfig";
import {
  BULK_TARGET_STATUSES,
  bulkResult,
  createInvoice as createInvoiceHelper,
  getOrgInvoices,
  MAX_BULK_IDS,
  setInvoicesStatus,
  vBulkResult,
} from "./model/invoices/rules";
import { getOrgLoad } from "./model/loads/rules";
import { optionalText, requireIdList } from "./model/validate";

const vOnIneligible = v.optional(literals("reject", "skip"));

/**
 * What both bulk calls check first, in this order: org membership, the
 * billing permission, then 1..`MAX_BULK_IDS` distinct ids. Returns the ids.
 */
async function requireBulkCaller(
  ctx: QueryCtx,
  args: { workosOrgId: string; invoiceIds: Id<"invoices">[] },
): Promise<Id<"invoices">[]> {
  const caller = await requireOrgMember(ctx, args.workosOrgId);
  requireBilling(caller);
  return requireIdList(args.invoiceIds, "invoiceIds", MAX_BULK_IDS);
}

/**
 * Creates a `DRAFT` invoice for a load that has none (manual rating). Needs
 * the billing permission.
 */
export const createInvoice = mutation({
  args: { workosOrgId: v.string(), loadId: v.id("loads"), amountCents: v.number() },
  returns: v.object({ invoiceId: v.id("invoices") }),
  handler: async (ctx, args) => {
    const caller = await requireOrgMember(ctx, args.workosOrgId);
    requireBilling(caller);
    const load = await getOrgLoad(ctx, args.workosOrgId, args.loadId);
    if (load.loadType === "UNMAPPED") {
      throw appError(
        "INVALID_ARGUMENT",
        "An unmapped load is invoiced by lane promotion, not by hand.",
        { loadId: load._id },
      );
    }
    const invoiceId = await createInvoiceHelper(ctx, {
      load,
      status: "DRAFT",
      amountCents: args.amountCents,
    });
    return { invoiceId };
  },
});

/**
 * Moves up to 500 invoices of the caller's org to `status` (`BILLED`,
 * `PENDING_PAYMENT`, `PAID` or `VOID`; see `INVOICE_TRANSITIONS`). All ids
 * must exist in the org and be distinct. With `onIneligible: "reject"` (the
 * default) one illegal transition fails the call and nothing is written; with
 * `"skip"` those invoices are reported `skipped`. Costs about 2 reads and 1
 * write per invoice plus 2 reads and 1 write for the counters.
 */
export const bulkUpdateStatus = mutation({
  args: {
    workosOrgId: v.string(),
    invoiceIds: v.array(v.id("invoices")),
    status: literals(...BULK_TARGET_STATUSES),
    onIneligible: vOnIneligible,
  },
  returns: vBulkResult,
  handler: async (ctx, args) => {
    const ids = await requireBulkCaller(ctx, args);
    const to = args.status;
    const invoices = await getOrgInvoices(ctx, args.workosOrgId, ids);
    return bulkResult(
      await setInvoicesStatus(ctx, invoices, to, { onIneligible: args.onIneligible ?? "reject" }),
    );
  },
});

/**
 * Voids up to 500 invoices of the caller's org. Already void: `unchanged`.
 * `PAID` invoices cannot be voided (rejected, or `skipped` with
 * `onIneligible: "skip"`).
 */
export const bulkVoidInvoices = mutation({
  args: {
    workosOrgId: v.string(),
    invoiceIds: v.array(v.id("invoices")),
    reason: v.optional(v.string()),
    onIneligible: vOnIneligible,
  },
  returns: vBulkResult,
  handler: async (ctx, args) => {
    const ids = await requireBulkCaller(ctx, args);
    const voidReason = optionalText(args.reason, "reason");
    const invoices = await getOrgInvoices(ctx, args.workosOrgId, ids);
    return bulkResult(
      await setInvoicesStatus(ctx, invoices, "VOID", {
        onIneligible: args.onIneligible ?? "reject",
        voidReason,
      }),
    );
  },
});

const counts = countQueries(STATS, "invoices", COUNTED.invoices, async (ctx, workosOrgId) => {
  await requireOrgMember(ctx, workosOrgId);
});

/**
 * Invoice counts by status for the dashboard badges, flat:
 * `{ MISSING_DATA, DRAFT, BILLED, PENDING_PAYMENT, PAID, VOID, total }`. One
 * document read (two while the org's counters are being seeded; a bounded
 * scan when it has none yet); the closest honest numbers in every state.
 *
 * ```tsx
 * const invoices = useQuery(api.invoices.countInvoicesByStatus, { workosOrgId });
 * const drafts = invoices?.DRAFT ?? 0;
 * ```
 */
export const countInvoicesByStatus = query(counts.flat);

/**
 * Invoice counts and amounts (cents) by status, with `state`, `progress` and
 * `knownDrift` as for `loads:countLoadsByStatusDetailed` (`docs/badges.md`).
 */
export const countInvoicesByStatusDetailed = query(counts.detailed);
