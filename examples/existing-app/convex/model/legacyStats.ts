/**
 * The app's previous counters: one `organizationStats` document per org with
 * `loadCounts` and `invoiceCounts`, kept by helpers that every mutation
 * called after its write. They stay in the table while they are migrated
 * (docs/adopting.md, steps 6 to 8):
 *
 * - `vLegacyStatsDoc` widens the table's validator (`schema.ts`);
 * - `carryOver` hands their numbers to the stats module for an org it has no
 *   row for yet, so no badge drops to zero before the org is migrated;
 * - `migrations/legacyStats.ts` moves them into the module's rows and
 *   deletes them.
 *
 * Delete this file (and the two uses) once the migration has run: the
 * narrowed schema then refuses these documents.
 */
import { v, type Infer } from "convex/values";
import type { AnyReader } from "../../../../convex/model/stats/ctx";
import type { CarriedCounters } from "../../../../convex/model/stats/config";

/** The old per-org stats document (`Expired` was added late, so older ones lack it). */
export const vLegacyStatsDoc = v.object({
  workosOrgId: v.string(),
  loadCounts: v.object({
    Open: v.number(),
    Assigned: v.number(),
    Completed: v.number(),
    Canceled: v.number(),
    Expired: v.optional(v.number()),
  }),
  invoiceCounts: v.object({
    MISSING_DATA: v.number(),
    DRAFT: v.number(),
    BILLED: v.number(),
    PENDING_PAYMENT: v.number(),
    PAID: v.number(),
    VOID: v.number(),
  }),
  lastRecalculated: v.optional(v.number()),
  updatedAt: v.number(),
});
export type LegacyStatsFields = Infer<typeof vLegacyStatsDoc>;

/** Whether a stored `organizationStats` document is an old one (the module's rows name an `entity`). */
export function isLegacyStatsDoc(doc: Record<string, unknown>): boolean {
  return doc.entity === undefined && "loadCounts" in doc;
}

/**
 * The org's old stats document, or null: one document read. Old documents
 * have no `entity`, and a missing field sorts before any value in an index,
 * so the first document of the org under the module's `by_org_and_entity`
 * index is its old one when it still has one. When an org has two (Convex
 * has no unique constraint), this is the oldest, the one the old code read.
 */
export async function getLegacyStats(
  db: AnyReader,
  workosOrgId: string,
): Promise<LegacyStatsFields | null> {
  const docs = await db
    .query("organizationStats")
    .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId))
    .take(1);
  const doc = docs[0] as Record<string, unknown> | undefined;
  return doc !== undefined && isLegacyStatsDoc(doc) ? (doc as LegacyStatsFields) : null;
}

/** The old counters of one counted table, as the module takes them (`StatsConfig.carryOver`). */
export function carriedCounters(legacy: LegacyStatsFields, table: string): CarriedCounters | null {
  if (table === "loadInformation") {
    return { counts: { ...legacy.loadCounts, Expired: legacy.loadCounts.Expired ?? 0 } };
  }
  if (table === "loadInvoices") return { counts: { ...legacy.invoiceCounts } };
  return null;
}

/** `StatsConfig.carryOver` for this app: the old document's counters of (org, table). */
export async function carryOver(
  db: AnyReader,
  workosOrgId: string,
  table: string,
): Promise<CarriedCounters | null> {
  const legacy = await getLegacyStats(db, workosOrgId);
  return legacy === null ? null : carriedCounters(legacy, table);
}
