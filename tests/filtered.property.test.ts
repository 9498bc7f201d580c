/**
 * Property (issue 20): random counted writes to loads (status, lane,
 * customer, pickup time, inserts, deletes), bypass edits written around the
 * counters, and recounts paged by hand with counted writes between their
 * pages, keep every filtered answer equal to a from-scratch count: at every
 * step when no bypass is pending, and after the recount that follows one.
 * Filters are random: no facet, a lane, a customer (also one no load has),
 * with no range or a random range shorter than 5 years.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { LOAD_STATUSES, type LoadStatus } from "../convex/model/enums";
import { countedRun, countUnder, orgLoads, type TestFilter } from "./support/counted";
import { quietLogs, recountByPages } from "./support/recount";
import { type Backend, insertRawLane, member, newBackend, ORG_A, rawLoad } from "./support/setup";

/** Pickup times around the boundaries that matter (year ends, leap day), and none. */
const PICKUPS: (number | undefined)[] = [
  undefined,
  Date.UTC(2023, 11, 31, 23, 59, 59, 999),
  Date.UTC(2024, 0, 1),
  Date.UTC(2024, 1, 29, 12),
  Date.UTC(2024, 5, 3, 12),
  Date.UTC(2021, 2, 1, 8),
  Date.UTC(2025, 11, 30, 23),
  Date.UTC(2026, 0, 1, 1),
];
const CUSTOMERS = ["C0", "C1", "C2"];
const RANGES: [string, string][] = [
  ["2024-01-01", "2024-12-31"],
  ["2023-12-31", "2023-12-31"],
  ["2023-12-31", "2024-01-01"],
  ["2024-02-01", "2024-02-29"],
  ["2021-03-01", "2026-02-28"],
  ["2020-12-31", "2025-12-30"],
  ["2025-12-30", "2026-01-01"],
];

type Fields = {
  status?: LoadStatus;
  lane?: number | null;
  customer?: number | null;
  pickup?: number;
};
type Write =
  | { kind: "insert"; fields: Required<Fields> }
  | { kind: "patch"; pick: number; fields: Fields }
  | { kind: "delete"; pick: number };
type Op =
  | Write
  | { kind: "bypass"; pick: number; fields: Fields }
  | { kind: "recount"; maxDocs: number; between: Write[] }
  | { kind: "check"; facet: number; range: number | null };

const status = fc.constantFrom(...LOAD_STATUSES);
const lane = fc.option(fc.integer({ min: 0, max: 1 }), { nil: null });
const customer = fc.option(fc.integer({ min: 0, max: CUSTOMERS.length - 1 }), { nil: null });
const pickup = fc.integer({ min: 0, max: PICKUPS.length - 1 });
const someFields: fc.Arbitrary<Fields> = fc.record(
  { status, lane, customer, pickup },
  { requiredKeys: [] },
);
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      fields: fc.record({ status, lane, customer, pickup }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("patch" as const),
      pick: fc.nat(),
      fields: someFields,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: writeArb },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("bypass" as const),
      pick: fc.nat(),
      fields: someFields,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("recount" as const),
      maxDocs: fc.integer({ min: 1, max: 4 }),
      between: fc.array(writeArb, { maxLength: 6 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("check" as const),
      facet: fc.integer({ min: 0, max: 6 }),
      range: fc.option(fc.integer({ min: 0, max: RANGES.length - 1 }), { nil: null }),
    }),
  },
);

class World {
  private next = 0;
  /** A bypass edit happened since the last finished recount: answers may be off until one ends. */
  dirty = false;
  constructor(
    readonly t: Backend,
    readonly lanes: Id<"lanes">[],
  ) {}

  patchOf(fields: Fields): Partial<Doc<"loads">> {
    const out: Partial<Doc<"loads">> = {};
    if (fields.status !== undefined) out.status = fields.status;
    if (fields.lane !== undefined)
      out.laneId = fields.lane === null ? undefined : this.lanes[fields.lane];
    if (fields.customer !== undefined) {
      out.customerId = fields.customer === null ? undefined : CUSTOMERS[fields.customer];
    }
    if (fields.pickup !== undefined) out.pickupAt = PICKUPS[fields.pickup];
    return out;
  }

  async pick(n: number): Promise<Doc<"loads"> | null> {
    const loads = await orgLoads(this.t, ORG_A);
    return loads.length === 0 ? null : loads[n % loads.length];
  }

  async write(op: Write): Promise<void> {
    if (op.kind === "insert") {
      const fields = this.patchOf(op.fields);
      await countedRun(this.t, async (ctx) => {
        const load = rawLoad({ externalLoadId: `P-${this.next++}`, ...fields });
        for (const [k, v] of Object.entries(load))
          if (v === undefined) Reflect.deleteProperty(load, k);
        await ctx.db.insert("loads", load);
      });
      return;
    }
    const load = await this.pick(op.pick);
    if (load === null) return;
    if (op.kind === "delete") {
      await countedRun(this.t, async (ctx) => await ctx.db.delete("loads", load._id));
      return;
    }
    await countedRun(
      this.t,
      async (ctx) => await ctx.db.patch("loads", load._id, this.patchOf(op.fields)),
    );
  }

  async bypass(pick: number, fields: Fields): Promise<void> {
    const load = await this.pick(pick);
    if (load === null) return;
    await this.t.run(async (ctx) => await ctx.db.patch("loads", load._id, this.patchOf(fields)));
    this.dirty = true;
  }

  filterOf(facet: number, range: number | null): TestFilter {
    const facets: TestFilter[] = [
      {},
      { laneId: this.lanes[0] },
      { laneId: this.lanes[1] },
      ...CUSTOMERS.map((customerId) => ({ customerId })),
      { customerId: "C-nobody" },
    ];
    const r = range === null ? {} : { startDate: RANGES[range][0], endDate: RANGES[range][1] };
    return { ...facets[facet], ...r };
  }

  async check(filters: TestFilter[]): Promise<void> {
    if (this.dirty) return;
    const loads = await orgLoads(this.t, ORG_A);
    for (const filter of filters) {
      const answer = await member(this.t, ORG_A).query(
        api.loads.countLoadsByStatusFilteredDetailed,
        {
          workosOrgId: ORG_A,
          ...filter,
        },
      );
      expect(answer.counts, JSON.stringify(filter)).toEqual(countUnder(loads, filter));
      expect(answer.state, JSON.stringify(filter)).toBe("exact");
    }
  }

  allFilters(): TestFilter[] {
    const out: TestFilter[] = [];
    for (let facet = 0; facet <= 6; facet++) {
      out.push(this.filterOf(facet, null));
      for (let r = 0; r < RANGES.length; r++) out.push(this.filterOf(facet, r));
    }
    return out;
  }

  async recount(maxDocs: number, between: Write[]): Promise<void> {
    const queue = [...between];
    await recountByPages(this.t, ORG_A, {
      entities: ["loads"],
      maxDocs,
      between: async () => {
        const next = queue.shift();
        if (next !== undefined) await this.write(next);
      },
    });
    for (const w of queue) await this.write(w);
    this.dirty = false;
    await this.check(this.allFilters());
  }
}

beforeEach(() => {
  quietLogs();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("filtered counters under random writes, bypasses and recounts", () => {
  test("every filtered answer equals a from-scratch count", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(writeArb, { minLength: 2, maxLength: 8 }),
        fc.array(opArb, { minLength: 5, maxLength: 22 }),
        async (start, ops) => {
          const t = newBackend();
          const lanes = [
            await insertRawLane(t),
            await insertRawLane(t, { destination: { city: "Austin", state: "TX" } }),
          ];
          const world = new World(t, lanes);
          for (const w of start) await world.write(w);
          await world.check(world.allFilters());
          for (const op of ops) {
            if (op.kind === "bypass") await world.bypass(op.pick, op.fields);
            else if (op.kind === "recount") await world.recount(op.maxDocs, op.between);
            else if (op.kind === "check") await world.check([world.filterOf(op.facet, op.range)]);
            else {
              await world.write(op);
              await world.check([world.filterOf(ops.length % 7, null), world.filterOf(2, 0)]);
            }
          }
          // The recount that follows the last bypass makes every answer exact.
          await world.recount(3, []);
        },
      ),
      { numRuns: 30 },
    );
  });
});
