/**
 * Benchmark vocabulary: what a measured row is, how a budget is checked, and
 * rows from measured calls or series of transactions. Measuring itself lives
 * in the shared test kit (`tests/support/measure.ts`).
 */
import { IO_KEYS, maxIo, sumIo, type Io, type Measurement } from "../tests/support/measure";

/**
 * What a row measures: the project's counters, or a comparison (`rebuild`:
 * the filtered badges' rebuild-from-source cache of issue 20).
 */
export type Implementation = "stats" | "scan" | "aggregate" | "rebuild";

/** A docs/DESIGN.md §4 budget: the words of the design and the check. */
export type Budget = {
  /** As docs/DESIGN.md §4 states it, e.g. "1 document, ≤ 2 KiB". */
  text: string;
  /** Upper bounds on the measured totals (omitted fields are not bounded). */
  max?: Partial<Io>;
  /** Extra condition on the whole row (e.g. for series of transactions). */
  check?: (row: Row) => boolean;
};

/** One measured figure: one call, or a series of transactions summed. */
export type Row = Io & {
  /** Scenario name, e.g. "count loads". */
  scenario: string;
  implementation: Implementation;
  /** Loads in the measured org. */
  size: number;
  /**
   * "exceeds limit": the call hit a Convex transaction limit and failed; the
   * figures are what it had read when it failed (its writes were rolled back).
   */
  outcome: "ok" | "exceeds limit";
  /** The limit error, when `outcome` is "exceeds limit". */
  error?: string;
  /** For a series: number of transactions, and the largest of each figure. */
  transactions?: number;
  maxPerTransaction?: Io;
  budget?: string;
  /** Present exactly when `budget` is. */
  withinBudget?: boolean;
  note?: string;
};

/** A measurement that was not taken, with the reason (never a number). */
export type NotRun = {
  scenario: string;
  implementation: Implementation;
  size: number;
  notRun: string;
};

export type Result = Row | NotRun;

export function isNotRun(r: Result): r is NotRun {
  return "notRun" in r;
}

/** Whether `row`'s figures are within `budget` (a failed call never is). */
export function meetsBudget(row: Row, budget: Budget): boolean {
  if (row.outcome !== "ok") return false;
  const max = budget.max ?? {};
  for (const k of IO_KEYS) {
    const bound = max[k];
    if (bound !== undefined && row[k] > bound) return false;
  }
  return budget.check === undefined || budget.check(row);
}

/** What identifies a row. */
export type RowKey = { scenario: string; implementation: Implementation; size: number };

/** A row from one measured call, checked against `budget` when given. */
export function rowOf(
  key: RowKey,
  m: Measurement<unknown>,
  extra: { budget?: Budget; note?: string } = {},
): Row {
  return finish(
    {
      ...key,
      ...m.io,
      outcome: m.ok ? "ok" : "exceeds limit",
      ...(m.ok ? {} : { error: m.error }),
      ...(extra.note === undefined ? {} : { note: extra.note }),
    },
    extra.budget,
  );
}

/**
 * A row for an operation that takes several transactions (a recount, a
 * scheduled backfill): the totals, the number of transactions and the
 * largest figures of any one of them.
 */
export function seriesRowOf(
  key: RowKey,
  series: readonly Measurement<unknown>[],
  extra: { budget?: Budget; note?: string } = {},
): Row {
  const failed = series.find((m) => !m.ok);
  const ios = series.map((m) => m.io);
  return finish(
    {
      ...key,
      ...sumIo(ios),
      outcome: failed === undefined ? "ok" : "exceeds limit",
      ...(failed !== undefined && !failed.ok ? { error: failed.error } : {}),
      transactions: series.length,
      maxPerTransaction: maxIo(ios),
      ...(extra.note === undefined ? {} : { note: extra.note }),
    },
    extra.budget,
  );
}

/**
 * For a scenario whose cost must not depend on the org's size: when its
 * `stats` rows do not all read and write the same number of documents, every
 * one of them fails its budget (and says why).
 */
export function requireSameAcrossSizes(rows: Row[], scenario: string): Row[] {
  const mine = (r: Row) => r.scenario === scenario && r.implementation === "stats";
  const figures = new Set(rows.filter(mine).map((r) => `${r.documentsRead}/${r.documentsWritten}`));
  if (figures.size <= 1) return rows;
  return rows.map((r) =>
    mine(r)
      ? {
          ...r,
          withinBudget: false,
          note: [r.note, "documents read/written differ across org sizes"]
            .filter((n) => n !== undefined)
            .join("; "),
        }
      : r,
  );
}

function finish(row: Row, budget: Budget | undefined): Row {
  if (budget === undefined) return row;
  return { ...row, budget: budget.text, withinBudget: meetsBudget(row, budget) };
}
