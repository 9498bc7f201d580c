/**
 * Loads: create, change status, delete, and the badge counts. Mutations act
 * for the caller's org (the token's `org_id`) and write with plain `ctx.db`;
 * the counters follow (`functions.ts`).
 */
import { v } from "convex/values";
import { countQueries } from "../../../convex/model/stats/api";
import { mutation, query } from "./functions";
import { requireCaller, requireOrgMember } from "./lib/auth";
import { COUNTED } from "./model/counted";
import { vInvoiceStatus, vLoadStatus } from "./model/enums";
import { deleteLoadWithInvoices, getOrgLoad, laneRate } from "./model/loads";
import { STATS } from "./model/statsConfig";

/**
 * Creates an `Open` load for the caller's org with its first invoice: `DRAFT`
 * at the contract lane's rate when the org has a lane for (HCR, trip), else
 * `MISSING_DATA`.
 */
export const createLoad = mutation({
  args: {
    orderNumber: v.string(),
    hcr: v.optional(v.string()),
    tripNumber: v.optional(v.string()),
    pickupDate: v.optional(v.number()),
  },
  returns: v.object({
    loadId: v.id("loadInformation"),
    invoiceId: v.id("loadInvoices"),
    invoiceStatus: vInvoiceStatus,
  }),
  handler: async (ctx, args) => {
    const caller = await requireCaller(ctx);
    const now = Date.now();
    const loadId = await ctx.db.insert("loadInformation", {
      ...args,
      workosOrgId: caller.workosOrgId,
      status: "Open",
      createdBy: caller.userId,
      updatedAt: now,
    });
    const rate = await laneRate(ctx, caller.workosOrgId, args.hcr, args.tripNumber);
    const invoiceStatus = rate === null ? ("MISSING_DATA" as const) : ("DRAFT" as const);
    const invoiceId = await ctx.db.insert("loadInvoices", {
      workosOrgId: caller.workosOrgId,
      loadId,
      status: invoiceStatus,
      ...(rate === null ? {} : { amount: rate }),
      updatedBy: caller.userId,
      updatedAt: now,
    });
    return { loadId, invoiceId, invoiceStatus };
  },
});

/**
 * Moves one of the caller's loads to `status`; a cancellation records its
 * reason, notes and who canceled.
 */
export const updateLoadStatus = mutation({
  args: {
    loadId: v.id("loadInformation"),
    status: vLoadStatus,
    cancellationReason: v.optional(v.string()),
    cancellationNotes: v.optional(v.string()),
    canceledBy: v.optional(v.string()),
  },
  returns: v.object({ loadId: v.id("loadInformation"), from: vLoadStatus, to: vLoadStatus }),
  handler: async (ctx, args) => {
    const caller = await requireCaller(ctx);
    const load = await getOrgLoad(ctx, caller.workosOrgId, args.loadId);
    const now = Date.now();
    await ctx.db.patch("loadInformation", load._id, {
      status: args.status,
      updatedAt: now,
      ...(args.status === "Canceled"
        ? {
            cancellationReason: args.cancellationReason,
            cancellationNotes: args.cancellationNotes,
            canceledBy: args.canceledBy ?? caller.userId,
            canceledAt: now,
          }
        : {}),
    });
    return { loadId: load._id, from: load.status, to: args.status };
  },
});

/** Deletes one of the caller's loads with its invoices. */
export const deleteLoad = mutation({
  args: { loadId: v.id("loadInformation") },
  returns: v.object({ invoicesDeleted: v.number() }),
  handler: async (ctx, args) => {
    const caller = await requireCaller(ctx);
    const load = await getOrgLoad(ctx, caller.workosOrgId, args.loadId);
    return { invoicesDeleted: await deleteLoadWithInvoices(ctx, load) };
  },
});

const counts = countQueries(
  STATS,
  "loadInformation",
  COUNTED.loadInformation,
  async (ctx, workosOrgId) => {
    await requireOrgMember(ctx, workosOrgId);
  },
);

/**
 * The badge counts, as the frontend has always read them:
 * `{ Open, Assigned, Delivered, Canceled, Expired }` (`Delivered` counts the
 * loads stored as `Completed`). One document read.
 */
export const countLoadsByStatus = query(counts.flat);

/** The same counts by stored status, with `state`, `progress` and `knownDrift`. */
export const countLoadsByStatusDetailed = query(counts.detailed);
