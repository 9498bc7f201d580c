/**
 * The existing frontend's badge contract (issue 19): `loads:countLoadsByStatus`
 * and `invoices:countInvoicesByStatus` answer flat objects with exactly the
 * keys it reads (`Delivered` for loads stored as `Completed`; invoices with
 * `total`), from one document, with the closest honest numbers in every state
 * of the counters; the detailed answers keep `state` and `progress`.
 */
import type { FunctionReturnType } from "convex/server";
import { describe, expect, test } from "vitest";
import { api, internal } from "../convex/_generated/api";
import { INVOICE_STATUSES } from "../convex/model/enums";
import { insertRawDocuments, quietLogs } from "./support/recount";
import { seedOrg } from "./support/seed";
import { type Backend, histogram, measureQuery, member, newBackend, ORG_A } from "./support/setup";

type LoadBadge = FunctionReturnType<typeof api.loads.countLoadsByStatus>;
type InvoiceBadge = FunctionReturnType<typeof api.invoices.countInvoicesByStatus>;

/** Call sites as the existing frontend writes them: they must compile against the api. */
function frontendReads(loads: LoadBadge | undefined, invoices: InvoiceBadge | undefined) {
  const drafts: number = invoices?.DRAFT ?? 0;
  const delivered: number = loads?.Delivered ?? 0;
  const allLoads = Object.values(loads ?? {}).reduce((a, b) => a + b, 0);
  // @ts-expect-error the flat answer names loads stored as `Completed` `Delivered`
  const stored: number = loads?.Completed ?? 0;
  return { drafts, delivered, allLoads, total: invoices?.total ?? 0, stored };
}

const LOAD_KEYS = ["Open", "Assigned", "Delivered", "Canceled", "Expired"];
const INVOICE_KEYS = [...INVOICE_STATUSES, "total"];

/** The flat answers the truth gives. */
async function expected(t: Backend) {
  const truth = await histogram(t, ORG_A);
  const { Completed, ...rest } = truth.loads;
  const total = Object.values(truth.invoices).reduce((a, b) => a + b, 0);
  return { loads: { ...rest, Delivered: Completed }, invoices: { ...truth.invoices, total } };
}

async function badges(t: Backend) {
  const who = member(t, ORG_A);
  const loads = await measureQuery(who, api.loads.countLoadsByStatus, { workosOrgId: ORG_A });
  const invoices = await measureQuery(who, api.invoices.countInvoicesByStatus, {
    workosOrgId: ORG_A,
  });
  return { loads, invoices };
}

describe("flat badges", () => {
  test("exactly the keys the frontend reads, equal to a from-scratch count, one document", async () => {
    const t = newBackend({ transactionLimits: true });
    await seedOrg(t, ORG_A, { loads: 40 });
    const { loads, invoices } = await badges(t);
    expect(Object.keys(loads.result).sort()).toEqual([...LOAD_KEYS].sort());
    expect(Object.keys(invoices.result).sort()).toEqual([...INVOICE_KEYS].sort());
    expect({ loads: loads.result, invoices: invoices.result }).toEqual(await expected(t));
    expect(loads.io.documentsRead).toBe(1);
    expect(invoices.io.documentsRead).toBe(1);
    const read = frontendReads(loads.result, invoices.result);
    expect(read.allLoads).toBe(40);
    expect(read.total).toBe(invoices.result.total);
    expect(frontendReads(undefined, undefined)).toMatchObject({ drafts: 0, allLoads: 0 });
  });

  test("every state answers the detailed answer's numbers under the display names", async () => {
    quietLogs();
    const t = newBackend();
    // Data from before the counters: no row, a bounded scan answers.
    await insertRawDocuments(t, ORG_A, { loads: 30, withInvoices: true });
    const flatEqualsDetailed = async (state: string) => {
      const who = member(t, ORG_A);
      const flat = await who.query(api.loads.countLoadsByStatus, { workosOrgId: ORG_A });
      const detailed = await who.query(api.loads.countLoadsByStatusDetailed, {
        workosOrgId: ORG_A,
      });
      expect(detailed.state).toBe(state);
      const { Completed, ...rest } = detailed.counts;
      expect(flat).toEqual({ ...rest, Delivered: Completed });
      const flatInvoices = await who.query(api.invoices.countInvoicesByStatus, {
        workosOrgId: ORG_A,
      });
      const detailedInvoices = await who.query(api.invoices.countInvoicesByStatusDetailed, {
        workosOrgId: ORG_A,
      });
      expect(flatInvoices).toEqual({ ...detailedInvoices.counts, total: detailedInvoices.total });
    };
    await flatEqualsDetailed("exact"); // the scan saw every document
    // Being seeded: the shadow counts the documents behind the cursor.
    const started = await t.mutation(internal.stats.recalculateOrgStats, {
      workosOrgId: ORG_A,
      schedulePages: false,
    });
    for (const run of started) {
      if (run.runId === null) continue;
      await t.mutation(internal.stats.recountPage, {
        workosOrgId: ORG_A,
        entity: run.entity as "loads" | "invoices",
        runId: run.runId,
        maxDocs: 10,
      });
    }
    await flatEqualsDetailed("counting");
  });

  test("a counter known to be off shows its known bound, never a negative count", async () => {
    const t = newBackend();
    const who = member(t, ORG_A);
    const { loadId } = await seededLoad(t);
    // A dashboard edit the counters never saw, then a counted write of the same load.
    await t.run((ctx) => ctx.db.patch("loads", loadId, { status: "Assigned" }));
    await who.mutation(api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId,
      status: "Canceled",
    });
    const detailed = await who.query(api.loads.countLoadsByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(detailed.state).toBe("approximate");
    expect(detailed.counts.Assigned).toBe(-1);
    expect(detailed.knownDrift).toEqual([{ status: "Assigned", measure: "count", atLeast: 1 }]);
    const flat = await who.query(api.loads.countLoadsByStatus, { workosOrgId: ORG_A });
    expect(flat).toEqual({ ...flatOf(detailed.counts), Assigned: 0 });
    for (const n of Object.values(flat)) expect(n).toBeGreaterThanOrEqual(0);
  });
});

/** One counted load of ORG_A, Open, on a fresh row. */
async function seededLoad(t: Backend) {
  const { loadIds } = await seedOrg(t, ORG_A, { loads: 1, loadStatus: () => "Open" });
  return { loadId: loadIds[0] };
}

/** Stored counts under the flat answer's keys. */
function flatOf(
  counts: Record<"Open" | "Assigned" | "Completed" | "Canceled" | "Expired", number>,
) {
  const { Completed, ...rest } = counts;
  return { ...rest, Delivered: Completed };
}
