/**
 * `npm run demo`: the module on convex-test's in-memory backend, no account
 * and no network. Three customers with history from before the counters, the
 * migration, a day of real operations, an edit behind the code's back, and
 * the daily recount that reports and repairs it; dashboards with the I/O of
 * every badge query next to a scanning count.
 */
import { afterAll, expect, test, vi } from "vitest";
import { newBackend } from "../tests/support/setup";
import { quietLogs } from "../tests/support/recount";
import { holdScheduler, pendingJobs } from "../tests/support/scheduled";
import { stubWorkOSEnv } from "../tests/support/workos";
import { configureFourKites } from "./fourKitesApi";
import { quietComponentLogs, say } from "./print";
import { demoOrgs } from "./seeding";
import { LIVE_STEPS, STEPS, type Demo, type Step } from "./steps";

afterAll(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
});

test("demo", async () => {
  const started = performance.now();
  // The functions' logs, and what the workpool component logs on its own.
  const unmute = quietLogs();
  const unmuteComponents = quietComponentLogs();
  say();
  say("TMS org stats: exact per-organization counters on Convex");
  say("In-memory Convex backend (convex-test) with Convex's transaction limits enforced;");
  say("the module's real functions, no Convex account, no network.");
  stubWorkOSEnv();
  configureFourKites();
  // The demo's "now", to the hour: shipments are placed around it.
  const now = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const demo: Demo = {
    t: newBackend({ transactionLimits: true }),
    now,
    orgs: demoOrgs(now),
    ops: new Map(),
    planted: [],
  };
  const total = STEPS.length + LIVE_STEPS.length;
  const runStep = async (n: number, step: Step) => {
    say();
    say(`[${n}/${total}] ${step.title}`);
    const stepStarted = performance.now();
    await step.run(demo);
    say(`  (${((performance.now() - stepStarted) / 1000).toFixed(1)} s)`);
  };
  // Scheduled jobs wait for the steps, which run them one measured transaction at a time.
  await holdScheduler(demo.t, async () => {
    for (const [n, step] of STEPS.entries()) await runStep(n + 1, step);
    expect(await pendingJobs(demo.t)).toBe(0);
  });
  // Real timers from here: syncs make real HTTP requests and run on the workpool.
  for (const [n, step] of LIVE_STEPS.entries()) await runStep(STEPS.length + n + 1, step);
  unmuteComponents();
  unmute();
  say();
  say(`Done in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
});
