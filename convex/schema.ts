/**
 * Database schema. The counted tables (`loads`, `invoices`, declared in
 * `model/counted.ts`) keep their counters in `organizationStats`, one row per
 * organization and table; the stats module's tables come from
 * `statsTables`. Imports declarations only (enums, validators, fields).
 */
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { COUNTED } from "./model/counted";
import { statsTables } from "./model/stats/tables";
import { statsAlertFields } from "./model/alerts/fields";
import { vLaneBackfill, vLocation } from "./model/fields";
import {
  vInvoiceStatus,
  vLoadSource,
  vLoadStatus,
  vLoadType,
  vOrganizationEvent,
  vOrganizationStatus,
  vRegistryOutcome,
} from "./model/enums";
import { fourKitesIntegrationFields } from "./model/fourKites/fields";

export default defineSchema({
  ...statsTables(COUNTED),

  /** Registry of WorkOS organizations (kept by the webhook and the sync). */
  organizations: defineTable({
    workosOrgId: v.string(),
    name: v.string(),
    status: vOrganizationStatus,
    deletedAt: v.optional(v.number()),
    updatedAt: v.number(),
    /**
     * WorkOS's `updated_at` (ms) of the state stored here: webhook events and
     * syncs carrying an older one are stale and ignored. Absent on entries
     * written before it existed.
     */
    workosUpdatedAt: v.optional(v.number()),
  }).index("by_workos_org_id", ["workosOrgId"]),

  /**
   * WorkOS webhook events already applied, by event id: a redelivered event
   * is acknowledged without being applied again.
   */
  workosWebhookEvents: defineTable({
    eventId: v.string(),
    event: vOrganizationEvent,
    workosOrgId: v.string(),
    /** The event's `created_at`, ms. */
    eventCreatedAt: v.number(),
    outcome: vRegistryOutcome,
    processedAt: v.number(),
  })
    .index("by_event_id", ["eventId"])
    // Retention: the daily purge deletes ids past WEBHOOK_EVENT_RETENTION_DAYS.
    .index("by_processed_at", ["processedAt"]),

  loads: defineTable({
    workosOrgId: v.string(),
    source: vLoadSource,
    /** Shipper/FourKites identifier; unique per (org, source). */
    externalLoadId: v.string(),
    status: vLoadStatus,
    loadType: vLoadType,
    laneId: v.optional(v.id("lanes")),
    customerId: v.optional(v.string()),
    origin: vLocation,
    destination: vLocation,
    /** Normalized `CITY|ST` keys: what lane matching looks up. */
    originKey: v.string(),
    destinationKey: v.string(),
    /** Earliest pickup appointment, ms since epoch. */
    pickupAt: v.optional(v.number()),
    deliveryAt: v.optional(v.number()),
    /** The source's own last-modified time; imports only apply newer data. */
    externalUpdatedAt: v.optional(v.number()),
    weightLbs: v.optional(v.number()),
    commodity: v.optional(v.string()),
    statusChangedAt: v.number(),
  })
    // Creation order within an org: the recount walks this index, whose order
    // a status change does not move (by_org_and_status would).
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_org", ["workosOrgId"])
    .index("by_org_and_status", ["workosOrgId", "status"])
    .index("by_org_and_source_and_external_id", ["workosOrgId", "source", "externalLoadId"])
    // Lane matching of unmapped loads: exact lanes and `origin → *` lanes.
    .index("by_org_and_type_and_origin_and_destination", [
      "workosOrgId",
      "loadType",
      "originKey",
      "destinationKey",
    ])
    // Lane matching for `* → destination` lanes.
    .index("by_org_and_type_and_destination", ["workosOrgId", "loadType", "destinationKey"])
    // Expiry of stale Open loads across all orgs.
    .index("by_status_and_pickup", ["status", "pickupAt"]),

  invoices: defineTable({
    workosOrgId: v.string(),
    loadId: v.id("loads"),
    status: vInvoiceStatus,
    /** Integer cents. */
    amountCents: v.number(),
    laneId: v.optional(v.id("lanes")),
    voidReason: v.optional(v.string()),
    /**
     * When the invoice was first billed (moved to `BILLED`, or to
     * `PENDING_PAYMENT`/`PAID` without it). Kept when it is voided later, so
     * a voided billed invoice stays a record (`deleteLoad` refuses it).
     */
    billedAt: v.optional(v.number()),
    statusChangedAt: v.number(),
  })
    // Creation order within an org, for the recount (see loads.by_org).
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_org", ["workosOrgId"])
    .index("by_org_and_status", ["workosOrgId", "status"])
    .index("by_load_and_status", ["loadId", "status"]),

  lanes: defineTable({
    workosOrgId: v.string(),
    customerId: v.optional(v.string()),
    origin: v.union(v.literal("*"), vLocation),
    destination: v.union(v.literal("*"), vLocation),
    /** Normalized `CITY|ST` keys, or `*` for a wildcard end. */
    originKey: v.string(),
    destinationKey: v.string(),
    rateCents: v.number(),
    effectiveFrom: v.number(),
    effectiveTo: v.optional(v.number()),
    /** Progress of the promotion of this lane's matching unmapped loads. */
    backfill: v.optional(vLaneBackfill),
    /**
     * When `periodicCleanup` should (re)start the backfill: a lease while a
     * backfill runs (so a dead chain is restarted), `effectiveFrom` for a lane
     * that starts later; absent when nothing is due.
     */
    backfillDueAt: v.optional(v.number()),
  })
    .index("by_org_and_origin_and_destination", ["workosOrgId", "originKey", "destinationKey"])
    // Catch-up of lane backfills in `periodicCleanup`.
    .index("by_backfill_due_at", ["backfillDueAt"]),

  /**
   * One FourKites integration per org: encrypted credentials, schedule, sync
   * progress and health (see `model/fourKites/integrations.ts`).
   */
  fourKitesIntegrations: defineTable(fourKitesIntegrationFields)
    .index("by_org", ["workosOrgId"])
    // The dispatcher's range: enabled integrations due now.
    .index("by_enabled_and_next_due_at", ["enabled", "nextDueAt"]),

  /**
   * Alert deliveries to `STATS_ALERT_WEBHOOK_URL`: one row per drift report
   * or failed recount run, with its delivery state. See `model/alerts/`.
   */
  statsAlerts: defineTable(statsAlertFields)
    // One alert per report / run: the at-most-once key.
    .index("by_key", ["key"])
    // Operator status: pending and failed alerts in creation order.
    .index("by_state", ["state"]),
});
