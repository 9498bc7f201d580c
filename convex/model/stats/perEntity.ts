/**
 * The stats tables that keep one document per (org, counted table): finding
 * that document. One lookup, so every such read takes the same
 * `by_org_and_entity` range and picks by the same rule.
 */
import { pickUnique } from "../uniqueness";
import { statsDb, type AnyReader } from "./ctx";
import type { StatsDoc } from "./tables";

/** Tables holding one document per (org, entity), each indexed `by_org_and_entity`. */
export type PerEntityTable =
  "organizationStats" | "statsRecounts" | "statsRecountSummaries" | "statsFacetStatus";

type Picked<T extends PerEntityTable> = { doc: StatsDoc<T>; duplicates: StatsDoc<T>[] };

/**
 * The document of (org, entity) in `table` and the duplicates passed over, or
 * null when there is none. One indexed read of up to `DUPLICATE_PROBE`
 * documents.
 *
 * Convex has no unique constraint, so a dashboard edit or an import can leave
 * two documents for one (org, entity). Rule: one marked `orgDeleted` wins
 * (deletion is final), else the oldest. Every reader and writer picks the
 * same one; the recount removes duplicate stats rows and recount states.
 */
export async function pickPerEntity<T extends PerEntityTable>(
  db: AnyReader,
  table: T,
  workosOrgId: string,
  entity: string,
): Promise<Picked<T> | null> {
  // Convex resolves index names and document types per concrete table only;
  // every member of `PerEntityTable` declares this index on the same fields,
  // so the lookup is typed as one of them and cast back once.
  const query = statsDb(db)
    .query(table as "organizationStats")
    .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId).eq("entity", entity));
  const picked = await pickUnique(
    query,
    table,
    { workosOrgId, entity },
    (doc) => doc.orgDeleted === true,
  );
  return picked as unknown as Picked<T> | null;
}

/** The document `pickPerEntity` picks, or null. */
export async function getPerEntity<T extends PerEntityTable>(
  db: AnyReader,
  table: T,
  workosOrgId: string,
  entity: string,
): Promise<StatsDoc<T> | null> {
  return (await pickPerEntity(db, table, workosOrgId, entity))?.doc ?? null;
}
