/**
 * Stats rows: finding the row of (org, entity), building a fresh one, and
 * whether an org has documents the row does not know of. Shared by the
 * engine, the read side and the recount.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { DatabaseReader } from "../../_generated/server";
import type { StatsEntity } from "../enums";
import { DUPLICATE_PROBE, pickOne } from "../uniqueness";
import { entityDef, type StatsRowFieldsOf, type StatsRowOf } from "./entities";
import { isOrgDeleted } from "../organizations/deleted";

/** Any stats row. */
export type StatsRow = Doc<"organizationStats">;
/** Any stats row without its system fields. */
export type StatsRowFields = StatsRowFieldsOf<StatsEntity>;

function isFieldsOf<T extends StatsEntity>(
  fields: StatsRowFields,
  entity: T,
): fields is StatsRowFieldsOf<T> {
  return fields.entity === entity;
}

/** A row's id and its fields without the system fields (what `replace` takes). */
export function splitRow<T extends StatsEntity>(
  row: StatsRowOf<T>,
  entity: T,
): { id: Id<"organizationStats">; fields: StatsRowFieldsOf<T> } {
  const any: StatsRow = row;
  const { _id, _creationTime, ...fields } = any;
  if (!isFieldsOf(fields, entity)) throw new Error("[stats] row of another entity");
  return { id: _id, fields };
}

function isRowOf<T extends StatsEntity>(row: StatsRow, entity: T): row is StatsRowOf<T> {
  return row.entity === entity;
}

/**
 * The stats row of (org, entity), or null when none was created yet. One
 * indexed read (of up to `DUPLICATE_PROBE` rows).
 *
 * Convex has no unique constraint, so a dashboard edit or an import can leave
 * two rows for one (org, entity). Rule (`pickStatsRow`): a row marked
 * `orgDeleted` wins (deletion is final), else the oldest. Every reader and
 * writer picks the same row, and the next recount removes the others.
 */
export async function getStatsRow<T extends StatsEntity>(
  db: DatabaseReader,
  workosOrgId: string,
  entity: T,
): Promise<StatsRowOf<T> | null> {
  return (await getStatsRows(db, workosOrgId, entity))?.row ?? null;
}

/** The row `getStatsRow` picks, and the duplicates it passed over (at most `DUPLICATE_PROBE - 1`). */
export async function getStatsRows<T extends StatsEntity>(
  db: DatabaseReader,
  workosOrgId: string,
  entity: T,
): Promise<{ row: StatsRowOf<T>; duplicates: StatsRowOf<T>[] } | null> {
  const rows = await db
    .query("organizationStats")
    .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId).eq("entity", entity))
    .take(DUPLICATE_PROBE);
  const typed = rows.map((row) => {
    if (!isRowOf(row, entity)) throw new Error("[stats] row of another entity under its index key");
    return row;
  });
  const picked = pickOne(typed, "organizationStats", { workosOrgId, entity }, (row) =>
    isOrgDeleted(row),
  );
  return picked === null ? null : { row: picked.doc, duplicates: picked.duplicates };
}

/** A fresh row with zero counters; `exact` rows are `seeded` too. */
export function newStatsRow<T extends StatsEntity>(
  workosOrgId: string,
  entity: T,
  exact: boolean,
  now: number,
): StatsRowFieldsOf<T> {
  // `recounting` is spelled out so the row's size does not change when a run starts.
  const common = { workosOrgId, exact, seeded: exact, recounting: false, updatedAt: now };
  return entityDef(entity).emptyRow(common);
}

/**
 * Whether the org has any document of `entity` other than those in `except`.
 * Reads at most |except| + 1 documents: enough to see one foreign document.
 */
export async function orgHasDocuments(
  db: DatabaseReader,
  workosOrgId: string,
  entity: StatsEntity,
  except: Set<string>,
): Promise<boolean> {
  const docs = await entityDef(entity)
    .documentsAfter(db, workosOrgId, null)
    .take(except.size + 1);
  return docs.some((d) => !except.has(d._id));
}
