/**
 * Stats rows: finding the row of (org, entity), building a fresh one, and
 * whether an org has documents the row does not know of. Shared by the
 * engine, the read side and the recount.
 */
import { getPerEntity } from "./perEntity";
import type { StatsConfig } from "./config";
import { tallyOfStored } from "./counters";
import { statsDb, type AnyReader } from "./ctx";
import type { EntityDef } from "./entities";
import type { Id } from "./ids";
import type { StatsRow, StatsRowFields } from "./tables";

/** Whether a stats row (or nothing) marks its org deleted. No row: not deleted. */
export function isRowOrgDeleted(row: Pick<StatsRow, "orgDeleted"> | null | undefined): boolean {
  return row?.orgDeleted === true;
}

/** A row's id and its fields without the system fields (what `replace` takes). */
export function splitRow(row: StatsRow): { id: Id<"organizationStats">; fields: StatsRowFields } {
  const { _id, _creationTime, ...fields } = row;
  return { id: _id, fields };
}

/**
 * The stats row of (org, entity), or null when none was created yet. One
 * indexed read; duplicates are picked over by the rule of `pickPerEntity`.
 */
export const getStatsRow = (db: AnyReader, workosOrgId: string, entity: string) =>
  getPerEntity(db, "organizationStats", workosOrgId, entity);

/** A fresh row with zero counters; `exact` rows are `seeded` too. */
export function newStatsRow(def: EntityDef, workosOrgId: string, exact: boolean): StatsRowFields {
  // `recounting` is spelled out so the row's size does not change when a run starts.
  // A table with filtered counters: an exact new row means no documents, so no facet cells either.
  const facets = def.facets !== null && exact ? { facetsExact: true } : {};
  return def.emptyRow({ workosOrgId, exact, seeded: exact, recounting: false, ...facets });
}

/**
 * The first row of (org, table): zero counters (`exact` when the org has no
 * documents), or, for an org with documents whose previous counters the app
 * still has (`config.carryOver`), those counters, `carried`.
 */
export async function initialRow(
  db: AnyReader,
  config: StatsConfig,
  def: EntityDef,
  workosOrgId: string,
  exact: boolean,
): Promise<StatsRowFields> {
  const fresh = newStatsRow(def, workosOrgId, exact);
  if (exact || config.carryOver === undefined) return fresh;
  const carried = await config.carryOver(db, workosOrgId, def.table);
  if (carried === null) return fresh;
  return { ...fresh, ...def.counters(tallyOfStored(carried)), carried: true };
}

/**
 * Whether the org has any document of `def`'s table other than those in
 * `except`. Reads at most |except| + 1 documents: enough to see one foreign
 * document.
 */
export async function orgHasDocuments(
  db: AnyReader,
  def: EntityDef,
  workosOrgId: string,
  except: Set<string>,
): Promise<boolean> {
  const docs = await def.documentsAfter(db, workosOrgId, null).take(except.size + 1);
  return docs.some((d) => !except.has(d._id));
}
