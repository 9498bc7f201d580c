/**
 * From-scratch counts of an org, read page by page so that orgs of any size
 * stay inside Convex's per-transaction limits (the test suite's `histogram`
 * reads everything in one transaction). Used to show that the counters are
 * exact after a benchmark world, and how far a demo edit made them drift.
 * Part of the shared test kit (suite, bench, demo).
 */
import type { PaginationResult } from "convex/server";
import type { DatabaseReader } from "../../convex/_generated/server";
import { zeroCounts, type Counts } from "../../convex/model/stats/counters";
import { INVOICE_STATUSES, LOAD_STATUSES, type LoadStatus } from "../../convex/model/enums";
import { countedCents, storedCounters, type Backend, type Histogram } from "./setup";

/** Documents per reading transaction: ~10 MB of 1 KB loads, under the 16 MiB limit. */
const PAGE = 10_000;

/** Calls `visit` on every document `read` pages through, one page per transaction. */
async function forEachDoc<D>(
  t: Backend,
  read: (db: DatabaseReader, cursor: string | null) => Promise<PaginationResult<D>>,
  visit: (doc: D) => void,
): Promise<void> {
  let cursor: string | null = null;
  for (;;) {
    const page: PaginationResult<D> = await t.run(async (ctx) => await read(ctx.db, cursor));
    for (const doc of page.page) visit(doc);
    if (page.isDone) return;
    cursor = page.continueCursor;
  }
}

/** Counts every load and invoice of `org` from scratch. */
export async function countFromScratch(t: Backend, org: string): Promise<Histogram> {
  const loads = zeroCounts(LOAD_STATUSES);
  const invoices = zeroCounts(INVOICE_STATUSES);
  const invoiceCents = zeroCounts(INVOICE_STATUSES);
  const opts = (cursor: string | null) => ({ cursor, numItems: PAGE });
  await forEachDoc(
    t,
    (db, cursor) =>
      db
        .query("loads")
        .withIndex("by_org", (q) => q.eq("workosOrgId", org))
        .paginate(opts(cursor)),
    (load) => {
      loads[load.status] += 1;
    },
  );
  await forEachDoc(
    t,
    (db, cursor) =>
      db
        .query("invoices")
        .withIndex("by_org", (q) => q.eq("workosOrgId", org))
        .paginate(opts(cursor)),
    (invoice) => {
      invoices[invoice.status] += 1;
      invoiceCents[invoice.status] += countedCents(invoice.amountCents);
    },
  );
  return { loads, invoices, invoiceCents };
}

/** One counter that differs between the stored row and the documents. */
export type Difference = {
  entity: "loads" | "invoices";
  measure: "count" | "amountCents";
  status: string;
  stored: number;
  actual: number;
};

/** Every counter of `org` whose stored value differs from a from-scratch count. */
export async function differences(t: Backend, org: string): Promise<Difference[]> {
  const truth = await countFromScratch(t, org);
  const rows = await storedCounters(t, org);
  const storedLoads: Counts<LoadStatus> =
    rows.loads?.entity === "loads" ? rows.loads.counts : zeroCounts(LOAD_STATUSES);
  const storedInvoices =
    rows.invoices?.entity === "invoices"
      ? rows.invoices
      : { counts: zeroCounts(INVOICE_STATUSES), amountCents: zeroCounts(INVOICE_STATUSES) };
  const out: Difference[] = [];
  const compare = <S extends string>(
    entity: Difference["entity"],
    measure: Difference["measure"],
    statuses: readonly S[],
    stored: Counts<S>,
    actual: Counts<S>,
  ) => {
    for (const status of statuses) {
      if (stored[status] !== actual[status]) {
        out.push({ entity, measure, status, stored: stored[status], actual: actual[status] });
      }
    }
  };
  compare("loads", "count", LOAD_STATUSES, storedLoads, truth.loads);
  compare("invoices", "count", INVOICE_STATUSES, storedInvoices.counts, truth.invoices);
  compare(
    "invoices",
    "amountCents",
    INVOICE_STATUSES,
    storedInvoices.amountCents ?? zeroCounts(INVOICE_STATUSES),
    truth.invoiceCents,
  );
  return out;
}
