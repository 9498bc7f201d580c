/**
 * A "world": one in-memory backend holding an org of a given size, seeded
 * once and shared by every scenario measured at that size (convex-test's
 * index queries scan whole tables, so seeding is the slow part).
 */
import type { Id } from "../convex/_generated/dataModel";
import type { InvoiceStatus } from "../convex/model/enums";
import { facetedFields } from "../tests/support/counted";
import { CITIES, seedOrg } from "../tests/support/seed";
import { insertRawLane, ORG_A, ORG_B, type Backend } from "../tests/support/setup";
import { benchApi, newBenchBackend } from "./backend";
import { fmtInt, measureMutationToLimit, print, type Measurement } from "../tests/support/measure";

export type World = {
  t: Backend;
  /** Loads (and invoices) of `org`. */
  size: number;
  /** The measured org. */
  org: string;
  loadIds: Id<"loads">[];
  invoiceIds: Id<"invoices">[];
  /** The org's lanes of its seeded loads' pairs (load i is on `lanes[i % 5]` unless laneless). */
  lanes: Id<"lanes">[];
  /**
   * Whether the aggregate comparison was seeded for `org` (with the measured
   * transactions of that backfill from empty), and if not why.
   */
  aggregate:
    | { seeded: true; entries: number; ms: number; backfill: Measurement<unknown>[] }
    | { seeded: false; why: string };
  /** Wall-clock milliseconds spent seeding the org (for the report only). */
  seedMs: number;
};

/** Seed the aggregate trees too, or say why not (reported as "not run"). */
export type AggregateOption = { seed: true } | { seed: false; why: string };

/**
 * `seedOrg` pads loads by an estimate of their other fields; this value makes
 * the stored loads about 1,000 bytes, the design's anchor (docs/DESIGN.md §4).
 */
export const LOAD_BYTES_OPTION = 1_076;

/** Status of the invoice of load i: 60% DRAFT, so 500 can be billed at 1,000. */
export function benchInvoiceStatus(i: number): InvoiceStatus {
  const r = i % 10;
  if (r < 6) return "DRAFT";
  return (["BILLED", "PENDING_PAYMENT", "PAID", "VOID"] as const)[r - 6];
}

/** What one aggregate backfill page returns. */
type AggregatePage = { continueCursor: string; isDone: boolean; inserted: number };

/** Aggregate entries per seeding transaction (each costs ~10 index ranges). */
const AGGREGATE_PAGE = 100;

/** Prints a progress line (the bench config lets console output through). */
export function progress(message: string): void {
  print(`[bench] ${message}`);
}

/**
 * Seeds `size` loads with an invoice each (statuses cycling, exact counters),
 * a 10-load second org so index ranges are not the whole table, and, when
 * asked, the aggregate comparison's two trees for the org.
 */
export async function buildWorld(size: number, aggregate: AggregateOption): Promise<World> {
  const t = newBenchBackend({ transactionLimits: true });
  const started = Date.now();
  const now = Date.now();
  // A lane per pair of the seeded loads' stops, in effect since before their pickups.
  const lanes: Id<"lanes">[] = [];
  for (let k = 0; k < CITIES.length; k++) {
    const destination = CITIES[(k + 1) % CITIES.length];
    lanes.push(
      await insertRawLane(t, {
        origin: CITIES[k],
        destination,
        effectiveFrom: Date.UTC(2019, 0, 1),
      }),
    );
  }
  const { loadIds, invoiceIds } = await seedOrg(t, ORG_A, {
    loads: size,
    invoiceStatus: benchInvoiceStatus,
    loadBytes: LOAD_BYTES_OPTION,
    // Filtered badges need facets: lanes, 40 customers, pickups over six years;
    // `Open` loads (every fifth) pick up in the future, so the cleanup expires none.
    loadFields: (i) =>
      facetedFields(i, lanes, { customers: 40, future: i % 5 === 0 ? now : undefined }),
    onProgress: (done) => progress(`seeding ${fmtInt(done)}/${fmtInt(size)} loads + invoices`),
  });
  await seedOrg(t, ORG_B, { loads: 10, loadBytes: LOAD_BYTES_OPTION });
  const seedMs = Date.now() - started;
  const aggregateState: World["aggregate"] = aggregate.seed
    ? await backfillAggregate(t, ORG_A, size)
    : { seeded: false, why: aggregate.why };
  return { t, size, org: ORG_A, loadIds, invoiceIds, lanes, aggregate: aggregateState, seedMs };
}

/**
 * Inserts every load and invoice of `org` into the aggregate trees, page by
 * page, measuring each page: this is also what rebuilding the aggregate from
 * empty costs (its answer to a recount).
 */
async function backfillAggregate(
  t: Backend,
  org: string,
  size: number,
): Promise<{ seeded: true; entries: number; ms: number; backfill: Measurement<unknown>[] }> {
  const started = Date.now();
  const backfill: Measurement<unknown>[] = [];
  const tables = [
    { name: "loads", ref: benchApi.benchAggregate.backfillLoads },
    { name: "invoices", ref: benchApi.benchAggregate.backfillInvoices },
  ] as const;
  let entries = 0;
  for (const { name, ref } of tables) {
    let cursor: string | null = null;
    let done = 0;
    let nextReport = 0;
    for (;;) {
      const measured: Measurement<AggregatePage> = await measureMutationToLimit(t, ref, {
        workosOrgId: org,
        cursor,
        numItems: AGGREGATE_PAGE,
      });
      backfill.push(measured);
      if (!measured.ok) throw new Error(`aggregate backfill failed: ${measured.error}`);
      const page: AggregatePage = measured.result;
      done += page.inserted;
      entries += page.inserted;
      if (done >= nextReport || page.isDone) {
        progress(`aggregate: ${fmtInt(done)}/${fmtInt(size)} ${name}`);
        nextReport = done + Math.max(1_000, size / 4);
      }
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
  }
  return { seeded: true, entries, ms: Date.now() - started, backfill };
}
