/**
 * `npm run bench`: builds one world per org size, runs every scenario listed
 * for that size (in `scenarios.ts` order), writes bench/RESULTS.md and
 * bench/results.json, and fails when a docs/DESIGN.md §4 budget does not hold.
 */
import { expect, test } from "vitest";
import { quietLogs } from "../tests/support/recount";
import { fmtInt } from "../tests/support/measure";
import { requireSameAcrossSizes, type Result } from "./lib";
import { machine, packageVersions, partition, writeReport, type BenchReport } from "./report";
import { holdScheduler, pendingJobs } from "../tests/support/scheduled";
import { FILTERED_SCENARIOS, REBUILDS } from "./filteredScenarios";
import { SCENARIOS as BASE_SCENARIOS } from "./scenarios";
import { differences } from "../tests/support/truth";
import { buildWorld, progress, type AggregateOption } from "./world";
import { combineDays, runOrgDay, type DayTally } from "./orgDay";
import { orgDayReport } from "./orgDayReport";

/**
 * Org sizes at which the aggregate comparison is seeded. It costs one
 * component call per document, a few milliseconds each in convex-test, so
 * larger sizes would take the run past its time budget; they are reported as
 * "not run" with the rate this run measured.
 */
const AGGREGATE_SIZES = new Set([1_000, 10_000]);

/**
 * The org day: measured whole at these sizes; at the larger ones only its
 * size-dependent steps are run (the recount, the badge queries) and the rest
 * is the largest full day's (the same work at every size), labeled as such.
 * A whole day at 100,000 loads would take convex-test over half an hour (its
 * index queries read the whole table).
 */
const DAY_FULL_SIZES = new Set([1_000, 10_000]);
const DAY_RECOUNT_ONLY_SIZES = new Set([100_000]);

/**
 * A partial run (`BENCH_SCENARIOS="filtered badges,org day" BENCH_SIZES=1000 npm run bench`):
 * only the scenarios whose names start with one of the comma-separated
 * prefixes (`org day` for the org day), at the listed sizes; it prints its
 * rows and budget checks and writes no report.
 */
const ONLY = process.env.BENCH_SCENARIOS?.split(",").map((s) => s.trim()) ?? null;
const ONLY_SIZES = process.env.BENCH_SIZES?.split(",").map(Number) ?? null;
const picked = (name: string) => ONLY === null || ONLY.some((p) => name.startsWith(p));
const SCENARIOS = [...BASE_SCENARIOS, ...FILTERED_SCENARIOS].filter((s) => picked(s.name));

/** `40 s`, `12 min` */
function duration(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

test("benchmark", async () => {
  const started = Date.now();
  const unmute = quietLogs();
  const sizes = [...new Set(SCENARIOS.flatMap((s) => s.sizes))]
    .filter((size) => ONLY_SIZES === null || ONLY_SIZES.includes(size))
    .sort((a, b) => a - b);
  const results: Result[] = [];
  const worlds: BenchReport["worlds"] = [];
  const dayTallies: DayTally[] = [];
  let lastFullDay: DayTally[] | null = null;
  // Milliseconds per aggregate entry, from the largest world seeded so far.
  let msPerEntry: number | null = null;

  for (const size of sizes) {
    const aggregate: AggregateOption = AGGREGATE_SIZES.has(size)
      ? { seed: true }
      : {
          seed: false,
          why:
            `seeding the aggregate takes one component call per document` +
            (msPerEntry === null
              ? ""
              : ` (${msPerEntry.toFixed(1)} ms each in this run, and growing with the tree: at least ` +
                `${duration(msPerEntry * 2 * size)} for ${fmtInt(2 * size)} entries)`) +
            `; measured at ${[...AGGREGATE_SIZES].map(fmtInt).join(" and ")} loads only`,
        };
    progress(`world of ${fmtInt(size)} loads`);
    const world = await buildWorld(size, aggregate);
    if (world.aggregate.seeded) msPerEntry = world.aggregate.ms / world.aggregate.entries;
    const measureStarted = Date.now();
    // Scheduled work waits for the scenarios, which run and measure it job by job.
    await holdScheduler(world.t, async () => {
      for (const scenario of SCENARIOS) {
        if (!scenario.sizes.includes(size)) continue;
        progress(`${scenario.name} at ${fmtInt(size)} loads`);
        results.push(...(await scenario.run(world)));
      }
      // The org day last: it adds a day of documents to the world.
      if (!picked("org day")) {
        // A partial run without it.
      } else if (DAY_FULL_SIZES.has(size)) {
        progress(`org day at ${fmtInt(size)} loads`);
        const day = await runOrgDay(world);
        dayTallies.push(...day);
        lastFullDay = day;
      } else if (DAY_RECOUNT_ONLY_SIZES.has(size)) {
        progress(`org day at ${fmtInt(size)} loads: recount and badge queries`);
        const full = lastFullDay;
        if (full === null) throw new Error("no full org day measured before");
        const partial = await runOrgDay(world, "recount only");
        dayTallies.push(
          ...partial.map((p) => {
            const f = full.find((d) => d.implementation === p.implementation);
            if (f === undefined) throw new Error(`no full day for ${p.implementation}`);
            return combineDays(f, p);
          }),
        );
      }
      const left = await pendingJobs(world.t);
      if (left > 0) throw new Error(`${left} scheduled jobs were left unmeasured`);
    });
    // The comparisons roll their writes back and the counted writes keep the
    // counters exact: check it from scratch, or the figures mean nothing.
    const drift = await differences(world.t, world.org);
    if (drift.length > 0) throw new Error(`counters drifted: ${JSON.stringify(drift)}`);
    progress(`counters still exact at ${fmtInt(size)} loads (recounted from scratch)`);
    worlds.push({
      size,
      seedMs: world.seedMs,
      aggregateSeedMs: world.aggregate.seeded ? world.aggregate.ms : null,
      measureMs: Date.now() - measureStarted,
    });
  }

  const partitioned = partition(results);
  let rows = partitioned.rows;
  for (const scenario of SCENARIOS) {
    if (scenario.sameAcrossSizes === true) rows = requireSameAcrossSizes(rows, scenario.name);
  }
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    worlds,
    machine: machine(),
    versions: packageVersions(),
    rows,
    notRun: partitioned.notRun,
    overBudget: rows.filter((r) => r.withinBudget === false),
    orgDay: orgDayReport(
      dayTallies,
      [...REBUILDS].map(([size, r]) => ({
        size,
        documentsRead: r.io.documentsRead,
        bytesRead: r.io.bytesRead,
        rows: r.rows,
      })),
    ),
  };
  unmute();
  if (ONLY !== null || ONLY_SIZES !== null) {
    for (const r of rows) {
      progress(
        `${r.scenario} | ${r.implementation} | ${fmtInt(r.size)} | read ${fmtInt(r.documentsRead)} ` +
          `(${fmtInt(r.bytesRead)} B) | written ${fmtInt(r.documentsWritten)} | ${r.outcome}` +
          `${r.withinBudget === undefined ? "" : r.withinBudget ? " | within" : " | OVER BUDGET"}` +
          `${r.note === undefined ? "" : ` | ${r.note}`}`,
      );
    }
    for (const f of report.orgDay.figures) progress(`org day | ${JSON.stringify(f)}`);
    expect(report.overBudget.map((r) => `${r.scenario} at ${r.size}`)).toEqual([]);
    return;
  }
  await writeReport(report);
  progress(
    `wrote bench/RESULTS.md and bench/results.json in ${(report.durationMs / 1000).toFixed(0)} s`,
  );
  for (const r of report.overBudget) {
    progress(`OVER BUDGET: ${r.scenario} (${r.implementation}) at ${fmtInt(r.size)}: ${r.budget}`);
  }
  for (const failure of report.orgDay.overBudget) progress(`OVER BUDGET: org day: ${failure}`);
  expect(report.overBudget.map((r) => `${r.scenario} at ${r.size}`)).toEqual([]);
  expect(report.orgDay.overBudget).toEqual([]);
});
