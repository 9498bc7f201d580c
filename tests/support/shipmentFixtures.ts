/**
 * FourKites shipments for the sync tests: copies of the fixture with their
 * own id, status, update time and lane.
 */
import baseShipment from "../fixtures/fourkites/shipment-in-transit.json";

export type ShipmentJson = {
  [key: string]: unknown;
  stops: Array<{ [key: string]: unknown }>;
};

/** Shipment `id` (a fixture copy), updated at `updatedAt` (ms), in `status`. */
export function makeShipment(
  id: number,
  updatedAt: number,
  status = "InTransit",
  edit: (s: ShipmentJson) => void = () => {},
): ShipmentJson {
  const s: ShipmentJson = JSON.parse(JSON.stringify(baseShipment));
  s.id = id;
  s.loadNumber = `LD-${id}`;
  s.status = status;
  s.updatedAt = new Date(updatedAt).toISOString();
  edit(s);
  return s;
}

/** `n` shipments with ids from `firstId`, all updated at `updatedAt`. */
export function makeShipments(n: number, firstId: number, updatedAt: number): ShipmentJson[] {
  const statuses = ["Created", "IN_TRANSIT", "in-transit", "Delivered", "DELAYED", "Withdrawn"];
  return Array.from({ length: n }, (_, i) =>
    makeShipment(firstId + i, updatedAt, statuses[i % statuses.length]),
  );
}
