/**
 * Scale: a full recount of one big org with Convex's transaction limits
 * enforced. CI runs 20,000 loads + 20,000 invoices (about 10 s here); the
 * DESIGN's 100,000 + 100,000 figure comes from the same test with
 * `RECOUNT_SCALE=100000 npx vitest run tests/recount.scale.test.ts` (about a
 * minute on 2 cores, mostly convex-test scanning its in-memory tables).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { insertRawDocuments, quietLogs, rawHistogram, recountByPages } from "./support/recount";
import { newBackend, ORG_A, storedCounters } from "./support/setup";

const SIZE = Number(process.env.RECOUNT_SCALE ?? 20_000);
const MiB = 1024 * 1024;

describe("recount at scale", () => {
  beforeEach(quietLogs);
  afterEach(() => vi.restoreAllMocks());

  test(`${SIZE} loads and ${SIZE} invoices: every transaction under half of every limit, exact`, async () => {
    const t = newBackend({ transactionLimits: true });
    // 1 KB loads and 600 B invoices, as in the DESIGN's budget table.
    await insertRawDocuments(t, ORG_A, { loads: SIZE, withInvoices: true, pad: true });

    const run = await recountByPages(t, ORG_A);
    const pages = run.transactions.filter((x) => x.kind === "page");
    const summary = {
      size: SIZE,
      transactions: run.transactions.length,
      loadPages: pages.filter((p) => p.entity === "loads").length,
      invoicePages: pages.filter((p) => p.entity === "invoices").length,
      maxDocumentsRead: run.maxDocumentsRead,
      maxBytesRead: run.maxBytesRead,
      maxDocumentsWritten: run.maxDocumentsWritten,
      totalDocumentsRead: run.transactions.reduce((n, x) => n + x.io.documentsRead, 0),
    };
    vi.restoreAllMocks();
    console.log("[recount.scale]", JSON.stringify(summary));

    expect(run.maxDocumentsRead).toBeLessThanOrEqual(16_000);
    expect(run.maxBytesRead).toBeLessThanOrEqual(8 * MiB);
    expect(run.maxDocumentsWritten).toBeLessThanOrEqual(8_000);
    expect(run.documentsCounted).toBe(2 * SIZE);
    for (const page of pages) {
      // The recount state (read, replaced); the last page also reads and
      // replaces the stats row and deletes the state.
      const fixed = page.status === "finished" ? 4 : 2;
      expect(page.io.documentsRead).toBe(fixed + page.documentsCounted + page.lookahead);
    }
    const truth = rawHistogram(SIZE, true);
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads).toMatchObject({ exact: true, counts: truth.loads });
    expect(invoices).toMatchObject({
      exact: true,
      counts: truth.invoices,
      amountCents: truth.invoiceCents,
    });
  });
});
