/**
 * The counted tables of this app: the one declaration the stats module
 * needs (docs/adopting.md, step 3). A declaration file: the schema imports
 * it, so it imports only the module's declaration code.
 */
import { defineCountedTables } from "../../../../convex/model/stats/declare";
import { INVOICE_STATUSES, LOAD_STATUSES } from "./enums";

export const COUNTED = defineCountedTables({
  /** Loads by status; the badge shows `Completed` as `Delivered`, as the old one did. */
  loadInformation: {
    orgField: "workosOrgId",
    statusField: "status",
    statuses: LOAD_STATUSES,
    labels: { Completed: "Delivered" },
    orgIndex: "by_org",
  },
  /** Invoices by status; the badge carries `total`, the sum of the six. */
  loadInvoices: {
    orgField: "workosOrgId",
    statusField: "status",
    statuses: INVOICE_STATUSES,
    badgeTotal: true,
    orgIndex: "by_org",
  },
});
