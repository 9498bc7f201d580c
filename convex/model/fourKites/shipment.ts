/**
 * The FourKites shipment as we accept it: a zod schema for the payload, the
 * mapping of FourKites statuses to load statuses, and the conversion into a
 * new load. Every payload is untrusted; a rejected one yields
 * `INVALID_PAYLOAD` issues that name the offending path
 * (`stops[1].latitude`), and nothing is written.
 *
 * Shape (extra fields are ignored by the schema, but counted by the sync when
 * they are not FourKites fields we know and leave aside: `unreadFields.ts`;
 * `null` counts as absent for optional ones):
 *
 * ```json
 * { "id": 104857601, "loadNumber": "LD-2024-00017", "referenceNumbers": ["PO-88812"],
 *   "status": "InTransit", "updatedAt": "2024-05-02T14:31:07Z",
 *   "customer": { "id": "CUST-ACME", "name": "Acme Foods" }, "weight": 42000,
 *   "commodity": "Frozen foods", "tmsOrganizationId": "org_01...",
 *   "stops": [{ "sequence": 1, "stopType": "PICKUP", "stopName": "Acme DC", "city": "Dallas",
 *     "state": "TX", "postalCode": "75201", "latitude": 32.78, "longitude": -96.8,
 *     "appointmentTime": "2024-05-01T08:00:00-05:00" }, ...] }
 * ```
 *
 * - `id` (FourKites shipment id, number or string) is the load's external id.
 * - `weight` is in pounds. Times are ISO 8601 with a `Z` or offset.
 * - Stops are listed in strictly increasing `sequence`, at least two, the
 *   first a `PICKUP` (the load's origin and pickup time) and the last a
 *   `DELIVERY` (destination and delivery time).
 * - `customer.id` is the customer lanes can be restricted to.
 * - `tmsOrganizationId`, when the TMS stored its org id on the FourKites load,
 *   must be the org being imported into.
 */
import { z } from "zod";
import { appError } from "../../lib/errors";
import { isBeyondSkew, MAX_CLOCK_SKEW_MS } from "../../lib/clock";
import type { LoadStatus } from "../enums";
import type { NewLoad } from "../loads/rules";
import {
  MAX_CITY_LENGTH,
  MAX_ID_LENGTH,
  MAX_STATE_LENGTH,
  MAX_TEXT_LENGTH,
  placeNameProblem,
  type Location,
} from "../validate";

/**
 * FourKites shipment status → load status. Statuses are compared after
 * upper-casing and dropping everything but letters, so `InTransit`,
 * `IN_TRANSIT`, `in-transit` and `In Transit` are the same.
 *
 * | FourKites                                                         | load      |
 * |-------------------------------------------------------------------|-----------|
 * | Created, Planned, Scheduled, Tendered                             | Open      |
 * | Assigned, Dispatched, AtPickup, PickedUp, InTransit, Delayed, AtDelivery, Arrived | Assigned |
 * | Delivered, Completed                                              | Completed |
 * | Cancelled, Canceled, Withdrawn                                    | Canceled  |
 *
 * `Delayed` is a moving load running late; `Withdrawn` is a tender the
 * shipper took back. `Expired` is never imported: only the periodic cleanup
 * sets it.
 *
 * A status not in this table is not a payload error (FourKites adds values
 * without notice): the shipment is imported with `status: null` and the rule
 * of `UNKNOWN_STATUS_RULE` applies; every path counts it as `unknownStatus`.
 */
export const FOURKITES_STATUS_MAP: Readonly<Record<string, LoadStatus>> = {
  CREATED: "Open",
  PLANNED: "Open",
  SCHEDULED: "Open",
  TENDERED: "Open",
  ASSIGNED: "Assigned",
  DISPATCHED: "Assigned",
  ATPICKUP: "Assigned",
  PICKEDUP: "Assigned",
  INTRANSIT: "Assigned",
  DELAYED: "Assigned",
  ATDELIVERY: "Assigned",
  ARRIVED: "Assigned",
  DELIVERED: "Completed",
  COMPLETED: "Completed",
  CANCELLED: "Canceled",
  CANCELED: "Canceled",
  WITHDRAWN: "Canceled",
};

/**
 * What an unmapped FourKites status does (documented in docs/fourkites.md):
 * - a **new** shipment becomes a load in `newLoadStatus` (`Open`, the status
 *   every load starts in): the load exists, is priced and can be worked;
 * - a **known** load keeps its current status; its other fields and
 *   `externalUpdatedAt` are updated as usual, so the next mapped status wins.
 * Either way the import reports `unknownStatus: true` and logs the raw value.
 */
export const UNKNOWN_STATUS_RULE = { newLoadStatus: "Open" } as const satisfies {
  newLoadStatus: LoadStatus;
};

/** The load status of a FourKites status, or null when it is not mapped. */
export function mapFourKitesStatus(status: string): LoadStatus | null {
  const key = status.toUpperCase().replace(/[^A-Z]/g, "");
  return Object.prototype.hasOwnProperty.call(FOURKITES_STATUS_MAP, key)
    ? FOURKITES_STATUS_MAP[key]
    : null;
}

/** Longest shipment JSON accepted (a realistic shipment is 1–5 KB). */
export const MAX_SHIPMENT_JSON_CHARS = 64 * 1024;
/** Stops per shipment. */
export const MAX_STOPS = 50;
/** Heaviest plausible shipment, lbs (a legal US truckload is ~45,000 lbs of cargo). */
export const MAX_WEIGHT_LBS = 500_000;
/** Times outside [2000, 2100) are typos or unit mistakes, not shipments. */
const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);

const STOP_TYPES = ["PICKUP", "DELIVERY"] as const;

/** Trimmed text of 1..max characters. */
const text = (max: number) =>
  z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

/** A place name: text without `|` or control characters (see `placeNameProblem`). */
const placeName = (max: number) =>
  text(max).refine(
    (s) => placeNameProblem(s) === null,
    'must not contain "|" or control characters',
  );

/** An optional field; JSON `null` counts as absent. */
const optional = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value) => value ?? undefined);

/** An ISO 8601 time with `Z` or an offset, as ms since the epoch. */
const isoTime = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 date-time with Z or an offset" })
  .transform((s) => Date.parse(s))
  .refine((ms) => ms >= MIN_TIME && ms < MAX_TIME, "must be between the years 2000 and 2100");

const stopObject = z.object({
  sequence: z.number().int().min(1).max(999),
  stopType: z.preprocess(
    (value) => (typeof value === "string" ? value.trim().toUpperCase() : value),
    z.enum(STOP_TYPES),
  ),
  stopName: optional(text(200)),
  city: placeName(MAX_CITY_LENGTH),
  state: placeName(MAX_STATE_LENGTH),
  postalCode: optional(text(20)),
  latitude: optional(z.number().min(-90).max(90)),
  longitude: optional(z.number().min(-180).max(180)),
  appointmentTime: optional(isoTime),
  appointmentWindowStart: optional(isoTime),
  appointmentWindowEnd: optional(isoTime),
});

const stopSchema = stopObject.superRefine((stop, ctx) => {
  if ((stop.latitude === undefined) !== (stop.longitude === undefined)) {
    const missing = stop.latitude === undefined ? "latitude" : "longitude";
    ctx.addIssue({
      code: "custom",
      path: [missing],
      message: "latitude and longitude come together",
    });
  }
  const { appointmentWindowStart: start, appointmentWindowEnd: end } = stop;
  if (start !== undefined && end !== undefined && end < start) {
    ctx.addIssue({
      code: "custom",
      path: ["appointmentWindowEnd"],
      message: "must not be before appointmentWindowStart",
    });
  }
});

type Stop = z.infer<typeof stopSchema>;

/** When a stop is planned: its appointment, else the start of its window. */
function stopTime(stop: Stop): number | undefined {
  return stop.appointmentTime ?? stop.appointmentWindowStart;
}

const customerObject = z.object({ id: text(MAX_ID_LENGTH), name: optional(text(200)) });

const shipmentObject = z.object({
  id: z.union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), text(MAX_ID_LENGTH)]),
  loadNumber: text(MAX_ID_LENGTH),
  referenceNumbers: optional(z.array(text(MAX_ID_LENGTH)).max(50)),
  status: text(64),
  // "Newer than" compares it: a time far ahead would block later updates.
  updatedAt: isoTime.refine(
    (ms) => !isBeyondSkew(ms, Date.now()),
    `must not be more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes in the future`,
  ),
  customer: optional(customerObject),
  tmsOrganizationId: optional(text(MAX_ID_LENGTH)),
  weight: optional(z.number().min(0).max(MAX_WEIGHT_LBS)),
  commodity: optional(text(MAX_TEXT_LENGTH)),
  stops: z
    .array(stopSchema)
    .min(2, "needs at least 2 stops: a pickup and a delivery")
    .max(MAX_STOPS),
});

/** The fields the schema reads, per level (`unreadFields.ts` compares payloads with them). */
export const READ_FIELDS: Readonly<Record<"shipment" | "stop" | "customer", readonly string[]>> = {
  shipment: Object.keys(shipmentObject.shape),
  stop: Object.keys(stopObject.shape),
  customer: Object.keys(customerObject.shape),
};

/** The zod schema of one FourKites shipment (see the file comment). */
export const fourKitesShipmentSchema = shipmentObject.superRefine((shipment, ctx) => {
  const { stops } = shipment;
  for (let i = 1; i < stops.length; i++) {
    if (stops[i].sequence <= stops[i - 1].sequence) {
      ctx.addIssue({
        code: "custom",
        path: ["stops", i, "sequence"],
        message: "stops must be listed in strictly increasing sequence",
      });
    }
  }
  if (stops.length < 2) return;
  const last = stops.length - 1;
  if (stops[0].stopType !== "PICKUP") {
    ctx.addIssue({
      code: "custom",
      path: ["stops", 0, "stopType"],
      message: "the first stop must be a PICKUP",
    });
  }
  if (stops[last].stopType !== "DELIVERY") {
    ctx.addIssue({
      code: "custom",
      path: ["stops", last, "stopType"],
      message: "the last stop must be a DELIVERY",
    });
  }
  const pickupAt = stopTime(stops[0]);
  const deliveryAt = stopTime(stops[last]);
  if (pickupAt !== undefined && deliveryAt !== undefined && deliveryAt < pickupAt) {
    ctx.addIssue({
      code: "custom",
      path: ["stops", last, "appointmentTime"],
      message: "the delivery must not be before the pickup",
    });
  }
});

/** A validated shipment, in our terms. */
export type ParsedShipment = {
  externalLoadId: string;
  loadNumber: string;
  fourKitesStatus: string;
  /** The mapped status; null when FourKites sent a status we do not map. */
  status: LoadStatus | null;
  updatedAt: number;
  origin: Location;
  destination: Location;
  pickupAt?: number;
  deliveryAt?: number;
  customerId?: string;
  weightLbs?: number;
  commodity?: string;
};

/** One reason a payload was rejected. */
export type PayloadIssue = { path: string; message: string };

/** `["stops", 1, "latitude"]` → `stops[1].latitude`; the root is `(root)`. */
export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

function toLocation(stop: Stop): Location {
  const loc: Location = { city: stop.city, state: stop.state };
  if (stop.postalCode !== undefined) loc.postalCode = stop.postalCode;
  if (stop.latitude !== undefined && stop.longitude !== undefined) {
    loc.latitude = stop.latitude;
    loc.longitude = stop.longitude;
  }
  return loc;
}

/**
 * Validates one shipment given as JSON text, for import into `workosOrgId`.
 * Never throws: returns the shipment or the issues (paths start at
 * `pathPrefix`, e.g. `shipments[3]`). The text is parsed once and the parsed
 * value validated as is (`checkShipmentValue`).
 */
export function checkShipmentJson(
  json: string,
  workosOrgId: string,
  pathPrefix = "",
): ShipmentCheck {
  const root = formatPath([], pathPrefix);
  if (json.length > MAX_SHIPMENT_JSON_CHARS) {
    return {
      ok: false,
      issues: [{ path: root, message: `larger than ${MAX_SHIPMENT_JSON_CHARS} characters` }],
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, issues: [{ path: root, message: "not valid JSON" }] };
  }
  return checkShipmentValue(raw, workosOrgId, pathPrefix);
}

/** The result of validating one shipment. */
export type ShipmentCheck =
  { ok: true; shipment: ParsedShipment } | { ok: false; issues: PayloadIssue[] };

/**
 * Validates one shipment as `JSON.parse` produced it (the one validation
 * every import path runs: the import mutations through `checkShipmentJson`,
 * the sync on each element of a parsed page). The value is never re-encoded
 * first: a number out of the double range (`1e400`) parses to `Infinity`,
 * which the schema refuses at its path, rather than turning into `null`
 * ("absent") through `JSON.stringify`.
 */
export function checkShipmentValue(
  raw: unknown,
  workosOrgId: string,
  pathPrefix = "",
): ShipmentCheck {
  const parsed = fourKitesShipmentSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path, pathPrefix),
        message: issue.message,
      })),
    };
  }
  const s = parsed.data;
  if (s.tmsOrganizationId !== undefined && s.tmsOrganizationId !== workosOrgId) {
    return {
      ok: false,
      issues: [
        {
          path: formatPath(["tmsOrganizationId"], pathPrefix),
          message: "belongs to another organization",
        },
      ],
    };
  }
  const first = s.stops[0];
  const last = s.stops[s.stops.length - 1];
  return {
    ok: true,
    shipment: {
      externalLoadId: String(s.id),
      loadNumber: s.loadNumber,
      fourKitesStatus: s.status,
      status: mapFourKitesStatus(s.status),
      updatedAt: s.updatedAt,
      origin: toLocation(first),
      destination: toLocation(last),
      pickupAt: stopTime(first),
      deliveryAt: stopTime(last),
      customerId: s.customer?.id,
      weightLbs: s.weight,
      commodity: s.commodity,
    },
  };
}

/**
 * Validates one element of a parsed FourKites page for the import
 * mutations, and returns the JSON text to send them. The checks are those of
 * `checkShipmentJson` (size of the text, then `checkShipmentValue`), so a
 * shipment the sync accepts is one `importShipmentBatch` accepts: one
 * invalid shipment can never fail a whole batch.
 */
export function checkPageShipment(
  raw: unknown,
  workosOrgId: string,
): { ok: true; shipment: ParsedShipment; json: string } | { ok: false; issues: PayloadIssue[] } {
  // A valid value holds only finite numbers, so this text parses back to it exactly.
  const json = JSON.stringify(raw) ?? "";
  if (json.length > MAX_SHIPMENT_JSON_CHARS) {
    return {
      ok: false,
      issues: [{ path: "(root)", message: `larger than ${MAX_SHIPMENT_JSON_CHARS} characters` }],
    };
  }
  const checked = checkShipmentValue(raw, workosOrgId);
  return checked.ok ? { ...checked, json } : checked;
}

/** Most issues carried in one error (the count says how many there were). */
const MAX_REPORTED_ISSUES = 50;

/** The `INVALID_PAYLOAD` error for `issues`. */
export function invalidPayload(issues: PayloadIssue[]) {
  const [first] = issues;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return appError(
    "INVALID_PAYLOAD",
    `Invalid FourKites shipment: ${first.path}: ${first.message}${more}`,
    { issueCount: issues.length, issues: issues.slice(0, MAX_REPORTED_ISSUES) },
  );
}

/**
 * Like `checkShipmentJson`, but throws.
 *
 * @throws `INVALID_PAYLOAD` naming the offending path(s).
 */
export function parseShipmentJson(
  json: string,
  workosOrgId: string,
  pathPrefix = "",
): ParsedShipment {
  const result = checkShipmentJson(json, workosOrgId, pathPrefix);
  if (!result.ok) throw invalidPayload(result.issues);
  return result.shipment;
}

/** The new load a shipment becomes (lane matching decides its type). */
export function shipmentToNewLoad(s: ParsedShipment, workosOrgId: string): NewLoad {
  return {
    workosOrgId,
    source: "FOURKITES",
    externalLoadId: s.externalLoadId,
    origin: s.origin,
    destination: s.destination,
    status: s.status ?? UNKNOWN_STATUS_RULE.newLoadStatus,
    customerId: s.customerId,
    pickupAt: s.pickupAt,
    deliveryAt: s.deliveryAt,
    externalUpdatedAt: s.updatedAt,
    weightLbs: s.weightLbs,
    commodity: s.commodity,
  };
}
