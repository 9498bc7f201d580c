/**
 * The org-day chart: database bytes per org-day against org size, both axes
 * on a log scale, one panel per number of users and one line per
 * implementation. Pure (figures in, SVG text out) so that `report.ts` writes
 * it from what `bench/results.json` holds and a unit test can check it; no
 * browser or network needed.
 */

/** What the chart needs of one implementation's day (see `orgDay.ts`). */
export type ChartPoint = {
  implementation: string;
  size: number;
  users: number;
  outcome: "ok" | "fails" | "not run";
  /** Bytes read + written over the day. */
  bytes: number;
  /** Computed from measured parts rather than measured whole (drawn hollow). */
  computed?: boolean;
};

/** Line colours by implementation, in legend order; others get grey. */
export const SERIES_COLORS: Record<string, string> = {
  stats: "#1b7837",
  seed: "#2166ac",
  aggregate: "#b2182b",
  scan: "#7f3b08",
};

const PANEL = { width: 300, height: 240, left: 64, right: 14, top: 34, bottom: 44 };
const LEGEND_HEIGHT = 46;

/**
 * Position of `value` on a log scale mapping [lo, hi] onto [from, to]
 * (pixels; `to` may be smaller than `from` for an upward axis).
 */
export function logPosition(
  value: number,
  [lo, hi]: readonly [number, number],
  [from, to]: readonly [number, number],
): number {
  if (value <= 0 || lo <= 0 || hi <= lo) throw new Error("logPosition: positive, increasing range");
  const f = (Math.log10(value) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
  return from + f * (to - from);
}

/** `1 KB`, `10 MB`, `1 GB` for powers of ten (decimal units, as bandwidth is billed). */
export function bytesLabel(n: number): string {
  const units: [number, string][] = [
    [1e12, "TB"],
    [1e9, "GB"],
    [1e6, "MB"],
    [1e3, "KB"],
  ];
  for (const [size, unit] of units) if (n >= size) return `${+(n / size).toPrecision(3)} ${unit}`;
  return `${n} B`;
}

function sizeLabel(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Round to 0.1 px so the SVG text is stable and small. */
function px(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

/**
 * The chart as SVG text. Failed days are drawn as a cross at the top of
 * their panel ("fails": no figure counts as cheap); days not run are left out
 * and listed under the legend.
 */
export function orgDayChart(points: readonly ChartPoint[], title: string): string {
  const users = [...new Set(points.map((p) => p.users))].sort((a, b) => a - b);
  const implementations = [...new Set(points.map((p) => p.implementation))];
  const sizes = [...new Set(points.map((p) => p.size))].sort((a, b) => a - b);
  const ok = points.filter((p) => p.outcome === "ok" && p.bytes > 0);
  const xDomain: [number, number] =
    sizes.length > 1 ? [sizes[0], sizes[sizes.length - 1]] : [sizes[0] / 10, sizes[0] * 10];
  const yDomain: [number, number] = [
    10 ** Math.floor(Math.log10(Math.min(...ok.map((p) => p.bytes)))),
    10 ** Math.ceil(Math.log10(Math.max(...ok.map((p) => p.bytes)))),
  ];
  if (yDomain[0] === yDomain[1]) yDomain[1] *= 10;
  const width = PANEL.width * users.length;
  const height = PANEL.height + LEGEND_HEIGHT + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escape(title)}</text>`,
  ];
  users.forEach((u, panel) => {
    const x0 = panel * PANEL.width + PANEL.left;
    const x1 = (panel + 1) * PANEL.width - PANEL.right;
    const y0 = 30 + PANEL.height - PANEL.bottom;
    const y1 = 30 + PANEL.top;
    const x = (size: number) => logPosition(size, xDomain, [x0, x1]);
    const y = (bytes: number) => logPosition(bytes, yDomain, [y0, y1]);
    out.push(`<g class="panel" data-users="${u}">`);
    out.push(
      `<text x="${px((x0 + x1) / 2)}" y="${px(y1 - 10)}" text-anchor="middle">` +
        `U = ${u} user${u === 1 ? "" : "s"}</text>`,
    );
    // Decades on the y axis, org sizes on the x axis.
    for (let d = yDomain[0]; d <= yDomain[1]; d *= 10) {
      out.push(
        `<line x1="${px(x0)}" x2="${px(x1)}" y1="${px(y(d))}" y2="${px(y(d))}" stroke="#e0e0e0"/>`,
        `<text x="${px(x0 - 4)}" y="${px(y(d) + 4)}" text-anchor="end">${bytesLabel(d)}</text>`,
      );
    }
    for (const s of sizes) {
      out.push(
        `<line x1="${px(x(s))}" x2="${px(x(s))}" y1="${px(y0)}" y2="${px(y1)}" stroke="#e0e0e0"/>`,
        `<text x="${px(x(s))}" y="${px(y0 + 14)}" text-anchor="middle">${sizeLabel(s)}</text>`,
      );
    }
    out.push(
      `<text x="${px((x0 + x1) / 2)}" y="${px(y0 + 30)}" text-anchor="middle">loads in the org</text>`,
    );
    for (const impl of implementations) {
      const color = SERIES_COLORS[impl] ?? "#888888";
      const mine = points.filter((p) => p.implementation === impl && p.users === u);
      const line = mine
        .filter((p) => p.outcome === "ok" && p.bytes > 0)
        .sort((a, b) => a.size - b.size);
      if (line.length > 0) {
        const coords = line.map((p) => `${px(x(p.size))},${px(y(p.bytes))}`).join(" ");
        out.push(
          `<polyline class="series" data-implementation="${impl}" points="${coords}" ` +
            `fill="none" stroke="${color}" stroke-width="2"/>`,
        );
        for (const p of line) {
          out.push(`<circle cx="${px(x(p.size))}" cy="${px(y(p.bytes))}" r="3" fill="${color}"/>`);
        }
      }
      for (const p of mine.filter((q) => q.outcome === "fails")) {
        const cx = x(p.size);
        const cy = y1 + 6;
        out.push(
          `<path class="failed" data-implementation="${impl}" data-size="${p.size}" ` +
            `d="M${px(cx - 5)},${px(cy - 5)}L${px(cx + 5)},${px(cy + 5)}` +
            `M${px(cx - 5)},${px(cy + 5)}L${px(cx + 5)},${px(cy - 5)}" ` +
            `stroke="${color}" stroke-width="2"/>`,
          `<text x="${px(cx - 8)}" y="${px(cy + 4)}" text-anchor="end" fill="${color}">fails</text>`,
        );
      }
    }
    out.push("</g>");
  });
  // Legend, and what was not run.
  const legendY = height - LEGEND_HEIGHT + 6;
  implementations.forEach((impl, i) => {
    const color = SERIES_COLORS[impl] ?? "#888888";
    const lx = 20 + i * 150;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 30}" y="${legendY + 4}">${escape(impl)}</text>`,
    );
  });
  const notRun = points.filter((p) => p.outcome === "not run");
  const notRunText = [...new Set(notRun.map((p) => `${p.implementation} at ${sizeLabel(p.size)}`))];
  out.push(
    `<text x="20" y="${legendY + 24}">✕ fails: a step broke a Convex transaction limit; ` +
      `○ computed from measured parts (RESULTS.md)` +
      (notRunText.length > 0 ? escape(`; not run: ${notRunText.join(", ")}`) : "") +
      `</text>`,
  );
  out.push("</svg>");
  return out.join("\n") + "\n";
}
