/**
 * FourKites-shaped shipments for the demo, generated deterministically (same
 * seed, same shipments) so every run prints the same badges.
 *
 * The shape follows DESIGN §2: identifiers, a status, `updatedAt`, and stops
 * with sequence, type, city, state, postal code, coordinates and appointment
 * times. When the FourKites import (issue 3) lands, its zod schema is the
 * authority: adjust the field names here to what it parses.
 */

export type ShipmentStatus = "CREATED" | "IN_TRANSIT" | "DELIVERED" | "CANCELLED";

export type ShipmentStop = {
  sequence: number;
  stopType: "PICKUP" | "DELIVERY";
  city: string;
  state: string;
  postalCode: string;
  latitude: number;
  longitude: number;
  appointmentTime: { startTime: string; endTime: string };
};

export type Shipment = {
  /** FourKites shipment id. */
  id: string;
  /** The shipper's load number. */
  loadNumber: string;
  status: ShipmentStatus;
  /** ISO 8601. */
  updatedAt: string;
  stops: ShipmentStop[];
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

/** The pair no lane covers yet: the demo's lane backfill would promote these. */
export const UNMAPPED_PAIR = { origin: "Reno", destination: "Boise" } as const;

/** Mulberry32: a tiny seeded PRNG, so the demo is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function stop(
  sequence: number,
  stopType: ShipmentStop["stopType"],
  place: Place,
  at: number,
): ShipmentStop {
  return {
    sequence,
    stopType,
    ...place,
    appointmentTime: {
      startTime: new Date(at).toISOString(),
      endTime: new Date(at + 2 * HOUR).toISOString(),
    },
  };
}

/**
 * `count` shipments for an org whose load numbers start with `prefix`.
 * Mix: ~55% delivered, ~25% in transit, ~12% created (a quarter of them past
 * their pickup window: stale), ~4% cancelled; ~6% on the unmapped pair.
 */
export function generateShipments(prefix: string, count: number, seed: number): Shipment[] {
  const random = prng(seed);
  const byCity = new Map(PLACES.map((p) => [p.city, p]));
  const now = Date.UTC(2026, 10, 28, 12);
  const out: Shipment[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    const status: ShipmentStatus =
      r < 0.55 ? "DELIVERED" : r < 0.8 ? "IN_TRANSIT" : r < 0.96 ? "CREATED" : "CANCELLED";
    const unmapped = random() < 0.06;
    let origin: Place;
    let destination: Place;
    if (unmapped) {
      origin = byCity.get(UNMAPPED_PAIR.origin) ?? PLACES[0];
      destination = byCity.get(UNMAPPED_PAIR.destination) ?? PLACES[1];
    } else {
      // Lanes run between the first seven places.
      const a = Math.floor(random() * 7);
      const b = (a + 1 + Math.floor(random() * 6)) % 7;
      origin = PLACES[a];
      destination = PLACES[b];
    }
    const stale = status === "CREATED" && random() < 0.25;
    const pickupAt =
      status === "DELIVERED"
        ? now - (2 + Math.floor(random() * 60)) * DAY
        : status === "IN_TRANSIT"
          ? now - Math.floor(random() * 2) * DAY - HOUR
          : stale
            ? now - (1 + Math.floor(random() * 5)) * DAY
            : now + (1 + Math.floor(random() * 10)) * DAY;
    out.push({
      id: `FK-${prefix}-${String(100_000 + i)}`,
      loadNumber: `${prefix}-${String(i).padStart(6, "0")}`,
      status,
      updatedAt: new Date(Math.min(now, pickupAt + DAY)).toISOString(),
      stops: [
        stop(1, "PICKUP", origin, pickupAt),
        stop(2, "DELIVERY", destination, pickupAt + 2 * DAY),
      ],
    });
  }
  return out;
}
