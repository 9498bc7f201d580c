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
import { ensureEmptyOrgStats } from "../../stats_helpers";
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
 * Applies one organization event to the registry (and the org's stats rows).
 *
 * `organization.created` also makes sure both stats rows exist (exact zeros
 * for an org without documents), even when an earlier update or a sync
 * registered the org first. Deletion is final (see `registry.ts`).
 */
export async function applyOrganizationChange(
  ctx: Pick<MutationCtx, "db" | "scheduler">,
  input: LifecycleEvent,
): Promise<RegistryChange> {
  if (input.event === "organization.deleted") {
    const deletedAt = input.eventCreatedAt ?? input.organization.workosUpdatedAt;
    return await markOrganizationDeleted(ctx, input.organization, deletedAt);
  }
  const change = await upsertOrganization(ctx, input.organization);
  if (input.event === "organization.created" && change.outcome !== "ignored_deleted") {
    change.documentsWritten += await ensureEmptyOrgStats(ctx, input.organization.workosOrgId);
  }
  return change;
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
