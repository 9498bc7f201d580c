/**
 * Recount summaries (`statsRecountSummaries`): the last finished recount of
 * each (org, entity), kept next to the recount state rather than on the
 * stats row, so a badge reads only what it shows. Written once per finished
 * run; read by the next run's end (which documents it already reported) and
 * by the operator status.
 */
import { pickUnique } from "../../uniqueness";
import { statsDb, type AnyReader, type StatsMutationCtx } from "../ctx";
import type { StatsDoc, StatsFields } from "../tables";

export type RecountSummary = StatsDoc<"statsRecountSummaries">;

/** The summary of (org, entity), or null before its first finished run. One indexed read. */
export async function readSummary(
  db: AnyReader,
  workosOrgId: string,
  entity: string,
): Promise<RecountSummary | null> {
  const picked = await pickUnique(
    statsDb(db)
      .query("statsRecountSummaries")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", workosOrgId).eq("entity", entity)),
    "statsRecountSummaries",
    { workosOrgId, entity },
  );
  return picked?.doc ?? null;
}

/** Stores `fields` as the summary, replacing `existing` when there is one. */
export async function writeSummary(
  db: StatsMutationCtx["db"],
  existing: RecountSummary | null,
  fields: StatsFields<"statsRecountSummaries">,
): Promise<void> {
  if (existing === null) await statsDb(db).insert("statsRecountSummaries", fields);
  else await statsDb(db).replace("statsRecountSummaries", existing._id, fields);
}
