/**
 * What a filtered badge reads (`docs/filtered-counts.md`): the facet status
 * of (org, table), then the few facet documents the filter needs. At most 8
 * documents for any facet and any range shorter than 5 years:
 *
 * - a facet value, no range: its all-time document (1);
 * - no facet, a range: the org's year documents of the years it touches
 *   (at most 6: a range shorter than 5 calendar years spans at most 6);
 * - a facet value and a range: the year documents of the first and last
 *   year when the range covers them only in part, and the value's all-time
 *   document for the whole years between (at most 3);
 *
 * plus the facet status (1), and while the facets are being built the
 * recount's state (1): 2 + 6 = 8 at most. Never the org's stats row, which
 * every counted write rewrites: a write re-runs only the filtered badges
 * whose documents it changed. (Facets never built, or being built before
 * the recount's merge is through, answer a bounded scan instead.)
 */
import { appError, orgDeletedError } from "../../../lib/errors";
import { MAX_FACET_VALUE_LENGTH } from "../declare";
import type { AnyReader, StatsQueryCtx } from "../ctx";
import type { EntityDef } from "../entities";
import { getStatsRow, isRowOrgDeleted } from "../rows";
import { budgetFromMetrics, scanPage } from "../scan";
import { getRecountState } from "../shadow";
import { dayRangeOf, yearsOf, type DayRange } from "./dates";
import {
  ALL_PERIOD,
  contentOf,
  facetValueOf,
  ORG_FACET,
  type FacetContent,
  type FacetKey,
} from "./keys";
import { getFacetDoc, getFacetStatus } from "./store";

/** A filter: at most one facet value, and a day range. */
export type Filter = {
  facet: { name: string; value: string } | null;
  range: DayRange | null;
};

/** What a filtered read found: counts in declared status order and how far to trust them. */
export type FilteredRead = {
  counts: number[];
  state: "exact" | "approximate" | "partial";
  source: "stats" | "scan";
};

/** The filter arguments of a filtered query: facet names, `startDate`, `endDate`. */
export type FilterArgs = { [arg: string]: string | undefined };

/**
 * The filter of a filtered query's arguments, checked before anything is
 * read.
 *
 * @throws `INVALID_ARGUMENT` for two facets at once, a facet value that is
 *   not a string of 1..`MAX_FACET_VALUE_LENGTH` characters, a date range
 *   `dayRangeOf` refuses, or a range on a table without a date field.
 */
export function filterOf(def: EntityDef, args: FilterArgs): Filter {
  const spec = def.facets;
  if (spec === null) throw new Error(`[stats] ${def.table} declares no filtered counters`);
  const given = spec.names.filter((name) => args[name] !== undefined);
  if (given.length > 1) {
    throw appError("INVALID_ARGUMENT", `Filter on one of ${given.join(", ")} at a time.`, {
      field: given[1],
    });
  }
  let facet: Filter["facet"] = null;
  if (given.length === 1) {
    const [name] = given;
    const value = facetValueOf(args[name]);
    if (value === null) {
      throw appError(
        "INVALID_ARGUMENT",
        `${name} must be between 1 and ${MAX_FACET_VALUE_LENGTH} characters.`,
        { field: name },
      );
    }
    facet = { name, value };
  }
  const range = dayRangeOf(args.startDate, args.endDate);
  if (range !== null && spec.dateField === null) {
    throw appError("INVALID_ARGUMENT", `${def.table} keeps no counters by date.`, {
      field: "startDate",
    });
  }
  return { facet, range };
}

type ReadCtx = { db: AnyReader; meta: Pick<StatsQueryCtx["meta"], "getTransactionMetrics"> };

/** A key's content, from wherever the current state says its truth is. */
type Source = (key: FacetKey) => Promise<FacetContent | null>;

/** The keys a filter reads and the cells it sums in each. */
type Part =
  | { key: FacetKey; cells: "counts" }
  | { key: FacetKey; cells: "days" | "years"; from: string; to: string };

/** The facet documents `filter` needs (at least one of facet and range is set). */
function partsOf(filter: Filter): Part[] {
  const facet = filter.facet?.name ?? ORG_FACET;
  const value = filter.facet?.value ?? "";
  if (filter.range === null)
    return [{ key: { facet, value, period: ALL_PERIOD }, cells: "counts" }];
  const parts: Part[] = [];
  for (const year of yearsOf(filter.range)) {
    if (facet !== ORG_FACET && year.whole) {
      // A whole year: its total in the value's all-time document.
      const key = { facet, value, period: ALL_PERIOD };
      parts.push({ key, cells: "years", from: year.period, to: year.period });
    } else {
      const key = { facet, value, period: year.period };
      parts.push({ key, cells: "days", from: year.from, to: year.to });
    }
  }
  return parts;
}

/** Sums `parts` from `source` (each document read once); `negative` when a summed cell is below 0. */
async function sum(
  def: EntityDef,
  parts: Part[],
  source: Source,
): Promise<{ counts: number[]; negative: boolean }> {
  const n = def.statuses.length;
  const counts = new Array<number>(n).fill(0);
  let negative = false;
  const read = new Map<string, Promise<FacetContent | null>>();
  const add = (row: readonly number[] | undefined) => {
    for (let i = 0; i < n; i++) {
      const x = row?.[i] ?? 0;
      counts[i] += x;
      if (x < 0) negative = true;
    }
  };
  for (const part of parts) {
    const id = `${part.key.facet}\u0000${part.key.value}\u0000${part.key.period}`;
    let content = read.get(id);
    if (content === undefined) {
      content = source(part.key);
      read.set(id, content);
    }
    const doc = await content;
    if (part.cells === "counts") {
      add(doc?.counts);
      continue;
    }
    for (const [cell, row] of Object.entries(doc?.[part.cells] ?? {})) {
      if (cell >= part.from && cell <= part.to) add(row);
    }
  }
  return { counts, negative };
}

/**
 * The counts of (org, table) under `filter`, by the state of its facets:
 * - exact (the status says so): the live facet documents (`exact`, or
 *   `approximate` when a cell it sums is below zero: a write bypassed the
 *   counters, and the repair was scheduled by the write that saw it);
 * - being built by a recount whose merge is through: the live documents
 *   (`exact`);
 * - never built, or being built (scan or merge): a bounded scan of the
 *   org's first `scanLimit` documents (`exact` when it saw them all, else
 *   `partial`: a lower bound). The run's shadows are deltas, a key's truth
 *   their sum, which no bounded read can give (`docs/filtered-counts.md`).
 *   The seeding is started by writes, the migration and the daily walk.
 *
 * @throws `ORG_DELETED` for a deleted org.
 */
export async function readFiltered(
  ctx: ReadCtx,
  def: EntityDef,
  workosOrgId: string,
  filter: Filter,
  scanLimit: number,
): Promise<FilteredRead> {
  const entity = def.table;
  const parts = partsOf(filter);
  const live: Source = async (key) =>
    contentOf(await getFacetDoc(ctx.db, workosOrgId, entity, key));
  const answer = async (source: Source): Promise<FilteredRead> => {
    const { counts, negative } = await sum(def, parts, source);
    return { counts, state: negative ? "approximate" : "exact", source: "stats" };
  };
  const status = await getFacetStatus(ctx.db, workosOrgId, entity);
  if (status?.orgDeleted === true) throw orgDeletedError(workosOrgId);
  if (status?.exact === true) return await answer(live);
  // Being built: exact once the run's merge is through (the tail counts the row only).
  const run = await getRecountState(ctx.db, workosOrgId, entity);
  if (run !== null && run.report === undefined && run.facetPhase === "tail") {
    return await answer(live);
  }
  // Orgs deleted before the facet status existed carry the mark on the row only.
  if (status === null && isRowOrgDeleted(await getStatsRow(ctx.db, workosOrgId, entity))) {
    throw orgDeletedError(workosOrgId);
  }
  return await scanFiltered(ctx, def, workosOrgId, filter, scanLimit);
}

/** Whether a counted document of `def` matches `filter`. */
function matches(
  def: EntityDef,
  filter: Filter,
  place: { day: number | null; values: readonly (string | null)[] },
) {
  if (filter.facet !== null) {
    const i = def.facets?.names.indexOf(filter.facet.name) ?? -1;
    if (i < 0 || place.values[i] !== filter.facet.value) return false;
  }
  if (filter.range !== null) {
    if (place.day === null || place.day < filter.range.start || place.day > filter.range.end) {
      return false;
    }
  }
  return true;
}

/** The fallback: the org's first `limit` documents, counted under `filter`. */
async function scanFiltered(
  ctx: ReadCtx,
  def: EntityDef,
  workosOrgId: string,
  filter: Filter,
  limit: number,
): Promise<FilteredRead> {
  const counts = new Array<number>(def.statuses.length).fill(0);
  const scan = await scanPage(
    def.documentsAfter(ctx.db, workosOrgId, null),
    (doc) => {
      const side = def.sideOf(doc);
      if (side?.place === undefined || !matches(def, filter, side.place)) return;
      counts[def.statuses.indexOf(side.bucket.status)] += 1;
    },
    {
      maxDocs: limit,
      check: async () => budgetFromMetrics(await ctx.meta.getTransactionMetrics()),
    },
  );
  return { counts, state: scan.exhausted ? "exact" : "partial", source: "scan" };
}
