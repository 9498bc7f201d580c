/**
 * Shipment fields in a style the parser does not read. The schema
 * (`shipment.ts`) ignores keys it does not know, so a tenant sending, say,
 * `stops[].schedule.appointmentTime` instead of `stops[].appointmentTime`
 * would lose its appointment times without a sign. The sync counts every
 * shipment carrying a key that is neither read nor a FourKites field we know
 * and leave aside (`KNOWN_UNUSED`), and lists the paths in the sync health.
 */
import { READ_FIELDS } from "./shipment";

/**
 * FourKites fields we know and deliberately do not import (they describe
 * tracking, not the load): not counted.
 */
export const KNOWN_UNUSED: Readonly<Record<"shipment" | "stop" | "customer", readonly string[]>> = {
  shipment: ["createdAt", "shipper", "carrier", "mode", "fourKitesEta", "latestLocation"],
  stop: [
    "id",
    "addressLine1",
    "addressLine2",
    "country",
    "timezone",
    "arrivalTime",
    "departureTime",
  ],
  customer: [],
};

/** Most paths reported per shipment (a pathological payload must not cost more). */
const MAX_PATHS = 20;

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

const known = (level: keyof typeof READ_FIELDS) =>
  new Set([...READ_FIELDS[level], ...KNOWN_UNUSED[level]]);
const KNOWN = { shipment: known("shipment"), stop: known("stop"), customer: known("customer") };

/** Paths of the unknown keys of `value` at `level` (one level into an unknown object). */
function unknownKeys(
  value: Record<string, unknown>,
  level: keyof typeof KNOWN,
  prefix: string,
  out: Set<string>,
): void {
  for (const [key, inner] of Object.entries(value)) {
    if (out.size >= MAX_PATHS) return;
    if (KNOWN[level].has(key) || inner === null || inner === undefined) continue;
    const path = `${prefix}${key}`;
    const nested = isRecord(inner) ? Object.keys(inner) : [];
    if (nested.length === 0) out.add(path);
    for (const sub of nested.slice(0, MAX_PATHS)) out.add(`${path}.${sub}`);
  }
}

/**
 * The paths of fields of a raw shipment the parser does not read (empty for
 * a shipment in the documented shape): `stops[].schedule.appointmentTime`,
 * `updated_at`, `customer.externalId`. Stops share one path (`stops[]`).
 */
export function unreadFieldPaths(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  const out = new Set<string>();
  unknownKeys(raw, "shipment", "", out);
  if (isRecord(raw.customer)) unknownKeys(raw.customer, "customer", "customer.", out);
  if (Array.isArray(raw.stops)) {
    for (const stop of raw.stops.slice(0, 100)) {
      if (isRecord(stop)) unknownKeys(stop, "stop", "stops[].", out);
    }
  }
  return [...out].slice(0, MAX_PATHS);
}
