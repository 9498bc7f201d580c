/**
 * The demo's organizations and their history: loads and invoices that were in
 * the database before the counters existed (no stats rows), which is what
 * the `initializeOrgStats` migration is for.
 *
 * The history is written raw because importing 20,000 shipments one mutation
 * at a time is too slow in convex-test (every index lookup scans the table).
 * It is still the module's own mapping: every shipment goes through the
 * import's zod schema and status mapping (`checkShipmentJson`), becomes the
 * import's new load (`shipmentToNewLoad`) with the same normalization as
 * `prepareNewLoad`, and is priced by the module's lane matching
 * (`LaneFinder`), exactly as `importShipmentBatch` would have done it.
 */
import type { Id } from "../convex/_generated/dataModel";
import type { InvoiceStatus, LoadStatus } from "../convex/model/enums";
import { checkShipmentJson, shipmentToNewLoad } from "../convex/model/fourKites/shipment";
import { LaneFinder } from "../convex/model/lanes/rules";
import { newLoadFields, type LoadFields, type NewLoad } from "../convex/model/loads/rules";
import { locationKey } from "../convex/model/validate";
import type { Backend } from "../tests/support/setup";
import {
  DAY,
  generateShipments,
  LANE_PLACES,
  type FourKitesShipment,
  type Place,
  type ShipmentSpec,
} from "../tests/support/shipments";

export type DemoOrg = {
  name: string;
  workosOrgId: string;
  spec: ShipmentSpec;
  /** Shipments already in the database when the demo starts. */
  history: number;
  /** The org's shipment stream: history first, then what the sync brings. */
  shipments: FourKitesShipment[];
  /** Loads of the history, in shipment order, and the invoice of each. */
  loadIds: Id<"loads">[];
  invoiceIds: Id<"invoices">[];
};

/** Shipments per org that arrive with the FourKites sync (after the history). */
export const NEW_SHIPMENTS = [20, 30, 50];

/** Three customers of different sizes; the largest has 20,000 loads of history. */
export function demoOrgs(now: number): DemoOrg[] {
  const spec = [
    { name: "Acme Freight", workosOrgId: "org_01JDEMOACMEFRE1GHT0000001", prefix: "ACME", n: 500 },
    {
      name: "Blue Ridge Logistics",
      workosOrgId: "org_01JDEMOB1VERIDGE00000002",
      prefix: "BRL",
      n: 3_000,
    },
    {
      name: "Coastal Carriers",
      workosOrgId: "org_01JDEMOCOASTA1CARR1ERS03",
      prefix: "CST",
      n: 20_000,
    },
  ];
  return spec.map((s, k) => {
    const shipmentSpec = { prefix: s.prefix, idBase: 300_000_000 * (k + 1), seed: 1_000 + k, now };
    return {
      name: s.name,
      workosOrgId: s.workosOrgId,
      spec: shipmentSpec,
      history: s.n,
      shipments: generateShipments(shipmentSpec, s.n + NEW_SHIPMENTS[k]),
      loadIds: [],
      invoiceIds: [],
    };
  });
}

function laneRateCents(a: number, b: number): number {
  return 120_000 + (((a * 7 + b) * 7_919) % 180_000);
}

function asLocation(p: Place) {
  return {
    city: p.city,
    state: p.state,
    postalCode: p.postalCode,
    latitude: p.latitude,
    longitude: p.longitude,
  };
}

/**
 * The org's contract lanes (every pair of `LANE_PLACES`), in effect for the
 * last year. Lanes are not counted; these were set up long ago.
 */
async function createLanes(t: Backend, workosOrgId: string, now: number): Promise<number> {
  return await t.run(async (ctx) => {
    let n = 0;
    for (let a = 0; a < LANE_PLACES.length; a++) {
      for (let b = 0; b < LANE_PLACES.length; b++) {
        if (a === b) continue;
        const origin = asLocation(LANE_PLACES[a]);
        const destination = asLocation(LANE_PLACES[b]);
        await ctx.db.insert("lanes", {
          workosOrgId,
          origin,
          destination,
          originKey: locationKey(origin),
          destinationKey: locationKey(destination),
          rateCents: laneRateCents(a, b),
          effectiveFrom: now - 365 * DAY,
        });
        n++;
      }
    }
    return n;
  });
}

/**
 * The load as `prepareNewLoad` stores it (`newLoadFields`), without its
 * uniqueness lookup: every shipment id is new here.
 */
function storedLoad(input: NewLoad, now: number): LoadFields {
  const fields = newLoadFields(input, now);
  // Absent, not `undefined`: that is how Convex stores a missing field.
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) Reflect.deleteProperty(fields, key);
  }
  return fields;
}

/**
 * Where the invoice of a priced load of the history stands: it follows the
 * load (delivered loads mostly billed and paid), deterministic by index.
 */
function historicInvoiceStatus(status: LoadStatus, i: number): InvoiceStatus {
  if (status === "Canceled") return "VOID";
  if (status !== "Completed") return "DRAFT";
  const r = i % 20;
  return r < 10 ? "PAID" : r < 14 ? "PENDING_PAYMENT" : r < 17 ? "BILLED" : "DRAFT";
}

/** Loads (with their invoices) per seeding transaction: 5,000 writes, ~3 MB. */
const CHUNK = 2_500;

/**
 * Writes the org's lanes and its history (`org.history` shipments) raw, with
 * no stats rows. `onProgress` gets the number of shipments written after each
 * transaction. Fills `org.loadIds` and `org.invoiceIds`.
 */
export async function writeHistory(
  t: Backend,
  org: DemoOrg,
  now: number,
  onProgress: (done: number) => void,
): Promise<{ lanes: number; unmapped: number }> {
  const lanes = await createLanes(t, org.workosOrgId, now);
  const loads = org.shipments.slice(0, org.history).map((shipment) => {
    const checked = checkShipmentJson(JSON.stringify(shipment), org.workosOrgId);
    if (!checked.ok) {
      throw new Error(`demo shipment ${shipment.id} rejected: ${JSON.stringify(checked.issues)}`);
    }
    return storedLoad(shipmentToNewLoad(checked.shipment, org.workosOrgId), now);
  });
  let unmapped = 0;
  for (let start = 0; start < loads.length; start += CHUNK) {
    const chunk = await t.run(async (ctx) => {
      const finder = new LaneFinder(ctx.db);
      const written: { loadId: Id<"loads">; invoiceId: Id<"invoices"> }[] = [];
      let unpriced = 0;
      for (let i = start; i < Math.min(loads.length, start + CHUNK); i++) {
        const fields = loads[i];
        const match = await finder.match(fields, now);
        if (match === null) unpriced++;
        const loadId = await ctx.db.insert("loads", {
          ...fields,
          loadType: match?.loadType ?? "UNMAPPED",
          ...(match === null ? {} : { laneId: match.lane._id }),
        });
        const invoiceId = await ctx.db.insert("invoices", {
          workosOrgId: org.workosOrgId,
          loadId,
          status: match === null ? "MISSING_DATA" : historicInvoiceStatus(fields.status, i),
          amountCents: match?.lane.rateCents ?? 0,
          ...(match === null ? {} : { laneId: match.lane._id }),
          statusChangedAt: now,
        });
        written.push({ loadId, invoiceId });
      }
      return { written, unpriced };
    });
    for (const { loadId, invoiceId } of chunk.written) {
      org.loadIds.push(loadId);
      org.invoiceIds.push(invoiceId);
    }
    unmapped += chunk.unpriced;
    onProgress(org.loadIds.length);
  }
  return { lanes, unmapped };
}
