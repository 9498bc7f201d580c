/**
 * In-memory backends for the benchmark and the demo: the project's real
 * functions plus the bench-only functions (`bench/functions/`: the comparisons
 * and a setup helper) and the aggregate component instances, on one
 * convex-test backend.
 */
import { convexTest } from "convex-test";
import { modules, registerComponents, type Backend } from "../tests/support/setup";
import { AGGREGATE_COMPONENTS, app, benchSchema, registerAggregate } from "./app";
import * as benchAggregate from "./functions/aggregate";
import * as benchDay from "./functions/day";
import * as benchFiltered from "./functions/filtered";
import * as benchScan from "./functions/scan";
import * as benchSeed from "./functions/seed";
import * as benchSetup from "./functions/setup";

/** Bench modules by function path prefix (`benchScan:countLoads`, ...). */
const BENCH_MODULES = { benchScan, benchAggregate, benchSetup, benchSeed, benchDay, benchFiltered };

/** Typed references to the bench-only functions. */
export const { api: benchApi, internal: benchInternal } = app.defineModules(BENCH_MODULES);

/**
 * convex-test resolves a function path against the keys of the module map,
 * relative to the folder it finds `_generated` in (the keys are relative to
 * the file that globbed them, `tests/support/setup.ts`), so the bench modules
 * are added under that folder's prefix. They exist only here.
 */
const convexRoot = (Object.keys(modules).find((k) => k.includes("/_generated/")) ?? "").split(
  "_generated",
)[0];
const benchModuleMap: Record<string, () => Promise<object>> = Object.fromEntries(
  Object.entries(BENCH_MODULES).map(([name, module]) => [
    `${convexRoot}${name}.ts`,
    async () => module,
  ]),
);

/**
 * A fresh backend running the project's functions and the bench functions,
 * with both aggregate instances registered (they cost nothing until used).
 */
export function newBenchBackend(options: { transactionLimits?: boolean } = {}): Backend {
  const t = convexTest({
    schema: benchSchema,
    modules: { ...modules, ...benchModuleMap },
    transactionLimits: options.transactionLimits ?? true,
  });
  registerComponents(t);
  for (const name of AGGREGATE_COMPONENTS) registerAggregate(t, name);
  // The extra bench table changes the schema's type, not the project's tables.
  return t as unknown as Backend;
}
