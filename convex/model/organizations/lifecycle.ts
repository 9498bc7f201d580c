/**
 * The organization lifecycle (created / updated / deleted in WorkOS), callable
 * from any receiver of verified WorkOS events: our own route
 * (`POST /workos/webhook`, `model/organizations/webhook.ts`), the event hooks
 * of `@convex-dev/workos-authkit`, or a team's own receiver. Receivers verify
 * the delivery; this file only applies what it says. See docs/operations.md.
 */
import { v, type Infer, type ObjectType } from "convex/values";
import { z } from "zod";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import { ensureEmptyOrgStats, markOrgStatsDeleted } from "../stats/engine";
import { STATS } from "../statsConfig";
import { pickUnique } from "../uniqueness";
import {
  ORGANIZATION_EVENTS,
  vOrganizationEvent,
  vRegistryOutcome,
  type OrganizationEvent,
} from "../enums";
import {
  markOrganizationDeleted,
  upsertOrganization,
  vOrgSnapshot,
  type OrgSnapshot,
  type RegistryChange,
} from "./registry";

/** A verified organization event, from whichever receiver. */
export const vLifecycleEvent = {
  event: vOrganizationEvent,
  organization: vOrgSnapshot,
  /**
   * WorkOS's event id. Given, the event is applied once per id (the id is
   * recorded in `workosWebhookEvents`); receivers that deduplicate themselves
   * (the authkit component does) may leave it out. Applying is safe to
   * repeat either way: snapshots older than the stored one change nothing.
   */
  eventId: v.optional(v.string()),
  /** The event's `created_at` (ms): the deletion time of `organization.deleted`. */
  eventCreatedAt: v.optional(v.number()),
};
export type LifecycleEvent = ObjectType<typeof vLifecycleEvent>;

/** What applying one event did. */
export const vLifecycleResult = v.object({
  outcome: vRegistryOutcome,
  /** True when this event id was applied before: nothing was written. */
  duplicate: v.boolean(),
  documentsWritten: v.number(),
});
export type LifecycleResult = Infer<typeof vLifecycleResult>;

/**
 * Registers or updates an org; a newly registered one also gets its stats
 * rows (exact zeros when it has no documents yet), and so does any org on
 * `organization.created`, even when an earlier update or a sync registered
 * it first.
 */
async function registerOrganization(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  snapshot: OrgSnapshot,
  created: boolean,
): Promise<RegistryChange> {
  const change = await upsertOrganization(ctx, snapshot);
  if (change.outcome === "registered" || (created && change.outcome !== "ignored_deleted")) {
    change.documentsWritten += await ensureEmptyOrgStats(ctx, STATS, snapshot.workosOrgId);
  }
  return change;
}

/**
 * Deletes an org: deletion is final (see `registry.ts`). The registry entry
 * and every stats row are marked (missing rows created for it), so public
 * functions refuse the org (the flush of a public mutation and the count
 * queries read the mark on the row) and the recount skips it. Idempotent.
 *
 * @param deletedAt when WorkOS deleted it (the event's `created_at`).
 */
export async function deleteOrganization(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  snapshot: OrgSnapshot,
  deletedAt: number,
): Promise<RegistryChange> {
  const change = await markOrganizationDeleted(ctx, snapshot, deletedAt);
  change.documentsWritten += await markOrgStatsDeleted(ctx, STATS, snapshot.workosOrgId);
  return change;
}

/** Applies one organization event to the registry and the org's stats rows. */
export async function applyOrganizationChange(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  input: LifecycleEvent,
): Promise<RegistryChange> {
  if (input.event === "organization.deleted") {
    const deletedAt = input.eventCreatedAt ?? input.organization.workosUpdatedAt;
    return await deleteOrganization(ctx, input.organization, deletedAt);
  }
  return await registerOrganization(
    ctx,
    input.organization,
    input.event === "organization.created",
  );
}

/**
 * Applies an event, once per `eventId` when one is given (the id is recorded
 * in the same transaction, so concurrent or repeated deliveries apply it once).
 */
export async function applyLifecycleEvent(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  input: LifecycleEvent,
): Promise<LifecycleResult> {
  const { eventId } = input;
  if (eventId !== undefined) {
    // Any record of the id means it was applied; of several (written around
    // the code), the oldest tells the outcome.
    const seen = await pickUnique(
      ctx.db.query("workosWebhookEvents").withIndex("by_event_id", (q) => q.eq("eventId", eventId)),
      "webhook events by id",
      { eventId },
    );
    if (seen !== null) {
      return { outcome: seen.doc.outcome, duplicate: true, documentsWritten: 0 };
    }
  }
  const change = await applyOrganizationChange(ctx, input);
  let documentsWritten = change.documentsWritten;
  if (eventId !== undefined) {
    await ctx.db.insert("workosWebhookEvents", {
      eventId,
      event: input.event,
      workosOrgId: input.organization.workosOrgId,
      eventCreatedAt: input.eventCreatedAt ?? input.organization.workosUpdatedAt,
      outcome: change.outcome,
      processedAt: Date.now(),
    });
    documentsWritten++;
  }
  console.log("[organizations.lifecycle] applied", {
    event: input.event,
    workosOrgId: input.organization.workosOrgId,
    eventId: eventId ?? null,
    outcome: change.outcome,
  });
  return { outcome: change.outcome, duplicate: false, documentsWritten };
}

// The organization in an event's `data`, in WorkOS's wire format
// (`updated_at`) or as the WorkOS SDK hands it to the authkit component's
// hooks (`updatedAt`). Only the fields the registry keeps.
const zTimestamp = z.union([
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
  z.number().int().nonnegative(),
]);
const zOrganizationData = z.union([
  z.object({ id: z.string().min(1), name: z.string(), updated_at: zTimestamp }),
  z.object({ id: z.string().min(1), name: z.string(), updatedAt: zTimestamp }),
]);

function isOrganizationEvent(event: string): event is OrganizationEvent {
  return ORGANIZATION_EVENTS.some((known) => known === event);
}

/**
 * Reads a verified WorkOS event as a receiver holds it (`{ event, data }`,
 * optionally `id` and `created_at`/`createdAt`): the lifecycle event, or null
 * for an event that is not about an organization's lifecycle.
 *
 * @throws `INVALID_PAYLOAD` when an organization event's data is malformed.
 */
export function lifecycleEventFromWorkOS(delivery: {
  event: string;
  data: unknown;
  id?: string;
  createdAt?: string | number;
  created_at?: string | number;
}): LifecycleEvent | null {
  if (!isOrganizationEvent(delivery.event)) return null;
  const org = zOrganizationData.safeParse(delivery.data);
  if (!org.success) {
    const issues = org.error.issues.map((i) => `data.${i.path.join(".")}: ${i.message}`);
    throw appError("INVALID_PAYLOAD", `Malformed ${delivery.event} event: ${issues.join("; ")}`);
  }
  const updatedAt = "updated_at" in org.data ? org.data.updated_at : org.data.updatedAt;
  const rawCreated = delivery.createdAt ?? delivery.created_at;
  const created = rawCreated === undefined ? undefined : zTimestamp.safeParse(rawCreated);
  if (created !== undefined && !created.success) {
    throw appError("INVALID_PAYLOAD", `Malformed ${delivery.event} event: bad created_at.`);
  }
  return {
    event: delivery.event,
    organization: { workosOrgId: org.data.id, name: org.data.name, workosUpdatedAt: updatedAt },
    ...(delivery.id === undefined ? {} : { eventId: delivery.id }),
    ...(created === undefined ? {} : { eventCreatedAt: created.data }),
  };
}

/** Default path of our WorkOS webhook route. */
export const DEFAULT_WORKOS_WEBHOOK_PATH = "/workos/webhook";
/** Env variable moving (or, with `off`, removing) our route. */
export const WORKOS_WEBHOOK_PATH_ENV = "WORKOS_WEBHOOK_PATH";

/**
 * The path `http.ts` mounts our WorkOS webhook at: `raw` (the
 * `WORKOS_WEBHOOK_PATH` env value, read when the deployment loads its HTTP
 * routes), the default when unset, or null for `off` (no route: another
 * receiver, e.g. the authkit component, forwards organization events).
 *
 * @throws Error when `raw` is not an absolute path of URL-safe characters
 *   (the deploy fails rather than serving the webhook somewhere unexpected).
 */
export function workosWebhookPath(raw: string | undefined): string | null {
  const value = raw?.trim();
  if (value === undefined || value === "") return DEFAULT_WORKOS_WEBHOOK_PATH;
  if (value.toLowerCase() === "off") return null;
  if (!/^\/[A-Za-z0-9\-._~/]*$/.test(value) || value.includes("//")) {
    throw new Error(
      `[http] ${WORKOS_WEBHOOK_PATH_ENV} must be an absolute path such as /workos/organizations/webhook, or "off"; got ${JSON.stringify(raw)}.`,
    );
  }
  return value;
}

/** Totals of one batch of snapshots. */
export const vBatchResult = v.object({
  registered: v.number(),
  updated: v.number(),
  unchanged: v.number(),
  stale: v.number(),
  /** Orgs WorkOS lists that the registry holds as deleted (not resurrected). */
  deletedInRegistry: v.array(v.string()),
  /** Documents written (registry entries and new stats rows). */
  documentsWritten: v.number(),
});
export type BatchResult = Infer<typeof vBatchResult>;

/** A `BatchResult` of nothing yet, to add batches into. */
export function emptyBatchResult(): BatchResult {
  return {
    registered: 0,
    updated: 0,
    unchanged: 0,
    stale: 0,
    deletedInRegistry: [],
    documentsWritten: 0,
  };
}

/** Most snapshots one `upsertOrganizations` call takes (keeps a batch far below transaction limits). */
export const MAX_UPSERT_BATCH = 100;

/**
 * Upserts up to `MAX_UPSERT_BATCH` snapshots. Per org: 1 registry read, and
 * for a new org 4 more reads (stats rows, document probes) and 3 writes.
 *
 * @throws `INVALID_ARGUMENT` for a larger batch or a repeated org id.
 */
export async function upsertOrganizations(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  snapshots: OrgSnapshot[],
): Promise<BatchResult> {
  if (snapshots.length > MAX_UPSERT_BATCH) {
    throw appError("INVALID_ARGUMENT", `At most ${MAX_UPSERT_BATCH} organizations per batch.`, {
      count: snapshots.length,
    });
  }
  const seen = new Set<string>();
  for (const s of snapshots) {
    if (seen.has(s.workosOrgId)) {
      throw appError("INVALID_ARGUMENT", "An organization appears twice in the batch.", {
        workosOrgId: s.workosOrgId,
      });
    }
    seen.add(s.workosOrgId);
  }
  const result = emptyBatchResult();
  for (const snapshot of snapshots) {
    const change = await registerOrganization(ctx, snapshot, false);
    result.documentsWritten += change.documentsWritten;
    switch (change.outcome) {
      case "registered":
      case "updated":
      case "unchanged":
      case "stale":
        result[change.outcome]++;
        break;
      case "ignored_deleted":
        result.deletedInRegistry.push(snapshot.workosOrgId);
        break;
      default:
        throw new Error(`[organizations.upsert] unexpected outcome ${change.outcome}`);
    }
  }
  return result;
}
