/**
 * The read side of the counters: what the count queries
 * (`countLoadsByStatus`, `countInvoicesByStatus`) answer, for any counted
 * table, and how much they read. Four cases, by the stats row:
 *
 * - exact: its counters (1 document read);
 * - drifted (seeded once, then a counter went negative): its counters, with
 *   the counters known to be off (`knownDrift`, kept on the row) (1 read);
 * - being seeded (never exact, a recount running): the recount's shadow
 *   counters, exact for the documents behind its cursor, and `progress`
 *   (2 reads: the row and the recount state);
 * - missing (no counters, no recount running): a bounded scan of the org's
 *   documents, as before; the seeding is scheduled by the writes and the
 *   daily walk, never by this query (it cannot write).
 *
 * What each state means for a badge: `docs/badges.md`.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer, type PropertyValidators } from "convex/values";
import { requireOrgMember } from "../../lib/auth";
import { orgDeletedError } from "../../lib/errors";
import type { QueryCtx } from "../ctx";
import type { StatsEntity } from "../enums";
import { tallyOfStored, type Tally } from "./counters";
import { ENTITY_COUNTERS, entityDef, type CountersOf, type StatsRowOf } from "./entities";
import { getStatsRow } from "./rows";
import { countPage } from "./scan";
import { getRecountState, type RecountState } from "./shadow";
import { vKnownDrift, type KnownDrift } from "./tables";
import { isOrgDeleted } from "../organizations/deleted";

/** Most documents a count query scans when the org has no counters. */
export const FALLBACK_SCAN_LIMIT = 1000;

/**
 * Highest `progress` of a run still in progress: 1 means the counters cover
 * every document, which only the run's last page makes true.
 */
export const MAX_RUNNING_PROGRESS = 0.99;

const vCountSource = v.union(v.literal("stats"), v.literal("scan"));

/**
 * How far a count query's numbers can be trusted, for the badge to render:
 * `exact` (the true numbers), `approximate` (counters that drifted; a repair
 * is scheduled), `counting` (the counters are being seeded: numbers cover
 * the documents counted so far, see `progress`), `partial` (a bounded scan
 * hit its limit: the numbers are a lower bound).
 */
export const vCountState = literals("exact", "approximate", "counting", "partial");
export type CountState = Infer<typeof vCountState>;

/** A count query's result: the entity's counter fields plus what they mean. */
export function vCountsResultOf<C extends PropertyValidators>(counters: C) {
  return v.object({
    ...counters,
    total: v.number(),
    /** True when the counters are the true numbers, not a lower bound. */
    exact: v.boolean(),
    /** `stats`: read from the counters; `scan`: counted from documents. */
    source: vCountSource,
    /** What the numbers are (see `vCountState`); `exact` is `state === "exact"`. */
    state: vCountState,
    /**
     * Fraction (0..1) of the org's documents the numbers cover: 1 for
     * counters and for a scan that saw every document; while `counting`, the
     * recount's position in time (below 1 until it finishes, see
     * `docs/badges.md`). Absent for a `partial` scan (coverage unknown).
     */
    progress: v.optional(v.number()),
    /**
     * While `approximate`: the counters known to be off and by at least how
     * much they are below the truth. Other counters may be off too (the
     * drift comes from writes that bypassed the counters); empty when none
     * is known. Absent in the other states.
     */
    knownDrift: v.optional(v.array(vKnownDrift)),
  });
}

/** What a count query of `T` returns. */
export type CountsResult<T extends StatsEntity> = CountersOf<T> & {
  total: number;
  exact: boolean;
  source: Infer<typeof vCountSource>;
  state: CountState;
  progress?: number;
  knownDrift?: KnownDrift[];
};

type ReadCtx = Pick<QueryCtx, "db" | "meta">;

/** A row whose counters were exact once: drift since then is all they lack. */
function wasSeeded(row: StatsRowOf<StatsEntity>): boolean {
  return row.seeded === true || row.lastRecount !== undefined;
}

/**
 * A running recount's position in time: how much of the span from the org's
 * first document to the run's start the cursor has passed. Assumes documents
 * spread evenly over that span (an org that grew over time is further along
 * than this says). Below 1 while the run lasts (documents created during the
 * run lie past its start).
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
 * Counters of (org, entity), by the state of its stats row (file comment):
 * 1 document read for an exact or drifted row, 2 for a row being seeded
 * (row and recount state), else a bounded scan of at most
 * `FALLBACK_SCAN_LIMIT` documents (the recount's page scan, so a tie group
 * is never cut).
 *
 * Caveat (being seeded): the shadow is the one stored by the run's last
 * page. Counted writes to documents behind the cursor since then sit in
 * shadow deltas until the next page folds them in (pages run back to back);
 * reading them would cost a read each, so they are not in the answer.
 *
 * @throws `ORG_DELETED` for a deleted org.
 */
export async function readCounts<T extends StatsEntity>(
  ctx: ReadCtx,
  workosOrgId: string,
  entity: T,
): Promise<CountsResult<T>> {
  const def = entityDef(entity);
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  if (isOrgDeleted(row)) throw orgDeletedError(workosOrgId);
  const answer = (t: Tally, state: CountState, source: "stats" | "scan") => ({
    ...def.counters(t),
    total: def.statuses.reduce((n, s) => n + (t.count.get(s) ?? 0), 0),
    exact: state === "exact",
    source,
    state,
  });
  if (row !== null && row.exact)
    return { ...answer(tallyOfStored(row), "exact", "stats"), progress: 1 };
  if (row !== null && wasSeeded(row)) {
    const knownDrift = row.knownDrift ?? [];
    return { ...answer(tallyOfStored(row), "approximate", "stats"), progress: 1, knownDrift };
  }
  if (row?.recounting === true) {
    const recount = await getRecountState(ctx.db, workosOrgId, entity);
    if (recount !== null) {
      const progress = recountProgress(recount);
      return { ...answer(tallyOfStored(recount), "counting", "stats"), progress };
    }
  }
  const { tally, scan } = await countPage(ctx, workosOrgId, entity, null, FALLBACK_SCAN_LIMIT);
  if (scan.exhausted) return { ...answer(tally, "exact", "scan"), progress: 1 };
  return answer(tally, "partial", "scan");
}

/**
 * The count query of `entity` (args, returns, handler), for the entity's
 * registered module to register once:
 * `export const countLoadsByStatus = query(countByStatusQuery("loads"))`.
 * The caller must hold a token for the org (`requireOrgMember`); the answer
 * is `readCounts`'s, and its validator is built from the entity table.
 */
export function countByStatusQuery<T extends StatsEntity>(entity: T) {
  return {
    args: { workosOrgId: v.string() },
    returns: vCountsResultOf(ENTITY_COUNTERS[entity]),
    handler: async (
      ctx: ReadCtx & Pick<QueryCtx, "auth">,
      args: { workosOrgId: string },
    ): Promise<CountsResult<T>> => {
      await requireOrgMember(ctx, args.workosOrgId);
      return await readCounts(ctx, args.workosOrgId, entity);
    },
  };
}
