/**
 * The recount of a table's filtered counters (`docs/filtered-counts.md`):
 * during the scan each page adds its documents to the run's shadow facet
 * documents; then the merge walks the live facet documents and the shadow
 * ones together in key order, a batch per page, repairs every live document
 * that differs (a dry run only records it), deletes each shadow as it is
 * merged, and keeps what it found (the first cells, totals) on the run's
 * state for the drift report.
 *
 * Why it stays exact while writes continue: at the end of the scan the
 * shadows hold the true cells of every key (the scan's invariant, extended
 * to facets by the flush). From then on the flush adds every change to the
 * shadow of each key after the merge cursor, so a key's shadow is its truth
 * when the merge reaches it; keys at or before the cursor are repaired and
 * the flush keeps them exact like any live document.
 */
import { statsDb, type StatsMutationCtx } from "../ctx";
import type { EntityDef } from "../entities";
import {
  addPlace,
  cellDiffs,
  compareKeys,
  contentOf,
  keyId,
  keyOf,
  type FacetDelta,
  type FacetKey,
} from "../facets/keys";
import { liveAfter, shadowsOfRun } from "../facets/store";
import type { CountedDoc } from "../entities";
import type { FacetDoc, FacetMerge, FacetShadowDoc, RecountState } from "../tables";

/** Differing cells a merge lists (the totals count them all). */
export const FACET_DRIFT_LISTED = 100;
/** Most keys a merge page takes from each side (live, shadow). */
export const MAX_MERGE_BATCH = 150;
/** Stale shadow facet documents (of other runs) a page deletes. */
export const STALE_SHADOW_BATCH = 100;

/** A merge that found nothing yet. */
export function emptyMerge(): FacetMerge {
  return { compared: 0, differing: 0, cells: 0, duplicatesRemoved: 0, rows: [] };
}

/** The keys a merge page takes from each side, for a page of `maxDocs` documents. */
export function mergeBatch(maxDocs: number): number {
  return Math.max(1, Math.min(MAX_MERGE_BATCH, Math.floor(maxDocs / 5)));
}

/** Adds a counted document to a page's facet delta (the scan's facet part). */
export function addDocumentFacets(def: EntityDef, delta: FacetDelta, doc: CountedDoc): void {
  const side = def.sideOf(doc);
  if (def.facets === null || side?.place === undefined) return;
  const status = def.statuses.indexOf(side.bucket.status);
  addPlace(delta, def.facets, def.statuses.length, status, side.place, 1);
}

/** What one merge page did. */
export type MergeStep = {
  /** The last key merged (the new cursor), or the old one when nothing was. */
  cursor: FacetKey | undefined;
  merge: FacetMerge;
  /** Every key is merged. */
  done: boolean;
  /** Facet documents read (live and shadow). */
  documents: number;
};

type Slot = { key: FacetKey; live: FacetDoc[]; shadow: FacetShadowDoc | null };

/**
 * One merge page of run `state` (see the file comment): up to `batch` keys
 * from each side after the cursor, merged up to the last key both sides are
 * known to hold. A dry run (`state.report`) repairs nothing and removes no
 * duplicate; it deletes its own shadows as it merges them.
 */
export async function mergeStep(
  ctx: Pick<StatsMutationCtx, "db">,
  def: EntityDef,
  state: RecountState,
  batch: number,
): Promise<MergeStep> {
  const db = statsDb(ctx.db);
  const { workosOrgId, runId } = state;
  const entity = def.table;
  const dryRun = state.report !== undefined;
  const cursor = state.mergeCursor ?? null;
  const live = await liveAfter(db, workosOrgId, entity, cursor, batch);
  const shadows = await shadowsOfRun(db, workosOrgId, entity, runId, batch);
  // Past the last key of a side cut by the batch, that side is not known yet.
  const known: FacetKey[] = [];
  const lastLive = live.at(-1);
  const lastShadow = shadows.at(-1);
  if (live.length === batch && lastLive !== undefined) known.push(keyOf(lastLive));
  if (shadows.length === batch && lastShadow !== undefined) known.push(keyOf(lastShadow));
  const bound = known.sort(compareKeys)[0] ?? null;

  const slots = new Map<string, Slot>();
  const slot = (key: FacetKey) => {
    const id = keyId(key);
    let s = slots.get(id);
    if (s === undefined) {
      s = { key, live: [], shadow: null };
      slots.set(id, s);
    }
    return s;
  };
  // Index order within a key is by `_creationTime`: the first is the oldest, the one writes use.
  for (const doc of live) slot(keyOf(doc)).live.push(doc);
  for (const doc of shadows) slot(keyOf(doc)).shadow = doc;

  const merge: FacetMerge = { ...(state.facetMerge ?? emptyMerge()) };
  merge.rows = [...merge.rows];
  let last: FacetKey | undefined = state.mergeCursor;
  let stopped = false;
  for (const s of [...slots.values()].sort((a, b) => compareKeys(a.key, b.key))) {
    if (bound !== null && compareKeys(s.key, bound) > 0) {
      stopped = true;
      break;
    }
    const [doc, ...duplicates] = s.live;
    const stored = contentOf(doc ?? null);
    const actual = contentOf(s.shadow);
    const diffs = cellDiffs(s.key, stored, actual, def.statuses);
    merge.compared++;
    if (diffs.length > 0) {
      merge.differing++;
      merge.cells += diffs.length;
      merge.rows.push(...diffs.slice(0, FACET_DRIFT_LISTED - merge.rows.length));
      if (!dryRun) {
        const fields = { workosOrgId, entity, ...s.key, ...actual };
        if (doc === undefined) await db.insert("statsFacets", fields);
        else if (actual === null) await db.delete("statsFacets", doc._id);
        else await db.replace("statsFacets", doc._id, fields);
      }
    }
    merge.duplicatesRemoved += duplicates.length;
    if (!dryRun) for (const d of duplicates) await db.delete("statsFacets", d._id);
    if (s.shadow !== null) await db.delete("statsFacetShadows", s.shadow._id);
    last = s.key;
  }
  const done = !stopped && live.length < batch && shadows.length < batch;
  return { cursor: last, merge, done, documents: live.length + shadows.length };
}
