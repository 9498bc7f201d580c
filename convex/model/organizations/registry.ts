/**
 * The organization registry: one `organizations` entry per WorkOS
 * organization, kept by the webhook (`model/organizations/webhook.ts`) and the sync
 * (`organizations.syncFromWorkOS`). The recount and the migration walk it.
 *
 * Ordering rules, because WorkOS delivers events at least once and in no
 * guaranteed order:
 * - a snapshot (event or listed org) carries WorkOS's `updated_at`; one older
 *   than the stored `workosUpdatedAt` is stale and changes nothing. An
 *   `updated_at` beyond the clock-skew allowance (`lib/clock.ts`) is clamped
 *   to now + allowance (WorkOS signed it, so it is applied, but it cannot
 *   block later updates for longer than the allowance), and a stored one
 *   beyond it (written before the clamp, or around the code) is disregarded;
 * - deletion is final: WorkOS never reuses an organization id, so a deleted
 *   entry ignores every later create or update (late deliveries, or a sync
 *   that listed the org just before it was deleted), and a deletion of an
 *   unknown org leaves a deleted entry (a tombstone) so a late
 *   `organization.created` cannot register it;
 * - every function here writes only when something changes.
 */
import { v, type Infer } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../ctx";
import { clampToSkew } from "../../lib/clock";
import { appError, orgDeletedError } from "../../lib/errors";
import type { RegistryOutcome } from "../enums";
import { pickUnique } from "../uniqueness";
import { trustedStoredTimestamp } from "../validate";
import { isOrgDeleted } from "./deleted";

/** What WorkOS says about one organization at `workosUpdatedAt`. */
export const vOrgSnapshot = v.object({
  workosOrgId: v.string(),
  name: v.string(),
  /** WorkOS's `updated_at` of the organization, ms since epoch. */
  workosUpdatedAt: v.number(),
});
export type OrgSnapshot = Infer<typeof vOrgSnapshot>;

/** Result of one registry write: what happened and how many documents it wrote. */
export type RegistryChange = { outcome: RegistryOutcome; documentsWritten: number };

/**
 * The registry entry of a WorkOS org, or null. The code writes one entry per
 * org; if a dashboard edit or backup import left several, a deleted one wins
 * (deletion is final, so the org stays refused), else the oldest; the others
 * are logged and left alone. Every registry write goes to the entry picked
 * here, so later reads agree.
 */
export async function getOrganization(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
): Promise<Doc<"organizations"> | null> {
  // A deleted entry wins over active duplicates: deletion is final.
  const picked = await pickUnique(
    ctx.db
      .query("organizations")
      .withIndex("by_workos_org_id", (q) => q.eq("workosOrgId", workosOrgId)),
    "organizations by WorkOS id",
    { workosOrgId },
    isOrgDeleted,
  );
  return picked?.doc ?? null;
}

/**
 * Registers or updates an org from a snapshot (see the file comment for the
 * ordering rules). Writes only the registry: what a new org needs besides
 * (its stats rows) is the lifecycle's (`lifecycle.ts`).
 */
export async function upsertOrganization(
  ctx: Pick<MutationCtx, "db">,
  snapshot: OrgSnapshot,
): Promise<RegistryChange> {
  const now = Date.now();
  const workosUpdatedAt = clampToSkew(snapshot.workosUpdatedAt, now);
  const existing = await getOrganization(ctx, snapshot.workosOrgId);
  if (existing === null) {
    await ctx.db.insert("organizations", {
      workosOrgId: snapshot.workosOrgId,
      name: snapshot.name,
      status: "active",
      updatedAt: now,
      workosUpdatedAt,
    });
    return { outcome: "registered", documentsWritten: 1 };
  }
  if (isOrgDeleted(existing)) return { outcome: "ignored_deleted", documentsWritten: 0 };
  // Not a timestamp (NaN, ±Infinity, 0 or below; reported) or beyond the skew allowance: disregarded.
  const storedAt = trustedStoredTimestamp(
    { table: "organizations", id: existing._id, workosOrgId: existing.workosOrgId },
    "workosUpdatedAt",
    existing.workosUpdatedAt,
    now,
  );
  if (storedAt !== undefined && workosUpdatedAt < storedAt) {
    return { outcome: "stale", documentsWritten: 0 };
  }
  if (existing.name === snapshot.name && existing.workosUpdatedAt === workosUpdatedAt) {
    return { outcome: "unchanged", documentsWritten: 0 };
  }
  await ctx.db.patch("organizations", existing._id, {
    name: snapshot.name,
    workosUpdatedAt,
    updatedAt: now,
  });
  return { outcome: "updated", documentsWritten: 1 };
}

/**
 * Marks an org deleted in the registry. Writes only the registry; the
 * lifecycle also marks its stats rows (`lifecycle.ts`), which is what makes
 * its public functions refuse. Internal mutations that must not act for a
 * deleted org check `assertOrgActive`. Idempotent: a second call writes
 * nothing.
 *
 * @param deletedAt when WorkOS deleted it (the event's `created_at`).
 */
export async function markOrganizationDeleted(
  ctx: Pick<MutationCtx, "db">,
  snapshot: OrgSnapshot,
  deletedAt: number,
): Promise<RegistryChange> {
  const now = Date.now();
  const existing = await getOrganization(ctx, snapshot.workosOrgId);
  let outcome: RegistryOutcome = "deleted";
  let documentsWritten = 0;
  if (existing === null) {
    await ctx.db.insert("organizations", {
      workosOrgId: snapshot.workosOrgId,
      name: snapshot.name,
      status: "deleted",
      deletedAt,
      updatedAt: now,
      workosUpdatedAt: clampToSkew(snapshot.workosUpdatedAt, now),
    });
    documentsWritten++;
  } else if (isOrgDeleted(existing)) {
    outcome = "already_deleted";
  } else {
    await ctx.db.patch("organizations", existing._id, {
      status: "deleted",
      deletedAt,
      updatedAt: now,
    });
    documentsWritten++;
  }
  return { outcome, documentsWritten };
}

/**
 * Refuses an org the registry marks deleted. For public mutations that write
 * documents the stats flush does not see (e.g. lanes), and for internal
 * entry points that must not act for a deleted org (the FourKites imports),
 * since the flush refuses deleted orgs only in public mutations. Public
 * counted writes and the count queries are already refused by the stats row,
 * so those paths need not pay this extra read. An org absent from the
 * registry passes (the registry may not have been synced yet).
 *
 * @throws `ORG_DELETED`
 */
export async function assertOrgActive(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
): Promise<void> {
  const org = await getOrganization(ctx, workosOrgId);
  if (isOrgDeleted(org)) {
    throw orgDeletedError(workosOrgId);
  }
}
