/**
 * FourKites import: the status mapping, the single-shipment and batch
 * imports (pricing, idempotent re-imports, newer-only updates), malformed
 * payloads (each rejected with INVALID_PAYLOAD naming the path, nothing
 * written), and the import's I/O. The sync itself: fourKites.integration,
 * fourKites.listing and fourKites.operator tests.
 */
import { ConvexError } from "convex/values";
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { facetDocumentsOf, orgLoads } from "./support/counted";
import { IMPORT_BATCH_SIZE } from "../convex/model/fourKites/import";
import { FOURKITES_STATUS_MAP, mapFourKitesStatus } from "../convex/model/fourKites/shipment";
import { deleteOrganization } from "../convex/model/organizations/lifecycle";
import baseShipment from "./fixtures/fourkites/shipment-in-transit.json";
import {
  type Backend,
  biller,
  dump,
  expectCountersExact,
  expectRejected,
  measureMutation,
  newBackend,
  ORG_A,
  ORG_B,
  storedCounters,
  DALLAS,
  ATLANTA,
  CHICAGO,
  orgDocuments,
} from "./support/setup";

/** The fixture as loosely typed JSON, to break it in every way. */
type StopJson = { [key: string]: unknown };
type ShipmentJson = {
  [key: string]: unknown;
  stops: StopJson[];
  customer?: { [key: string]: unknown };
};

/** A deep copy of the fixture, changed by `edit`, as JSON text. */
function shipment(edit: (s: ShipmentJson) => void = () => {}): string {
  const copy: ShipmentJson = JSON.parse(JSON.stringify(baseShipment));
  edit(copy);
  return JSON.stringify(copy);
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

/** The code, message and issue paths of the `INVALID_PAYLOAD`-style error `call` throws. */
async function payloadError(
  call: () => Promise<unknown>,
): Promise<{ code: string; message: string; paths: string[] }> {
  try {
    await call();
  } catch (e) {
    const data: unknown = e instanceof ConvexError ? e.data : null;
    if (typeof data === "object" && data !== null && "code" in data && "message" in data) {
      const issues = "issues" in data && Array.isArray(data.issues) ? data.issues : [];
      return {
        code: String(data.code),
        message: String(data.message),
        paths: issues.map((i: unknown) =>
          typeof i === "object" && i !== null && "path" in i ? String(i.path) : "",
        ),
      };
    }
    throw e;
  }
  throw new Error("expected the call to fail");
}

async function addLanes(t: Backend, org = ORG_A) {
  const who = biller(t, org);
  const exact = await who.mutation(api.lanes.createLaneAndBackfill, {
    workosOrgId: org,
    origin: DALLAS,
    destination: ATLANTA,
    rateCents: 185_000,
    effectiveFrom: Date.UTC(2024, 0, 1),
  });
  const spot = await who.mutation(api.lanes.createLaneAndBackfill, {
    workosOrgId: org,
    origin: CHICAGO,
    destination: "*",
    rateCents: 97_500,
    effectiveFrom: Date.UTC(2024, 0, 1),
  });
  return { exactLaneId: exact.laneId, spotLaneId: spot.laneId };
}

function loadsOf(t: Backend, org = ORG_A) {
  return orgDocuments(t, org);
}

describe("FourKites status mapping", () => {
  test("every documented status maps; spelling variants are the same; unknown is null", () => {
    expect(mapFourKitesStatus("InTransit")).toBe("Assigned");
    expect(mapFourKitesStatus("IN_TRANSIT")).toBe("Assigned");
    expect(mapFourKitesStatus("in transit")).toBe("Assigned");
    expect(mapFourKitesStatus("Created")).toBe("Open");
    expect(mapFourKitesStatus("Delivered")).toBe("Completed");
    expect(mapFourKitesStatus("Cancelled")).toBe("Canceled");
    expect(mapFourKitesStatus("Teleported")).toBeNull();
    expect(mapFourKitesStatus("constructor")).toBeNull();
    expect(new Set(Object.values(FOURKITES_STATUS_MAP))).toEqual(
      new Set(["Open", "Assigned", "Completed", "Canceled"]),
    );
  });
});

describe("importLoadFromShipment / importUnmappedLoad", () => {
  test("a shipment on a lane becomes a CONTRACT load with a DRAFT invoice", async () => {
    const t = newBackend();
    const { exactLaneId } = await addLanes(t);
    const result = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment(),
    });
    expect(result).toMatchObject({
      externalLoadId: "104857601",
      outcome: "created",
      loadType: "CONTRACT",
      laneChanged: false,
    });
    const { loads, invoices } = await loadsOf(t);
    expect(loads).toHaveLength(1);
    expect(loads[0]).toMatchObject({
      source: "FOURKITES",
      externalLoadId: "104857601",
      status: "Assigned",
      loadType: "CONTRACT",
      laneId: exactLaneId,
      customerId: "CUST-ACME",
      origin: {
        city: "Dallas",
        state: "TX",
        postalCode: "75207",
        latitude: 32.7942,
        longitude: -96.8336,
      },
      destination: { city: "Atlanta", state: "GA", postalCode: "30336" },
      originKey: "DALLAS|TX",
      destinationKey: "ATLANTA|GA",
      pickupAt: Date.parse("2024-05-01T08:00:00-05:00"),
      deliveryAt: Date.parse("2024-05-03T14:00:00-04:00"),
      externalUpdatedAt: Date.parse("2024-05-02T14:31:07Z"),
      weightLbs: 42000,
      commodity: "Frozen foods",
    });
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({
      loadId: loads[0]._id,
      status: "DRAFT",
      amountCents: 185_000,
      laneId: exactLaneId,
    });
    await expectCountersExact(t, ORG_A);
  });

  test("a shipment without a lane becomes UNMAPPED with a MISSING_DATA invoice of 0", async () => {
    const t = newBackend();
    const result = await t.mutation(internal.fourKitesSyncHelpers.importUnmappedLoad, {
      workosOrgId: ORG_A,
      shipment: shipment(),
    });
    expect(result).toMatchObject({ outcome: "created", loadType: "UNMAPPED" });
    const { loads, invoices } = await loadsOf(t);
    expect(loads[0]).toMatchObject({ loadType: "UNMAPPED", status: "Assigned" });
    expect(loads[0].laneId).toBeUndefined();
    expect(invoices).toEqual([
      expect.objectContaining({ status: "MISSING_DATA", amountCents: 0, loadId: loads[0]._id }),
    ]);
    await expectCountersExact(t, ORG_A);
    // The lane decision is made inside the mutation: with a lane, the same entry prices it.
    await addLanes(t, ORG_B);
    const priced = await t.mutation(internal.fourKitesSyncHelpers.importUnmappedLoad, {
      workosOrgId: ORG_B,
      shipment: shipment(),
    });
    expect(priced.loadType).toBe("CONTRACT");
    await expectCountersExact(t, ORG_B);
  });

  test("importUnmappedLoad runs the same import and logs when a lane priced it after all", async () => {
    const t = newBackend();
    await addLanes(t, ORG_B);
    const log = vi.spyOn(console, "log");
    const found = () =>
      log.mock.calls.filter((c) => c[0] === "[fourkites.import_unmapped] lane found");
    // The same shipments through both entries, in two orgs with the same lanes.
    await addLanes(t, ORG_A);
    const onLane = shipment();
    const noLane = shipment((s) => {
      s.id = 104857700;
      Object.assign(s.stops[1], { city: "Reno", state: "NV" });
    });
    const viaUnmapped = [];
    for (const json of [onLane, noLane, onLane]) {
      viaUnmapped.push(
        await t.mutation(internal.fourKitesSyncHelpers.importUnmappedLoad, {
          workosOrgId: ORG_A,
          shipment: json,
        }),
      );
    }
    expect(viaUnmapped.map((r) => [r.outcome, r.loadType])).toEqual([
      ["created", "CONTRACT"],
      ["created", "UNMAPPED"],
      ["unchanged", "CONTRACT"],
    ]);
    // Logged once: only the new load a lane priced.
    expect(found()).toHaveLength(1);
    expect(found()[0][1]).toMatchObject({ workosOrgId: ORG_A, loadType: "CONTRACT" });
    for (const json of [onLane, noLane, onLane]) {
      await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
        workosOrgId: ORG_B,
        shipment: json,
      });
    }
    expect(found()).toHaveLength(1);
    const strip = (docs: { loads: object[]; invoices: object[] }) =>
      JSON.stringify(docs, (key, value: unknown) =>
        ["_id", "_creationTime", "workosOrgId", "loadId", "laneId", "statusChangedAt"].includes(key)
          ? undefined
          : value,
      );
    expect(strip(await loadsOf(t, ORG_A))).toBe(strip(await loadsOf(t, ORG_B)));
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
    log.mockRestore();
  });

  test("importing the same shipment 3 times gives 1 load, 1 invoice, unchanged counters", async () => {
    const t = newBackend();
    await addLanes(t);
    const args = { workosOrgId: ORG_A, shipment: shipment() };
    await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, args);
    const counters = await storedCounters(t, ORG_A);
    const snapshot = await dump(t);
    for (let i = 0; i < 2; i++) {
      const again = await measureMutation(
        t,
        internal.fourKitesSyncHelpers.importLoadFromShipment,
        args,
      );
      expect(again.result.outcome).toBe("unchanged");
      expect(again.io.documentsWritten).toBe(0);
    }
    expect(await dump(t)).toEqual(snapshot);
    expect(await storedCounters(t, ORG_A)).toEqual(counters);
    const { loads, invoices } = await loadsOf(t);
    expect(loads).toHaveLength(1);
    expect(invoices).toHaveLength(1);
    await expectCountersExact(t, ORG_A);
  });

  test("a newer updatedAt updates status and fields; an older one is ignored", async () => {
    const t = newBackend();
    await addLanes(t);
    const first = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment(),
    });
    const delivered = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment((s) => {
        s.status = "Delivered";
        s.updatedAt = "2024-05-03T20:00:00Z";
        s.weight = 41000;
        delete s.commodity;
      }),
    });
    expect(delivered).toMatchObject({ outcome: "updated", loadId: first.loadId });
    let { loads, invoices } = await loadsOf(t);
    expect(loads).toHaveLength(1);
    expect(invoices).toHaveLength(1);
    expect(loads[0]).toMatchObject({ status: "Completed", weightLbs: 41000 });
    expect(loads[0].commodity).toBeUndefined();
    await expectCountersExact(t, ORG_A);

    // Out of order: an older update arrives late and changes nothing.
    const late = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment((s) => {
        s.status = "Dispatched";
        s.updatedAt = "2024-05-02T20:00:00Z";
      }),
    });
    expect(late.outcome).toBe("unchanged");
    ({ loads } = await loadsOf(t));
    expect(loads[0].status).toBe("Completed");

    // A changed destination does not re-price the load; it is reported.
    const moved = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment((s) => {
        s.status = "Delivered";
        s.updatedAt = "2024-05-04T20:00:00Z";
        s.stops[1].city = "Savannah";
      }),
    });
    expect(moved).toMatchObject({ outcome: "updated", laneChanged: true, loadType: "CONTRACT" });
    ({ loads, invoices } = await loadsOf(t));
    expect(loads[0].destinationKey).toBe("ATLANTA|GA");
    expect(invoices).toHaveLength(1);
    await expectCountersExact(t, ORG_A);
  });

  test("the same shipment id in two orgs is two loads", async () => {
    const t = newBackend();
    for (const org of [ORG_A, ORG_B]) {
      await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
        workosOrgId: org,
        shipment: shipment(),
      });
    }
    expect((await loadsOf(t, ORG_A)).loads).toHaveLength(1);
    expect((await loadsOf(t, ORG_B)).loads).toHaveLength(1);
    await expectCountersExact(t, ORG_A);
    await expectCountersExact(t, ORG_B);
  });
});

/** [description, payload, a path the error must name] */
const MALFORMED: Array<[string, string, string]> = [
  ["id missing", shipment((s) => delete s.id), "id"],
  ["id of the wrong type", shipment((s) => (s.id = true)), "id"],
  ["negative id", shipment((s) => (s.id = -7)), "id"],
  ["empty loadNumber", shipment((s) => (s.loadNumber = "  ")), "loadNumber"],
  ["oversized loadNumber", shipment((s) => (s.loadNumber = "L".repeat(300))), "loadNumber"],
  ["status of the wrong type", shipment((s) => (s.status = 3)), "status"],
  ["updatedAt not a date", shipment((s) => (s.updatedAt = "yesterday")), "updatedAt"],
  ["updatedAt without zone", shipment((s) => (s.updatedAt = "2024-05-02T14:31:07")), "updatedAt"],
  ["impossible date", shipment((s) => (s.updatedAt = "2024-02-30T10:00:00Z")), "updatedAt"],
  ["date out of range", shipment((s) => (s.updatedAt = "1970-01-01T00:00:00Z")), "updatedAt"],
  ["epoch number as date", shipment((s) => (s.updatedAt = 1714660267000)), "updatedAt"],
  ["no stops", shipment((s) => Reflect.deleteProperty(s, "stops")), "stops"],
  ["empty stops", shipment((s) => (s.stops = [])), "stops"],
  ["one stop", shipment((s) => s.stops.pop()), "stops"],
  ["stops not an array", shipment((s) => Object.assign(s, { stops: { 0: s.stops[0] } })), "stops"],
  ["city of the wrong type", shipment((s) => (s.stops[0].city = 75207)), "stops[0].city"],
  ["oversized city", shipment((s) => (s.stops[1].city = "A".repeat(5000))), "stops[1].city"],
  ["latitude out of range", shipment((s) => (s.stops[1].latitude = 133.7)), "stops[1].latitude"],
  [
    "longitude out of range",
    shipment((s) => (s.stops[0].longitude = -296.8)),
    "stops[0].longitude",
  ],
  [
    "latitude without longitude",
    shipment((s) => delete s.stops[0].longitude),
    "stops[0].longitude",
  ],
  [
    "stops out of order",
    shipment((s) => {
      s.stops[0].sequence = 2;
      s.stops[1].sequence = 1;
    }),
    "stops[1].sequence",
  ],
  [
    "first stop is a delivery",
    shipment((s) => (s.stops[0].stopType = "DELIVERY")),
    "stops[0].stopType",
  ],
  ["unknown stop type", shipment((s) => (s.stops[1].stopType = "CROSSDOCK")), "stops[1].stopType"],
  [
    "window ends before it starts",
    shipment((s) => (s.stops[1].appointmentWindowEnd = "2024-05-03T09:00:00-04:00")),
    "stops[1].appointmentWindowEnd",
  ],
  [
    "delivery before pickup",
    shipment((s) => (s.stops[1].appointmentWindowStart = "2024-04-30T09:00:00-04:00")),
    "stops[1].appointmentTime",
  ],
  ["negative weight", shipment((s) => (s.weight = -1)), "weight"],
  ["weight as text", shipment((s) => (s.weight = "42000 lbs")), "weight"],
  ["oversized commodity", shipment((s) => (s.commodity = "x".repeat(501))), "commodity"],
  [
    "referenceNumbers not a list",
    shipment((s) => (s.referenceNumbers = "PO-1")),
    "referenceNumbers",
  ],
  ["customer without id", shipment((s) => delete s.customer?.id), "customer.id"],
  ["another org's shipment", shipment((s) => (s.tmsOrganizationId = ORG_B)), "tmsOrganizationId"],
  ["not JSON", '{"id": 1, "stops": [', "(root)"],
  ["JSON array", "[]", "(root)"],
  ["JSON null", "null", "(root)"],
  ["oversized payload", shipment((s) => (s.notes = "n".repeat(70_000))), "(root)"],
];

describe("malformed shipments", () => {
  test(`${MALFORMED.length} malformed payloads are each rejected with INVALID_PAYLOAD naming the path and write nothing`, async () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(20);
    const t = newBackend();
    await addLanes(t);
    // Some data to stay untouched.
    await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment((s) => (s.id = 1)),
    });
    const before = await dump(t);
    for (const [name, payload, path] of MALFORMED) {
      for (const ref of [
        internal.fourKitesSyncHelpers.importLoadFromShipment,
        internal.fourKitesSyncHelpers.importUnmappedLoad,
      ]) {
        const error = await payloadError(() =>
          t.mutation(ref, { workosOrgId: ORG_A, shipment: payload }),
        );
        expect(error.code, name).toBe("INVALID_PAYLOAD");
        expect(error.paths, name).toContain(path);
        expect(error.message, name).toMatch(/^Invalid FourKites shipment: /);
      }
    }
    expect(await dump(t)).toEqual(before);
    await expectCountersExact(t, ORG_A);
  });

  test("the valid fixture itself is accepted (the cases above differ from it in one way)", async () => {
    const t = newBackend();
    const r = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment((s) => (s.tmsOrganizationId = ORG_A)),
    });
    expect(r.outcome).toBe("created");
  });
});

describe("importShipmentBatch", () => {
  /** `n` distinct shipments: a third on the exact lane, a third SPOT, a third unmapped. */
  function manyShipments(n: number, idBase = 500_000): string[] {
    const ends = [
      [DALLAS, ATLANTA],
      [CHICAGO, { city: "Memphis", state: "TN" }],
      [
        { city: "Phoenix", state: "AZ" },
        { city: "Reno", state: "NV" },
      ],
    ];
    return Array.from({ length: n }, (_, i) =>
      shipment((s) => {
        s.id = idBase + i;
        s.loadNumber = `LD-2024-${String(idBase + i).padStart(7, "0")}`;
        s.status = ["Created", "Dispatched", "InTransit", "Delivered"][i % 4];
        const [o, d] = ends[i % 3];
        Object.assign(s.stops[0], o);
        Object.assign(s.stops[1], d);
        delete s.customer;
      }),
    );
  }

  test("100 shipments: one transaction writing loads + invoices + each stats row once", async () => {
    const t = newBackend({ transactionLimits: true });
    await addLanes(t);
    // The org already has loads (and stats rows), as in steady state.
    await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment(),
    });
    const shipments = manyShipments(IMPORT_BATCH_SIZE);
    const { io, result } = await measureMutation(
      t,
      internal.fourKitesSyncHelpers.importShipmentBatch,
      { workosOrgId: ORG_A, shipments },
    );
    console.log("[measure] importShipmentBatch x100", io);
    expect(result).toMatchObject({ created: 100, updated: 0, unchanged: 0 });
    // 100 loads + 100 invoices + the loads row + the invoices row, and once each
    // the loads' facet documents (their lanes, customer and pickup year:
    // docs/filtered-counts.md), counted from the loads the batch created.
    const created = new Set(result.results.map((r) => r.loadId));
    const facets = facetDocumentsOf((await orgLoads(t, ORG_A)).filter((l) => created.has(l._id)));
    expect(io.documentsWritten).toBe(100 + 100 + 2 + facets.size);
    // New shipments read nothing per shipment: the lanes once per key pair and
    // each stats row once (plus its replace), and each facet document that
    // existed before (the first shipment's) twice.
    expect(io.documentsRead).toBeLessThanOrEqual(10 + 2 * 5);
    const types = result.results.map((r) => r.loadType);
    expect(types.filter((x) => x === "CONTRACT")).toHaveLength(34);
    expect(types.filter((x) => x === "SPOT")).toHaveLength(33);
    expect(types.filter((x) => x === "UNMAPPED")).toHaveLength(33);
    await expectCountersExact(t, ORG_A);

    // The same batch again: nothing to write.
    const again = await measureMutation(t, internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments,
    });
    expect(again.result).toMatchObject({ created: 0, unchanged: 100 });
    expect(again.io.documentsWritten).toBe(0);
    await expectCountersExact(t, ORG_A);
  });

  test("one invalid shipment rejects the whole batch, naming it, and nothing is written", async () => {
    const t = newBackend();
    const shipments = manyShipments(3);
    shipments[1] = shipment((s) => (s.stops[0].latitude = 95));
    const before = await dump(t);
    const error = await payloadError(() =>
      t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
        workosOrgId: ORG_A,
        shipments,
      }),
    );
    expect(error.code).toBe("INVALID_PAYLOAD");
    expect(error.paths).toEqual(["shipments[1].stops[0].latitude"]);
    expect(await dump(t)).toEqual(before);

    const tooMany = await payloadError(() =>
      t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
        workosOrgId: ORG_A,
        shipments: manyShipments(IMPORT_BATCH_SIZE + 1),
      }),
    );
    expect(tooMany.code).toBe("INVALID_PAYLOAD");
    expect(await dump(t)).toEqual(before);
  });
});

describe("unknown FourKites statuses (UNKNOWN_STATUS_RULE)", () => {
  test("a new shipment with an unmapped status becomes an Open load, counted as unknownStatus", async () => {
    const t = newBackend();
    await addLanes(t);
    for (const [i, status] of ["Teleported", "ON_HOLD", "rerouted"].entries()) {
      const r = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
        workosOrgId: ORG_A,
        shipment: shipment((s) => {
          s.id = 7000 + i;
          s.status = status;
        }),
      });
      expect(r).toMatchObject({ outcome: "created", unknownStatus: true });
    }
    const { loads } = await loadsOf(t);
    expect(loads.map((l) => l.status)).toEqual(["Open", "Open", "Open"]);
    await expectCountersExact(t, ORG_A);
  });

  test("a known load keeps its status on an unmapped one; its other fields update; the next mapped status wins", async () => {
    const t = newBackend();
    await addLanes(t);
    const first = await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments: [shipment((s) => (s.status = "Delivered"))],
    });
    expect(first).toMatchObject({ created: 1, unknownStatus: 0 });
    const unknown = await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments: [
        shipment((s) => {
          s.status = "Teleported";
          s.updatedAt = "2024-05-04T00:00:00Z";
          s.weight = 41000;
        }),
      ],
    });
    expect(unknown).toMatchObject({ updated: 1, unknownStatus: 1 });
    let { loads } = await loadsOf(t);
    expect(loads[0]).toMatchObject({ status: "Completed", weightLbs: 41000 });
    await expectCountersExact(t, ORG_A);
    const known = await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: ORG_A,
      shipments: [
        shipment((s) => {
          s.status = "WITHDRAWN";
          s.updatedAt = "2024-05-05T00:00:00Z";
        }),
      ],
    });
    expect(known).toMatchObject({ updated: 1, unknownStatus: 0 });
    ({ loads } = await loadsOf(t));
    expect(loads[0].status).toBe("Canceled");
    await expectCountersExact(t, ORG_A);
  });
});

describe("a deleted organization", () => {
  test("every FourKites import refuses it with ORG_DELETED and writes nothing", async () => {
    const t = newBackend();
    const first = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_A,
      shipment: shipment(),
    });
    await t.run((ctx) =>
      deleteOrganization(ctx, { workosOrgId: ORG_A, name: "A", workosUpdatedAt: 1 }, 1),
    );
    const newer = shipment((s) => {
      s.status = "Delivered";
      s.updatedAt = "2024-05-03T20:00:00Z";
    });
    const other = shipment((s) => {
      s.id = 104857999;
    });
    const o = { workosOrgId: ORG_A };
    // Neither an update of a known shipment nor a new one, by any entry point.
    for (const json of [newer, other]) {
      await expectRejected(
        t,
        () =>
          t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
            ...o,
            shipment: json,
          }),
        "ORG_DELETED",
      );
      await expectRejected(
        t,
        () =>
          t.mutation(internal.fourKitesSyncHelpers.importUnmappedLoad, { ...o, shipment: json }),
        "ORG_DELETED",
      );
    }
    await expectRejected(
      t,
      () =>
        t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
          ...o,
          shipments: [newer, other],
        }),
      "ORG_DELETED",
    );
    // The operator's sync refuses it before fetching anything: tests/fourKites.operator.test.ts.
    const { loads } = await loadsOf(t);
    expect(loads).toEqual([expect.objectContaining({ _id: first.loadId, status: "Assigned" })]);

    // Another org imports as before.
    const b = await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
      workosOrgId: ORG_B,
      shipment: shipment(),
    });
    expect(b.outcome).toBe("created");
  });
});
