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
import { literals } from "convex-helpers/validators";
import { internalMutation, internalQuery } from "./functions";
import type { MutationCtx } from "./model/ctx";
import { appError } from "./lib/errors";
import { vLoadType } from "./model/enums";
import {
  checkShipmentJson,
  invalidPayload,
  parseShipmentJson,
  type PayloadIssue,
} from "./model/fourKites/shipment";
import { LaneFinder } from "./model/lanes/rules";
import { assertOrgActive } from "./model/organizations/registry";
import { importShipment, type ImportOutcome } from "./model/fourKites/import";

/**
 * Most shipments per `importShipmentBatch` transaction. A new shipment costs
 * 2 writes (load, invoice) and a few index lookups; an update 2 reads and 1
 * write. 100 keeps a batch near 200 writes, far inside Convex's limits, and
 * small enough to retry cheaply.
 */
export const IMPORT_BATCH_SIZE = 100;

const vImportOutcome = v.object({
  externalLoadId: v.string(),
  outcome: literals("created", "updated", "unchanged"),
  loadId: v.id("loads"),
  loadType: vLoadType,
  laneChanged: v.boolean(),
  /** Other loads with the same shipment id (see `ImportOutcome`); absent when none. */
  duplicateLoadIds: v.optional(v.array(v.id("loads"))),
  /** FourKites sent an unmapped status (see `UNKNOWN_STATUS_RULE`). */
  unknownStatus: v.boolean(),
});

const vSingleImportArgs = {
  workosOrgId: v.string(),
  /** One FourKites shipment, as JSON text. */
  shipment: v.string(),
};

/**
 * The body of both single-shipment entry points: refuses a deleted org,
 * validates the shipment and imports it (`importShipment`). The lane is
 * looked up here, inside the transaction, whatever the caller believed.
 */
async function importSingleShipment(
  ctx: MutationCtx,
  args: { workosOrgId: string; shipment: string },
): Promise<ImportOutcome> {
  await assertOrgActive(ctx, args.workosOrgId);
  const shipment = parseShipmentJson(args.shipment, args.workosOrgId);
  return await importShipment(ctx, args.workosOrgId, shipment, new LaneFinder(ctx.db));
}

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
  handler: async (ctx, args) => await importSingleShipment(ctx, args),
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
    const result = await importSingleShipment(ctx, args);
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
 * Imports up to `IMPORT_BATCH_SIZE` shipments of one org in one transaction:
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
  returns: v.object({
    created: v.number(),
    updated: v.number(),
    unchanged: v.number(),
    /** Shipments with an unmapped status (imported by `UNKNOWN_STATUS_RULE`). */
    unknownStatus: v.number(),
    results: v.array(vImportOutcome),
  }),
  handler: async (ctx, args) => {
    await assertOrgActive(ctx, args.workosOrgId);
    if (args.shipments.length > IMPORT_BATCH_SIZE) {
      throw appError(
        "INVALID_PAYLOAD",
        `Invalid FourKites batch: shipments: at most ${IMPORT_BATCH_SIZE} per batch (got ${args.shipments.length}).`,
        { issueCount: 1, issues: [{ path: "shipments", message: "too many shipments" }] },
      );
    }
    const issues: PayloadIssue[] = [];
    const parsed = [];
    for (let i = 0; i < args.shipments.length; i++) {
      const checked = checkShipmentJson(args.shipments[i], args.workosOrgId, `shipments[${i}]`);
      if (checked.ok) parsed.push(checked.shipment);
      else issues.push(...checked.issues);
    }
    if (issues.length > 0) throw invalidPayload(issues);

    const finder = new LaneFinder(ctx.db);
    const results: ImportOutcome[] = [];
    for (const shipment of parsed) {
      results.push(await importShipment(ctx, args.workosOrgId, shipment, finder));
    }
    const count = (o: ImportOutcome["outcome"]) => results.filter((r) => r.outcome === o).length;
    const summary = {
      created: count("created"),
      updated: count("updated"),
      unchanged: count("unchanged"),
      unknownStatus: results.filter((r) => r.unknownStatus).length,
    };
    console.log("[fourkites.import_batch]", { workosOrgId: args.workosOrgId, ...summary });
    return { ...summary, results };
  },
});

/**
 * Refuses a deleted org (`ORG_DELETED`; one registry read). The sync action
 * calls it before fetching anything from FourKites.
 */
export const assertOrgActiveForImport = internalQuery({
  args: { workosOrgId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await assertOrgActive(ctx, args.workosOrgId);
    return null;
  },
});
