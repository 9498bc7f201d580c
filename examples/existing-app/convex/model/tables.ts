/**
 * The app's own tables, as it had them before adopting the stats module
 * (`schema.ts` adds the module's tables). Loads and invoices need an index on
 * `workosOrgId` alone (`by_org`): the module's recount walks it.
 */
import { defineTable } from "convex/server";
import { v } from "convex/values";
import { vInvoiceStatus, vLoadStatus, vOrgType } from "./enums";

export const appTables = {
  /** Loads. Counted: `organizationStats` keeps per org how many are in each status. */
  loadInformation: defineTable({
    workosOrgId: v.string(),
    orderNumber: v.string(),
    status: vLoadStatus,
    /** Contract identity of the lane (highway contract route, trip). */
    hcr: v.optional(v.string()),
    tripNumber: v.optional(v.string()),
    pickupDate: v.optional(v.number()),
    cancellationReason: v.optional(v.string()),
    cancellationNotes: v.optional(v.string()),
    canceledBy: v.optional(v.string()),
    canceledAt: v.optional(v.number()),
    createdBy: v.string(),
    updatedAt: v.number(),
  }).index("by_org", ["workosOrgId"]),

  /** Invoices, one or more per load. Counted by status. */
  loadInvoices: defineTable({
    workosOrgId: v.string(),
    loadId: v.id("loadInformation"),
    status: vInvoiceStatus,
    /** Dollars, as the app stores them (not counted: the badges show counts only). */
    amount: v.optional(v.number()),
    voidReason: v.optional(v.string()),
    updatedBy: v.string(),
    updatedAt: v.number(),
  })
    .index("by_org", ["workosOrgId"])
    .index("by_load", ["loadId"]),

  /** Contract lanes: the rate (dollars) of an (HCR, trip) for an org. */
  contractLanes: defineTable({
    workosOrgId: v.string(),
    hcr: v.string(),
    tripNumber: v.string(),
    rate: v.number(),
  }).index("by_org_and_contract", ["workosOrgId", "hcr", "tripNumber"]),

  /** The app's organizations; `workosOrgId` is set once the org is linked to WorkOS. */
  organizations: defineTable({
    name: v.string(),
    workosOrgId: v.optional(v.string()),
    orgType: v.optional(vOrgType),
    logoUrl: v.optional(v.string()),
    billingEmail: v.optional(v.string()),
  }).index("by_workos_org", ["workosOrgId"]),
};
