/**
 * The recount page size under write contention (docs/contention.md). Pure:
 * no database, no clock, no imports from `model/`, so the stats engine, the
 * bench's simulation and the tests share one definition.
 *
 * A recount page reads its org's stats row, which every counted write of the
 * org rewrites. A write that commits while a page runs invalidates it and
 * Convex re-runs the page. With writes at rate λ (Poisson) and a page taking
 * d seconds, an attempt commits with probability e^(−λ·d), so a page needs
 * e^(λ·d) attempts on average, each reading the whole page again. The rule
 * here keeps λ·d ≤ `targetLambdaD` by sizing the page from an estimate of λ
 * that the stats row keeps (`WriteRate`).
 */

/** The page cost model and the rule's constants. */
export type ContentionModel = {
  /** Time to read one counted document in a page, ms (1 KB documents, index range). */
  perDocMs: number;
  /** Time a page takes besides its documents (start, stats row, commit), ms. */
  fixedMs: number;
  /** The bound on λ·d the page size keeps (e^0.25 ≈ 1.28 attempts). */
  targetLambdaD: number;
  /** Smallest page: below it a page's fixed cost dominates what it counts. */
  minPage: number;
  /** Largest page (the recount's fixed page today; within transaction limits). */
  maxPage: number;
  /** Time constant of the write-rate estimate, ms. */
  rateTauMs: number;
};

/**
 * The documented defaults. `targetLambdaD = 0.25`: 1.28 expected attempts
 * when the estimate is right, and still under 2 (e^0.69) when the true rate
 * (or the true per-document cost) is up to 2.77× what the rule assumed, which
 * covers a burst arriving faster than the 60 s estimate follows.
 */
export const DEFAULT_CONTENTION: ContentionModel = {
  perDocMs: 0.02,
  fixedMs: 5,
  targetLambdaD: 0.25,
  minPage: 32,
  maxPage: 1_000,
  rateTauMs: 60_000,
};

/** How long a page of `n` documents takes, ms. */
export function pageDurationMs(n: number, model: ContentionModel = DEFAULT_CONTENTION): number {
  return model.fixedMs + model.perDocMs * n;
}

/** Expected attempts of a page taking `durationMs` under `ratePerSec` writes: e^(λ·d). */
export function expectedAttempts(ratePerSec: number, durationMs: number): number {
  return Math.exp((ratePerSec * durationMs) / 1000);
}

/**
 * Expected documents read per committed page of `n` documents: every attempt
 * reads the page and the stats row.
 */
export function expectedReadsPerPage(
  ratePerSec: number,
  n: number,
  model: ContentionModel = DEFAULT_CONTENTION,
): number {
  return (n + 1) * expectedAttempts(ratePerSec, pageDurationMs(n, model));
}

/**
 * The page size for an org writing at `ratePerSec`: the largest page with
 * λ·d ≤ `targetLambdaD`, within [`minPage`, `maxPage`]. A rate of zero, or
 * not a finite positive number (no estimate yet), gets `maxPage`.
 */
export function adaptivePageSize(
  ratePerSec: number,
  model: ContentionModel = DEFAULT_CONTENTION,
): number {
  if (!Number.isFinite(ratePerSec) || ratePerSec <= 0) return model.maxPage;
  const budgetMs = (model.targetLambdaD / ratePerSec) * 1000;
  const n = Math.floor((budgetMs - model.fixedMs) / model.perDocMs);
  return Math.min(model.maxPage, Math.max(model.minPage, n));
}

/**
 * The highest write rate at which a `minPage` page still reads at most twice
 * its documents per commit: (minPage + 1)·e^(λ·d(minPage)) = 2·minPage.
 * Above it no page size helps: the page's fixed cost alone conflicts.
 */
export function maxSupportedRate(model: ContentionModel = DEFAULT_CONTENTION): number {
  const n = model.minPage;
  return (Math.log((2 * n) / (n + 1)) / pageDurationMs(n, model)) * 1000;
}

/**
 * An exponentially decayed count of an org's counted writes: `rate` writes/s
 * as of `at` (ms). Two numbers the stats row can carry, updated by the write
 * that already rewrites the row, so keeping it costs no extra read or write.
 */
export type WriteRate = { rate: number; at: number };

/** No writes seen yet. */
export const NO_WRITES: WriteRate = { rate: 0, at: 0 };

/** The estimate at `now` without a new write (decayed since `at`). */
export function currentRate(
  state: WriteRate,
  now: number,
  model: ContentionModel = DEFAULT_CONTENTION,
): number {
  const elapsed = Math.max(0, now - state.at);
  return state.rate * Math.exp(-elapsed / model.rateTauMs);
}

/**
 * The estimate after `writes` counted writes committed at `now`: the decayed
 * rate plus writes/τ. In steady state its mean is the true rate (each write
 * contributes e^(−age/τ)/τ, which integrates to 1 over its lifetime).
 * Out-of-order times (a write stamped before `at`) decay nothing.
 */
export function recordWrites(
  state: WriteRate,
  now: number,
  writes = 1,
  model: ContentionModel = DEFAULT_CONTENTION,
): WriteRate {
  const at = Math.max(now, state.at);
  return {
    rate: currentRate(state, at, model) + (writes * 1000) / model.rateTauMs,
    at,
  };
}
