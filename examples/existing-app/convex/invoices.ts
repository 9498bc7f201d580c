/**
 * Invoices: add one to a load, edit, bulk status changes and voids, and the
 * badge counts. Plain `ctx.db` writes; the counters follow (`functions.ts`).
 */
import { v } from "convex/values";
import { countQueries } from "../../../convex/model/stats/api";
import { mutation, query } from "./functions";
import { requireCaller, requireOrgMember } from "./lib/auth";
import { appError } from "./lib/errors";
import { rateLimiter } from "./lib/rateLimits";
import { COUNTED } from "./model/counted";
import { vInvoiceStatus } from "./model/enums";
import { getOrgInvoice, requireBulkIds } from "./model/invoices";
import { getOrgLoad } from "./model/loads";
import { STATS } from "./model/statsConfig";

/** Adds a `DRAFT` invoice to one of the caller's loads. */
export const createInvoice = mutation({
  args: { loadId: v.id("loadInformation"), amount: v.optional(v.number()) },
  returns: v.id("loadInvoices"),
  handler: async (ctx, args) => {
    const caller = await requireCaller(ctx);
    const load = await getOrgLoad(ctx, caller.workosOrgId, args.loadId);
    return await ctx.db.insert("loadInvoices", {
      workosOrgId: caller.workosOrgId,
      loadId: load._id,
      status: "DRAFT",
      ...(args.amount === undefined ? {} : { amount: args.amount }),
      updatedBy: caller.userId,
      updatedAt: Date.now(),
    });
  },
});

/** Rewrites one of the caller's invoices with a new status and amount (a `replace`). */
export const updateInvoice = mutation({
  args: {
    invoiceId: v.id("loadInvoices"),
    status: vInvoiceStatus,
    amount: v.optional(v.number()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const caller = await requireCaller(ctx);
    const invoice = await getOrgInvoice(ctx, caller.workosOrgId, args.invoiceId);
    await ctx.db.replace("loadInvoices", invoice._id, {
      workosOrgId: invoice.workosOrgId,
      loadId: invoice.loadId,
      status: args.status,
      ...(args.amount === undefined ? {} : { amount: args.amount }),
      updatedBy: caller.userId,
      updatedAt: Date.now(),
    });
    return null;
  },
});

/** Moves invoices of `workosOrgId` to `newStatus`, all or none. */
export const bulkUpdateStatus = mutation({
  args: {
    invoiceIds: v.array(v.id("loadInvoices")),
    workosOrgId: v.string(),
    newStatus: vInvoiceStatus,
    updatedBy: v.string(),
  },
  returns: v.object({ updated: v.number() }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    requireBulkIds(args.invoiceIds);
    const now = Date.now();
    for (const id of args.invoiceIds) {
      const invoice = await getOrgInvoice(ctx, args.workosOrgId, id);
      await ctx.db.patch("loadInvoices", invoice._id, {
        status: args.newStatus,
        updatedBy: args.updatedBy,
        updatedAt: now,
      });
    }
    return { updated: args.invoiceIds.length };
  },
});

/** Voids invoices of `workosOrgId`, all or none; rate limited per org. */
export const bulkVoidInvoices = mutation({
  args: {
    invoiceIds: v.array(v.id("loadInvoices")),
    workosOrgId: v.string(),
    reason: v.optional(v.string()),
    updatedBy: v.string(),
  },
  returns: v.object({ voided: v.number() }),
  handler: async (ctx, args) => {
    await requireOrgMember(ctx, args.workosOrgId);
    requireBulkIds(args.invoiceIds);
    const limit = await rateLimiter.limit(ctx, "bulkVoid", { key: args.workosOrgId });
    if (!limit.ok) {
      throw appError("RATE_LIMITED", "Too many bulk voids: try again shortly.", {
        retryAfterMs: limit.retryAfter,
      });
    }
    const now = Date.now();
    for (const id of args.invoiceIds) {
      const invoice = await getOrgInvoice(ctx, args.workosOrgId, id);
      await ctx.db.patch("loadInvoices", invoice._id, {
        status: "VOID",
        voidReason: args.reason,
        updatedBy: args.updatedBy,
        updatedAt: now,
      });
    }
    return { voided: args.invoiceIds.length };
  },
});

const counts = countQueries(
  STATS,
  "loadInvoices",
  COUNTED.loadInvoices,
  async (ctx, workosOrgId) => {
    await requireOrgMember(ctx, workosOrgId);
  },
);

/**
 * The badge counts, as the frontend has always read them: `{ MISSING_DATA,
 * DRAFT, BILLED, PENDING_PAYMENT, PAID, VOID, total }`. One document read.
 */
export const countInvoicesByStatus = query(counts.flat);

/** The same counts with `state`, `progress` and `knownDrift`. */
export const countInvoicesByStatusDetailed = query(counts.detailed);
