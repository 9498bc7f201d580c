/**
 * The example app's statuses, spelled once: the schema, the counted-table
 * declaration and the mutations' argument validators import them.
 */
import { literals } from "convex-helpers/validators";
import type { Infer } from "convex/values";

/** Load statuses, in badge order (the badge shows `Completed` as `Delivered`). */
export const LOAD_STATUSES = ["Open", "Assigned", "Completed", "Canceled", "Expired"] as const;
export const vLoadStatus = literals(...LOAD_STATUSES);
export type LoadStatus = Infer<typeof vLoadStatus>;

/** Invoice statuses, in badge order. */
export const INVOICE_STATUSES = [
  "MISSING_DATA",
  "DRAFT",
  "BILLED",
  "PENDING_PAYMENT",
  "PAID",
  "VOID",
] as const;
export const vInvoiceStatus = literals(...INVOICE_STATUSES);
export type InvoiceStatus = Infer<typeof vInvoiceStatus>;

/** What an organization is to the TMS (a profile field of `organizations`). */
export const ORG_TYPES = ["BROKER", "CARRIER", "SHIPPER"] as const;
export const vOrgType = literals(...ORG_TYPES);
