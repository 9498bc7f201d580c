/**
 * Recounts as the demo tells them: one line per org and counted table for all
 * the pages of its recount (pages, documents counted, the most one page read,
 * how it ended) instead of a line per page, and the check that every row the
 * demo expects to be recounted finished.
 */
import type { PageOutcome } from "../convex/model/stats/recount/pages";
import { fmtInt, maxIo, type Io } from "../tests/support/measure";
import type { ScheduledRun } from "../tests/support/scheduled";
import { orgName, plural, type Demo } from "./ops";
import { docs, say } from "./print";

/** The pages of one stats row's recount(s), as they ran. */
export type RowRecount = {
  workosOrgId: string;
  entity: string;
  /** Outcomes of the pages that did work (not `superseded`), in order. */
  pages: PageOutcome[];
  documentsCounted: number;
  /** The most one page's transaction read (documents and bytes, each its own maximum). */
  most: Io;
};

/** The outcome of a run of `stats:recountPage`, else null. */
export function pageOutcome(run: ScheduledRun): PageOutcome | null {
  if (run.name !== "stats:recountPage" || !run.measurement.ok) return null;
  // The function's `returns` validator (`vPageOutcome`) checked this shape.
  return run.measurement.result as PageOutcome;
}

/** Recount pages by stats row (`org/entity`), in the order the rows first ran. */
export function recountSummaries(runs: ScheduledRun[]): Map<string, RowRecount> {
  const rows = new Map<string, RowRecount>();
  for (const run of runs) {
    const outcome = pageOutcome(run);
    if (outcome === null || outcome.status === "superseded") continue;
    const workosOrgId = String(run.args.workosOrgId);
    const entity = String(run.args.entity);
    const key = `${workosOrgId}/${entity}`;
    const row = rows.get(key) ?? {
      workosOrgId,
      entity,
      pages: [],
      documentsCounted: 0,
      most: maxIo([]),
    };
    row.pages.push(outcome);
    row.documentsCounted += outcome.documentsCounted;
    row.most = maxIo([row.most, run.measurement.io]);
    rows.set(key, row);
  }
  return rows;
}

/** `21 pages, at most 1,001 docs, 1.0 MiB read in one` */
export function pageStats(row: RowRecount): string {
  return `${plural(row.pages.length, "page")}, at most ${docs(row.most)} read in one`;
}

/** How a row's recount ended: its last page's status, and what that page found. */
function ending(row: RowRecount): string {
  const last = row.pages[row.pages.length - 1];
  const restarts = row.pages.filter((p) => p.status === "restarted").length;
  const runs = row.pages.filter((p) => p.status === "finished").length;
  const parts: string[] = [last.status];
  if (runs > 1) parts.push(`${fmtInt(runs)} runs (the last one's result)`);
  if (restarts > 0) parts.push(`after ${plural(restarts, "restart")}`);
  if (last.status === "finished" && last.seedReport !== undefined) {
    parts.push(`compared: ${plural(last.seedReport.changes.length, "counter")} would change`);
  } else if (last.status === "finished" && last.differences.length === 0) {
    parts.push("counters swapped in, no drift");
  } else if (last.status === "finished" && last.driftReported) {
    parts.push(`${plural(last.differences.length, "counter")} repaired, drift reported`);
  } else if (last.status === "finished") {
    // A row that was never exact: setting its counters is seeding, not drift.
    parts.push(`counters seeded (${plural(last.differences.length, "counter")} set)`);
  }
  return parts.join(", ");
}

/**
 * Prints one line per stats row recounted in `runs`: `Coastal Carriers
 * loads: 20,100 documents counted, 21 pages, at most 1,001 docs, 1.0 MiB
 * read in one; finished, counters swapped in, no drift`. Fails the demo
 * unless exactly the rows in `expected` (`org/entity` keys) finished.
 */
export function printRecounts(demo: Demo, runs: ScheduledRun[], expected: string[]): void {
  const rows = recountSummaries(runs);
  for (const row of rows.values()) {
    say(
      `    ${orgName(demo, row.workosOrgId)} ${row.entity}: ` +
        `${fmtInt(row.documentsCounted)} documents counted, ${pageStats(row)}; ${ending(row)}`,
    );
  }
  const finished = [...rows.entries()]
    .filter(([, row]) => row.pages[row.pages.length - 1].status === "finished")
    .map(([key]) => key)
    .sort();
  if (JSON.stringify(finished) !== JSON.stringify([...expected].sort())) {
    throw new Error(
      `recounts finished: ${JSON.stringify(finished)}, expected ${JSON.stringify(expected)}`,
    );
  }
}

/** Every stats row of the demo's orgs, as `org/entity` keys. */
export function allRows(demo: Demo): string[] {
  return demo.orgs.flatMap((o) => ["loads", "invoices"].map((e) => `${o.workosOrgId}/${e}`));
}
