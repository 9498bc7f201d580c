/**
 * The recount state document (`statsRecounts`) and the shadow deltas of
 * counted writes behind its cursor (`statsRecountDeltas`): finding them,
 * folding the deltas in, and converting shadow counters to and from a tally.
 * The shadow of a run is the state's counters plus its unfolded deltas. Shared by the engine (counted
 * writes behind the cursor), the recount pages and the read side (badges of
 * a row being seeded), none of which imports another for it.
 */
import { getPerEntity } from "./perEntity";
import { plusTally, tallyOfStored, emptyTally, type Tally } from "./counters";
import { statsDb, type AnyReader } from "./ctx";
import { MEASURES, type RecountState, type StatsWriter } from "./tables";

export type { RecountState };

/**
 * The recount state of (org, entity), or null when no run is in progress. One
 * indexed read. Duplicates (left by an import; the code writes one): the
 * oldest is the state (a new run replaces it in place); the recount's first
 * page removes the others.
 */
export const getRecountState = (db: AnyReader, workosOrgId: string, entity: string) =>
  getPerEntity(db, "statsRecounts", workosOrgId, entity);

/** A tally as stored shadow counters (`counts`, `amountCents`). */
export function storedOf(t: Tally): {
  counts: Record<string, number>;
  amountCents: Record<string, number>;
} {
  const [counts, amountCents] = MEASURES.map((m) => Object.fromEntries(t[m]));
  return { counts, amountCents };
}

/** Most shadow deltas one page folds in (each costs 2 reads and 1 write). */
export const DELTA_BATCH = 200;

/**
 * Folds up to `DELTA_BATCH` shadow deltas of (org, entity) into a tally and
 * deletes them; deltas of other (replaced) runs are deleted without being
 * counted. `done` when none is left.
 */
export async function foldDeltas(
  db: StatsWriter,
  state: RecountState,
): Promise<{ tally: Tally; folded: number; done: boolean }> {
  const deltas = await db
    .query("statsRecountDeltas")
    .withIndex("by_org_and_entity", (q) =>
      q.eq("workosOrgId", state.workosOrgId).eq("entity", state.entity),
    )
    .take(DELTA_BATCH);
  let tally = emptyTally();
  for (const d of deltas) {
    if (d.runId === state.runId) tally = plusTally(tally, tallyOfStored(d));
    await db.delete("statsRecountDeltas", d._id);
  }
  return { tally, folded: deltas.length, done: deltas.length < DELTA_BATCH };
}
