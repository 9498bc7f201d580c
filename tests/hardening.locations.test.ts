/**
 * Hardening, issue 9 item 5: location keys cannot collide. Place names may not
 * hold the key separator `|` or control characters (refused on every path
 * that takes a location: loads, lanes, FourKites imports), so a key splits
 * back into its normalized parts and different places never share one.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { locationKey, normalizePlaceName, placeNameProblem } from "../convex/model/validate";
import baseShipment from "./fixtures/fourkites/shipment-in-transit.json";
import {
  ATLANTA,
  biller,
  DALLAS,
  expectRejected,
  member,
  newBackend,
  ORG_A,
} from "./support/setup";
import { ConvexError } from "convex/values";

/** Names every path must refuse, with where the bad character sits. */
const BAD_NAMES = [
  ["separator inside", "IL|Chicago"],
  ["separator at the end", "Springfield|"],
  ["only a separator", "|"],
  ["newline", "Spring\nfield"],
  ["NUL", "Spring\u0000field"],
  ["DEL", "Spring\u007ffield"],
  ["C1 control (NEL)", "Spring\u0085field"],
  ["escape", "\u001b[31mRed"],
] as const;

const FIELDS = ["city", "state"] as const;
const CASES = BAD_NAMES.flatMap(([what, name]) =>
  FIELDS.map((field) => [field, what, name] as const),
);

describe("location keys", () => {
  test("the issue's example can no longer be written", () => {
    expect(placeNameProblem("IL|Chicago")).not.toBeNull();
    expect(placeNameProblem("Springfield|IL")).not.toBeNull();
  });

  test("equal keys mean equal normalized city and state (property)", () => {
    // Small alphabets make near-collisions (separators, spaces, case) likely.
    const name = fc
      .string({
        unit: fc.constantFrom("a", "A", " ", "|", "\t", "b", "\n", "é", "*"),
        maxLength: 6,
      })
      .filter((s) => s.trim() !== "" && placeNameProblem(s) === null);
    fc.assert(
      fc.property(name, name, name, name, (c1, s1, c2, s2) => {
        const sameKey =
          locationKey({ city: c1, state: s1 }) === locationKey({ city: c2, state: s2 });
        const samePlace =
          normalizePlaceName(c1) === normalizePlaceName(c2) &&
          normalizePlaceName(s1) === normalizePlaceName(s2);
        expect(sameKey).toBe(samePlace);
      }),
      { numRuns: 2000 },
    );
  });

  test("keys of arbitrary valid names split back into their parts (property)", () => {
    const name = fc
      .string({ minLength: 1 })
      .filter((s) => s.trim() !== "" && placeNameProblem(s) === null);
    fc.assert(
      fc.property(name, name, (city, state) => {
        const key = locationKey({ city, state });
        expect(key.split("|")).toEqual([normalizePlaceName(city), normalizePlaceName(state)]);
      }),
    );
  });

  test.each(CASES)("createLoad refuses a %s with a %s", async (field, _, bad) => {
    const t = newBackend();
    await expectRejected(
      t,
      () =>
        member(t, ORG_A).mutation(api.loads.createLoad, {
          workosOrgId: ORG_A,
          externalLoadId: "L-1",
          origin: { ...DALLAS, [field]: bad },
          destination: ATLANTA,
        }),
      "INVALID_ARGUMENT",
    );
  });

  test.each(CASES)("a lane refuses a %s with a %s", async (field, _, bad) => {
    const t = newBackend();
    await expectRejected(
      t,
      () =>
        biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
          workosOrgId: ORG_A,
          origin: "*",
          destination: { ...ATLANTA, [field]: bad },
          rateCents: 1000,
        }),
      "INVALID_ARGUMENT",
    );
  });

  test.each(CASES)(
    "a FourKites import refuses a %s with a %s, naming the path",
    async (field, _, bad) => {
      const t = newBackend();
      const copy = JSON.parse(JSON.stringify(baseShipment));
      copy.stops[copy.stops.length - 1][field] = bad;
      const before = await t.run((ctx) => ctx.db.query("loads").collect());
      let data: unknown = null;
      try {
        await t.mutation(internal.fourKitesSyncHelpers.importLoadFromShipment, {
          workosOrgId: ORG_A,
          shipment: JSON.stringify(copy),
        });
      } catch (e) {
        data = e instanceof ConvexError ? e.data : e;
      }
      expect(data).toMatchObject({
        code: "INVALID_PAYLOAD",
        issues: [{ path: `stops[${copy.stops.length - 1}].${field}` }],
      });
      expect(await t.run((ctx) => ctx.db.query("loads").collect())).toEqual(before);
    },
  );

  test("names that normalize alike still match one lane; others do not", async () => {
    const t = newBackend();
    await biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: { city: "Springfield", state: "IL" },
      destination: ATLANTA,
      rateCents: 1000,
    });
    const who = member(t, ORG_A);
    const cases = [
      [{ city: "  springfield ", state: "il" }, "CONTRACT"],
      [{ city: "SPRINGFIELD", state: " IL" }, "CONTRACT"],
      [{ city: "Springfield IL", state: "IL" }, "UNMAPPED"],
      [{ city: "Springfield", state: "ILL" }, "UNMAPPED"],
    ] as const;
    let n = 0;
    for (const [origin, loadType] of cases) {
      const created = await who.mutation(api.loads.createLoad, {
        workosOrgId: ORG_A,
        externalLoadId: `L-${n++}`,
        origin,
        destination: ATLANTA,
      });
      expect(created.loadType).toBe(loadType);
    }
  });
});
