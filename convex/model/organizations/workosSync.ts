/**
 * Full sync of the organization registry from the WorkOS API (the operator's
 * `npx convex run organizations:syncFromWorkOS`, and the repair for missed
 * webhook deliveries).
 *
 * Lists every organization (SDK auto-pagination), then upserts them in
 * batches of `MAX_UPSERT_BATCH`, one transaction each, through the same
 * `upsertOrganization` the webhook uses, so the ordering rules are the same:
 * stale snapshots and deleted orgs are left alone, unchanged orgs cost no
 * write. Registry orgs that WorkOS no longer lists are reported, never
 * deleted: a deletion only comes from an `organization.deleted` event, and a
 * sync run with another environment's API key must not wipe the registry.
 */
import { v, type Infer } from "convex/values";
import { z } from "zod";
import { internal } from "../../_generated/api";
import type { ActionCtx } from "../ctx";
import { workosClient, zWorkOSTimestamp } from "../../lib/workos";
import { vOrganizationStatus } from "../enums";
import { emptyBatchResult, MAX_UPSERT_BATCH, vBatchResult, type BatchResult } from "./lifecycle";
import type { OrgSnapshot } from "./registry";

/** Most ids listed in a sync result (the counts are complete). */
export const MAX_REPORTED_IDS = 100;
/** Registry entries read per page when looking for orgs WorkOS no longer lists. */
export const REGISTRY_PAGE_SIZE = 500;

/** What `syncFromWorkOS` returns. */
export const vSyncResult = v.object({
  /** Organizations WorkOS listed. */
  listed: v.number(),
  batches: v.number(),
  // The batch totals over the whole sync; `deletedInRegistry` cut to
  // `MAX_REPORTED_IDS`, with its full count beside it.
  ...vBatchResult.fields,
  deletedInRegistryCount: v.number(),
  /** Active in the registry but not listed by WorkOS (left as they are). */
  missingFromWorkOSCount: v.number(),
  missingFromWorkOS: v.array(v.string()),
});
export type SyncResult = Infer<typeof vSyncResult>;

// The SDK's deserialized organization: only what the registry keeps.
const zListedOrganization = z.object({
  id: z.string().min(1),
  name: z.string(),
  updatedAt: zWorkOSTimestamp,
});

/** Validates what WorkOS listed; keeps the newest snapshot of a repeated id. */
export function toSnapshots(listed: unknown[]): OrgSnapshot[] {
  const byId = new Map<string, OrgSnapshot>();
  for (const [index, item] of listed.entries()) {
    const parsed = zListedOrganization.safeParse(item);
    if (!parsed.success) {
      throw new Error(
        `[organizations.sync] WorkOS listed a malformed organization at ${index}: ${parsed.error.message}`,
      );
    }
    const snapshot = {
      workosOrgId: parsed.data.id,
      name: parsed.data.name,
      workosUpdatedAt: parsed.data.updatedAt,
    };
    const previous = byId.get(snapshot.workosOrgId);
    if (previous === undefined || previous.workosUpdatedAt < snapshot.workosUpdatedAt) {
      byId.set(snapshot.workosOrgId, snapshot);
    }
  }
  return [...byId.values()];
}

/**
 * Runs the sync. Everything is listed and validated before the first write,
 * so a failed listing writes nothing; a failure between batches leaves the
 * earlier batches applied, and running the sync again finishes the job.
 */
export async function syncOrganizationsFromWorkOS(
  ctx: Pick<ActionCtx, "runMutation" | "runQuery">,
): Promise<SyncResult> {
  const startedAt = Date.now();
  const workos = workosClient();
  const firstPage = await workos.organizations.listOrganizations();
  const snapshots = toSnapshots(await firstPage.autoPagination());

  const totals = emptyBatchResult();
  let batches = 0;
  for (let i = 0; i < snapshots.length; i += MAX_UPSERT_BATCH) {
    const batch: BatchResult = await ctx.runMutation(
      internal.organizations.upsertOrganizationsBatch,
      { organizations: snapshots.slice(i, i + MAX_UPSERT_BATCH) },
    );
    batches++;
    totals.registered += batch.registered;
    totals.updated += batch.updated;
    totals.unchanged += batch.unchanged;
    totals.stale += batch.stale;
    totals.documentsWritten += batch.documentsWritten;
    totals.deletedInRegistry.push(...batch.deletedInRegistry);
  }

  const missing = await activeOrgsNotListed(ctx, new Set(snapshots.map((s) => s.workosOrgId)), {
    registeredBefore: startedAt,
  });
  if (missing.length > 0) {
    console.warn("[organizations.sync] active registry orgs not listed by WorkOS", {
      count: missing.length,
      workosOrgIds: missing.slice(0, MAX_REPORTED_IDS),
    });
  }
  if (totals.deletedInRegistry.length > 0) {
    console.warn("[organizations.sync] WorkOS lists orgs the registry holds as deleted", {
      count: totals.deletedInRegistry.length,
      workosOrgIds: totals.deletedInRegistry.slice(0, MAX_REPORTED_IDS),
    });
  }
  const result: SyncResult = {
    listed: snapshots.length,
    batches,
    registered: totals.registered,
    updated: totals.updated,
    unchanged: totals.unchanged,
    stale: totals.stale,
    documentsWritten: totals.documentsWritten,
    deletedInRegistryCount: totals.deletedInRegistry.length,
    deletedInRegistry: totals.deletedInRegistry.slice(0, MAX_REPORTED_IDS),
    missingFromWorkOSCount: missing.length,
    missingFromWorkOS: missing.slice(0, MAX_REPORTED_IDS),
  };
  const { deletedInRegistry: _deleted, missingFromWorkOS: _missing, ...counts } = result;
  console.log("[organizations.sync] done", { ...counts, ms: Date.now() - startedAt });
  return result;
}

/**
 * Active registry orgs absent from `listed`, reading the registry a page at
 * a time. Orgs registered after the listing began (by a webhook) are skipped:
 * the listing could not have seen them.
 */
async function activeOrgsNotListed(
  ctx: Pick<ActionCtx, "runQuery">,
  listed: Set<string>,
  options: { registeredBefore: number },
): Promise<string[]> {
  const missing: string[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: { page: RegistryEntry[]; isDone: boolean; continueCursor: string } =
      await ctx.runQuery(internal.organizations.registryPage, {
        paginationOpts: { cursor, numItems: REGISTRY_PAGE_SIZE },
      });
    for (const org of page.page) {
      if (
        org.status === "active" &&
        org.registeredAt < options.registeredBefore &&
        !listed.has(org.workosOrgId)
      ) {
        missing.push(org.workosOrgId);
      }
    }
    if (page.isDone) return missing;
    cursor = page.continueCursor;
  }
}

/** One registry entry as `organizations.registryPage` returns it. */
export const vRegistryEntry = v.object({
  workosOrgId: v.string(),
  status: vOrganizationStatus,
  /** `_creationTime` of the entry. */
  registeredAt: v.number(),
});
export type RegistryEntry = Infer<typeof vRegistryEntry>;
