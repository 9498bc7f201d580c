/**
 * Load rules: creation, the status transition table and deletion. Writes use
 * plain `ctx.db`: in a mutation built with `convex/functions.ts` the write
 * layer counts them, so every function here keeps the counters exact.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import type { LoadSource, LoadStatus, LoadType } from "../enums";
import { findInvoicesOfLoad, wasBilled } from "../invoices/rules";
import { pickUnique } from "../uniqueness";
import {
  isValidTimestamp,
  locationKey,
  MAX_ID_LENGTH,
  optionalNonNegative,
  optionalText,
  optionalTimestamp,
  requireLocation,
  reportStoredProblems,
  requireText,
  storedProblem,
  type Location,
} from "../validate";

/**
 * Status changes a user may make with `updateLoadStatus`. `Expired` is set
 * only by the periodic cleanup (`Open` past its pickup window); imports set
 * whatever FourKites reports and are not bound by this table.
 *
 * | from      | to                          |
 * |-----------|-----------------------------|
 * | Open      | Assigned, Canceled          |
 * | Assigned  | Open (carrier fell off), Completed, Canceled |
 * | Expired   | Open (re-opened), Canceled  |
 * | Completed | (terminal)                  |
 * | Canceled  | (terminal)                  |
 */
export const LOAD_TRANSITIONS: Record<LoadStatus, readonly LoadStatus[]> = {
  Open: ["Assigned", "Canceled"],
  Assigned: ["Open", "Completed", "Canceled"],
  Expired: ["Open", "Canceled"],
  Completed: [],
  Canceled: [],
};

/** What a new load needs. Status defaults to `Open`, type to `UNMAPPED`. */
export type NewLoad = {
  workosOrgId: string;
  source: LoadSource;
  externalLoadId: string;
  origin: Location;
  destination: Location;
  status?: LoadStatus;
  loadType?: LoadType;
  laneId?: Id<"lanes">;
  customerId?: string;
  pickupAt?: number;
  deliveryAt?: number;
  externalUpdatedAt?: number;
  weightLbs?: number;
  commodity?: string;
};

/**
 * The load with this (org, source, external id), if any, and any duplicates.
 * The code never writes two, but a dashboard edit or a backup import can:
 * then the oldest is the load (it is the one every earlier import updated),
 * the others are returned as `duplicateIds` and logged, and nothing throws,
 * so imports of that shipment (and their batches) keep working.
 */
export async function findLoadsByExternalId(
  ctx: Pick<MutationCtx, "db">,
  workosOrgId: string,
  source: LoadSource,
  externalLoadId: string,
): Promise<{ load: Doc<"loads">; duplicateIds: Id<"loads">[] } | null> {
  const picked = await pickUnique(
    ctx.db
      .query("loads")
      .withIndex("by_org_and_source_and_external_id", (q) =>
        q.eq("workosOrgId", workosOrgId).eq("source", source).eq("externalLoadId", externalLoadId),
      ),
    "loads by external id",
    { workosOrgId, source, externalLoadId },
  );
  return picked === null
    ? null
    : { load: picked.doc, duplicateIds: picked.duplicates.map((d) => d._id) };
}

/** The load with this (org, source, external id), if any (the oldest of duplicates). */
export async function findLoadByExternalId(
  ctx: Pick<MutationCtx, "db">,
  workosOrgId: string,
  source: LoadSource,
  externalLoadId: string,
): Promise<Doc<"loads"> | null> {
  return (await findLoadsByExternalId(ctx, workosOrgId, source, externalLoadId))?.load ?? null;
}

/** The fields of a load as stored, without system fields. */
export type LoadFields = Omit<Doc<"loads">, "_id" | "_creationTime">;

/**
 * A new load's fields as stored: validated and normalized (trimmed text,
 * `CITY|ST` keys), type `UNMAPPED` unless `input` says otherwise, status
 * changed at `now`. Reads nothing: `prepareNewLoad` adds the uniqueness check.
 *
 * @throws `INVALID_ARGUMENT` for bad fields.
 */
export function newLoadFields(input: NewLoad, now: number): LoadFields {
  const externalLoadId = requireText(input.externalLoadId, "externalLoadId", MAX_ID_LENGTH);
  const origin = requireLocation(input.origin, "origin");
  const destination = requireLocation(input.destination, "destination");
  const pickupAt = optionalTimestamp(input.pickupAt, "pickupAt");
  const deliveryAt = optionalTimestamp(input.deliveryAt, "deliveryAt");
  if (pickupAt !== undefined && deliveryAt !== undefined && deliveryAt < pickupAt) {
    throw appError("INVALID_ARGUMENT", "deliveryAt must not be before pickupAt.", {
      field: "deliveryAt",
    });
  }
  return {
    workosOrgId: input.workosOrgId,
    source: input.source,
    externalLoadId,
    status: input.status ?? "Open",
    loadType: input.loadType ?? "UNMAPPED",
    laneId: input.laneId,
    customerId: optionalText(input.customerId, "customerId", MAX_ID_LENGTH),
    origin,
    destination,
    originKey: locationKey(origin),
    destinationKey: locationKey(destination),
    pickupAt,
    deliveryAt,
    externalUpdatedAt: input.externalUpdatedAt,
    weightLbs: optionalNonNegative(input.weightLbs, "weightLbs"),
    commodity: optionalText(input.commodity, "commodity"),
    statusChangedAt: now,
  };
}

/**
 * Validates a new load (`newLoadFields`) and checks its (org, source,
 * external id) is free. Returns the fields to insert; writes nothing.
 *
 * @throws `INVALID_ARGUMENT` for bad fields, `ALREADY_EXISTS` when the org
 *   already has a load with this source and external id.
 */
export async function prepareNewLoad(
  ctx: Pick<MutationCtx, "db">,
  input: NewLoad,
): Promise<LoadFields> {
  const fields = newLoadFields(input, Date.now());
  const existing = await findLoadsByExternalId(
    ctx,
    input.workosOrgId,
    input.source,
    fields.externalLoadId,
  );
  if (existing !== null) {
    throw appError("ALREADY_EXISTS", `Load ${fields.externalLoadId} already exists.`, {
      loadId: existing.load._id,
      ...(existing.duplicateIds.length > 0 ? { duplicateLoadIds: existing.duplicateIds } : {}),
    });
  }
  return fields;
}

/**
 * The load `loadId` if it belongs to `workosOrgId`. Another org's load is
 * reported as not found, so ids do not leak across orgs.
 */
export async function getOrgLoad(
  ctx: Pick<MutationCtx, "db">,
  workosOrgId: string,
  loadId: Id<"loads">,
): Promise<Doc<"loads">> {
  const load = await ctx.db.get("loads", loadId);
  if (load === null || load.workosOrgId !== workosOrgId) {
    throw appError("NOT_FOUND", "No such load in this organization.", { loadId });
  }
  return load;
}

/**
 * Moves `load` to `to` following `LOAD_TRANSITIONS`. Returns false (and
 * writes nothing) when the load is already in `to`.
 *
 * @throws `ILLEGAL_TRANSITION`
 */
export async function transitionLoad(
  ctx: MutationCtx,
  load: Doc<"loads">,
  to: LoadStatus,
): Promise<boolean> {
  if (load.status === to) return false;
  if (!LOAD_TRANSITIONS[load.status].includes(to)) {
    throw appError("ILLEGAL_TRANSITION", `A load cannot move from ${load.status} to ${to}.`, {
      from: load.status,
      to,
    });
  }
  await ctx.db.patch("loads", load._id, { status: to, statusChangedAt: Date.now() });
  return true;
}

/**
 * Deletes a load and its invoices that were never billed (`MISSING_DATA`,
 * `DRAFT`, and `VOID` ones voided before billing); both counters follow.
 *
 * @throws `HAS_BILLED_INVOICE` when any invoice of the load was billed
 *   (`wasBilled`: billed, pending payment, paid, or voided after billing):
 *   those are records to keep, so such a load is canceled, not deleted.
 *   Caveat: an invoice voided after billing before `billedAt` was recorded
 *   looks never billed and is deleted.
 */
export async function deleteLoad(
  ctx: MutationCtx,
  load: Doc<"loads">,
): Promise<{ invoicesDeleted: number }> {
  const invoices = await findInvoicesOfLoad(ctx, load);
  const kept = invoices.filter(wasBilled);
  for (const invoice of kept) {
    // Any `billedAt` keeps the record, even one the code would not write.
    if (invoice.billedAt !== undefined && !isValidTimestamp(invoice.billedAt)) {
      reportStoredProblems(
        { table: "invoices", id: invoice._id, workosOrgId: load.workosOrgId },
        [storedProblem("billedAt", invoice.billedAt)],
        "treated as billed",
      );
    }
  }
  if (kept.length > 0) {
    throw appError(
      "HAS_BILLED_INVOICE",
      "This load has an invoice that was billed, which must be kept; cancel the load instead of deleting it.",
      { invoiceIds: kept.map((i) => i._id) },
    );
  }
  for (const invoice of invoices) await ctx.db.delete("invoices", invoice._id);
  await ctx.db.delete("loads", load._id);
  return { invoicesDeleted: invoices.length };
}
