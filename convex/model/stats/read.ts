/**
 * The read side of the counters: what the count queries answer, for any
 * counted table, and how much they read. Four cases, by the stats row:
 *
 * - exact: its counters (1 document read);
 * - drifted (seeded once, then a counter went negative) or carried over from
 *   an app's previous counters: its counters, `approximate` (1 read);
 * - being seeded (never exact, a recount running): the recount's shadow
 *   counters, exact for the documents behind its cursor, and `progress`
 *   (2 reads: the row and the recount state);
 * - missing (no counters, no recount running): a bounded scan of the org's
 *   documents; the seeding is scheduled by the writes and the daily walk,
 *   never by this query (it cannot write).
 *
 * Two answers share these numbers: the detailed one (counters by status,
 * `state`, `progress`, `knownDrift`) and the flat badge one (`{ Open: 3,
 * Delivered: 7, ... }`, labels from the declaration), which is the detailed
 * answer's counts under their display names. What each state means for a
 * badge: `docs/badges.md`.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer, type PropertyValidators, type Validator } from "convex/values";
import { orgDeletedError } from "../../lib/errors";
import { tallyOfStored, type Tally } from "./counters";
import type { StatsConfig } from "./config";
import type { AnyReader, StatsQueryCtx } from "./ctx";
import { flatKeys, labelOf, type CountedTable, type FlatCounts, type StatusOf } from "./declare";
import type { EntityDef } from "./entities";
import { readFiltered, type Filter } from "./facets/query";
import { getStatsRow, isRowOrgDeleted } from "./rows";
import { countPage } from "./scan";
import { getRecountState, type RecountState } from "./shadow";
import { vCounts, vKnownDrift, type KnownDrift, type StatsRow } from "./tables";

/** Most documents a count query scans when the org has no counters. */
export const FALLBACK_SCAN_LIMIT = 1000;

/**
 * Highest `progress` of a run still in progress: 1 means the counters cover
 * every document, which only the run's last page makes true.
 */
export const MAX_RUNNING_PROGRESS = 0.99;

const vCountSource = v.union(v.literal("stats"), v.literal("scan"));

/**
 * How far a count query's numbers can be trusted: `exact` (the true
 * numbers), `approximate` (counters that drifted, or carried over from an
 * app's previous counters; a repair is scheduled), `counting` (the counters
 * are being seeded: numbers cover the documents counted so far, see
 * `progress`), `partial` (a bounded scan hit its limit: a lower bound).
 */
export const vCountState = literals("exact", "approximate", "counting", "partial");
export type CountState = Infer<typeof vCountState>;

/** What a detailed count answer says besides its counters. */
const countMeta = {
  total: v.number(),
  /** True when the counters are the true numbers, not a lower bound. */
  exact: v.boolean(),
  /** `stats`: read from the counters; `scan`: counted from documents. */
  source: vCountSource,
  /** What the numbers are (see `vCountState`); `exact` is `state === "exact"`. */
  state: vCountState,
  /**
   * Fraction (0..1) of the org's documents the numbers cover: 1 for counters
   * and for a scan that saw every document; while `counting`, the recount's
   * position in time (below 1 until it finishes). Absent for a `partial` scan.
   */
  progress: v.optional(v.number()),
  /**
   * While `approximate`: the counters known to be off and by at least how
   * much they are below the truth. Empty when none is known.
   */
  knownDrift: v.optional(v.array(vKnownDrift)),
};

const vMetaObject = v.object(countMeta);

/** A detailed answer of table `D`: counters by status (and amounts where declared) plus what they mean. */
export type DetailedCounts<D extends CountedTable> = Infer<typeof vMetaObject> & {
  counts: Record<StatusOf<D>, number>;
} & (D["amountField"] extends string ? { amountCents: Record<StatusOf<D>, number> } : unknown);

/** The detailed answer's validator for table `decl`. */
export function vDetailedCounts<D extends CountedTable>(
  decl: D,
): Validator<DetailedCounts<D>, "required", string> {
  const counts = vCounts(decl.statuses);
  const fields: PropertyValidators = { counts, ...countMeta };
  if (decl.amountField !== undefined) fields.amountCents = counts;
  // Built from the declaration at run time; the type says the same.
  return v.object(fields) as unknown as Validator<DetailedCounts<D>, "required", string>;
}

/** A detailed count answer. */
export type CountsResult = {
  counts: Record<string, number>;
  amountCents?: Record<string, number>;
  total: number;
  exact: boolean;
  source: Infer<typeof vCountSource>;
  state: CountState;
  progress?: number;
  knownDrift?: KnownDrift[];
};

/** The flat badge answer's validator: one number per display name (and `total` when declared). */
export function vFlatCounts<D extends CountedTable>(
  decl: D,
): Validator<FlatCounts<D>, "required", string> {
  return vCounts(flatKeys(decl)) as unknown as Validator<FlatCounts<D>, "required", string>;
}

/**
 * The flat badge answer of a detailed one: counts under their display names,
 * each the closest number known. That is the counter itself, except for a
 * counter known to be off (`knownDrift`, a drifted row whose counter went
 * below zero): the truth is at least `atLeast` above it, so the badge shows
 * that bound (never a negative count). The detailed answer keeps the stored
 * counter; `total` adds up the badge's numbers.
 */
export function flatCounts<D extends CountedTable>(decl: D, result: CountsResult): FlatCounts<D> {
  const known = new Map<string, number>();
  for (const k of result.knownDrift ?? [])
    if (k.measure === "count") known.set(k.status, k.atLeast);
  const out: Record<string, number> = {};
  let total = 0;
  for (const status of decl.statuses) {
    const n = (result.counts[status] ?? 0) + (known.get(status) ?? 0);
    out[labelOf(decl, status)] = n;
    total += n;
  }
  if (decl.badgeTotal === true) out.total = total;
  return out as FlatCounts<D>;
}

type ReadCtx = { db: AnyReader; meta: Pick<StatsQueryCtx["meta"], "getTransactionMetrics"> };

/** A row whose counters are the closest numbers known: exact once, or carried over. */
function hasTrustedCounters(row: StatsRow): boolean {
  return row.seeded === true || row.carried === true || row.lastRecount !== undefined;
}

/**
 * A running recount's position in time: how much of the span from the org's
 * first document to the run's start the cursor has passed. Assumes documents
 * spread evenly over that span. Below 1 while the run lasts.
 */
export function recountProgress(
  state: Pick<RecountState, "cursor" | "startedAt" | "firstCreationTime">,
): number {
  const { cursor, startedAt, firstCreationTime: first } = state;
  if (cursor === null || first === undefined) return 0;
  const span = startedAt - first;
  const fraction = span > 0 ? (cursor - first) / span : 1;
  return Math.min(MAX_RUNNING_PROGRESS, Math.max(0, fraction));
}

/**
 * Counters of (org, table), by the state of its stats row (file comment):
 * 1 document read for an exact, drifted or carried row, 2 for a row being
 * seeded (row and recount state), else a bounded scan of at most
 * `FALLBACK_SCAN_LIMIT` documents (the recount's page scan, so a tie group
 * is never cut).
 *
 * Caveat (being seeded): the shadow is the one stored by the run's last
 * page; counted writes behind the cursor since then wait in shadow deltas
 * until the next page folds them in.
 *
 * @throws `ORG_DELETED` for a deleted org.
 */
export async function readCounts(
  ctx: ReadCtx,
  config: Pick<StatsConfig, "carryOver">,
  def: EntityDef,
  workosOrgId: string,
): Promise<CountsResult> {
  const row = await getStatsRow(ctx.db, workosOrgId, def.table);
  if (isRowOrgDeleted(row)) throw orgDeletedError(workosOrgId);
  const answer = (t: Tally, state: CountState, source: "stats" | "scan") => ({
    ...def.counters(t),
    total: def.statuses.reduce((n, s) => n + (t.count.get(s) ?? 0), 0),
    exact: state === "exact",
    source,
    state,
  });
  if (row !== null && row.exact) {
    return { ...answer(tallyOfStored(row), "exact", "stats"), progress: 1 };
  }
  if (row !== null && hasTrustedCounters(row)) {
    const knownDrift = row.knownDrift ?? [];
    return { ...answer(tallyOfStored(row), "approximate", "stats"), progress: 1, knownDrift };
  }
  if (row === null && config.carryOver !== undefined) {
    // No row yet, but the app's previous counters: the closest numbers known.
    const carried = await config.carryOver(ctx.db, workosOrgId, def.table);
    if (carried !== null) {
      return {
        ...answer(tallyOfStored(carried), "approximate", "stats"),
        progress: 1,
        knownDrift: [],
      };
    }
  }
  if (row?.recounting === true) {
    const recount = await getRecountState(ctx.db, workosOrgId, def.table);
    if (recount !== null && recount.report === undefined) {
      const progress = recountProgress(recount);
      return { ...answer(tallyOfStored(recount), "counting", "stats"), progress };
    }
  }
  const { tally, scan } = await countPage(ctx, def, workosOrgId, null, FALLBACK_SCAN_LIMIT);
  if (scan.exhausted) return { ...answer(tally, "exact", "scan"), progress: 1 };
  return answer(tally, "partial", "scan");
}

/**
 * Counters of (org, table) under a filter (`docs/filtered-counts.md`): no
 * filter at all is the org-wide answer (`readCounts`, 1 document); a facet
 * value and/or a day range reads the facet status and at most 7 more
 * documents (`facets/query.ts`), never the stats row; facets not built yet
 * answer a bounded scan (`partial` when it did not see every document).
 *
 * @throws `ORG_DELETED` for a deleted org.
 */
export async function readFilteredCounts(
  ctx: ReadCtx,
  config: Pick<StatsConfig, "carryOver">,
  def: EntityDef,
  workosOrgId: string,
  filter: Filter,
): Promise<CountsResult> {
  if (filter.facet === null && filter.range === null) {
    return await readCounts(ctx, config, def, workosOrgId);
  }
  const read = await readFiltered(ctx, def, workosOrgId, filter, FALLBACK_SCAN_LIMIT);
  const counts: Record<string, number> = {};
  def.statuses.forEach((status, i) => {
    counts[status] = read.counts[i];
  });
  const progress = read.state === "partial" ? undefined : 1;
  return {
    counts,
    total: read.counts.reduce((a, b) => a + b, 0),
    exact: read.state === "exact",
    source: read.source,
    state: read.state,
    ...(progress === undefined ? {} : { progress }),
    ...(read.state === "approximate" ? { knownDrift: [] } : {}),
  };
}
