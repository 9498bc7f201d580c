/**
 * Import of one validated FourKites shipment: create the load (with lane
 * matching and its invoice, `model/loads/intake.ts`) the first time, apply
 * newer data to it afterwards. Idempotent: the same shipment imported again
 * changes nothing and never creates a second load or invoice.
 *
 * Stored values the code would not have written never fail a shipment, nor
 * so its batch: a lane is skipped as if absent (`LaneFinder.matchChecked`),
 * a stored `externalUpdatedAt` that is not a timestamp is disregarded
 * (`trustedStoredTimestamp`). Both are logged as `[stored.invalid]` and
 * counted (`skippedInvalid`, `withSkippedInvalid`).
 */
import { v, type Infer } from "convex/values";
import { literals } from "convex-helpers/validators";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import { vLoadType } from "../enums";
import type { ParsedShipment, PayloadIssue } from "./shipment";
import {
  checkShipmentJson,
  invalidPayload,
  parseShipmentJson,
  shipmentToNewLoad,
} from "./shipment";
import { LaneFinder } from "../lanes/rules";
import { assertOrgActive } from "../organizations/registry";
import { createLoadWithInvoice } from "../loads/intake";
import { findLoadsByExternalId } from "../loads/rules";
import { isValidTimestamp, locationKey, trustedStoredTimestamp } from "../validate";

/** What importing one shipment did (the import mutations' result row). */
export const vImportOutcome = v.object({
  externalLoadId: v.string(),
  /** `unchanged`: the stored load is as new as the shipment (or newer). */
  outcome: literals("created", "updated", "unchanged"),
  loadId: v.id("loads"),
  loadType: vLoadType,
  /**
   * True when the shipment's origin, destination or customer differ from the
   * stored load's. Those fields priced the load and are kept as they were.
   */
  laneChanged: v.boolean(),
  /**
   * Other loads with the same shipment id (written around the code, e.g. by
   * a backup import). The oldest load is the one updated; these are left as
   * they are for an operator to remove. Absent when there are none.
   */
  duplicateLoadIds: v.optional(v.array(v.id("loads"))),
  /**
   * True when FourKites sent a status we do not map (`UNKNOWN_STATUS_RULE`
   * in `shipment.ts`: a new load starts `Open`, a known one keeps its status).
   */
  unknownStatus: v.boolean(),
  /**
   * Stored documents holding values the code would never write that this
   * import skipped (lanes: the load is priced as if they did not exist, so
   * `UNMAPPED` with a `MISSING_DATA` invoice when no other lane applies) or
   * used without the bad value (the load's `externalUpdatedAt`), each logged
   * as `[stored.invalid]`. Absent when there were none.
   */
  skippedInvalid: v.optional(v.number()),
});
export type ImportOutcome = Infer<typeof vImportOutcome>;

/**
 * Most shipments per import batch transaction. A new shipment costs
 * 2 writes (load, invoice) and a few index lookups; an update 2 reads and 1
 * write. 100 keeps a batch near 200 writes, far inside Convex's limits, and
 * small enough to retry cheaply.
 */
export const IMPORT_BATCH_SIZE = 100;

/** What importing one batch did. */
export const vBatchOutcome = v.object({
  created: v.number(),
  updated: v.number(),
  unchanged: v.number(),
  /** Shipments with an unmapped status (imported by `UNKNOWN_STATUS_RULE`). */
  unknownStatus: v.number(),
  /**
   * Shipments whose import skipped a stored document the code would not have
   * written (`results[i].skippedInvalid`); they were imported all the same.
   */
  withSkippedInvalid: v.number(),
  results: v.array(vImportOutcome),
});
export type BatchOutcome = Infer<typeof vBatchOutcome>;

/**
 * Refuses a deleted org, validates one shipment (JSON text) and imports it
 * (`importShipment`). The lane is looked up here, inside the transaction,
 * whatever the caller believed.
 *
 * @throws `INVALID_PAYLOAD` naming the offending path(s); `ORG_DELETED`.
 */
export async function importShipmentJson(
  ctx: MutationCtx,
  workosOrgId: string,
  json: string,
): Promise<ImportOutcome> {
  await assertOrgActive(ctx, workosOrgId);
  const shipment = parseShipmentJson(json, workosOrgId);
  return await importShipment(ctx, workosOrgId, shipment, new LaneFinder(ctx.db));
}

/**
 * Imports up to `IMPORT_BATCH_SIZE` shipments (JSON text) of one org: all of
 * them or, when any is invalid, none (`INVALID_PAYLOAD` listing every bad
 * path as `shipments[i].…`).
 *
 * @throws `ORG_DELETED`; `INVALID_PAYLOAD` (also for an oversized batch).
 */
export async function importShipmentBatch(
  ctx: MutationCtx,
  workosOrgId: string,
  shipments: string[],
): Promise<BatchOutcome> {
  await assertOrgActive(ctx, workosOrgId);
  if (shipments.length > IMPORT_BATCH_SIZE) {
    throw appError(
      "INVALID_PAYLOAD",
      `Invalid FourKites batch: shipments: at most ${IMPORT_BATCH_SIZE} per batch (got ${shipments.length}).`,
      { issueCount: 1, issues: [{ path: "shipments", message: "too many shipments" }] },
    );
  }
  const issues: PayloadIssue[] = [];
  const parsed = [];
  for (let i = 0; i < shipments.length; i++) {
    const checked = checkShipmentJson(shipments[i], workosOrgId, `shipments[${i}]`);
    if (checked.ok) parsed.push(checked.shipment);
    else issues.push(...checked.issues);
  }
  if (issues.length > 0) throw invalidPayload(issues);

  const finder = new LaneFinder(ctx.db);
  const results: ImportOutcome[] = [];
  for (const shipment of parsed) {
    results.push(await importShipment(ctx, workosOrgId, shipment, finder));
  }
  const count = (o: ImportOutcome["outcome"]) => results.filter((r) => r.outcome === o).length;
  const summary = {
    created: count("created"),
    updated: count("updated"),
    unchanged: count("unchanged"),
    unknownStatus: results.filter((r) => r.unknownStatus).length,
    withSkippedInvalid: results.filter((r) => (r.skippedInvalid ?? 0) > 0).length,
  };
  console.log("[fourkites.import_batch]", { workosOrgId, ...summary });
  return { ...summary, results };
}

function laneFieldsDiffer(load: Doc<"loads">, s: ParsedShipment): boolean {
  return (
    locationKey(s.origin) !== load.originKey ||
    locationKey(s.destination) !== load.destinationKey ||
    s.customerId !== load.customerId
  );
}

/**
 * Imports `s` into `workosOrgId` (source `FOURKITES`, external id = the
 * FourKites shipment id).
 *
 * - New shipment: a load in the mapped status, `CONTRACT`/`SPOT` with a
 *   `DRAFT` invoice at the lane's rate when a lane matches, else `UNMAPPED`
 *   with a `MISSING_DATA` invoice of 0 cents.
 * - Known shipment with a newer `updatedAt`: status (whatever FourKites
 *   reports; imports are not bound by `LOAD_TRANSITIONS`), appointment times,
 *   weight and commodity are replaced. The lane-defining fields (origin,
 *   destination, customer) stay as first imported, since the load was priced
 *   by them; a change is logged and reported as `laneChanged`.
 * - Known shipment with the same or an older `updatedAt`: nothing is written.
 *   A stored `updatedAt` beyond the clock-skew allowance (`lib/clock.ts`) is
 *   disregarded, so it cannot block real updates; new ones are refused by
 *   the schema. So is a stored one that is not a timestamp (NaN, ±Infinity,
 *   0 or below: `skippedInvalid`).
 * - A lane the code would not have written (a rate of -500, NaN, 1e12; dates
 *   or keys it would refuse) is skipped as if absent (`skippedInvalid`).
 * - An unmapped FourKites status: see `UNKNOWN_STATUS_RULE` (`shipment.ts`).
 */
export async function importShipment(
  ctx: MutationCtx,
  workosOrgId: string,
  s: ParsedShipment,
  finder: LaneFinder,
): Promise<ImportOutcome> {
  const found = await findLoadsByExternalId(ctx, workosOrgId, "FOURKITES", s.externalLoadId);
  const unknownStatus = s.status === null;
  if (unknownStatus) {
    console.warn("[fourkites.import] unmapped FourKites status", {
      workosOrgId,
      externalLoadId: s.externalLoadId,
      fourKitesStatus: s.fourKitesStatus,
      known: found !== null,
    });
  }
  if (found === null) {
    const created = await createLoadWithInvoice(ctx, shipmentToNewLoad(s, workosOrgId), finder);
    return {
      externalLoadId: s.externalLoadId,
      outcome: "created",
      loadId: created.loadId,
      loadType: created.loadType,
      laneChanged: false,
      unknownStatus,
      ...(created.skippedInvalid > 0 ? { skippedInvalid: created.skippedInvalid } : {}),
    };
  }
  const existing = found.load;
  const laneChanged = laneFieldsDiffer(existing, s);
  // A stored time beyond the skew allowance (written before the check, or
  // around the code), or not a timestamp at all, is not trusted: the real
  // update replaces it.
  const stored = existing.externalUpdatedAt;
  const invalidStored = stored !== undefined && !isValidTimestamp(stored);
  const storedAt = trustedStoredTimestamp(
    { table: "loads", id: existing._id, workosOrgId },
    "externalUpdatedAt",
    stored,
    Date.now(),
  );
  const base = {
    externalLoadId: s.externalLoadId,
    loadId: existing._id,
    loadType: existing.loadType,
    laneChanged,
    ...(found.duplicateIds.length > 0 ? { duplicateLoadIds: found.duplicateIds } : {}),
    unknownStatus,
    ...(invalidStored ? { skippedInvalid: 1 } : {}),
  };
  if (storedAt !== undefined && s.updatedAt <= storedAt) {
    return { ...base, outcome: "unchanged" };
  }
  if (storedAt === undefined && stored !== undefined && !invalidStored) {
    console.warn("[fourkites.import] stored updatedAt is in the future; replaced", {
      workosOrgId,
      loadId: existing._id,
      storedUpdatedAt: existing.externalUpdatedAt,
      updatedAt: s.updatedAt,
    });
  }
  if (laneChanged) {
    console.warn("[fourkites.import] lane fields changed on an imported load; kept the original", {
      workosOrgId,
      loadId: existing._id,
      externalLoadId: s.externalLoadId,
      storedOrigin: existing.originKey,
      storedDestination: existing.destinationKey,
      newOrigin: locationKey(s.origin),
      newDestination: locationKey(s.destination),
    });
  }
  // An unmapped status leaves the stored one (see `UNKNOWN_STATUS_RULE`).
  const status = s.status ?? existing.status;
  await ctx.db.patch("loads", existing._id, {
    status,
    ...(status !== existing.status ? { statusChangedAt: Date.now() } : {}),
    pickupAt: s.pickupAt,
    deliveryAt: s.deliveryAt,
    weightLbs: s.weightLbs,
    commodity: s.commodity,
    externalUpdatedAt: s.updatedAt,
  });
  return { ...base, outcome: "updated" };
}
