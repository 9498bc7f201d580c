/**
 * The recount stays exact while writes continue (docs/DESIGN.md §3): pages run by
 * hand, with random creates, status moves (of documents behind and ahead of
 * the cursor), deletes and bulk updates through the real mutations in
 * between. At the end the counters equal a from-scratch histogram, and the
 * drift report lists exactly the corruption planted before the run.
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc } from "../convex/_generated/dataModel";
import { LOAD_TRANSITIONS } from "../convex/model/loads/rules";
import { BULK_TARGET_STATUSES } from "../convex/model/invoices/rules";
import { type StatsEntity } from "../convex/model/counted";
import { quietLogs } from "./support/recount";
import {
  type Backend,
  biller,
  expectCountersExact,
  newBackend,
  ORG_A,
  lastRecounts,
  recountStates,
  storedCounters,
  DALLAS,
  ATLANTA,
} from "./support/setup";

type Side = "behind" | "ahead" | "any";

type Op =
  | { kind: "page"; entity: StatsEntity; maxDocs: number }
  | { kind: "createLoad"; invoiceCents: number | null }
  | { kind: "moveLoad"; side: Side; pick: number; to: number }
  | { kind: "deleteLoad"; side: Side; pick: number }
  | { kind: "bulkUpdate"; picks: number[]; to: (typeof BULK_TARGET_STATUSES)[number] }
  | { kind: "bulkVoid"; picks: number[] };

const side = fc.constantFrom<Side>("behind", "ahead", "any");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("page" as const),
      entity: fc.constantFrom<StatsEntity>("loads", "invoices"),
      maxDocs: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("createLoad" as const),
      invoiceCents: fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: null }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("moveLoad" as const),
      side,
      pick: fc.nat(),
      to: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("deleteLoad" as const), side, pick: fc.nat() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("bulkUpdate" as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
      to: fc.constantFrom(...BULK_TARGET_STATUSES),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("bulkVoid" as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    }),
  },
);

/** Positive amounts added to stored counters before the run (never negative). */
const corruptionArb = fc.record({
  loadsOpen: fc.integer({ min: 0, max: 3 }),
  invoiceDraftCount: fc.integer({ min: 0, max: 2 }),
  invoiceDraftCents: fc.integer({ min: 0, max: 999 }),
});

/** Runs a mutation that may be refused by the domain rules (that is part of the game). */
async function attempt(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    if (!(e instanceof ConvexError)) throw e;
  }
}

class World {
  private next = 0;
  readonly runs = new Map<StatsEntity, string>();
  constructor(readonly t: Backend) {}

  private get who() {
    return biller(this.t, ORG_A);
  }

  async createLoad(invoiceCents: number | null): Promise<void> {
    const { loadId, invoiceId } = await this.who.mutation(api.loads.createLoad, {
      workosOrgId: ORG_A,
      externalLoadId: `P-${this.next++}`,
      origin: DALLAS,
      destination: ATLANTA,
    });
    if (invoiceCents === null) return;
    // Manual invoices need a mapped load; the load type is not counted.
    await this.t.run((ctx) => ctx.db.patch("loads", loadId, { loadType: "CONTRACT" }));
    // Replace the unpriced invoice the load was created with.
    await this.who.mutation(api.invoices.bulkVoidInvoices, {
      workosOrgId: ORG_A,
      invoiceIds: [invoiceId],
    });
    await this.who.mutation(api.invoices.createInvoice, {
      workosOrgId: ORG_A,
      loadId,
      amountCents: invoiceCents,
    });
  }

  /** Loads in creation order, split by the loads recount cursor. */
  private async loads(which: Side): Promise<Doc<"loads">[]> {
    return await this.t.run(async (ctx) => {
      const all = await ctx.db
        .query("loads")
        .withIndex("by_org", (q) => q.eq("workosOrgId", ORG_A))
        .collect();
      const state = await ctx.db
        .query("statsRecounts")
        .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_A).eq("entity", "loads"))
        .unique();
      const cursor = state?.cursor ?? null;
      if (which === "any" || cursor === null) return which === "behind" ? [] : all;
      return all.filter((l) => (which === "behind") === l._creationTime <= cursor);
    });
  }

  private async invoices(): Promise<Doc<"invoices">[]> {
    return await this.t.run((ctx) =>
      ctx.db
        .query("invoices")
        .withIndex("by_org", (q) => q.eq("workosOrgId", ORG_A))
        .collect(),
    );
  }

  async apply(op: Op): Promise<void> {
    switch (op.kind) {
      case "page":
        return await this.page(op.entity, op.maxDocs);
      case "createLoad":
        return await this.createLoad(op.invoiceCents);
      case "moveLoad": {
        const loads = await this.loads(op.side);
        if (loads.length === 0) return;
        const load = loads[op.pick % loads.length];
        const targets = LOAD_TRANSITIONS[load.status];
        if (targets.length === 0) return;
        await this.who.mutation(api.loads.updateLoadStatus, {
          workosOrgId: ORG_A,
          loadId: load._id,
          status: targets[op.to % targets.length],
        });
        return;
      }
      case "deleteLoad": {
        const loads = await this.loads(op.side);
        if (loads.length === 0) return;
        const load = loads[op.pick % loads.length];
        await attempt(() =>
          this.who.mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId: load._id }),
        );
        return;
      }
      case "bulkUpdate":
      case "bulkVoid": {
        const invoices = await this.invoices();
        if (invoices.length === 0) return;
        const ids = [...new Set(op.picks.map((p) => invoices[p % invoices.length]._id))];
        await (op.kind === "bulkVoid"
          ? this.who.mutation(api.invoices.bulkVoidInvoices, {
              workosOrgId: ORG_A,
              invoiceIds: ids,
              onIneligible: "skip",
            })
          : this.who.mutation(api.invoices.bulkUpdateStatus, {
              workosOrgId: ORG_A,
              invoiceIds: ids,
              status: op.to,
              onIneligible: "skip",
            }));
        return;
      }
    }
  }

  async start(): Promise<void> {
    const results = await this.t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      schedulePages: false,
    });
    for (const r of results) if (r.runId !== null) this.runs.set(r.entity as StatsEntity, r.runId);
  }

  async page(entity: StatsEntity, maxDocs: number): Promise<void> {
    const runId = this.runs.get(entity);
    if (runId === undefined) return;
    const outcome = await this.t.mutation(internal.stats.recountPage, {
      workosOrgId: ORG_A,
      entity,
      runId,
      maxDocs,
    });
    expect(outcome.status).not.toBe("superseded");
    if (outcome.status === "finished") this.runs.delete(entity);
    else this.runs.set(entity, outcome.runId);
  }

  async finish(): Promise<void> {
    while (this.runs.size > 0) {
      for (const entity of [...this.runs.keys()]) await this.page(entity, 3);
    }
  }
}

describe("recount under interleaved writes", () => {
  beforeEach(quietLogs);
  afterEach(() => vi.restoreAllMocks());

  test("counters equal the from-scratch histogram, and drift is exactly what was planted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(opArb, { maxLength: 24 }),
        fc.option(corruptionArb, { nil: null }),
        async (initialLoads, ops, corruption) => {
          const t = newBackend();
          const world = new World(t);
          // At least one load and one invoice, so both rows exist (and are exact) before the run.
          for (let i = 0; i < initialLoads; i++) {
            await world.createLoad(i === 0 ? 1000 : i % 2 === 0 ? 2500 * i : null);
          }
          if (corruption !== null) {
            const { loads, invoices } = await storedCounters(t, ORG_A);
            await t.run(async (ctx) => {
              if (loads?.entity !== "loads" || invoices?.entity !== "invoices") {
                throw new Error("rows missing");
              }
              await ctx.db.patch("organizationStats", loads._id, {
                counts: { ...loads.counts, Open: loads.counts.Open + corruption.loadsOpen },
              });
              await ctx.db.patch("organizationStats", invoices._id, {
                counts: {
                  ...invoices.counts,
                  DRAFT: invoices.counts.DRAFT + corruption.invoiceDraftCount,
                },
                amountCents: {
                  ...invoices.amountCents,
                  DRAFT: invoices.amountCents.DRAFT + corruption.invoiceDraftCents,
                },
              });
            });
          }
          await world.start();
          for (const op of ops) await world.apply(op);
          await world.finish();

          await expectCountersExact(t, ORG_A);
          expect(await recountStates(t, ORG_A)).toEqual([]);
          const reports = await t.query(internal.stats.listDriftReports, { workosOrgId: ORG_A });
          const planted = (c: typeof corruption) => {
            if (c === null) return { loads: [], invoices: [] };
            const bucket = (status: string, measure: "count" | "amountCents", d: number) =>
              d === 0 ? [] : [{ status, measure, delta: -d }];
            return {
              loads: bucket("Open", "count", c.loadsOpen),
              invoices: [
                ...bucket("DRAFT", "count", c.invoiceDraftCount),
                ...bucket("DRAFT", "amountCents", c.invoiceDraftCents),
              ],
            };
          };
          const expected = planted(corruption);
          for (const entity of ["loads", "invoices"] as const) {
            const found = reports
              .filter((r) => r.entity === entity)
              .flatMap((r) =>
                r.buckets.map(({ status, measure, delta }) => ({ status, measure, delta })),
              );
            expect(found).toEqual(expected[entity]);
          }
        },
      ),
      { numRuns: Number(process.env.RECOUNT_PROPERTY_RUNS ?? 300) },
    );
  });
});
