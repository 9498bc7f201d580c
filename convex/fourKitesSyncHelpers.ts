/**
 * FourKites import mutations, called by the sync action
 * (`fourKitesSync.ts`) and usable on their own (`npx convex run`).
 *
 * Shipments travel as JSON text (`v.string()`): a Convex object validator
 * would refuse a wrong type before our checks run and without a path, so the
 * transport stays permissive and zod (`model/fourKites/shipment.ts`) enforces the
 * domain rules in the mutation, where the write happens. A rejected payload
 * is an `INVALID_PAYLOAD` error naming the path(s), and the mutation writes
 * nothing.
 *
 * A deleted org is refused (`ORG_DELETED`, one registry read per call):
 * internal mutations are not refused by the stats flush, and an import must
 * not create or update documents of an org that no longer exists.
 *
 * The schema, status mapping and import rules live in `model/fourKites/shipment.ts`
 * and `model/fourKites/import.ts`.
 */
import { v } from "convex/values";
import { internalMutation } from "./functions";
import {
  importShipmentBatch as importBatch,
  importShipmentJson,
  vBatchOutcome,
  vImportOutcome,
} from "./model/fourKites/import";

const vSingleImportArgs = {
  workosOrgId: v.string(),
  /** One FourKites shipment, as JSON text. */
  shipment: v.string(),
};

/**
 * Imports one shipment (idempotent, see `importShipment`):
 * - new shipment: a load priced by the lane in effect at its pickup time (`CONTRACT`/
 *   `SPOT` with a `DRAFT` invoice at the lane's rate), or, with no lane,
 *   `UNMAPPED` with a `MISSING_DATA` invoice of 0 cents (promoted when a lane
 *   appears);
 * - known shipment: updated only when its `updatedAt` is newer.
 *
 * @throws `INVALID_PAYLOAD` naming the offending path(s); `ORG_DELETED`.
 */
export const importLoadFromShipment = internalMutation({
  args: vSingleImportArgs,
  returns: vImportOutcome,
  handler: async (ctx, args) => await importShipmentJson(ctx, args.workosOrgId, args.shipment),
});

/**
 * Imports one shipment the caller found no lane for. It runs the same import
 * as `importLoadFromShipment` and does not force `UNMAPPED`: the lane
 * decision is re-made inside this transaction, so a lane that appeared since
 * the caller looked prices the new load (`CONTRACT`/`SPOT`, `DRAFT`);
 * otherwise it becomes `UNMAPPED` with a `MISSING_DATA` invoice of 0 cents. A
 * known shipment is updated as by `importLoadFromShipment`. The one
 * difference: a new load that a lane priced after all is logged
 * (`[fourkites.import_unmapped] lane found`), since the caller's lane
 * decision was stale.
 *
 * @throws `INVALID_PAYLOAD` naming the offending path(s); `ORG_DELETED`.
 */
export const importUnmappedLoad = internalMutation({
  args: vSingleImportArgs,
  returns: vImportOutcome,
  handler: async (ctx, args) => {
    const result = await importShipmentJson(ctx, args.workosOrgId, args.shipment);
    if (result.outcome === "created" && result.loadType !== "UNMAPPED") {
      console.log("[fourkites.import_unmapped] lane found", {
        workosOrgId: args.workosOrgId,
        externalLoadId: result.externalLoadId,
        loadId: result.loadId,
        loadType: result.loadType,
      });
    }
    return result;
  },
});

/**
 * Imports up to `IMPORT_BATCH_SIZE` (`model/fourKites/import.ts`) shipments of one org in one transaction:
 * all of them or, when any is invalid, none (`INVALID_PAYLOAD` listing every
 * bad path as `shipments[i].…`). The counters are written once per entity.
 * The sync action validates first and sends only valid shipments, so one bad
 * shipment does not hold back the others. A deleted org: `ORG_DELETED`.
 *
 * ```sh
 * npx convex run fourKitesSyncHelpers:importShipmentBatch \
 *   '{"workosOrgId": "org_...", "shipments": ["{\"id\": 1, ...}"]}'
 * ```
 */
export const importShipmentBatch = internalMutation({
  args: {
    workosOrgId: v.string(),
    /** FourKites shipments, each as JSON text. */
    shipments: v.array(v.string()),
  },
  returns: vBatchOutcome,
  handler: async (ctx, args) => await importBatch(ctx, args.workosOrgId, args.shipments),
});
