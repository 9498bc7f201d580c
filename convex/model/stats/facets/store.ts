/**
 * The filtered counters' documents in the database: live facet documents
 * (`statsFacets`, what filtered badges read), a recount's shadow deltas
 * (`statsFacetShadows`, several per key: the key's shadow is their sum), and
 * the readiness status of an org's facets
 * (`statsFacetStatus`). Finding them, applying a delta (one read and one
 * write per touched document), and the ordered walks the recount's merge
 * takes. Shared by the engine (counted writes), the recount and the read
 * side, none of which imports another for it.
 */
import { pickUnique } from "../../uniqueness";
import { getPerEntity } from "../perEntity";
import { statsDb, type AnyReader } from "../ctx";
import type {
  FacetDoc,
  FacetShadowDoc,
  FacetStatusDoc,
  StatsFields,
  StatsReader,
  StatsWriter,
} from "../tables";
import {
  applyDelta,
  contentOf,
  hasNegativeCell,
  keyOf,
  storedOf,
  type FacetDelta,
  type FacetKey,
} from "./keys";

/** The live facet document of `key`, or null. One indexed read. */
export async function getFacetDoc(
  db: AnyReader,
  workosOrgId: string,
  entity: string,
  key: FacetKey,
): Promise<FacetDoc | null> {
  const picked = await pickUnique(
    statsDb(db)
      .query("statsFacets")
      .withIndex("by_key", (q) =>
        q
          .eq("workosOrgId", workosOrgId)
          .eq("entity", entity)
          .eq("facet", key.facet)
          .eq("value", key.value)
          .eq("period", key.period),
      ),
    "statsFacets",
    { workosOrgId, entity, ...key },
  );
  return picked?.doc ?? null;
}

/** What applying a delta did. */
export type Applied = { documents: number; negative: FacetKey[] };

/**
 * Applies `delta` to the live facet documents of (org, entity): per touched
 * document one read and one write (insert, replace, or delete when every
 * cell is back to 0). Returns the keys left with a cell below zero (never
 * clamped).
 */
export async function applyToLive(
  db: StatsWriter,
  workosOrgId: string,
  entity: string,
  n: number,
  delta: FacetDelta,
): Promise<Applied> {
  const out: Applied = { documents: 0, negative: [] };
  for (const d of delta.values()) {
    const key = keyOf(d);
    const doc = await getFacetDoc(db, workosOrgId, entity, key);
    const next = applyDelta(contentOf(doc), d, n);
    out.documents++;
    if (hasNegativeCell(next)) out.negative.push(key);
    const fields: StatsFields<"statsFacets"> = { workosOrgId, entity, ...key, ...storedOf(next) };
    if (doc === null) {
      if (next !== null) await db.insert("statsFacets", fields);
    } else if (next === null) await db.delete("statsFacets", doc._id);
    else await db.replace("statsFacets", doc._id, fields);
  }
  return out;
}

/**
 * Adds `delta` to run `runId`'s shadow of every key `only` accepts, as one
 * inserted shadow document per key holding the change (the shadow of a key is
 * the sum of its shadow documents; the merge folds them). An insert reads
 * nothing, so a page or a write pays one small write per key, whatever the
 * size of the key's cells. Returns the documents inserted.
 */
export async function insertShadowDeltas(
  db: StatsWriter,
  workosOrgId: string,
  entity: string,
  runId: string,
  n: number,
  delta: FacetDelta,
  only: (key: FacetKey) => boolean = () => true,
): Promise<number> {
  let inserted = 0;
  for (const d of delta.values()) {
    const key = keyOf(d);
    if (!only(key)) continue;
    const cells = applyDelta(null, d, n);
    if (cells === null) continue;
    await db.insert("statsFacetShadows", {
      workosOrgId,
      entity,
      runId,
      ...key,
      ...storedOf(cells),
    });
    inserted++;
  }
  return inserted;
}

/** The facet status of (org, entity), or null when none was written. One indexed read. */
export const getFacetStatus = (db: AnyReader, workosOrgId: string, entity: string) =>
  getPerEntity(db, "statsFacetStatus", workosOrgId, entity);

/**
 * Sets fields of the facet status of (org, entity), creating it (not exact
 * unless told) when missing. Writes only when something changes, so a daily
 * recount of exact facets leaves filtered badges alone. Returns whether it wrote.
 */
export async function setFacetStatus(
  db: StatsWriter,
  workosOrgId: string,
  entity: string,
  set: { exact?: boolean; orgDeleted?: true },
): Promise<boolean> {
  const doc = await getFacetStatus(db, workosOrgId, entity);
  if (doc === null) {
    await db.insert("statsFacetStatus", { workosOrgId, entity, exact: false, ...set });
    return true;
  }
  const exactChanges = set.exact !== undefined && set.exact !== doc.exact;
  const deletedChanges = set.orgDeleted === true && doc.orgDeleted !== true;
  if (!exactChanges && !deletedChanges) return false;
  await db.patch("statsFacetStatus", doc._id, set);
  return true;
}

/**
 * Deletes up to `limit` shadow deltas of (org, entity) that belong
 * to runs other than `runId` (replaced, canceled or finished runs). Returns
 * how many it deleted (`limit`: there may be more).
 */
export async function deleteStaleShadows(
  db: StatsWriter,
  workosOrgId: string,
  entity: string,
  runId: string,
  limit: number,
): Promise<number> {
  let deleted = 0;
  for (const side of ["lt", "gt"] as const) {
    if (deleted >= limit) break;
    const stale = await db
      .query("statsFacetShadows")
      .withIndex("by_run_and_key", (q) => {
        const org = q.eq("workosOrgId", workosOrgId).eq("entity", entity);
        return side === "lt" ? org.lt("runId", runId) : org.gt("runId", runId);
      })
      .take(limit - deleted);
    for (const doc of stale) await db.delete("statsFacetShadows", doc._id);
    deleted += stale.length;
  }
  return deleted;
}

/**
 * The live facet documents of (org, entity) after `cursor` in key order (all
 * of them for null), at most `limit`. Three index ranges: the rest of the
 * cursor's value, the rest of its facet, the facets after it.
 */
export async function liveAfter(
  db: StatsReader,
  workosOrgId: string,
  entity: string,
  cursor: FacetKey | null,
  limit: number,
): Promise<FacetDoc[]> {
  // After `cursor` in key order: later periods of its value, later values of
  // its facet, later facets (index ranges fix a prefix, then bound one field).
  const after = (depth: 0 | 1 | 2) =>
    db.query("statsFacets").withIndex("by_key", (q) => {
      const org = q.eq("workosOrgId", workosOrgId).eq("entity", entity);
      if (cursor === null) return org;
      if (depth === 0) return org.gt("facet", cursor.facet);
      const facet = org.eq("facet", cursor.facet);
      return depth === 1
        ? facet.gt("value", cursor.value)
        : facet.eq("value", cursor.value).gt("period", cursor.period);
    });
  if (cursor === null) return await after(0).take(limit);
  const out: FacetDoc[] = [];
  for (const depth of [2, 1, 0] as const) {
    if (out.length >= limit) break;
    out.push(...(await after(depth).take(limit - out.length)));
  }
  return out;
}

/** The first `limit` shadow deltas of run `runId`, in key order (a key's deltas by age). */
export async function shadowsOfRun(
  db: StatsReader,
  workosOrgId: string,
  entity: string,
  runId: string,
  limit: number,
): Promise<FacetShadowDoc[]> {
  return await db
    .query("statsFacetShadows")
    .withIndex("by_run_and_key", (q) =>
      q.eq("workosOrgId", workosOrgId).eq("entity", entity).eq("runId", runId),
    )
    .take(limit);
}
