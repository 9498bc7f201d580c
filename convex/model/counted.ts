/**
 * This app's counted tables: what the stats module keeps per org (see
 * `model/stats/declare.ts`). A declaration file: the schema imports it.
 */
import { literals } from "convex-helpers/validators";
import type { Infer } from "convex/values";
import { INVOICE_STATUSES, LOAD_STATUSES } from "./enums";
import { defineCountedTables } from "./stats/declare";
import { vCounts } from "./stats/tables";

export const COUNTED = defineCountedTables({
  /**
   * Loads by status; the badge shows `Completed` as `Delivered`. Filtered
   * badges by lane or customer and by pickup day, in UTC
   * (`loads:countLoadsByStatusFiltered`, docs/filtered-counts.md).
   */
  loads: {
    orgField: "workosOrgId",
    statusField: "status",
    statuses: LOAD_STATUSES,
    labels: { Completed: "Delivered" },
    orgIndex: "by_org",
    facets: { laneId: "laneId", customerId: "customerId" },
    dateField: { field: "pickupAt", timeZone: "UTC" },
  },
  /** Invoices by status, with their amounts (cents); the badge carries `total`. */
  invoices: {
    orgField: "workosOrgId",
    statusField: "status",
    statuses: INVOICE_STATUSES,
    amountField: "amountCents",
    badgeTotal: true,
    orgIndex: "by_org",
  },
});

/** The counted tables; each has one `organizationStats` row per org. */
export const STATS_ENTITIES = [
  "loads",
  "invoices",
] as const satisfies readonly (keyof typeof COUNTED)[];
export const vStatsEntity = literals(...STATS_ENTITIES);
export type StatsEntity = Infer<typeof vStatsEntity>;

/** `{ [LoadStatus]: number }`, as the loads stats row stores its counts. */
export const vLoadCounts = vCounts(LOAD_STATUSES);
/** `{ [InvoiceStatus]: number }`, for invoice counts and cents. */
export const vInvoiceCounts = vCounts(INVOICE_STATUSES);
