/**
 * The contention model (convex/lib/contention.ts) and its deterministic
 * simulation (bench/contention.ts): the adaptive page keeps expected reads
 * per committed page within 2× of the page up to 100 writes/s per org, where
 * fixed 1,000-document pages do not.
 */
import { describe, expect, test } from "vitest";
import { RATES, report, simulate } from "../bench/contention";
import {
  DEFAULT_CONTENTION as M,
  NO_WRITES,
  adaptivePageSize,
  currentRate,
  expectedReadsPerPage,
  maxSupportedRate,
  pageDurationMs,
  recordWrites,
} from "../convex/lib/contention";

/** The highest rate this module states it supports, writes/s per org. */
const SUPPORTED_RATE = 100;

describe("page size rule", () => {
  test("no estimate, or a quiet org: the full page", () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 0.1, 1]) {
      expect(adaptivePageSize(rate)).toBe(M.maxPage);
    }
  });

  test("keeps λ·d at or under the target until the minimum page; never grows with the rate", () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let rate = 0.1; rate <= 500; rate *= 1.25) {
      const n = adaptivePageSize(rate);
      expect(Number.isInteger(n)).toBe(true);
      expect(n).toBeGreaterThanOrEqual(M.minPage);
      expect(n).toBeLessThanOrEqual(M.maxPage);
      expect(n).toBeLessThanOrEqual(previous);
      previous = n;
      const lambdaD = (rate * pageDurationMs(n)) / 1000;
      if (n > M.minPage) expect(lambdaD).toBeLessThanOrEqual(M.targetLambdaD + 1e-9);
      // The largest such page: one more document would break the bound.
      if (n > M.minPage && n < M.maxPage) {
        expect((rate * pageDurationMs(n + 1)) / 1000).toBeGreaterThan(M.targetLambdaD);
      }
    }
  });

  test("the stated supported rate is within what the model allows", () => {
    expect(maxSupportedRate()).toBeGreaterThanOrEqual(SUPPORTED_RATE);
    const n = adaptivePageSize(SUPPORTED_RATE);
    expect(expectedReadsPerPage(SUPPORTED_RATE, n) / n).toBeLessThanOrEqual(2);
    // Just past the supported rate the minimum page reads more than twice itself.
    const past = maxSupportedRate() * 1.05;
    expect(expectedReadsPerPage(past, M.minPage) / M.minPage).toBeGreaterThan(2);
  });
});

describe("write-rate estimate", () => {
  test("converges to the rate of steady writes and decays when they stop", () => {
    for (const rate of [0.5, 5, 50]) {
      let state = NO_WRITES;
      const gapMs = 1000 / rate;
      for (let t = gapMs; t <= 10 * M.rateTauMs; t += gapMs) state = recordWrites(state, t);
      // Just after a write the estimate sits about 1/(2τ) above the rate.
      expect(Math.abs(state.rate - rate)).toBeLessThanOrEqual(0.05 * rate + 1000 / M.rateTauMs);
      expect(currentRate(state, state.at + M.rateTauMs)).toBeCloseTo(state.rate / Math.E, 6);
      expect(currentRate(state, state.at + 10 * M.rateTauMs)).toBeLessThan(state.rate * 1e-4);
    }
  });

  test("batched writes count as many; a write stamped in the past decays nothing", () => {
    const one = recordWrites(NO_WRITES, 1_000, 10);
    expect(one.rate).toBeCloseTo((10 * 1000) / M.rateTauMs, 9);
    const late = recordWrites(one, 500);
    expect(late.at).toBe(1_000);
    expect(late.rate).toBeCloseTo((11 * 1000) / M.rateTauMs, 9);
    // Reading before `at` (clock skew) does not inflate it.
    expect(currentRate(one, 0)).toBe(one.rate);
  });
});

describe("simulation", () => {
  const results = [...RATES].map((rate) => ({
    rate,
    fixed: simulate("fixed", rate),
    adaptive: simulate("adaptive", rate),
  }));

  test("is deterministic", () => {
    expect(simulate("adaptive", 20)).toEqual(simulate("adaptive", 20));
    expect(simulate("fixed", 20, { seed: 1 })).not.toEqual(simulate("fixed", 20, { seed: 2 }));
  });

  test("matches the analytic e^(λd) for fixed pages (within 10%)", () => {
    for (const { fixed } of results) {
      expect(Math.abs(fixed.ratio / fixed.expectedRatio - 1)).toBeLessThan(0.1);
    }
  });

  test(`adaptive pages read at most 2× the page per commit for λ = 0.1 … ${SUPPORTED_RATE}`, () => {
    expect(results.map((r) => r.rate)).toContain(50);
    expect(Math.max(...results.map((r) => r.rate))).toBe(SUPPORTED_RATE);
    for (const { adaptive } of results) expect(adaptive.ratio).toBeLessThanOrEqual(2);
    // Fixed 1,000-document pages do not: 3.4× at 50 writes/s, ~12× at 100.
    const at = (rate: number) => results.find((r) => r.rate === rate);
    expect(at(50)?.fixed.ratio).toBeGreaterThan(3);
    expect(at(SUPPORTED_RATE)?.fixed.ratio).toBeGreaterThan(10);
    // Where the org is quiet, adaptive pages stay full size.
    expect(at(1)?.adaptive.meanPage).toBe(M.maxPage);
  });

  test("the report carries the table", () => {
    const text = report([1, 50]);
    expect(text).toContain("| 50 | 1,000 |");
    expect(text).toMatch(/\*\*\d+ writes\/s per org\*\*/);
    console.log(text);
  });
});
