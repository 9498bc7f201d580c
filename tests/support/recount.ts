/**
 * Recount test plumbing: a driver that runs a whole recount page by page
 * (measuring every page's transaction), and raw seeding of documents that
 * bypasses the write layer (data that existed before the counters). The
 * bench can reuse both.
 */
import { vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { tally } from "../../convex/model/stats/counters";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../../convex/model/enums";
import { STATS_ENTITIES, type StatsEntity } from "../../convex/model/counted";
import { type Backend, type Io, measureMutation, rawLoad } from "./setup";

/** One transaction of a recount, as measured. */
export type RecountTransaction = {
  kind: "start" | "page";
  entity: StatsEntity | null;
  status: string;
  documentsCounted: number;
  lookahead: number;
  io: Io;
};

export type RecountRun = {
  transactions: RecountTransaction[];
  /** Largest documents / bytes read by any one transaction. */
  maxDocumentsRead: number;
  maxBytesRead: number;
  maxDocumentsWritten: number;
  documentsCounted: number;
};

/**
 * Runs a full recount of `workosOrgId` (both entities unless told), one page
 * mutation at a time, and returns every transaction's metrics. `between` runs
 * after each page (the interleaving tests write there). Pages alternate
 * between entities while both are running.
 */
export async function recountByPages(
  t: Backend,
  workosOrgId: string,
  options: {
    entities?: StatsEntity[];
    maxDocs?: number;
    between?: () => Promise<void>;
  } = {},
): Promise<RecountRun> {
  const entities = options.entities ?? [...STATS_ENTITIES];
  const transactions: RecountTransaction[] = [];
  const start = await measureMutation(t, internal.stats.recalculateOrgStats, {
    workosOrgId,
    entities,
    schedulePages: false,
  });
  transactions.push({
    kind: "start",
    entity: null,
    status: "started",
    documentsCounted: 0,
    lookahead: 0,
    io: start.io,
  });
  const running = new Map<StatsEntity, string>();
  for (const r of start.result) {
    if (r.runId !== null) running.set(r.entity as StatsEntity, r.runId);
  }
  while (running.size > 0) {
    for (const [entity, runId] of [...running]) {
      const { io, result } = await measureMutation(t, internal.stats.recountPage, {
        workosOrgId,
        entity,
        runId,
        maxDocs: options.maxDocs,
      });
      transactions.push({
        kind: "page",
        entity,
        status: result.status,
        documentsCounted: result.documentsCounted,
        lookahead: result.lookahead,
        io,
      });
      if (result.status === "continued" || result.status === "restarted") {
        running.set(entity, result.runId);
      } else {
        running.delete(entity);
      }
      if (options.between) await options.between();
    }
  }
  return {
    transactions,
    maxDocumentsRead: Math.max(...transactions.map((x) => x.io.documentsRead)),
    maxBytesRead: Math.max(...transactions.map((x) => x.io.bytesRead)),
    maxDocumentsWritten: Math.max(...transactions.map((x) => x.io.documentsWritten)),
    documentsCounted: transactions.reduce((n, x) => n + x.documentsCounted, 0),
  };
}

/**
 * Inserts `loads` loads (each with one invoice when `withInvoices`) straight
 * into the tables, without the write layer and without stats rows: data as
 * it existed before the counters. Statuses cycle through every status;
 * `pad` pads loads to about 1 KB and invoices to about 600 B (the DESIGN's
 * anchors). Returns how many loads and invoices were inserted.
 */
export async function insertRawDocuments(
  t: Backend,
  workosOrgId: string,
  options: { loads: number; withInvoices: boolean; pad?: boolean; batch?: number },
): Promise<{ loads: number; invoices: number }> {
  const batch = options.batch ?? 2000;
  const loadPad = options.pad === true ? "x".repeat(700) : undefined;
  const invoicePad = options.pad === true ? "y".repeat(430) : undefined;
  let invoices = 0;
  for (let from = 0; from < options.loads; from += batch) {
    const to = Math.min(options.loads, from + batch);
    invoices += await t.run(async (ctx) => {
      let inserted = 0;
      for (let i = from; i < to; i++) {
        const loadId: Id<"loads"> = await ctx.db.insert(
          "loads",
          rawLoad({
            workosOrgId,
            externalLoadId: `RAW-${i}`,
            status: LOAD_STATUSES[i % LOAD_STATUSES.length],
            commodity: loadPad,
          }),
        );
        if (!options.withInvoices) continue;
        await ctx.db.insert("invoices", {
          workosOrgId,
          loadId,
          status: INVOICE_STATUSES[i % INVOICE_STATUSES.length],
          amountCents: 10_000 + (i % 997) * 100,
          statusChangedAt: 0,
          voidReason: invoicePad,
        });
        inserted++;
      }
      return inserted;
    });
  }
  return { loads: options.loads, invoices };
}

/**
 * Silences the functions' structured logs (`console.log` / `console.warn`;
 * the recount logs every page, the import every batch) until the returned
 * function is called, or `vi.restoreAllMocks()` runs. Errors
 * (`console.error`) stay visible.
 */
export function quietLogs(): () => void {
  const spies = [
    vi.spyOn(console, "log").mockImplementation(() => {}),
    vi.spyOn(console, "warn").mockImplementation(() => {}),
  ];
  return () => {
    for (const spy of spies) spy.mockRestore();
  };
}

/** The histogram `insertRawDocuments` produces for `loads` loads with invoices (no full scan needed). */
export function rawHistogram(loads: number, withInvoices: boolean) {
  const counts = {
    loads: tally(LOAD_STATUSES, () => 0),
    invoices: tally(INVOICE_STATUSES, () => 0),
    invoiceCents: tally(INVOICE_STATUSES, () => 0),
  };
  for (let i = 0; i < loads; i++) {
    counts.loads[LOAD_STATUSES[i % LOAD_STATUSES.length]]++;
    if (!withInvoices) continue;
    const status = INVOICE_STATUSES[i % INVOICE_STATUSES.length];
    counts.invoices[status]++;
    counts.invoiceCents[status] += 10_000 + (i % 997) * 100;
  }
  return counts;
}

/** `value`, or a test failure naming `what` when it is null or undefined. */
export function defined<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}
