/**
 * `npm run demo`: the module on convex-test's in-memory backend, no account
 * and no network. Seeds three orgs, runs a day of operations and prints the
 * dashboards, with the I/O of every badge query next to a scanning count.
 */
import { expect, test } from "vitest";
import { newBenchBackend } from "../bench/backend";
import { say } from "./print";
import { demoOrgs } from "./seeding";
import { STEPS, type Demo } from "./steps";

test("demo", async () => {
  const started = Date.now();
  say();
  say("TMS org stats: exact per-organization counters on Convex");
  say("In-memory Convex backend (convex-test) with Convex's transaction limits enforced.");
  const demo: Demo = {
    t: newBenchBackend({ transactionLimits: true }),
    orgs: demoOrgs(),
    ops: new Map(),
  };
  let done = 0;
  for (const [n, step] of STEPS.entries()) {
    say();
    const tag = step.pending === undefined ? "" : `  [pending: ${step.pending}]`;
    say(`[${n + 1}/${STEPS.length}] ${step.title}${tag}`);
    const stepStarted = Date.now();
    if (step.run !== undefined) {
      await step.run(demo);
      done++;
      say(`  (${((Date.now() - stepStarted) / 1000).toFixed(1)} s)`);
    }
  }
  say();
  const pending = STEPS.filter((s) => s.pending !== undefined);
  const standIns = pending.filter((s) => s.run !== undefined).length;
  say(
    `Done in ${((Date.now() - started) / 1000).toFixed(0)} s: ${done} steps ran ` +
      `(${standIns} as a stand-in); ${pending.length} are pending on other issues.`,
  );
  expect(done).toBeGreaterThan(0);
});
