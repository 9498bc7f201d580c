/**
 * The demo's organizations and how their shipments get into the database.
 *
 * STAND-IN: `importShipments` writes loads and invoices raw (as a deployment
 * that predates the counters would hold them) through `tests/seed.ts`, and
 * writes the exact counters the migration would compute. When the FourKites
 * batch import (issue 3) and the migration (issue 4) land, replace the body of
 * `importShipments` with calls to the batch import (or keep raw writes with
 * `withStats: false` and let the migration step seed the counters).
 */
import type { Id } from "../convex/_generated/dataModel";
import type { InvoiceStatus, LoadStatus } from "../convex/model/enums";
import { locationKey } from "../convex/model/validate";
import { seedOrg } from "../tests/seed";
import type { Backend } from "../tests/setup";
import { generateShipments, PLACES, type Place, type Shipment } from "./shipments";

export type DemoOrg = {
  name: string;
  workosOrgId: string;
  shipments: Shipment[];
  /** Filled by `importShipments`, in shipment order. */
  loadIds: Id<"loads">[];
  /** The invoice of each load, in shipment order. */
  invoiceIds: Id<"invoices">[];
  /** Current status of each load / invoice, kept up to date by the demo's steps. */
  loadStatus: LoadStatus[];
  invoiceStatus: InvoiceStatus[];
};

/** Three customers of different sizes; the largest has 20,000 loads. */
export function demoOrgs(): DemoOrg[] {
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
  return spec.map((s, k) => ({
    name: s.name,
    workosOrgId: s.workosOrgId,
    shipments: generateShipments(s.prefix, s.n, 1_000 + k),
    loadIds: [],
    invoiceIds: [],
    loadStatus: [],
    invoiceStatus: [],
  }));
}

/** FourKites status → load status (DESIGN §2; the import of issue 3 decides for real). */
const LOAD_STATUS_OF: Record<Shipment["status"], LoadStatus> = {
  CREATED: "Open",
  IN_TRANSIT: "Assigned",
  DELIVERED: "Completed",
  CANCELLED: "Canceled",
};

/** Exact lanes between the first seven places; the unmapped pair has none. */
const LANE_PLACES = PLACES.slice(0, 7);

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

/** Creates the org's lanes (raw: lanes are not counted) and returns them by key pair. */
async function createLanes(
  t: Backend,
  workosOrgId: string,
): Promise<Map<string, { laneId: Id<"lanes">; rateCents: number }>> {
  // t.run returns Convex values only: build the map from its entries.
  const entries = await t.run(async (ctx) => {
    const lanes: [string, { laneId: Id<"lanes">; rateCents: number }][] = [];
    for (let a = 0; a < LANE_PLACES.length; a++) {
      for (let b = 0; b < LANE_PLACES.length; b++) {
        if (a === b) continue;
        const origin = asLocation(LANE_PLACES[a]);
        const destination = asLocation(LANE_PLACES[b]);
        const originKey = locationKey(origin);
        const destinationKey = locationKey(destination);
        const rateCents = laneRateCents(a, b);
        const laneId = await ctx.db.insert("lanes", {
          workosOrgId,
          origin,
          destination,
          originKey,
          destinationKey,
          rateCents,
          effectiveFrom: Date.UTC(2026, 0, 1),
        });
        lanes.push([`${originKey}>${destinationKey}`, { laneId, rateCents }]);
      }
    }
    return lanes;
  });
  return new Map(entries);
}

/** Invoice of a lane-matched load: follows the load, deterministic by index. */
function contractInvoiceStatus(status: LoadStatus, i: number): InvoiceStatus {
  if (status === "Canceled") return "VOID";
  if (status !== "Completed") return "DRAFT";
  const r = i % 20;
  return r < 10 ? "PAID" : r < 14 ? "PENDING_PAYMENT" : r < 17 ? "BILLED" : "DRAFT";
}

/**
 * Gets `org`'s shipments into the database (stand-in, see file comment).
 * `onProgress` gets the number of shipments done after each transaction.
 */
export async function importShipments(
  t: Backend,
  org: DemoOrg,
  onProgress: (done: number) => void,
): Promise<void> {
  const lanes = await createLanes(t, org.workosOrgId);
  const mapped = org.shipments.map((s, i) => {
    const first = s.stops[0];
    const last = s.stops[s.stops.length - 1];
    const origin = asLocation(first);
    const destination = asLocation(last);
    const originKey = locationKey(origin);
    const destinationKey = locationKey(destination);
    const lane = lanes.get(`${originKey}>${destinationKey}`);
    const status = LOAD_STATUS_OF[s.status];
    return {
      load: {
        externalLoadId: s.id,
        status,
        loadType: lane === undefined ? ("UNMAPPED" as const) : ("CONTRACT" as const),
        laneId: lane?.laneId,
        origin,
        destination,
        originKey,
        destinationKey,
        pickupAt: Date.parse(first.appointmentTime.startTime),
        deliveryAt: Date.parse(last.appointmentTime.startTime),
        externalUpdatedAt: Date.parse(s.updatedAt),
      },
      invoiceStatus:
        lane === undefined ? ("MISSING_DATA" as const) : contractInvoiceStatus(status, i),
      amountCents: lane?.rateCents ?? 0,
    };
  });
  const { loadIds, invoiceIds } = await seedOrg(t, org.workosOrgId, {
    loads: mapped.length,
    loadFields: (i) => mapped[i].load,
    invoiceStatus: (i) => mapped[i].invoiceStatus,
    amountCents: (i) => mapped[i].amountCents,
    withStats: true,
    onProgress,
  });
  // Every load got an invoice, so both lists are in shipment order.
  org.loadIds = loadIds;
  org.invoiceIds = invoiceIds;
  org.loadStatus = mapped.map((m) => m.load.status);
  org.invoiceStatus = mapped.map((m) => m.invoiceStatus);
}
