/**
 * Lanes: validation of a new lane, lane matching for one load, and the
 * promotion of an `UNMAPPED` load once a lane matches.
 *
 * Matching never scans lanes or loads: it looks up the lanes of a normalized
 * (origin key, destination key) pair through `lanes.by_org_and_origin_and_destination`,
 * at most three pairs per load (exact, `origin → *`, `* → destination`).
 * A stored lane the code would not have written (`laneProblems`) is skipped
 * by matching and by the overlap check, and reported.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { DatabaseReader } from "../../_generated/server";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import { createInvoice, findLoadInvoice } from "../invoices/rules";
import { byAge } from "../uniqueness";
import {
  isValidAmountCents,
  MAX_AMOUNT_CENTS,
  MAX_ID_LENGTH,
  optionalText,
  optionalTimestamp,
  reportStoredProblems,
  requireLocation,
  storedProblem,
  type StoredProblem,
} from "../validate";
import { laneEndKey, WILDCARD, type LaneEnd } from "./ends";
import { laneProblems } from "./stored";

export { laneEndKey, WILDCARD, type LaneEnd };

/**
 * Most lanes one org may have for one (origin key, destination key) pair,
 * all customers and periods together (rate changes over time, per-customer
 * rates). Keeps a lane lookup to a bounded number of reads.
 */
export const MAX_LANES_PER_PAIR = 50;

/** What lane matching needs to know about a load. */
export type MatchableLoad = Pick<
  Doc<"loads">,
  "workosOrgId" | "originKey" | "destinationKey" | "customerId" | "pickupAt"
>;

/** A lane that applies to a load, and the load type it gives. */
export type LaneMatch = { lane: Doc<"lanes">; loadType: "CONTRACT" | "SPOT" };

/**
 * Whether `lane` applies to `load`: the lane's customer (if it names one) is
 * the load's, and the lane is in effect at the load's pickup time, or at
 * `now` for a load without one. Effective ranges are half-open:
 * `effectiveFrom <= t < effectiveTo`.
 */
export function laneApplies(lane: Doc<"lanes">, load: MatchableLoad, now: number): boolean {
  if (lane.customerId !== undefined && lane.customerId !== load.customerId) return false;
  const at = load.pickupAt ?? now;
  return lane.effectiveFrom <= at && (lane.effectiveTo === undefined || at < lane.effectiveTo);
}

/**
 * The preferred lane among those that apply: a customer-specific lane over a
 * general one, then the latest `effectiveFrom`, then the newest lane (then
 * the greater id, so even identical duplicates give one deterministic pick).
 */
function bestLane(lanes: Doc<"lanes">[], load: MatchableLoad, now: number): Doc<"lanes"> | null {
  let best: Doc<"lanes"> | null = null;
  for (const lane of lanes) {
    if (!laneApplies(lane, load, now)) continue;
    if (best === null || compareLanes(lane, best) > 0) best = lane;
  }
  return best;
}

function compareLanes(a: Doc<"lanes">, b: Doc<"lanes">): number {
  const specific = Number(a.customerId !== undefined) - Number(b.customerId !== undefined);
  if (specific !== 0) return specific;
  if (a.effectiveFrom !== b.effectiveFrom) return a.effectiveFrom - b.effectiveFrom;
  // Lanes the code would refuse as overlapping (written around it) still get
  // a total order: the newest wins, then the greater id.
  return byAge(a, b);
}

/**
 * What matching one load found: the lane to price it by (or null), and the
 * ids of the stored lanes it skipped among those it read because the code
 * would not have written them (`laneProblems`).
 */
export type MatchOutcome = { match: LaneMatch | null; skippedLaneIds: Id<"lanes">[] };

/**
 * Looks up lanes by key pair, remembering each pair it read, so a batch of
 * loads on the same lane reads the lanes once. Create one per mutation (a
 * lane created later in the same mutation is seen only by a new finder).
 */
export class LaneFinder {
  private readonly pairs = new Map<string, Doc<"lanes">[]>();
  /** Each lane's problems (empty: valid), checked and reported once per finder. */
  private readonly checked = new Map<Id<"lanes">, StoredProblem[]>();

  constructor(private readonly db: DatabaseReader) {}

  /**
   * Whether `lane` is one the code could have written (`laneProblems`). A lane
   * that is not is reported (`[stored.invalid]`, action `skipped`) the first
   * time this finder sees it; callers then act as if it did not exist.
   */
  isValid(lane: Doc<"lanes">): boolean {
    let problems = this.checked.get(lane._id);
    if (problems === undefined) {
      problems = laneProblems(lane);
      this.checked.set(lane._id, problems);
      if (problems.length > 0) {
        reportStoredProblems(
          { table: "lanes", id: lane._id, workosOrgId: lane.workosOrgId },
          problems,
          "skipped",
        );
      }
    }
    return problems.length === 0;
  }

  /**
   * The lanes of (org, originKey, destinationKey): at most `MAX_LANES_PER_PAIR`
   * reads, usually one. (`insertLane` keeps pairs within that bound; lanes
   * written around it, e.g. by a dashboard import, beyond it are not seen.)
   */
  async lanesOf(
    workosOrgId: string,
    originKey: string,
    destinationKey: string,
  ): Promise<Doc<"lanes">[]> {
    const key = `${workosOrgId}\u0000${originKey}\u0000${destinationKey}`;
    const known = this.pairs.get(key);
    if (known !== undefined) return known;
    const lanes = await this.db
      .query("lanes")
      .withIndex("by_org_and_origin_and_destination", (q) =>
        q
          .eq("workosOrgId", workosOrgId)
          .eq("originKey", originKey)
          .eq("destinationKey", destinationKey),
      )
      .take(MAX_LANES_PER_PAIR);
    this.pairs.set(key, lanes);
    return lanes;
  }

  /** The lanes of a pair the code could have written; the others' ids go to `skipped`. */
  private async validLanesOf(
    workosOrgId: string,
    originKey: string,
    destinationKey: string,
    skipped: Id<"lanes">[],
  ): Promise<Doc<"lanes">[]> {
    const lanes = await this.lanesOf(workosOrgId, originKey, destinationKey);
    return lanes.filter((lane) => {
      if (this.isValid(lane)) return true;
      skipped.push(lane._id);
      return false;
    });
  }

  /**
   * The lane `load` should be priced by: an exact lane (`CONTRACT`), else a
   * wildcard lane at either end (`SPOT`; with equal preference the
   * `origin → *` lane wins), else null. At most three index lookups. Lanes
   * the code would not have written are skipped as if absent (so a load whose
   * only lane is such a lane is `UNMAPPED`), and listed in `skippedLaneIds`.
   */
  async matchChecked(load: MatchableLoad, now: number): Promise<MatchOutcome> {
    const { workosOrgId, originKey, destinationKey } = load;
    const skippedLaneIds: Id<"lanes">[] = [];
    const lanesOf = (o: string, d: string) => this.validLanesOf(workosOrgId, o, d, skippedLaneIds);
    const exact = bestLane(await lanesOf(originKey, destinationKey), load, now);
    if (exact !== null) return { match: { lane: exact, loadType: "CONTRACT" }, skippedLaneIds };
    const fromOrigin = bestLane(await lanesOf(originKey, WILDCARD), load, now);
    const toDestination = bestLane(await lanesOf(WILDCARD, destinationKey), load, now);
    const spot =
      fromOrigin !== null && toDestination !== null
        ? compareLanes(toDestination, fromOrigin) > 0
          ? toDestination
          : fromOrigin
        : (fromOrigin ?? toDestination);
    return { match: spot === null ? null : { lane: spot, loadType: "SPOT" }, skippedLaneIds };
  }

  /** `matchChecked`'s lane, for callers that need no report of skipped lanes. */
  async match(load: MatchableLoad, now: number): Promise<LaneMatch | null> {
    return (await this.matchChecked(load, now)).match;
  }
}

/** What `createLaneAndBackfill` takes, as received. */
export type NewLane = {
  workosOrgId: string;
  origin: LaneEnd;
  destination: LaneEnd;
  rateCents: number;
  effectiveFrom?: number;
  effectiveTo?: number;
  customerId?: string;
};

/**
 * Most a lane rate may be: the amount cap (`MAX_AMOUNT_CENTS`, $1,000,000.00),
 * since a rate becomes an invoice amount. Also catches a rate sent in the
 * wrong unit.
 */
export const MAX_LANE_RATE_CENTS = MAX_AMOUNT_CENTS;

/**
 * Validates a new lane and inserts it. A lane is a duplicate of an existing
 * one with the same org, origin key, destination key and customer (or both
 * without a customer) whose effective range overlaps; rate changes are new
 * lanes with adjacent ranges. A stored lane the code would not have written
 * (`laneProblems`) never prices a load, so it does not block its
 * replacement: the overlap check skips it (it still counts toward
 * `MAX_LANES_PER_PAIR`, which bounds reads). `backfill` sets the lane's
 * initial backfill state (see `model/lanes/backfill.ts`).
 *
 * @throws `INVALID_ARGUMENT` (both ends `*`, bad rate or dates, already
 *   `MAX_LANES_PER_PAIR` lanes for the pair), `ALREADY_EXISTS` for a duplicate.
 */
export async function insertLane(
  ctx: MutationCtx,
  input: NewLane,
  now: number,
  backfill: Pick<Doc<"lanes">, "backfill" | "backfillDueAt"> = {},
): Promise<Doc<"lanes">> {
  if (input.origin === WILDCARD && input.destination === WILDCARD) {
    throw appError("INVALID_ARGUMENT", "A lane needs at least one named end (not * → *).", {
      field: "origin",
    });
  }
  const origin = input.origin === WILDCARD ? WILDCARD : requireLocation(input.origin, "origin");
  const destination =
    input.destination === WILDCARD ? WILDCARD : requireLocation(input.destination, "destination");
  if (!isValidAmountCents(input.rateCents) || input.rateCents === 0) {
    throw appError(
      "INVALID_ARGUMENT",
      `rateCents must be a positive integer number of cents, at most ${MAX_LANE_RATE_CENTS}.`,
      { field: "rateCents" },
    );
  }
  const effectiveFrom = optionalTimestamp(input.effectiveFrom, "effectiveFrom") ?? now;
  const effectiveTo = optionalTimestamp(input.effectiveTo, "effectiveTo");
  if (effectiveTo !== undefined && effectiveTo <= effectiveFrom) {
    throw appError("INVALID_ARGUMENT", "effectiveTo must be after effectiveFrom.", {
      field: "effectiveTo",
    });
  }
  const customerId = optionalText(input.customerId, "customerId", MAX_ID_LENGTH);
  const originKey = laneEndKey(origin);
  const destinationKey = laneEndKey(destination);

  const finder = new LaneFinder(ctx.db);
  const siblings = await finder.lanesOf(input.workosOrgId, originKey, destinationKey);
  const sameCustomer = siblings.filter((l) => l.customerId === customerId && finder.isValid(l));
  const overlapping = sameCustomer.find(
    (l) =>
      l.effectiveFrom < (effectiveTo ?? Infinity) && effectiveFrom < (l.effectiveTo ?? Infinity),
  );
  if (overlapping !== undefined) {
    throw appError(
      "ALREADY_EXISTS",
      "A lane with these ends and customer is already in effect for part of this period.",
      { laneId: overlapping._id },
    );
  }
  if (siblings.length >= MAX_LANES_PER_PAIR) {
    throw appError(
      "INVALID_ARGUMENT",
      `At most ${MAX_LANES_PER_PAIR} lanes per origin and destination (all customers).`,
      { field: "origin" },
    );
  }
  const laneId = await ctx.db.insert("lanes", {
    workosOrgId: input.workosOrgId,
    customerId,
    origin,
    destination,
    originKey,
    destinationKey,
    rateCents: input.rateCents,
    effectiveFrom,
    effectiveTo,
    ...backfill,
  });
  const lane = await ctx.db.get("lanes", laneId);
  if (lane === null) throw new Error("[lanes] inserted lane not found");
  return lane;
}

/**
 * What a promotion did to the load's invoice: `rated` (its `MISSING_DATA`
 * invoice became `DRAFT` at the lane's rate), `created` (a `DRAFT` invoice was
 * created), `kept` (its invoice was past `MISSING_DATA`), or `voided_kept`
 * (no live invoice and a voided one: nothing created, see `promoteLoad`).
 */
export type InvoiceOutcome = "rated" | "created" | "kept" | "voided_kept";

/**
 * Prices an `UNMAPPED` load by `match`: the load becomes `CONTRACT`/`SPOT`
 * with the lane's id, and its active invoice moves `MISSING_DATA` → `DRAFT`
 * at the lane's rate (`rated`). An invoice already past `MISSING_DATA` is
 * left as it is (`kept`). A load without an active invoice gets a `DRAFT` one
 * (`created`), unless it has a voided invoice: promotion never undoes a
 * biller's void (and may run for a member without the billing permission),
 * so then no invoice is created (`voided_kept`, with the voided invoice's id);
 * the load is still priced, so a biller can invoice it by hand
 * (`invoices.createInvoice`). The load's status is not changed: pricing is
 * independent of where the load is in its lifecycle. About 4 reads and 2
 * writes.
 */
export async function promoteLoad(
  ctx: MutationCtx,
  load: Doc<"loads">,
  match: LaneMatch,
): Promise<{ invoice: InvoiceOutcome; invoiceId: Id<"invoices"> }> {
  if (load.loadType !== "UNMAPPED") {
    throw new Error(`[lanes.promote] load ${load._id} is already ${load.loadType}`);
  }
  await ctx.db.patch("loads", load._id, { loadType: match.loadType, laneId: match.lane._id });
  const invoice = await findLoadInvoice(ctx, load, "active");
  if (invoice === null) {
    const voided = await findLoadInvoice(ctx, load, "voided");
    if (voided !== null) {
      console.log("[lanes.promote] invoice was voided; none created", {
        workosOrgId: load.workosOrgId,
        loadId: load._id,
        voidedInvoiceId: voided._id,
        laneId: match.lane._id,
      });
      return { invoice: "voided_kept", invoiceId: voided._id };
    }
    const invoiceId = await createInvoice(ctx, {
      load,
      status: "DRAFT",
      amountCents: match.lane.rateCents,
      laneId: match.lane._id,
    });
    return { invoice: "created", invoiceId };
  }
  if (invoice.status !== "MISSING_DATA") return { invoice: "kept", invoiceId: invoice._id };
  if (invoice.amountCents !== 0) {
    // A MISSING_DATA invoice has no rate; whatever was written around the code is replaced.
    reportStoredProblems(
      { table: "invoices", id: invoice._id, workosOrgId: load.workosOrgId },
      [storedProblem("amountCents", invoice.amountCents)],
      "replaced by the lane rate",
    );
  }
  await ctx.db.patch("invoices", invoice._id, {
    status: "DRAFT",
    amountCents: match.lane.rateCents,
    laneId: match.lane._id,
    statusChangedAt: Date.now(),
  });
  return { invoice: "rated", invoiceId: invoice._id };
}
