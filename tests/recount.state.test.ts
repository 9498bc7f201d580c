/**
 * The recount state lives in its own document (`statsRecounts`): pages do not
 * write the stats row the badges read, counted writes read the state only
 * while a run is in progress and write it only for documents at or behind
 * the cursor, the shadow is the true histogram behind the cursor after any
 * interleaving, and rows with the legacy `recount` field are restarted
 * cleanly. See docs/recount.md.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { LOAD_STATUSES } from "../convex/model/enums";
import { LOAD_TRANSITIONS } from "../convex/model/loads/rules";
import { insertRawDocuments, quietLogs } from "./support/recount";
import { seedOrg } from "./support/seed";
import {
  type Backend,
  ATLANTA,
  DALLAS,
  expectCountersExact,
  measureMutation,
  measureQuery,
  member,
  newBackend,
  lastRecounts,
  ORG_A,
  storedCounters,
} from "./support/setup";

async function loadsRow(t: Backend) {
  return (await storedCounters(t, ORG_A)).loads;
}

async function recountState(t: Backend) {
  return await t.run((ctx) =>
    ctx.db
      .query("statsRecounts")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_A).eq("entity", "loads"))
      .unique(),
  );
}

async function startLoads(t: Backend): Promise<string> {
  const [started] = await t.mutation(internal.stats.recalculateOrgStats, {
    workosOrgId: ORG_A,
    entities: ["loads"],
    schedulePages: false,
  });
  if (started.runId === null) throw new Error("no run");
  return started.runId;
}

async function page(t: Backend, runId: string, maxDocs: number) {
  return await measureMutation(t, internal.stats.recountPage, {
    workosOrgId: ORG_A,
    entity: "loads",
    runId,
    maxDocs,
  });
}

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

describe("recount state in its own document", () => {
  test("a page that finds no drift leaves the stats row untouched; only start and end write it", async () => {
    const t = newBackend({ transactionLimits: true });
    await seedOrg(t, ORG_A, { loads: 500 });
    const runId = await startLoads(t);
    const started = await loadsRow(t);
    expect(started).toMatchObject({ recounting: true });
    let pages = 0;
    for (;;) {
      const before = await loadsRow(t);
      const { result, io } = await page(t, runId, 60);
      pages++;
      const after = await loadsRow(t);
      if (result.status === "finished") {
        expect(after).toMatchObject({ recounting: false, exact: true });
        // The run's summary sits beside the recount state, not on the row.
        expect(after).not.toHaveProperty("lastRecount");
        expect((await lastRecounts(t, ORG_A)).loads).toMatchObject({ runId });
        break;
      }
      expect(result.status).toBe("continued");
      // Same document, same contents: no badge subscription re-runs.
      expect(after).toEqual(before);
      expect(after).toEqual(started);
      // The state, and the run's shadow facet documents the page's loads count in
      // (seedOrg's loads share one pickup day: the org's year document).
      expect(result.facetDocuments).toBe(1);
      expect(io.documentsWritten).toBe(2);
    }
    expect(pages).toBe(9);
    expect(await recountState(t)).toBeNull();
    await expectCountersExact(t, ORG_A);
  });

  test("the badge row has the same size before, during and after a run", async () => {
    const t = newBackend({ transactionLimits: true });
    await seedOrg(t, ORG_A, { loads: 300 });
    const who = member(t, ORG_A);
    const badgeBytes = async () =>
      (await measureQuery(who, api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_A })).io
        .bytesRead;
    const runOnce = async () => {
      const sizes = [await badgeBytes()];
      const runId = await startLoads(t);
      sizes.push(await badgeBytes());
      await page(t, runId, 100);
      sizes.push(await badgeBytes());
      for (;;) if ((await page(t, runId, 100)).result.status === "finished") break;
      sizes.push(await badgeBytes());
      return sizes;
    };
    // First run: constant while it runs; the end adds `lastRecount` (and the
    // `recounting` flag to a row written before it existed).
    const [before, during, middle, after] = await runOnce();
    expect(middle).toBe(during);
    expect(after).toBeGreaterThan(before);
    // Every later run: the same size before, during and after.
    const second = await runOnce();
    expect(new Set(second).size).toBe(1);
    expect(second[0]).toBe(after);
  });

  test.each([1_000, 10_000])(
    "a status change reads at most 4 documents with no run and 5 during one (%i loads)",
    async (size) => {
      const t = newBackend({ transactionLimits: true });
      const { loadIds } = await seedOrg(t, ORG_A, { loads: size, loadStatus: () => "Open" });
      const who = member(t, ORG_A);
      const move = async (loadId: Id<"loads">, status: "Assigned" | "Completed") =>
        (
          await measureMutation(who, api.loads.updateLoadStatus, {
            workosOrgId: ORG_A,
            loadId,
            status,
          })
        ).io;
      // Loads keep filtered counters: seedOrg's loads have a pickup day and no
      // lane or customer, so a status change also reads and writes the org's
      // year document of that day (1 facet document; docs/filtered-counts.md):
      // 2 reads (the lookup, and the replace reads it again, as for the row)
      // and 1 write.
      const facet = 1;
      const idle = await move(loadIds[0], "Assigned");
      expect(idle.documentsRead).toBeLessThanOrEqual(4 + 2 * facet);
      expect(idle.documentsWritten).toBe(2 + facet);

      const runId = await startLoads(t);
      await page(t, runId, Math.floor(size / 2));
      const state = await recountState(t);
      expect(state?.cursor).not.toBeNull();
      // Behind the cursor: the shadow is updated too.
      // Behind the cursor the run's shadow facet document is read and written too.
      const behind = await move(loadIds[1], "Assigned");
      expect(behind.documentsRead).toBeLessThanOrEqual(5 + 4 * facet);
      expect(behind.documentsWritten).toBe(3 + 2 * facet);
      // Ahead of the cursor: the state is read, not written.
      const ahead = await move(loadIds[size - 1], "Assigned");
      expect(ahead.documentsRead).toBeLessThanOrEqual(5 + 2 * facet);
      expect(ahead.documentsWritten).toBe(2 + facet);
      // The state document is not written by either: the behind one left a delta.
      expect(await recountState(t)).toEqual(state);
      const deltas = await t.run((ctx) => ctx.db.query("statsRecountDeltas").collect());
      expect(deltas.map((d) => [d.runId, d.counts])).toEqual([[runId, { Open: -1, Assigned: 1 }]]);
      for (;;) if ((await page(t, runId, 5_000)).result.status === "finished") break;
      await expectCountersExact(t, ORG_A);
    },
  );

  test("every page stays under half of every read and write limit", async () => {
    const t = newBackend({ transactionLimits: true });
    await insertRawDocuments(t, ORG_A, { loads: 12_000, withInvoices: false, pad: true });
    const runId = await startLoads(t);
    let pages = 0;
    for (;;) {
      const { result } = await page(t, runId, Number.MAX_SAFE_INTEGER);
      pages++;
      // Convex's limits: 32,000 documents and 16 MiB read per transaction.
      expect(result.documentsRead).toBeLessThan(16_000);
      expect(result.bytesRead).toBeLessThan(8 * 1024 * 1024);
      if (result.status === "finished") break;
    }
    expect(pages).toBeGreaterThan(1);
    const row = await loadsRow(t);
    expect(row?.entity === "loads" && row.counts.Open).toBe(12_000 / LOAD_STATUSES.length);
  });
});

// ---------------------------------------------------------------------------
// Property: pages, counted writes ahead of and behind the cursor, run starts
// (also replacing a running one) and ends, in any order
// ---------------------------------------------------------------------------

type Op =
  | { kind: "start"; force: boolean }
  | { kind: "page"; maxDocs: number }
  | { kind: "create" }
  | { kind: "move"; behind: boolean; pick: number; to: number }
  | { kind: "delete"; behind: boolean; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("start" as const), force: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("page" as const),
      maxDocs: fc.integer({ min: 1, max: 3 }),
    }),
  },
  fc.record({ kind: fc.constant("create" as const) }),
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("move" as const),
      behind: fc.boolean(),
      pick: fc.nat(),
      to: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      behind: fc.boolean(),
      pick: fc.nat(),
    }),
  },
);

/** Histogram of the loads at or behind `cursor`. */
function histogramBehind(loads: Doc<"loads">[], cursor: number | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of loads) {
    if (cursor === null || l._creationTime > cursor) continue;
    out[l.status] = (out[l.status] ?? 0) + 1;
  }
  return out;
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));
}

test("property: the shadow is the true histogram behind the cursor after every step", async () => {
  const coverage = { behindWrites: 0, aheadWrites: 0, deltas: 0, finished: 0, replaced: 0 };
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 6 }),
      fc.array(opArb, { maxLength: 20 }),
      async (initial, ops) => {
        const t = newBackend();
        const who = member(t, ORG_A);
        let next = 0;
        const create = () =>
          who.mutation(api.loads.createLoad, {
            workosOrgId: ORG_A,
            externalLoadId: `S-${next++}`,
            origin: DALLAS,
            destination: ATLANTA,
          });
        for (let i = 0; i < initial; i++) await create();
        const [first] = await t.mutation(internal.stats.recalculateOrgStats, {
          workosOrgId: ORG_A,
          entities: ["loads"],
          schedulePages: false,
        });
        let runId: string | null = first.runId;
        const allLoads = () =>
          t.run((ctx) =>
            ctx.db
              .query("loads")
              .withIndex("by_org", (q) => q.eq("workosOrgId", ORG_A))
              .collect(),
          );
        for (const op of ops) {
          const state = await recountState(t);
          const cursor = state?.cursor ?? null;
          const side = async (behind: boolean) =>
            (await allLoads()).filter(
              (l) => cursor !== null && l._creationTime <= cursor === behind,
            );
          if (op.kind === "start") {
            const [r] = await t.mutation(internal.stats.recalculateOrgStats, {
              workosOrgId: ORG_A,
              entities: ["loads"],
              force: op.force,
              schedulePages: false,
            });
            if (runId !== null && r.runId !== runId) coverage.replaced++;
            runId = r.runId;
          } else if (op.kind === "page" && runId !== null) {
            const { result } = await page(t, runId, op.maxDocs);
            expect(["continued", "finished"]).toContain(result.status);
            if (result.status === "finished") coverage.finished++;
            runId = result.status === "finished" ? null : result.runId;
          } else if (op.kind === "create") {
            await create();
          } else if (op.kind === "move" || op.kind === "delete") {
            const candidates = await side(op.behind);
            if (candidates.length === 0) continue;
            coverage[op.behind ? "behindWrites" : "aheadWrites"]++;
            const load = candidates[op.pick % candidates.length];
            if (op.kind === "delete") {
              await who.mutation(api.loads.deleteLoad, { workosOrgId: ORG_A, loadId: load._id });
            } else {
              const targets = LOAD_TRANSITIONS[load.status];
              if (targets.length === 0) continue;
              await who.mutation(api.loads.updateLoadStatus, {
                workosOrgId: ORG_A,
                loadId: load._id,
                status: targets[op.to % targets.length],
              });
            }
          }
          // The invariant the swap relies on, after every step.
          const now = await recountState(t);
          const row = await loadsRow(t);
          expect(row?.recounting === true).toBe(now !== null);
          if (now !== null) {
            // The shadow: the state's counters plus the run's unfolded deltas.
            const deltas = await t.run((ctx) => ctx.db.query("statsRecountDeltas").collect());
            const shadow = { ...now.counts };
            for (const d of deltas.filter((x) => x.runId === now.runId)) {
              for (const [k, n] of Object.entries(d.counts)) shadow[k] = (shadow[k] ?? 0) + n;
            }
            expect(nonZero(shadow)).toEqual(histogramBehind(await allLoads(), now.cursor));
            if (deltas.length > 0) coverage.deltas++;
          }
        }
        while (runId !== null) {
          const { result } = await page(t, runId, 3);
          runId = result.status === "finished" ? null : result.runId;
        }
        await expectCountersExact(t, ORG_A);
        expect(await recountState(t)).toBeNull();
      },
    ),
    { numRuns: 80 },
  );
  // The runs exercised what the property is about.
  expect(coverage.behindWrites).toBeGreaterThan(0);
  expect(coverage.aheadWrites).toBeGreaterThan(0);
  expect(coverage.deltas).toBeGreaterThan(0);
  expect(coverage.finished).toBeGreaterThan(0);
  expect(coverage.replaced).toBeGreaterThan(0);
}, 300_000);
