/**
 * One page of a recount scan: walk an org's documents in `_creationTime`
 * order, hand each to a counter, and stop when the transaction has used its
 * read budget, never splitting a group of documents that share a
 * `_creationTime` (the recount cursor is a `_creationTime`, so a tie group
 * must be counted in one page). `scanPage` is pure logic over an async
 * iterable; the budget comes from `ctx.meta.getTransactionMetrics()` (see
 * `budgetFromMetrics`). `countPage` applies it to an entity's documents.
 */
import type { TransactionMetrics } from "convex/server";
import { emptyTally, type Tally } from "./counters";
import type { AnyReader, StatsQueryCtx } from "./ctx";
import { addDocument, type CountedDoc, type EntityDef } from "./entities";

/**
 * Fraction of a read limit (documents or bytes) after which a page stops
 * taking new documents. The limit we must stay under is half; the gap covers
 * the documents read between two budget checks and the tie group.
 */
export const SOFT_READ_FRACTION = 0.4;
/** A tie group that pushes a page past this fraction fails the page instead. */
export const HARD_READ_FRACTION = 0.5;
/** Most documents read between two budget checks. */
export const MAX_CHECK_INTERVAL = 500;
/** Documents read before the first check, while the document size is unknown. */
const FIRST_CHECK = 64;

/** What the scan learns from one look at the transaction metrics. */
export type BudgetCheck = {
  /** The page has used its share: stop after the current tie group. */
  soft: boolean;
  /** The page is at half of a limit: it must not read any further. */
  hard: boolean;
  /** Documents to read before looking again. */
  nextCheckIn: number;
};

/**
 * Budget decision from transaction metrics. The next check is scheduled after
 * half the documents that still fit under the soft limit at the average
 * document size read so far, so checks get denser near the limit and the
 * overshoot stays a small fraction of the headroom.
 */
export function budgetFromMetrics(m: TransactionMetrics): BudgetCheck {
  const docsLimit = m.documentsRead.used + m.documentsRead.remaining;
  const bytesLimit = m.bytesRead.used + m.bytesRead.remaining;
  const fraction = Math.max(m.documentsRead.used / docsLimit, m.bytesRead.used / bytesLimit);
  const averageBytes = m.bytesRead.used / Math.max(1, m.documentsRead.used);
  const docsToSoft = Math.min(
    SOFT_READ_FRACTION * docsLimit - m.documentsRead.used,
    (SOFT_READ_FRACTION * bytesLimit - m.bytesRead.used) / Math.max(1, averageBytes),
  );
  return {
    soft: fraction >= SOFT_READ_FRACTION,
    hard: fraction >= HARD_READ_FRACTION,
    nextCheckIn: Math.max(1, Math.min(MAX_CHECK_INTERVAL, Math.floor(docsToSoft / 2))),
  };
}

/** How a page decides where to stop. */
export type PageBudget = {
  /** Count at most this many documents (plus the rest of their tie group). */
  maxDocs: number;
  /** Looks at the transaction's usage. */
  check: () => Promise<BudgetCheck>;
};

/** What one page scan did. */
export type PageScan = {
  /** Documents handed to `count`. */
  counted: number;
  /** `_creationTime` of the last counted document; null when none was. */
  lastCreationTime: number | null;
  /** True when the range holds nothing after the last counted document. */
  exhausted: boolean;
  /** Documents read but not counted: the one that showed the tie group had ended. */
  lookahead: number;
};

/**
 * Counts documents from `docs` (in ascending `_creationTime` order) until the
 * budget says stop, then finishes the current tie group. Reads at most one
 * document it does not count.
 *
 * @throws when a tie group alone would take the transaction to half of a read
 *   limit (the cursor cannot split it; see the file comment).
 */
export async function scanPage<D extends { _creationTime: number }>(
  docs: AsyncIterable<D>,
  count: (doc: D) => void,
  budget: PageBudget,
): Promise<PageScan> {
  let counted = 0;
  let lastCreationTime: number | null = null;
  let stopping = false;
  let checkAt = Math.min(budget.maxDocs, FIRST_CHECK);
  for await (const doc of docs) {
    if (stopping && doc._creationTime !== lastCreationTime) {
      return { counted, lastCreationTime, exhausted: false, lookahead: 1 };
    }
    count(doc);
    counted++;
    lastCreationTime = doc._creationTime;
    if (counted < checkAt) continue;
    const check = await budget.check();
    if (stopping) {
      if (check.hard) {
        throw new Error(
          `[stats.recount] ${counted} documents share _creationTime ${lastCreationTime}: too many for one page`,
        );
      }
      checkAt = counted + check.nextCheckIn;
    } else if (check.soft || counted >= budget.maxDocs) {
      stopping = true;
      checkAt = counted + check.nextCheckIn;
    } else {
      checkAt = Math.min(budget.maxDocs, counted + check.nextCheckIn);
    }
  }
  return { counted, lastCreationTime, exhausted: true, lookahead: 0 };
}

/**
 * Counts one page of the org's `entity` documents after `cursor` into a
 * tally, within the transaction's read budget (`firstCreationTime`: of the
 * first document counted, null when none was). The shared primitive under
 * the recount pages, the migration's dry run and the count queries' bounded
 * fallback scan.
 */
export async function countPage(
  ctx: { db: AnyReader; meta: Pick<StatsQueryCtx["meta"], "getTransactionMetrics"> },
  def: EntityDef,
  workosOrgId: string,
  cursor: number | null,
  maxDocs: number,
  /** Also sees every document read (the recount lists invalid values with it). */
  inspect?: (doc: CountedDoc) => void,
): Promise<{ tally: Tally; scan: PageScan; firstCreationTime: number | null }> {
  const tally = emptyTally();
  let firstCreationTime: number | null = null;
  const scan = await scanPage(
    def.documentsAfter(ctx.db, workosOrgId, cursor),
    (doc) => {
      firstCreationTime ??= doc._creationTime;
      addDocument(def, tally, doc);
      inspect?.(doc);
    },
    {
      maxDocs,
      check: async () => budgetFromMetrics(await ctx.meta.getTransactionMetrics()),
    },
  );
  return { tally, scan, firstCreationTime };
}

/** Stands for "no page-size cap": the read budget alone decides. */
export const UNLIMITED_PAGE = Number.MAX_SAFE_INTEGER;
