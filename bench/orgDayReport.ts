/**
 * The org-day part of the report: figures per implementation, size and
 * number of users, the module's split by source, the budget check (the
 * module's day must not cost more than the seed system's design at any size)
 * and the points of the chart.
 */
import { fmtBytes, fmtInt, sumIo } from "../tests/support/measure";
import type { ChartPoint } from "./chart";
import {
  bytes,
  DAY_IMPLEMENTATIONS,
  DAY_SOURCES,
  DAY_USERS,
  dayFigure,
  type DayFigure,
  type DayTally,
} from "./orgDay";

/** One rebuild of the filtered badges' rebuild-from-source cache at an org size (issue 20). */
export type RebuildCost = { size: number; documentsRead: number; bytesRead: number; rows: number };

export type OrgDayReport = {
  tallies: DayTally[];
  figures: DayFigure[];
  /** The rebuild-from-source comparison of the filtered badges, measured per size. */
  rebuilds: RebuildCost[];
  /** Budget failures, e.g. "stats day over seed day at 10,000 loads, U = 20". */
  overBudget: string[];
};

/**
 * Figures for every tally and number of users, and the budget check: the
 * module's day must not cost more than the seed system's design for the same
 * badges. With filtered counters on, the module's day carries their writes
 * and each user's filtered badges, and the seed design kept filtered badges
 * with its rebuild-from-source cache: its side of the comparison then adds
 * that design's rebuilds of the day (`REBUILDS_PER_DAY.orgDay` times one
 * measured rebuild's reads; its cache writes and its badges' reads left out,
 * so the seed side stays a lower bound).
 */
export function orgDayReport(tallies: DayTally[], rebuilds: RebuildCost[] = []): OrgDayReport {
  const figures = tallies.flatMap((t) => DAY_USERS.map((u) => dayFigure(t, u)));
  const overBudget: string[] = [];
  for (const f of figures.filter((g) => g.implementation === "stats")) {
    const seed = figures.find(
      (g) => g.implementation === "seed" && g.size === f.size && g.users === f.users,
    );
    const where = `${fmtInt(f.size)} loads, U = ${f.users}`;
    const rebuild = rebuilds.find((r) => r.size === f.size);
    if (f.outcome !== "ok") overBudget.push(`the module's day fails at ${where}: ${f.reason}`);
    else if (seed === undefined || seed.outcome !== "ok") {
      overBudget.push(`no seed-design day to compare with at ${where}`);
    } else if (f.filtered !== undefined && rebuild === undefined) {
      overBudget.push(`no rebuild-from-source cost to compare the filtered day with at ${where}`);
    } else {
      const mine = f.filtered === undefined ? f.total : sumIo([f.total, f.filtered.badges]);
      const theirs =
        REBUILDS_PER_DAY.orgDay * (f.filtered === undefined ? 0 : (rebuild?.bytesRead ?? 0));
      if (bytes(mine) > bytes(seed.total) + theirs) {
        overBudget.push(`the module's day costs more bytes than the seed design's at ${where}`);
      }
      if (mine.bytesRead > seed.total.bytesRead + theirs) {
        overBudget.push(`the module's day reads more bytes than the seed design's at ${where}`);
      }
    }
  }
  return { tallies, figures, rebuilds, overBudget };
}

/** The chart's points: bytes read + written per day. */
export function orgDayPoints(report: OrgDayReport): ChartPoint[] {
  return report.figures.map((f) => ({
    implementation: f.implementation,
    size: f.size,
    users: f.users,
    outcome: f.outcome,
    bytes: bytes(f.total),
    computed: f.computed !== undefined,
  }));
}

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...body.map(line)].join("\n");
}

function ratio(n: number, of: number): string {
  if (of === 0) return "";
  const r = n / of;
  return r >= 100 ? `${fmtInt(Math.round(r))}×` : `${r.toFixed(r >= 10 ? 0 : 1)}×`;
}

function cell(
  f: DayFigure | undefined,
  stats: DayFigure | undefined,
  value: (f: DayFigure) => number,
): string {
  if (f === undefined) return "";
  if (f.outcome === "not run") return "not run";
  if (f.outcome === "fails") return "**fails**";
  const r = stats?.outcome === "ok" ? ` (${ratio(value(f), value(stats))})` : "";
  return `${dayBytes(value(f))}${r}${f.computed === undefined ? "" : " †"}`;
}

/** `fmtBytes`, and GiB from 1 GiB up (badges of scanning orgs reach hundreds of GiB a day). */
function dayBytes(n: number): string {
  const gib = 1024 ** 3;
  return n >= gib ? `${(n / gib).toFixed(1)} GiB` : fmtBytes(n);
}

function pct(part: number, whole: number): string {
  return whole === 0 ? "" : `${Math.round((part / whole) * 100)}%`;
}

/** The footnote for computed figures, and the check that supports them. */
function computedNote(report: OrgDayReport): string {
  const computed = report.figures.find((f) => f.computed !== undefined)?.computed;
  if (computed === undefined) return "All figures measured whole.";
  // The computation assumes the same work at every size: show that it held between full days.
  const full = report.tallies.filter((t) => t.computed === undefined && t.notRun === undefined);
  const sizes = [...new Set(full.map((t) => t.size))].sort((a, b) => a - b);
  const same = (["stats", "seed", "scan"] as const).map((impl) => {
    const docs = sizes.map((size) => {
      const t = full.find((d) => d.implementation === impl && d.size === size);
      return t === undefined
        ? "n/a"
        : DAY_SOURCES.filter((s) => s !== "recount")
            .map((s) => `${t.sources[s].documentsRead}/${t.sources[s].documentsWritten}`)
            .join(" ");
    });
    return `${impl}: ${new Set(docs).size === 1 ? "the same" : "**different**"}`;
  });
  return (
    `† computed, not measured whole: ${computed}. The basis: documents read/written by the ` +
    `size-independent steps in the full days at ${sizes.map(fmtInt).join(" and ")} loads — ` +
    `${same.join(", ")}.`
  );
}

/** The RESULTS.md section. */
export function orgDayMarkdown(report: OrgDayReport): string {
  const sizes = [...new Set(report.figures.map((f) => f.size))].sort((a, b) => a - b);
  const find = (impl: string, size: number, users: number) =>
    report.figures.find((f) => f.implementation === impl && f.size === size && f.users === users);
  const grid = (value: (f: DayFigure) => number) =>
    table(
      ["org size", "users", ...DAY_IMPLEMENTATIONS],
      sizes.flatMap((size) =>
        DAY_USERS.map((u) => [
          fmtInt(size),
          String(u),
          ...DAY_IMPLEMENTATIONS.map((impl) =>
            cell(find(impl, size, u), find("stats", size, u), value),
          ),
        ]),
      ),
    );
  const split = table(
    ["org size", "users", ...DAY_SOURCES, "badge re-runs", "total"],
    sizes.flatMap((size) =>
      DAY_USERS.map((u) => {
        const f = find("stats", size, u);
        if (f === undefined) return [fmtInt(size), String(u)];
        const total = bytes(f.total);
        const part = (n: number) => `${dayBytes(n)} (${pct(n, total)})`;
        return [
          fmtInt(size),
          String(u),
          ...DAY_SOURCES.map((s) => part(f.split[s])),
          part(f.split.badges),
          dayBytes(total),
        ];
      }),
    ),
  );
  const reruns = table(
    [
      "org size",
      "implementation",
      "load badge re-runs / user",
      "invoice badge re-runs / user",
      "stats-row writes (loads / invoices; by the recount)",
      "transactions (imports, writes, backfill, cleanup, recount)",
      "outcome",
    ],
    report.tallies.map((t) => [
      fmtInt(t.size),
      t.implementation,
      t.notRun === undefined ? fmtInt(t.reruns.loads) : "",
      t.notRun === undefined ? fmtInt(t.reruns.invoices) : "",
      t.statsRowWrites === undefined
        ? ""
        : `${fmtInt(t.statsRowWrites.loads)} / ${fmtInt(t.statsRowWrites.invoices)}; ${fmtInt(t.statsRowWrites.byRecount)}`,
      t.notRun === undefined ? DAY_SOURCES.map((s) => fmtInt(t.transactions[s])).join(", ") : "",
      t.notRun !== undefined
        ? `not run: ${t.notRun}`
        : t.failed !== undefined
          ? `**fails**: ${t.failed}`
          : "ok",
    ]),
  );
  const verdict =
    report.overBudget.length === 0
      ? "holds: the module's day reads and moves fewer bytes than the seed design's at every size and number of users"
      : `**fails**: ${report.overBudget.join("; ")}`;
  const filtered = filteredSection(report, sizes);
  return [
    "## Org day",
    "One deterministic day of an org (profile and invalidation rules: " +
      "[docs/org-day.md](../docs/org-day.md)): 96 FourKites pulls, dispatcher status changes, four " +
      "billing runs, a lane with backfill, hourly cleanup, the daily recount, and U users with the " +
      "load and invoice badges open. The same work at every org size. Every figure is a sum of " +
      "measured transactions; badge re-runs are each badge's measured cost times the re-runs its " +
      "invalidation rule gives, times U. A day in which a step breaks a Convex limit **fails**; it " +
      "is never counted as cheap.",
    `Budget (the module's day ≤ the seed design's day for the same badges, bytes read and bytes read + written, at every size and U; with filtered counters on, the module's day includes their writes and the filtered badges, and the seed design's adds its rebuild-from-source cache's ${REBUILDS_PER_DAY.orgDay} rebuilds, reads only): ${verdict}.`,
    "![Bytes per org-day by org size](org-day.svg)",
    computedNote(report),
    "### Bytes read per org-day (× the module's)",
    grid((f) => f.total.bytesRead),
    "### Bytes read + written per org-day (× the module's)",
    grid((f) => bytes(f.total)),
    "### Where the module's bytes go (read + written)",
    split,
    "### Re-runs and transactions",
    reruns,
    ...filtered,
  ].join("\n\n");
}

/** Rebuilds per org-day of the rebuild-from-source design: this day's cadence, a busy org's. */
const REBUILDS_PER_DAY = { orgDay: 96, busy: 1_440 } as const;

/** The org day with filtered badges open (issue 20), next to the rebuild-from-source design. */
function filteredSection(report: OrgDayReport, sizes: number[]): string[] {
  const stats = report.figures.filter((f) => f.implementation === "stats" && f.filtered);
  if (stats.length === 0) return [];
  const tally = report.tallies.find((t) => t.implementation === "stats" && t.filtered);
  const badges = tally?.filtered?.badges.join("; ") ?? "";
  const body = sizes.flatMap((size) =>
    DAY_USERS.map((u) => {
      const f = stats.find((g) => g.size === size && g.users === u);
      const rebuild = (report.rebuilds ?? []).find((r) => r.size === size);
      if (f?.filtered === undefined) return [fmtInt(size), String(u)];
      const day = bytes(f.total);
      const extra = bytes(f.filtered.badges);
      const perDay = (n: number) =>
        rebuild === undefined ? "not measured" : dayBytes(n * rebuild.bytesRead);
      return [
        fmtInt(size),
        String(u),
        dayBytes(day) + (f.computed === undefined ? "" : " †"),
        `${dayBytes(extra)} (${fmtInt(f.filtered.rerunsPerUser)} re-runs / user)`,
        dayBytes(day + extra),
        perDay(REBUILDS_PER_DAY.orgDay),
        perDay(REBUILDS_PER_DAY.busy),
      ];
    }),
  );
  return [
    "### With filtered badges open (issue 20)",
    `Each user also has the planner's filtered load badges open (${badges}). A filtered badge ` +
      "re-runs only when a document it read changed (its read set, logged per badge and checked " +
      "after every transaction of the day); each re-run is measured. Next to it, the " +
      "rebuild-from-source design of issue 20: one rebuild reads every load of the org (measured " +
      'in "filtered badge, rebuild from source"), times the rebuilds of a day at its cadence ' +
      `(a change in each of the day's ${REBUILDS_PER_DAY.orgDay} 15-minute slots; ` +
      `${fmtInt(REBUILDS_PER_DAY.busy)} for a busy org changing every minute). Its cache writes and ` +
      "its badges' reads are not counted: a lower bound. † computed as above.",
    table(
      [
        "org size",
        "users",
        "module day",
        "filtered badges",
        "module day with filtered badges",
        `rebuild design: ${REBUILDS_PER_DAY.orgDay} rebuilds, bytes read`,
        `busy org: ${fmtInt(REBUILDS_PER_DAY.busy)} rebuilds`,
      ],
      body,
    ),
  ];
}
