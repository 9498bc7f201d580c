/**
 * Hardening, issue 9 item 4 (the import mutation's side): numbers JSON cannot
 * represent as finite doubles (`1e400` parses to Infinity) are rejected with
 * the path named, never stored as "absent".
 */
import { ConvexError } from "convex/values";
import { describe, expect, test } from "vitest";
import { internal } from "../convex/_generated/api";
import baseShipment from "./fixtures/fourkites/shipment-in-transit.json";
import { dump, newBackend, ORG_A } from "./support/setup";

/** The fixture's JSON text with the value at `path` replaced by the raw number text `raw`. */
function withRawNumber(path: (string | number)[], raw: string): string {
  const marker = "__RAW_NUMBER__";
  const copy = JSON.parse(JSON.stringify(baseShipment));
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = marker;
  return JSON.stringify(copy).replace(`"${marker}"`, raw);
}

const PATHS: Array<[string, (string | number)[]]> = [
  ["weight", ["weight"]],
  ["stops[0].latitude", ["stops", 0, "latitude"]],
  ["stops[1].longitude", ["stops", 1, "longitude"]],
  ["stops[0].sequence", ["stops", 0, "sequence"]],
  ["id", ["id"]],
];
const RAW = ["1e400", "-1e400", "1e309"];
const CASES = PATHS.flatMap(([name, path]) => RAW.map((raw) => [name, raw, path] as const));

describe("out-of-range numbers in shipment JSON", () => {
  test.each(CASES)("%s = %s is rejected naming the path", async (name, raw, path) => {
    const t = newBackend();
    const shipment = withRawNumber(path, raw);
    expect(shipment).toContain(raw);
    for (const call of [
      () =>
        t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
          workosOrgId: ORG_A,
          shipment,
        }),
      () =>
        t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
          workosOrgId: ORG_A,
          shipments: [shipment],
        }),
    ]) {
      let data: unknown = null;
      try {
        await call();
      } catch (e) {
        data = e instanceof ConvexError ? e.data : e;
      }
      expect(data).toMatchObject({ code: "INVALID_PAYLOAD" });
      const paths = (data as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(paths.some((p) => p === name || p === `shipments[0].${name}`)).toBe(true);
    }
    expect(await dump(t)).toEqual([]);
  });
});
