/**
 * A deterministic simulation of recount pages under write contention
 * (docs/contention.md): fixed 1,000-document pages vs pages sized by
 * `adaptivePageSize` from the write-rate estimate the stats row keeps.
 *
 * Virtual time only (no wall clock), a seeded random source: the same run
 * prints the same table. Writes arrive as a Poisson process at λ per second;
 * a page attempt of n documents takes d(n) ms and reads n + 1 documents (the
 * page and the stats row); any write committing inside the attempt
 * invalidates it and the page runs again right away, re-choosing its size
 * from the estimate (which that write just raised). Every write updates the
 * estimate, as every counted write rewrites the stats row.
 *
 * `npx tsx bench/contention.ts` writes bench/contention.md.
 */
import {
  DEFAULT_CONTENTION,
  adaptivePageSize,
  currentRate,
  expectedReadsPerPage,
  maxSupportedRate,
  pageDurationMs,
  recordWrites,
  type ContentionModel,
  type WriteRate,
} from "../convex/lib/contention";
import { prng } from "../tests/support/random";

/** The rates the table reports, writes/s per org (0.1 … 50, and 100: the highest stated). */
export const RATES = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 50, 100] as const;

/** Fixed-size pages (today's recount) vs the adaptive rule. */
export type Policy = "fixed" | "adaptive";

export type SimResult = {
  policy: Policy;
  ratePerSec: number;
  pages: number;
  attempts: number;
  documentsRead: number;
  documentsCounted: number;
  /** Mean page size over committed pages. */
  meanPage: number;
  /** documentsRead / pages. */
  readsPerPage: number;
  /** readsPerPage / meanPage: 1 means no re-reads. */
  ratio: number;
  /** The analytic e^(λ·d)·(n+1)/n for the mean page (check on the simulation). */
  expectedRatio: number;
};

/**
 * Simulates `pages` committed pages at `ratePerSec` under `policy`, after
 * `warmupMs` of writes (the org has been busy before the recount starts).
 */
export function simulate(
  policy: Policy,
  ratePerSec: number,
  options: { pages?: number; seed?: number; warmupMs?: number; model?: ContentionModel } = {},
): SimResult {
  const model = options.model ?? DEFAULT_CONTENTION;
  const pages = options.pages ?? 2_000;
  const next = prng(options.seed ?? 0x5eed);
  const meanGapMs = 1000 / ratePerSec;
  const gap = () => -Math.log(1 - next()) * meanGapMs;

  let estimate: WriteRate = { rate: 0, at: 0 };
  let nextWrite = gap();
  // Writes before the first page only feed the estimate.
  const warmupMs = options.warmupMs ?? 5 * model.rateTauMs;
  while (nextWrite < warmupMs) {
    estimate = recordWrites(estimate, nextWrite, 1, model);
    nextWrite += gap();
  }

  let now = warmupMs;
  let committed = 0;
  let attempts = 0;
  let documentsRead = 0;
  let documentsCounted = 0;
  while (committed < pages) {
    const n =
      policy === "fixed"
        ? model.maxPage
        : adaptivePageSize(currentRate(estimate, now, model), model);
    const end = now + pageDurationMs(n, model);
    attempts++;
    documentsRead += n + 1;
    let conflicted = false;
    while (nextWrite <= end) {
      estimate = recordWrites(estimate, nextWrite, 1, model);
      nextWrite += gap();
      conflicted = true;
    }
    now = end;
    if (!conflicted) {
      committed++;
      documentsCounted += n;
    }
  }
  const meanPage = documentsCounted / pages;
  const readsPerPage = documentsRead / pages;
  return {
    policy,
    ratePerSec,
    pages,
    attempts,
    documentsRead,
    documentsCounted,
    meanPage,
    readsPerPage,
    ratio: readsPerPage / meanPage,
    expectedRatio: expectedReadsPerPage(ratePerSec, meanPage, model) / meanPage,
  };
}

function fmt(n: number, digits = 2): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** The markdown report: the model, the table, the supported rate. */
export function report(rates: readonly number[] = RATES, model = DEFAULT_CONTENTION): string {
  const rows = rates.map((rate) => ({
    rate,
    fixed: simulate("fixed", rate, { model }),
    adaptive: simulate("adaptive", rate, { model }),
  }));
  const lines = [
    "## Recount pages under write contention (simulation)",
    "",
    `Model (docs/contention.md): a page of n documents takes d = ${model.fixedMs} ms + ${model.perDocMs * 1000} µs × n`,
    `and reads n + 1 documents per attempt; writes are Poisson at λ per second; an attempt commits`,
    `only when no write lands inside it. Adaptive pages keep λ̂·d ≤ ${model.targetLambdaD} (λ̂: the stats row's`,
    `${model.rateTauMs / 1000} s decayed write rate), within ${model.minPage}–${model.maxPage} documents. 2,000 committed pages per`,
    `row, seeded, virtual time (\`npx tsx bench/contention.ts\`).`,
    "",
    "| λ (writes/s) | fixed: page | fixed: attempts/page | fixed: reads/committed page | fixed: × page | adaptive: mean page | adaptive: attempts/page | adaptive: reads/committed page | adaptive: × page | e^(λd) check (adaptive) |",
    "| -----------: | ----------: | -------------------: | --------------------------: | ------------: | ------------------: | ----------------------: | -----------------------------: | ---------------: | -----------------------: |",
    ...rows.map(
      ({ rate, fixed, adaptive }) =>
        `| ${rate} | ${fmt(fixed.meanPage, 0)} | ${fmt(fixed.attempts / fixed.pages)} | ${fmt(fixed.readsPerPage, 0)} | ${fmt(fixed.ratio)} | ${fmt(adaptive.meanPage, 0)} | ${fmt(adaptive.attempts / adaptive.pages)} | ${fmt(adaptive.readsPerPage, 0)} | ${fmt(adaptive.ratio)} | ${fmt(adaptive.expectedRatio)} |`,
    ),
    "",
    `Highest rate supported (a ${model.minPage}-document page still reads ≤ 2× its documents per commit):`,
    `**${fmt(maxSupportedRate(model), 0)} writes/s per org** under this cost model; the rule is stated and tested`,
    `up to 100 writes/s. Above it the page's fixed cost alone conflicts; see docs/contention.md.`,
    "",
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const { writeFileSync } = await import("node:fs");
  const { format } = await import("prettier");
  // Formatted as `npm run format:check` expects, so the file can be committed as written.
  const text = await format(report(), { parser: "markdown", printWidth: 100 });
  writeFileSync(new URL("./contention.md", import.meta.url), text);
  process.stdout.write(text);
}

// Run as a script (`npx tsx bench/contention.ts`), not when imported by a test.
if (typeof process !== "undefined" && process.argv[1]?.endsWith("contention.ts")) {
  void main();
}
