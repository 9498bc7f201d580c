/**
 * Every enum of the domain, defined once. The schema, the stats engine, the
 * recount and the tests all import these lists and validators; nothing else
 * spells a status.
 */
import { literals } from "convex-helpers/validators";
import type { Infer } from "convex/values";

/** Load statuses (docs/DESIGN.md §2). Order is the display order of the badges. */
export const LOAD_STATUSES = ["Open", "Assigned", "Completed", "Canceled", "Expired"] as const;
export const vLoadStatus = literals(...LOAD_STATUSES);
export type LoadStatus = Infer<typeof vLoadStatus>;

/** How a load is priced: an exact lane, only a wildcard lane, or no lane yet. */
export const LOAD_TYPES = ["CONTRACT", "SPOT", "UNMAPPED"] as const;
export const vLoadType = literals(...LOAD_TYPES);
export type LoadType = Infer<typeof vLoadType>;

/** Where a load came from. Part of its identity: one load per (org, source, external id). */
export const LOAD_SOURCES = ["MANUAL", "FOURKITES"] as const;
export const vLoadSource = literals(...LOAD_SOURCES);
export type LoadSource = Infer<typeof vLoadSource>;

/** Invoice statuses (docs/DESIGN.md §2). `PAID` and `VOID` are terminal. */
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

/** The tables the retention purge keeps bounded (`model/retention/purge.ts`). */
export const RETENTION_TABLES = [
  "workosWebhookEvents",
  "statsDriftReports",
  "statsAlerts",
] as const;
export const vRetentionTable = literals(...RETENTION_TABLES);
export type RetentionTable = Infer<typeof vRetentionTable>;

/** Lifecycle of an organization in the registry. */
export const ORGANIZATION_STATUSES = ["active", "deleted"] as const;
export const vOrganizationStatus = literals(...ORGANIZATION_STATUSES);

/** The WorkOS webhook events that change the organization registry. */
export const ORGANIZATION_EVENTS = [
  "organization.created",
  "organization.updated",
  "organization.deleted",
] as const;
export const vOrganizationEvent = literals(...ORGANIZATION_EVENTS);
export type OrganizationEvent = Infer<typeof vOrganizationEvent>;

/**
 * What applying one WorkOS organization snapshot did to the registry:
 * `registered` (new entry), `updated`, `unchanged` (nothing written),
 * `stale` (older than the stored state; nothing written), `deleted`,
 * `already_deleted`, `ignored_deleted` (a create/update for a deleted org;
 * nothing written).
 */
export const REGISTRY_OUTCOMES = [
  "registered",
  "updated",
  "unchanged",
  "stale",
  "deleted",
  "already_deleted",
  "ignored_deleted",
] as const;
export const vRegistryOutcome = literals(...REGISTRY_OUTCOMES);
export type RegistryOutcome = Infer<typeof vRegistryOutcome>;
