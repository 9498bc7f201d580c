/**
 * The recount of a table's filtered counters (`docs/filtered-counts.md`):
 * during the scan each page inserts its documents' facet cells as shadow
 * deltas (one small document per key it touched: an insert reads nothing);
 * then the merge walks the live facet documents and the deltas together in
 * key order, a batch per page, folds each key's deltas, repairs every live
 * document that differs (a dry run only records it), deletes the deltas as
 * they are merged, and keeps what it found (the first cells, totals) on the
 * run's state for the drift report.
 *
 * Why it stays exact while writes continue: at the end of the scan the sum
 * of each key's deltas is its true cells (the scan's invariant, extended to
 * facets by the flush, which inserts a delta for every change behind the
 * cursor). From then on the flush inserts a delta for every change to a key
 * after the merge cursor, so a key's sum is its truth when the merge reaches
 * it; keys at or before the cursor are repaired and the flush keeps them
 * exact like any live document.
 */
import { statsDb, type StatsMutationCtx } from "../ctx";
import type { EntityDef } from "../entities";
import {
  addPlace,
  applyDelta,
  cellDiffs,
  compareKeys,
  contentOf,
  deltaOfContent,
  keyId,
  keyOf,
  storedOf,
  type FacetContent,
  type FacetDelta,
  type FacetKey,
} from "../facets/keys";
import { liveAfter, shadowsOfRun } from "../facets/store";
import type { CountedDoc } from "../entities";
import type { FacetDoc, FacetMerge, FacetShadowDoc, RecountState } from "../tables";

/** Differing cells a merge lists (the totals count them all). */
export const FACET_DRIFT_LISTED = 100;
/** Most live keys a merge page takes. */
export const MAX_MERGE_KEYS = 150;
/** Most shadow deltas a merge page takes (small documents: a page's or a write's cells of one key). */
export const MAX_MERGE_DELTAS = 2_000;
/** Stale shadow deltas (of other runs) a page deletes. */
export const STALE_SHADOW_BATCH = 100;

/** A merge that found nothing yet. */
export function emptyMerge(): FacetMerge {
  return { compared: 0, differing: 0, cells: 0, duplicatesRemoved: 0, rows: [] };
}

/** What a merge page takes, for a page of `maxDocs` documents. */
export type MergeBatch = { keys: number; deltas: number };

/** Fewest live keys and deltas a merge page takes, however small its page (they are small documents). */
export const MIN_MERGE_BATCH: MergeBatch = { keys: 8, deltas: 50 };

/** The merge batch for a page of `maxDocs` documents (halved with it after a failure). */
export function mergeBatch(maxDocs: number): MergeBatch {
  return {
    keys: Math.max(MIN_MERGE_BATCH.keys, Math.min(MAX_MERGE_KEYS, Math.floor(maxDocs / 5))),
    deltas: Math.max(MIN_MERGE_BATCH.deltas, Math.min(MAX_MERGE_DELTAS, 2 * maxDocs)),
  };
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

type Slot = { key: FacetKey; live: FacetDoc[]; deltas: FacetShadowDoc[] };

/** The sum of a key's shadow deltas (null: all cells 0). */
function foldDeltas(def: EntityDef, deltas: FacetShadowDoc[]): FacetContent | null {
  const n = def.statuses.length;
  let sum: FacetContent | null = null;
  for (const d of deltas) sum = applyDelta(sum, deltaOfContent(contentOf(d)), n);
  return sum;
}

/**
 * One merge page of run `state` (see the file comment): up to `batch.keys`
 * live documents after the cursor and `batch.deltas` shadow deltas, merged
 * up to the last key both sides are known to hold whole (a key's deltas may
 * go on past the batch, so the last key of a cut batch waits). A key with
 * more deltas than a batch has them folded into one first. A dry run
 * (`state.report`) repairs nothing and removes no duplicate; it deletes its
 * own deltas as it merges them.
 */
export async function mergeStep(
  ctx: Pick<StatsMutationCtx, "db">,
  def: EntityDef,
  state: RecountState,
  batch: MergeBatch,
): Promise<MergeStep> {
  const db = statsDb(ctx.db);
  const { workosOrgId, runId } = state;
  const entity = def.table;
  const dryRun = state.report !== undefined;
  const cursor = state.mergeCursor ?? null;
  const live = await liveAfter(db, workosOrgId, entity, cursor, batch.keys);
  const deltas = await shadowsOfRun(db, workosOrgId, entity, runId, batch.deltas);
  const documents = live.length + deltas.length;
  const deltaKeys: FacetKey[] = [];
  for (const d of deltas) {
    const last = deltaKeys.at(-1);
    if (last === undefined || compareKeys(last, d) !== 0) deltaKeys.push(keyOf(d));
  }
  const merge: FacetMerge = { ...(state.facetMerge ?? emptyMerge()) };
  merge.rows = [...merge.rows];
  const deltasCut = deltas.length === batch.deltas;
  if (deltasCut && deltaKeys.length === 1) {
    // One key's deltas fill the batch: fold them into one; the next page merges it.
    const sum = storedOf(foldDeltas(def, deltas));
    for (const d of deltas) await db.delete("statsFacetShadows", d._id);
    if (sum !== null) {
      await db.insert("statsFacetShadows", { workosOrgId, entity, runId, ...deltaKeys[0], ...sum });
    }
    return { cursor: state.mergeCursor, merge, done: false, documents };
  }
  // Past the last whole key of a side cut by the batch, that side is not known yet.
  const known: FacetKey[] = [];
  const lastLive = live.at(-1);
  if (live.length === batch.keys && lastLive !== undefined) known.push(keyOf(lastLive));
  if (deltasCut) known.push(deltaKeys[deltaKeys.length - 2]);
  const bound = known.sort(compareKeys)[0] ?? null;

  const slots = new Map<string, Slot>();
  const slot = (key: FacetKey) => {
    const id = keyId(key);
    let s = slots.get(id);
    if (s === undefined) {
      s = { key, live: [], deltas: [] };
      slots.set(id, s);
    }
    return s;
  };
  // Index order within a key is by `_creationTime`: the first is the oldest, the one writes use.
  for (const doc of live) slot(keyOf(doc)).live.push(doc);
  for (const doc of deltas) slot(keyOf(doc)).deltas.push(doc);

  let last: FacetKey | undefined = state.mergeCursor;
  let stopped = false;
  for (const s of [...slots.values()].sort((a, b) => compareKeys(a.key, b.key))) {
    if (bound !== null && compareKeys(s.key, bound) > 0) {
      stopped = true;
      break;
    }
    const [doc, ...duplicates] = s.live;
    const stored = contentOf(doc ?? null);
    const actual = foldDeltas(def, s.deltas);
    const diffs = cellDiffs(s.key, stored, actual, def.statuses);
    merge.compared++;
    if (diffs.length > 0) {
      merge.differing++;
      merge.cells += diffs.length;
      merge.rows.push(...diffs.slice(0, FACET_DRIFT_LISTED - merge.rows.length));
      if (!dryRun) {
        const fields = { workosOrgId, entity, ...s.key, ...storedOf(actual) };
        if (doc === undefined) await db.insert("statsFacets", fields);
        else if (actual === null) await db.delete("statsFacets", doc._id);
        else await db.replace("statsFacets", doc._id, fields);
      }
    }
    merge.duplicatesRemoved += duplicates.length;
    if (!dryRun) for (const d of duplicates) await db.delete("statsFacets", d._id);
    for (const d of s.deltas) await db.delete("statsFacetShadows", d._id);
    last = s.key;
  }
  const done = !stopped && live.length < batch.keys && !deltasCut;
  return { cursor: last, merge, done, documents };
}
