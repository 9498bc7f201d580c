/**
 * Recount summaries (`statsRecountSummaries`): the last finished recount of
 * each (org, entity), kept next to the recount state rather than on the
 * stats row, so a badge reads only what it shows. Written once per finished
 * run; read by the next run's end (which documents it already reported) and
 * by the operator status.
 */
import { getPerEntity } from "../perEntity";
import { statsDb, type AnyReader, type StatsMutationCtx } from "../ctx";
import type { StatsDoc, StatsFields } from "../tables";

export type RecountSummary = StatsDoc<"statsRecountSummaries">;

/** The summary of (org, entity), or null before its first finished run. One indexed read. */
export const readSummary = (db: AnyReader, workosOrgId: string, entity: string) =>
  getPerEntity(db, "statsRecountSummaries", workosOrgId, entity);

/** Stores `fields` as the summary, replacing `existing` when there is one. */
export async function writeSummary(
  db: StatsMutationCtx["db"],
  existing: RecountSummary | null,
  fields: StatsFields<"statsRecountSummaries">,
): Promise<void> {
  if (existing === null) await statsDb(db).insert("statsRecountSummaries", fields);
  else await statsDb(db).replace("statsRecountSummaries", existing._id, fields);
}
