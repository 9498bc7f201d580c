/**
 * Writes what a benchmark run measured: `bench/RESULTS.md` (tables, machine,
 * versions) and `bench/results.json` (every row, for tools). The markdown is
 * passed through prettier so `npm run format:check` accepts it as written.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { format } from "prettier";
import { fmtBytes, fmtInt, limitName } from "../tests/support/measure";
import { isNotRun, type NotRun, type Result, type Row } from "./lib";
import { orgDayChart } from "./chart";
import { orgDayMarkdown, orgDayPoints, type OrgDayReport } from "./orgDayReport";

export type Machine = {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
};

export type BenchReport = {
  generatedAt: string;
  durationMs: number;
  /** Wall-clock per world: seeding, aggregate seeding, measuring + from-scratch check. */
  worlds: { size: number; seedMs: number; aggregateSeedMs: number | null; measureMs: number }[];
  machine: Machine;
  versions: Record<string, string>;
  rows: Row[];
  notRun: NotRun[];
  /** Rows with a budget that did not hold. */
  overBudget: Row[];
  /** The org-day scenario (issue 13). */
  orgDay: OrgDayReport;
};

const ROOT = join(__dirname, "..");

/** Packages whose versions decide the figures. */
const PACKAGES = ["convex", "convex-test", "@convex-dev/aggregate", "vitest", "@edge-runtime/vm"];

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PACKAGES) {
    const text = readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8");
    const parsed: unknown = JSON.parse(text);
    const version =
      typeof parsed === "object" && parsed !== null && "version" in parsed ? parsed.version : null;
    out[name] = typeof version === "string" ? version : "unknown";
  }
  return out;
}

/** Splits scenario results into measured rows and not-run entries. */
export function partition(results: Result[]): { rows: Row[]; notRun: NotRun[] } {
  const rows: Row[] = [];
  const notRun: NotRun[] = [];
  for (const r of results) {
    if (isNotRun(r)) notRun.push(r);
    else rows.push(r);
  }
  return { rows, notRun };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...body.map(line)].join("\n");
}

function outcome(r: Row): string {
  if (r.outcome === "ok") return "ok";
  return `**fails**: over the ${limitName(r.error ?? "")}`;
}

function within(r: Row): string {
  if (r.withinBudget === undefined) return "";
  return r.withinBudget ? "yes" : "**NO**";
}

/** Transactions and the largest per-transaction reads, for rows of a series. */
function seriesCells(r: Row): string[] {
  return [
    r.transactions === undefined ? "" : fmtInt(r.transactions),
    r.maxPerTransaction === undefined ? "" : fmtInt(r.maxPerTransaction.documentsRead),
    r.maxPerTransaction === undefined ? "" : fmtBytes(r.maxPerTransaction.bytesRead),
  ];
}

const SERIES_HEADER = ["transactions", "max docs read / tx", "max bytes read / tx"];

function sectionFor(scenario: string, rows: Row[]): string {
  const series = rows.some((r) => r.transactions !== undefined);
  const notes = rows.some((r) => r.note !== undefined);
  const budgeted = rows.some((r) => r.budget !== undefined);
  const header = [
    "org size",
    "implementation",
    "docs read",
    "bytes read",
    "docs written",
    "bytes written",
    "index ranges",
    ...(series ? SERIES_HEADER : []),
    "outcome",
    ...(budgeted ? ["within budget"] : []),
    ...(notes ? ["note"] : []),
  ];
  const body = rows.map((r) => [
    fmtInt(r.size),
    r.implementation,
    fmtInt(r.documentsRead),
    fmtBytes(r.bytesRead),
    fmtInt(r.documentsWritten),
    fmtBytes(r.bytesWritten),
    fmtInt(r.databaseQueries),
    ...(series ? seriesCells(r) : []),
    outcome(r),
    ...(budgeted ? [within(r)] : []),
    ...(notes ? [r.note ?? ""] : []),
  ]);
  const budgets = [...new Set(rows.flatMap((r) => (r.budget === undefined ? [] : [r.budget])))];
  const budgetLine = budgets.length === 0 ? "" : `\n\nBudget: ${budgets.join("; ")}.`;
  return `### ${scenario}${budgetLine}\n\n${table(header, body)}`;
}

/** Average stored size of a document, from the scan rows that completed. */
function averageSize(rows: Row[], scenario: string): string {
  const scan = rows.find(
    (r) => r.scenario === scenario && r.implementation === "scan" && r.outcome === "ok",
  );
  return scan === undefined || scan.documentsRead === 0
    ? "n/a"
    : `${fmtInt(Math.round(scan.bytesRead / scan.documentsRead))} B`;
}

export function markdown(report: BenchReport): string {
  const m = report.machine;
  const scenarios = [...new Set(report.rows.map((r) => r.scenario))];
  const budgeted = scenarios.flatMap((s) =>
    report.rows.filter((r) => r.scenario === s && r.budget !== undefined),
  );
  const versions = Object.entries(report.versions)
    .map(([name, v]) => `${name} ${v}`)
    .join(", ");
  const worlds = report.worlds
    .map(
      (w) =>
        `${fmtInt(w.size)} loads: seed ${seconds(w.seedMs)}` +
        (w.aggregateSeedMs === null ? "" : `, aggregate seed ${seconds(w.aggregateSeedMs)}`) +
        `, measure + exactness check ${seconds(w.measureMs)}`,
    )
    .join("; ");
  const verdict =
    report.overBudget.length === 0
      ? `all ${budgeted.length} budget checks hold`
      : `**${report.overBudget.length} of ${budgeted.length} budget checks fail**`;
  const parts = [
    "# Benchmark results",
    "Written by `npm run bench`; do not edit by hand. Every figure is what this run measured with " +
      "`ctx.meta.getTransactionMetrics()` on convex-test's in-memory backend, with Convex's " +
      "transaction limits enforced. How to read it: [README.md](README.md).",
    [
      `- Run: ${report.generatedAt}, ${seconds(report.durationMs)} in total (${worlds}).`,
      `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}.`,
      `- Packages: ${versions}.`,
      `- Documents: loads ${averageSize(report.rows, "count loads")}, invoices ` +
        `${averageSize(report.rows, "count invoices")} on average (from the scans at 1,000).`,
      `- Verdict: ${verdict}.`,
    ].join("\n"),
    "## Budgets (docs/DESIGN.md §4)",
    "Every `stats` row with a budget. For operations that take several transactions " +
      "(lane backfill, cleanup, recount) the figures are totals over all of them, next to the " +
      "number of transactions and the most any one of them read.",
    table(
      [
        "operation",
        "org size",
        "docs read",
        "bytes read",
        "docs written",
        ...SERIES_HEADER,
        "budget",
        "within",
      ],
      budgeted.map((r) => [
        r.scenario,
        fmtInt(r.size),
        fmtInt(r.documentsRead),
        fmtBytes(r.bytesRead),
        fmtInt(r.documentsWritten),
        ...seriesCells(r),
        r.budget ?? "",
        within(r),
      ]),
    ),
    "## Side by side",
    "`stats`: the project's counters. `scan`: counting by reading the org's index. " +
      "`aggregate`: @convex-dev/aggregate, a TableAggregate per table with the org as " +
      "namespace and the status as key. Index ranges are Convex's `databaseQueries` (limit 4,096).",
    ...scenarios.map((s) =>
      sectionFor(
        s,
        report.rows.filter((r) => r.scenario === s),
      ),
    ),
  ];
  parts.push(orgDayMarkdown(report.orgDay));
  if (report.notRun.length > 0) {
    // One line per (size, implementation, reason): the reasons repeat across scenarios.
    const groups = new Map<string, NotRun[]>();
    for (const n of report.notRun) {
      const key = `${n.size}\u0000${n.implementation}\u0000${n.notRun}`;
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    parts.push(
      "## Not run",
      table(
        ["org size", "implementation", "scenarios", "why"],
        [...groups.values()].map((g) => [
          fmtInt(g[0].size),
          g[0].implementation,
          g.map((n) => n.scenario).join(", "),
          g[0].notRun,
        ]),
      ),
    );
  }
  parts.push(contentionSection());
  return parts.join("\n\n") + "\n";
}

/**
 * The contention simulation's table (`bench/contention.md`, written by
 * `npx tsx bench/contention.ts`, deterministic), so RESULTS.md holds it too.
 */
function contentionSection(): string {
  const path = join(ROOT, "bench", "contention.md");
  return existsSync(path)
    ? readFileSync(path, "utf8").trim()
    : "## Recount pages under write contention\n\nnot run: bench/contention.md missing";
}

/** Path of the org-day chart, shown by the README. */
export const CHART_PATH = join(ROOT, "bench", "org-day.svg");

/**
 * Writes `bench/org-day.svg` from what `bench/results.json` holds (not from
 * memory: the chart always shows the committed figures).
 */
export function writeChart(): void {
  const parsed = JSON.parse(readFileSync(join(ROOT, "bench", "results.json"), "utf8")) as Pick<
    BenchReport,
    "orgDay"
  >;
  const svg = orgDayChart(
    orgDayPoints(parsed.orgDay),
    "Database bytes (read + written) per org-day, by org size",
  );
  writeFileSync(CHART_PATH, svg);
}

/** Writes `bench/RESULTS.md`, `bench/results.json` and, from the latter, `bench/org-day.svg`. */
export async function writeReport(report: BenchReport): Promise<void> {
  const md = await format(markdown(report), { parser: "markdown", printWidth: 100 });
  writeFileSync(join(ROOT, "bench", "RESULTS.md"), md);
  writeFileSync(join(ROOT, "bench", "results.json"), JSON.stringify(report, null, 2) + "\n");
  writeChart();
}
