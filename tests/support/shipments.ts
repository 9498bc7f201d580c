/**
 * FourKites shipments for the demo and the bench, in the JSON shape the module's import
 * parses (`convex/model/fourKites/shipment.ts`), generated deterministically: the same
 * seed gives the same shipments, so every run prints the same badges. Times
 * are relative to a base time (the demo's start), so stale and future
 * pickups stay stale and future whenever the demo runs.
 */
import { prng } from "./random";

/** One stop, as FourKites sends it. */
export type FourKitesStop = {
  id: number;
  sequence: number;
  stopType: "PICKUP" | "DELIVERY";
  stopName: string;
  city: string;
  state: string;
  postalCode: string;
  latitude: number;
  longitude: number;
  /** ISO 8601 with an offset. */
  appointmentTime: string;
};

/** One shipment, as FourKites sends it (fields the import ignores included). */
export type FourKitesShipment = {
  id: number;
  loadNumber: string;
  referenceNumbers: string[];
  /** `Created`, `InTransit`, `Delivered`, `Cancelled`, ... */
  status: string;
  updatedAt: string;
  customer: { id: string; name: string };
  mode: "TL";
  weight: number;
  commodity: string;
  stops: FourKitesStop[];
};

/** A city with the postal code and coordinates a stop carries. */
export type Place = {
  city: string;
  state: string;
  postalCode: string;
  latitude: number;
  longitude: number;
};

export const PLACES: readonly Place[] = [
  { city: "Dallas", state: "TX", postalCode: "75201", latitude: 32.78, longitude: -96.8 },
  { city: "Atlanta", state: "GA", postalCode: "30303", latitude: 33.75, longitude: -84.39 },
  { city: "Chicago", state: "IL", postalCode: "60601", latitude: 41.88, longitude: -87.63 },
  { city: "Memphis", state: "TN", postalCode: "38103", latitude: 35.15, longitude: -90.05 },
  { city: "Denver", state: "CO", postalCode: "80202", latitude: 39.74, longitude: -104.99 },
  { city: "Columbus", state: "OH", postalCode: "43215", latitude: 39.96, longitude: -83.0 },
  { city: "Phoenix", state: "AZ", postalCode: "85004", latitude: 33.45, longitude: -112.07 },
  { city: "Reno", state: "NV", postalCode: "89501", latitude: 39.53, longitude: -119.81 },
  { city: "Boise", state: "ID", postalCode: "83702", latitude: 43.62, longitude: -116.2 },
];

/** Places with contract lanes between every two of them. */
export const LANE_PLACES = PLACES.slice(0, 7);

/** The pair no lane covers yet: its loads arrive `UNMAPPED` until the demo creates the lane. */
export const UNMAPPED_PAIR = { origin: PLACES[7], destination: PLACES[8] } as const;

/** Share of shipments on the unmapped pair. */
const UNMAPPED_SHARE = 0.0125;

const CUSTOMERS = [
  { id: "CUST-ACME", name: "Acme Foods" },
  { id: "CUST-NORTHWIND", name: "Northwind Traders" },
  { id: "CUST-GLOBEX", name: "Globex Retail" },
  { id: "CUST-INITECH", name: "Initech Supply" },
];

/**
 * Commodity lines with handling notes, as shippers type them: loads end up
 * about 1 KB, the design's anchor (docs/DESIGN.md §4), so a scanning count of the
 * 20,000-load org runs into Convex's 16 MiB read limit as it would in
 * production.
 */
const COMMODITIES = [
  "Frozen foods, 26 pallets, floor loaded",
  "Canned goods, 22 pallets, stack max 2 high",
  "Paper products, 30 pallets, keep dry",
  "Auto parts, 18 crates, load locks required",
];
const HANDLING =
  "Reefer units must run continuous at the set point from pickup to delivery; record the " +
  "temperature on the bill of lading at pickup and at every stop. Driver checks in at the guard " +
  "shack with the load number and the PO numbers, never the FourKites id. Seal is applied at " +
  "the shipper and must be intact at the receiver; note any broken seal before unloading. " +
  "Lumper fees at the receiver are paid by the broker against a receipt.";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** ISO 8601 at `ms`, written with a `-05:00` offset like a Central-time shipper. */
function isoWithOffset(ms: number): string {
  return new Date(ms - 5 * HOUR).toISOString().replace(/\.\d{3}Z$/, "-05:00");
}

/**
 * The two stops of shipment `id`: pickup at `origin` at `pickupAt`, delivery
 * at `destination` two days later; appointment times written by `iso`.
 */
export function twoStops(
  id: number,
  origin: Place,
  destination: Place,
  pickupAt: number,
  iso: (ms: number) => string = isoWithOffset,
): FourKitesStop[] {
  const stop = (sequence: 1 | 2, place: Place, at: number): FourKitesStop => {
    const stopType = sequence === 1 ? "PICKUP" : "DELIVERY";
    return {
      id: 2 * id + sequence - 1,
      sequence,
      stopType,
      stopName: `${place.city} ${stopType === "PICKUP" ? "DC" : "Receiving"}`,
      ...place,
      appointmentTime: iso(at),
    };
  };
  return [stop(1, origin, pickupAt), stop(2, destination, pickupAt + 2 * DAY)];
}

/** What `generateShipments` needs for one org. */
export type ShipmentSpec = {
  /** Load numbers start with this, e.g. `CST`. */
  prefix: string;
  /** FourKites ids are `idBase + i`. */
  idBase: number;
  seed: number;
  /** The demo's "now": pickups are placed around it. */
  now: number;
};

/**
 * Shipment `i` of an org's stream; the first ones are the org's history, the
 * ones after it arrive with the FourKites sync. Mix: ~55% delivered, ~25% in
 * transit, ~16% created (a quarter of those past their pickup window: stale),
 * ~4% cancelled; 1.25% on the unmapped pair.
 */
export function generateShipments(spec: ShipmentSpec, count: number): FourKitesShipment[] {
  const random = prng(spec.seed);
  const out: FourKitesShipment[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    const status =
      r < 0.55 ? "Delivered" : r < 0.8 ? "InTransit" : r < 0.96 ? "Created" : "Cancelled";
    let origin: Place;
    let destination: Place;
    if (random() < UNMAPPED_SHARE) {
      origin = UNMAPPED_PAIR.origin;
      destination = UNMAPPED_PAIR.destination;
    } else {
      const a = Math.floor(random() * LANE_PLACES.length);
      const b = (a + 1 + Math.floor(random() * (LANE_PLACES.length - 1))) % LANE_PLACES.length;
      origin = LANE_PLACES[a];
      destination = LANE_PLACES[b];
    }
    const stale = status === "Created" && random() < 0.25;
    const { now } = spec;
    const pickupAt =
      status === "Delivered"
        ? now - (3 + Math.floor(random() * 60)) * DAY
        : status === "InTransit"
          ? now - Math.floor(random() * 2) * DAY - HOUR
          : stale
            ? now - (2 + Math.floor(random() * 5)) * DAY
            : now + (1 + Math.floor(random() * 10)) * DAY;
    const id = spec.idBase + i;
    out.push({
      id,
      loadNumber: `${spec.prefix}-${String(i).padStart(6, "0")}`,
      referenceNumbers: [`PO-${(id * 7919) % 1_000_000}`, `BOL-${id % 100_000}`],
      status,
      updatedAt: isoWithOffset(Math.min(now - HOUR, pickupAt + DAY)),
      customer: CUSTOMERS[i % CUSTOMERS.length],
      mode: "TL",
      weight: 18_000 + Math.floor(random() * 26_000),
      commodity: `${COMMODITIES[i % COMMODITIES.length]}. ${HANDLING}`,
      stops: twoStops(id, origin, destination, pickupAt),
    });
  }
  return out;
}

/** `shipment` as FourKites reports it later, in a new status (a newer `updatedAt`). */
export function withStatus(
  shipment: FourKitesShipment,
  status: string,
  updatedAt: number,
): FourKitesShipment {
  return { ...shipment, status, updatedAt: isoWithOffset(updatedAt) };
}
