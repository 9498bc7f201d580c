/**
 * The benchmark's scenarios, in the order they run against each world.
 *
 * A scenario measures one operation at the org sizes it lists and returns
 * rows (see `lib.ts`). Scenarios that need code from another issue are listed
 * with `pending`: the report shows them as pending, never as passed. To add
 * one, replace its `pending` with a `run` (see bench/README.md).
 */
import { api } from "../convex/_generated/api";
import { countsEqual } from "../convex/lib/counters";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import { biller, member } from "../tests/setup";
import { benchApi } from "./backend";
import {
  measureMutationRolledBack,
  measureMutationToLimit,
  measureQueryToLimit,
  rowOf,
  type Budget,
  type Implementation,
  type Result,
} from "./lib";
import type { World } from "./world";

/** DESIGN §4, as checked here. */
export const BUDGETS = {
  countQuery: {
    text: "1 document, ≤ 2 KiB",
    max: { documentsRead: 1, bytesRead: 2048 },
  },
  updateLoadStatus: {
    text: "≤ 4 read, ≤ 2 written",
    max: { documentsRead: 4, documentsWritten: 2 },
  },
  bulk500: {
    text: "≤ 1,010 read, ≤ 505 written",
    max: { documentsRead: 1_010, documentsWritten: 505 },
  },
  laneBackfill: { text: "reads grow with M (promoted), not N (org size)" },
  cleanupNothingToDo: { text: "≤ 10 read", max: { documentsRead: 10 } },
  recount: {
    text: "each document read once; no transaction above half of any limit; exact",
  },
} satisfies Record<string, Budget>;

type ScenarioCommon = {
  /** Names the rows and the report section. */
  name: string;
  /** Org sizes (loads) it is measured at; each gets that size's shared world. */
  sizes: readonly number[];
  /** The DESIGN §4 budget, in words (for the pending list). */
  budget?: string;
};

export type Scenario = ScenarioCommon &
  (
    | { run: (world: World) => Promise<Result[]>; pending?: undefined }
    | { pending: string; run?: undefined }
  );

export const SIZES = {
  budgets: [1_000, 10_000, 100_000],
  /** Adds 30,000: past the point where a scan breaks the read limit. */
  counts: [1_000, 10_000, 30_000, 100_000],
} as const;

/** The first `n` invoices of the world in DRAFT (see `benchInvoiceStatus`). */
function draftInvoices(world: World, n: number) {
  const ids = world.invoiceIds.filter((_, i) => i % 10 < 6).slice(0, n);
  if (ids.length < n) throw new Error(`world of ${world.size} has fewer than ${n} DRAFT invoices`);
  return ids;
}

/** Load i of the world is Open when i % 5 === 0 (seedOrg's default cycle). */
function openLoad(world: World, nth: number) {
  return world.loadIds[nth * 5];
}

function notRun(world: World, scenario: string, implementation: Implementation): Result {
  return {
    scenario,
    implementation,
    size: world.size,
    notRun: world.aggregate.seeded ? "not applicable" : world.aggregate.why,
  };
}

/** Badge queries: the counters, a scan of the org's index, the aggregate. */
const countQueries: Scenario = {
  name: "count query",
  sizes: SIZES.counts,
  run: async (world) => {
    const { t, org, size } = world;
    const args = { workosOrgId: org };
    const out: Result[] = [];

    const loads = await measureQueryToLimit(member(t, org), api.loads.countLoadsByStatus, args);
    const invoices = await measureQueryToLimit(
      member(t, org),
      api.invoices.countInvoicesByStatus,
      args,
    );
    if (!loads.ok || !invoices.ok) throw new Error("a stats count query failed");
    if (loads.result.total !== size || !loads.result.exact) {
      throw new Error(`stats count of loads is ${loads.result.total}, expected ${size} exact`);
    }
    const key = (entity: string, implementation: Implementation) => ({
      scenario: `count ${entity}`,
      implementation,
      size,
    });
    out.push(rowOf(key("loads", "stats"), loads, { budget: BUDGETS.countQuery }));
    out.push(rowOf(key("invoices", "stats"), invoices, { budget: BUDGETS.countQuery }));

    // The same answers must come out of the comparisons, or they measure nothing.
    const agreeLoads = (counts: typeof loads.result.counts) =>
      countsEqual(LOAD_STATUSES, counts, loads.result.counts);
    const agreeInvoices = (r: {
      counts: typeof invoices.result.counts;
      amountCents: typeof invoices.result.amountCents;
    }) =>
      countsEqual(INVOICE_STATUSES, r.counts, invoices.result.counts) &&
      countsEqual(INVOICE_STATUSES, r.amountCents, invoices.result.amountCents);

    const scanLoads = await measureQueryToLimit(t, benchApi.benchScan.countLoads, args);
    if (scanLoads.ok && !agreeLoads(scanLoads.result)) throw new Error("scan disagrees (loads)");
    out.push(rowOf(key("loads", "scan"), scanLoads));
    const scanInvoices = await measureQueryToLimit(t, benchApi.benchScan.countInvoices, args);
    if (scanInvoices.ok && !agreeInvoices(scanInvoices.result)) {
      throw new Error("scan disagrees (invoices)");
    }
    out.push(rowOf(key("invoices", "scan"), scanInvoices));

    if (!world.aggregate.seeded) {
      out.push(notRun(world, "count loads", "aggregate"));
      out.push(notRun(world, "count invoices", "aggregate"));
      return out;
    }
    const aggLoads = await measureQueryToLimit(t, benchApi.benchAggregate.countLoads, args);
    if (aggLoads.ok && !agreeLoads(aggLoads.result)) throw new Error("aggregate disagrees (loads)");
    out.push(rowOf(key("loads", "aggregate"), aggLoads));
    const aggInvoices = await measureQueryToLimit(t, benchApi.benchAggregate.countInvoices, args);
    if (aggInvoices.ok && !agreeInvoices(aggInvoices.result)) {
      throw new Error("aggregate disagrees (invoices)");
    }
    out.push(rowOf(key("invoices", "aggregate"), aggInvoices));
    return out;
  },
};

/** One load status change (Open → Assigned). */
const updateLoadStatus: Scenario = {
  name: "updateLoadStatus",
  sizes: SIZES.budgets,
  run: async (world) => {
    const { t, org, size } = world;
    const scenario = "updateLoadStatus";
    const out: Result[] = [];
    const stats = await measureMutationToLimit(member(t, org), api.loads.updateLoadStatus, {
      workosOrgId: org,
      loadId: openLoad(world, 0),
      status: "Assigned",
    });
    if (stats.ok && !stats.result.changed) throw new Error("updateLoadStatus changed nothing");
    out.push(
      rowOf({ scenario, implementation: "stats", size }, stats, {
        budget: BUDGETS.updateLoadStatus,
      }),
    );
    if (!world.aggregate.seeded) {
      out.push(notRun(world, scenario, "aggregate"));
      return out;
    }
    const agg = await measureMutationRolledBack(t, benchApi.benchAggregate.updateLoadStatus, {
      loadId: openLoad(world, 1),
      status: "Assigned",
    });
    out.push(
      rowOf({ scenario, implementation: "aggregate", size }, agg, {
        note: "get + patch + aggregate.replace",
      }),
    );
    return out;
  },
};

/** Bulk status change of 500 invoices (DRAFT → BILLED), then voiding them. */
const bulkInvoices: Scenario = {
  name: "bulk invoices",
  sizes: SIZES.budgets,
  run: async (world) => {
    const { t, org, size } = world;
    const ids = draftInvoices(world, 500);
    const out: Result[] = [];
    // The comparison first, rolled back, so both start from the same state.
    if (world.aggregate.seeded) {
      const agg = await measureMutationRolledBack(t, benchApi.benchAggregate.bulkUpdateInvoices, {
        invoiceIds: ids,
        status: "BILLED",
      });
      out.push(
        rowOf({ scenario: "bulkUpdateStatus 500", implementation: "aggregate", size }, agg, {
          note: "per invoice: get + patch + aggregate.replace",
        }),
      );
    } else {
      out.push(notRun(world, "bulkUpdateStatus 500", "aggregate"));
    }
    const bulk = await measureMutationToLimit(biller(t, org), api.invoices.bulkUpdateStatus, {
      workosOrgId: org,
      invoiceIds: ids,
      status: "BILLED",
    });
    if (bulk.ok && bulk.result.updated !== 500) throw new Error("bulkUpdateStatus missed invoices");
    out.push(
      rowOf({ scenario: "bulkUpdateStatus 500", implementation: "stats", size }, bulk, {
        budget: BUDGETS.bulk500,
      }),
    );
    const voided = await measureMutationToLimit(biller(t, org), api.invoices.bulkVoidInvoices, {
      workosOrgId: org,
      invoiceIds: ids,
      reason: "benchmark",
    });
    if (voided.ok && voided.result.updated !== 500) throw new Error("bulkVoidInvoices missed some");
    out.push(
      rowOf({ scenario: "bulkVoidInvoices 500", implementation: "stats", size }, voided, {
        budget: BUDGETS.bulk500,
      }),
    );
    return out;
  },
};

/** Every scenario, in run order (reads before writes within a world). */
export const SCENARIOS: Scenario[] = [
  countQueries,
  updateLoadStatus,
  bulkInvoices,
  {
    name: "lane backfill",
    sizes: SIZES.budgets,
    budget: BUDGETS.laneBackfill.text,
    pending: "issue 3: convex/lanes.ts createLaneAndBackfill",
  },
  {
    name: "periodic cleanup, nothing to do",
    sizes: SIZES.budgets,
    budget: BUDGETS.cleanupNothingToDo.text,
    pending: "issue 3: convex/lazyLoadPromotion.ts periodicCleanup",
  },
  {
    name: "daily recount",
    sizes: SIZES.budgets,
    budget: BUDGETS.recount.text,
    pending: "issue 4: convex/stats.ts recalculateOrgStats",
  },
];
