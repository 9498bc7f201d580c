/**
 * The org-day chart generator (`bench/chart.ts`): log-scale positions, one
 * polyline per implementation and panel, failed days marked and never drawn
 * as a (cheap) point, days not run left out and named.
 */
import { describe, expect, test } from "vitest";
import { bytesLabel, logPosition, orgDayChart, type ChartPoint } from "../bench/chart";

function point(
  implementation: string,
  size: number,
  users: number,
  bytes: number,
  outcome: ChartPoint["outcome"] = "ok",
): ChartPoint {
  return { implementation, size, users, bytes, outcome };
}

/** Two panels (U = 1, 20), three sizes, four implementations. */
const POINTS: ChartPoint[] = [1, 20].flatMap((u) => [
  point("stats", 1_000, u, 5e6 * u),
  point("stats", 10_000, u, 6e6 * u),
  point("stats", 100_000, u, 2e7 * u),
  point("seed", 1_000, u, 8e6 * u),
  point("seed", 10_000, u, 9e6 * u),
  point("seed", 100_000, u, 3e7 * u),
  point("aggregate", 1_000, u, 1e8 * u),
  point("aggregate", 10_000, u, 2e8 * u),
  point("aggregate", 100_000, u, 0, "not run"),
  point("scan", 1_000, u, 5e8 * u),
  point("scan", 10_000, u, 5e9 * u),
  point("scan", 100_000, u, 1, "fails"),
]);

function attr(tag: string, name: string): string {
  const m = new RegExp(`${name}="([^"]*)"`).exec(tag);
  if (m === null) throw new Error(`no ${name} in ${tag}`);
  return m[1];
}

describe("logPosition", () => {
  test.each([
    [1_000, 0],
    [10_000, 50],
    [100_000, 100],
    [Math.sqrt(10) * 1_000, 25],
  ])("%d on [1,000, 100,000] → %d px of 100", (value, expected) => {
    expect(logPosition(value, [1_000, 100_000], [0, 100])).toBeCloseTo(expected, 6);
  });

  test("an upward axis maps the top of the range to the smaller pixel", () => {
    expect(logPosition(1e9, [1e6, 1e9], [300, 0])).toBe(0);
    expect(logPosition(1e6, [1e6, 1e9], [300, 0])).toBe(300);
    expect(logPosition(1e7, [1e6, 1e9], [300, 0])).toBeCloseTo(200, 6);
  });

  test.each([
    [0, [1, 10]],
    [-5, [1, 10]],
    [5, [10, 1]],
    [5, [0, 10]],
  ] as const)("refuses %d on %j", (value, domain) => {
    expect(() => logPosition(value, domain, [0, 100])).toThrow(/positive, increasing/);
  });
});

describe("orgDayChart", () => {
  const svg = orgDayChart(POINTS, "bytes per org-day");
  const polylines = [...svg.matchAll(/<polyline [^>]*>/g)].map((m) => m[0]);

  test("one polyline per implementation and panel, for the days that ran", () => {
    // aggregate and scan still have points at 1k and 10k; 2 panels.
    expect(polylines).toHaveLength(4 * 2);
    const panels = svg.split('<g class="panel"').slice(1);
    expect(panels.map((p) => attr(p, "data-users"))).toEqual(["1", "20"]);
    for (const panel of panels) {
      const lines = [...panel.matchAll(/<polyline [^>]*>/g)].map((m) =>
        attr(m[0], "data-implementation"),
      );
      expect(lines).toEqual(["stats", "seed", "aggregate", "scan"]);
    }
  });

  test("points sit on log scales: equal ratios give equal distances", () => {
    const stats = polylines.find((p) => attr(p, "data-implementation") === "stats");
    const coords = attr(stats ?? "", "points")
      .split(" ")
      .map((xy) => xy.split(",").map(Number));
    expect(coords).toHaveLength(3);
    // Sizes 1k, 10k, 100k: the same horizontal step twice.
    expect(coords[1][0] - coords[0][0]).toBeCloseTo(coords[2][0] - coords[1][0], 0);
    // Bytes grow upward (smaller y), and 5e6 → 2e7 spans log10(4) of a decade.
    expect(coords[2][1]).toBeLessThan(coords[0][1]);
    const scan = polylines.find((p) => attr(p, "data-implementation") === "scan") ?? "";
    const scanY = attr(scan, "points")
      .split(" ")
      .map((xy) => Number(xy.split(",")[1]));
    const decade = scanY[0] - scanY[1]; // 5e8 → 5e9: one decade
    expect((coords[0][1] - coords[2][1]) / decade).toBeCloseTo(Math.log10(4), 1);
  });

  test("a failed day is marked, never drawn as a point of its line", () => {
    const failed = [...svg.matchAll(/<path class="failed"[^>]*>/g)].map((m) => m[0]);
    expect(failed).toHaveLength(2);
    for (const f of failed) {
      expect(attr(f, "data-implementation")).toBe("scan");
      expect(attr(f, "data-size")).toBe("100000");
    }
    const scan = polylines.filter((p) => attr(p, "data-implementation") === "scan");
    for (const line of scan) expect(attr(line, "points").split(" ")).toHaveLength(2);
    expect(svg).toContain(">fails</text>");
  });

  test("a day not run is left out and named", () => {
    const aggregate = polylines.filter((p) => attr(p, "data-implementation") === "aggregate");
    for (const line of aggregate) expect(attr(line, "points").split(" ")).toHaveLength(2);
    expect(svg).toContain("not run: aggregate at 100k");
  });

  test("is a standalone SVG document, the same for the same figures", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(orgDayChart(POINTS, "bytes per org-day")).toBe(svg);
  });
});

test.each([
  [1e3, "1 KB"],
  [1e6, "1 MB"],
  [1e9, "1 GB"],
  [1e12, "1 TB"],
  [100, "100 B"],
])("bytesLabel(%d) = %s", (n, label) => {
  expect(bytesLabel(n)).toBe(label);
});
