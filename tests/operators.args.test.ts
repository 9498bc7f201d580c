/**
 * Issue 22, operator surface: every operator function (an `internal*`
 * function an operator runs with `npx convex run`) checks its arguments the
 * same way. An org id that is empty, blank or 10,000 characters, a limit,
 * page size, cursor, id or time out of range is `INVALID_ARGUMENT` naming
 * the field, before the function reads anything, and nothing is written.
 *
 * The guard enumerates the registered functions of every module: a new
 * internal function fails here until it is classified (operator, or
 * machinery with the reason), and a new argument of an operator function
 * fails until its kind is named below, which decides the bad values it is
 * fed.
 */
import { makeFunctionReference } from "convex/server";
import { ConvexError, type Value } from "convex/values";
import { describe, expect, test } from "vitest";
import { dump, newBackend, ORG_A, type Backend } from "./support/setup";

type Registered = {
  isInternal?: boolean;
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  exportArgs?: () => string;
};

const loaded = import.meta.glob<Record<string, unknown>>(
  ["../convex/*.ts", "../convex/migrations/*.ts", "!../convex/*.config.ts", "!../convex/schema.ts"],
  { eager: true },
);

/** Every internal function, by the path `npx convex run` calls it by. */
const internalFunctions = new Map<string, Registered & { kind: "query" | "mutation" | "action" }>();
for (const [file, exports] of Object.entries(loaded)) {
  const module = file.replace(/^\.\.\/convex\//, "").replace(/\.ts$/, "");
  for (const [name, value] of Object.entries(exports)) {
    const fn = value as Registered | null;
    if ((typeof fn !== "object" && typeof fn !== "function") || fn === null) continue;
    if (fn.isInternal !== true) continue;
    const kind = fn.isQuery ? "query" : fn.isMutation ? "mutation" : fn.isAction ? "action" : null;
    if (kind === null) continue;
    internalFunctions.set(`${module}:${name}`, { ...fn, kind });
  }
}

/** Functions operators run (docs/operations.md, the modules' headers). */
const OPERATOR_FUNCTIONS = [
  "stats:recalculateOrgStats",
  "stats:recalculateAllOrgs",
  "stats:recountStatus",
  "stats:listDriftReports",
  "stats:cancelRecounts",
  "migrations/initializeOrgStats:run",
  "migrations/initializeOrgStats:dryRunReport",
  "migrations/initializeOrgStats:seedStep",
  "migrations/initializeOrgStats:startDryRun",
  "alerts:alertStatus",
  "alerts:sendDriftAlert",
  "alerts:retryAlert",
  "fourKitesSync:syncFromFourKites",
  "fourKitesSync:syncIntegration",
  "fourKitesSync:status",
  "fourKitesSync:dispatchDueSyncs",
  "retention:purgeExpired",
  "retention:purgeBatch",
  "organizations:syncFromWorkOS",
  "lazyLoadPromotion:periodicCleanup",
];

/** Internal functions operators do not run, and why their arguments need no operator checks. */
const MACHINERY: Record<string, string> = {
  "stats:recountPage": "pool work item; its org, table and run come from a started run",
  "stats:recountWorkDone": "the stats pool's completion; its context is the module's own",
  "stats:recountWalkStep": "pool work item of a job's walk",
  "stats:cancelRecountsBatch": "continuation every cancel schedules; no arguments",
  "alerts:deliver": "pool work item of one delivery",
  "alerts:recordAttempt": "called by the delivery action with its own attempt",
  "alerts:deliveryComplete": "the pool's completion of a delivery",
  "fourKitesSync:checkOperatorRun": "called by syncFromFourKites after its argument checks",
  "fourKitesSync:beginSyncRun": "called by a sync run with the org it runs",
  "fourKitesSync:commitSyncPage": "called by a sync run with its lease",
  "fourKitesSync:finishSyncRun": "called by a sync run with its lease",
  "fourKitesIntegrations:storeNewIntegration": "called by the public action after its checks",
  "fourKitesIntegrations:storeIntegrationUpdate": "called by the public action after its checks",
  "fourKitesIntegrations:storedConnection": "called by the public action after its checks",
  "fourKitesSyncHelpers:importLoadFromShipment": "called by a sync run with parsed shipments",
  "fourKitesSyncHelpers:importUnmappedLoad": "called by a sync run with parsed shipments",
  "fourKitesSyncHelpers:importShipmentBatch": "called by a sync run with parsed shipments",
  "lanes:continueLaneBackfill": "scheduled continuation of a lane's backfill",
  "lazyLoadPromotion:expireStaleLoads": "scheduled continuation of the cleanup",
  "lazyLoadPromotion:restartDueLaneBackfills": "scheduled continuation of the cleanup",
  "organizations:applyWebhookEvent": "the webhook's mutation: verified payloads (INVALID_PAYLOAD)",
  "organizations:applyOrganizationEvent": "any receiver's verified payloads (INVALID_PAYLOAD)",
  "organizations:upsertOrganizationsBatch": "called by syncFromWorkOS with WorkOS's listing",
  "organizations:registryPage": "called by syncFromWorkOS with the cursors paginate hands out",
};

type ArgKind =
  | "orgId"
  | "id"
  | "limit"
  | "count"
  | "cursor"
  | "time"
  | "duration"
  | "entities"
  | "enum"
  | "flag";

/** The kind of every argument an operator function takes, by its name. */
const ARG_KINDS: Record<string, ArgKind> = {
  workosOrgId: "orgId",
  reportId: "id",
  alertId: "id",
  dryRunId: "id",
  limit: "limit",
  maxDocs: "count",
  maxPages: "count",
  batchSize: "count",
  cursor: "cursor",
  requestedAt: "time",
  cutoff: "time",
  graceMs: "duration",
  entities: "entities",
  entity: "enum",
  phase: "enum",
  table: "enum",
  force: "flag",
  schedulePages: "flag",
  dryRun: "flag",
};

const LONG = "x".repeat(10_000);

/** Values every check of the kind refuses with `INVALID_ARGUMENT` naming the field. */
const BAD: Record<ArgKind, Value[]> = {
  orgId: ["", "   ", LONG],
  id: ["", "  ", LONG],
  limit: [-1, 1.5, 101, Number.NaN, Number.POSITIVE_INFINITY, 10_000],
  count: [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e12],
  cursor: ["", "  ", LONG],
  time: [Number.NaN, Number.POSITIVE_INFINITY],
  duration: [-1, Number.NaN, Number.POSITIVE_INFINITY],
  entities: [[], ["loads", "loads"]],
  enum: [],
  flag: [],
};

/** Values the argument validators refuse (outside a literal union). */
const REFUSED_BY_VALIDATOR: Partial<Record<ArgKind, Value[]>> = {
  enum: ["bogus"],
  entities: [["bogus"]],
};

/** A valid value for a required argument (the bad value goes into one field at a time). */
const VALID: Partial<Record<string, Value>> = {
  workosOrgId: ORG_A,
  reportId: "nope",
  alertId: "nope",
  phase: "organizations",
  cursor: null,
  table: "statsDriftReports",
  cutoff: 1,
};

type Field = { name: string; optional: boolean };

function fieldsOf(path: string): Field[] {
  const fn = internalFunctions.get(path);
  if (fn?.exportArgs === undefined) throw new Error(`${path} is not registered`);
  const args = JSON.parse(fn.exportArgs()) as {
    type: string;
    value?: Record<string, { optional: boolean }>;
  };
  if (args.type !== "object" || args.value === undefined) {
    throw new Error(`${path}: arguments are not an object validator`);
  }
  return Object.entries(args.value).map(([name, f]) => ({ name, optional: f.optional }));
}

/** Valid arguments for `path`: its required ones, and `phase` (a cursor names its phase). */
function baseArgs(path: string): Record<string, Value> {
  const args: Record<string, Value> = {};
  for (const { name, optional } of fieldsOf(path)) {
    if (optional && name !== "phase") continue;
    const value = VALID[name];
    if (value === undefined) throw new Error(`${path}: no valid value for ${name}`);
    args[name] = value;
  }
  return args;
}

type Outcome = { error: Value; reads: number | null };

/** The error `path` answers `args` with, and (queries, mutations) what it read before. */
async function refusal(t: Backend, path: string, args: Record<string, Value>): Promise<Outcome> {
  const fn = internalFunctions.get(path);
  const errorOf = (e: unknown): Value => {
    if (e instanceof ConvexError) return e.data as Value;
    return e instanceof Error ? e.message : String(e);
  };
  if (fn?.kind === "action") {
    try {
      await t.action(makeFunctionReference<"action">(path), args);
    } catch (e) {
      return { error: errorOf(e), reads: null };
    }
    throw new Error(`${path} accepted ${JSON.stringify(args).slice(0, 200)}`);
  }
  const body = async (
    ctx: {
      meta: { getTransactionMetrics: () => Promise<Record<string, { used: number }>> };
    },
    call: () => Promise<unknown>,
  ): Promise<{ error: Value; reads: number } | null> => {
    const before = await ctx.meta.getTransactionMetrics();
    try {
      await call();
    } catch (e) {
      const after = await ctx.meta.getTransactionMetrics();
      const reads =
        after.documentsRead.used -
        before.documentsRead.used +
        after.databaseQueries.used -
        before.databaseQueries.used;
      return { error: errorOf(e), reads };
    }
    return null;
  };
  const outcome =
    fn?.kind === "query"
      ? await t.query(async (ctx) =>
          body(ctx, () => ctx.runQuery(makeFunctionReference<"query">(path), args)),
        )
      : await t.mutation(async (ctx) =>
          body(ctx, () => ctx.runMutation(makeFunctionReference<"mutation">(path), args)),
        );
  if (outcome === null) throw new Error(`${path} accepted ${JSON.stringify(args).slice(0, 200)}`);
  return outcome;
}

describe("every operator function checks its arguments the same way", () => {
  test("every internal function is classified: operator, or machinery with the reason", () => {
    expect(internalFunctions.size).toBeGreaterThan(30);
    const unclassified = [...internalFunctions.keys()].filter(
      (path) => !OPERATOR_FUNCTIONS.includes(path) && MACHINERY[path] === undefined,
    );
    expect(unclassified).toEqual([]);
    for (const path of [...OPERATOR_FUNCTIONS, ...Object.keys(MACHINERY)]) {
      expect(internalFunctions.has(path), `${path} is listed but not registered`).toBe(true);
    }
    expect(OPERATOR_FUNCTIONS.filter((path) => MACHINERY[path] !== undefined)).toEqual([]);
  });

  test("every argument of an operator function has a kind", () => {
    const unnamed = OPERATOR_FUNCTIONS.flatMap((path) =>
      fieldsOf(path)
        .filter(({ name }) => ARG_KINDS[name] === undefined)
        .map(({ name }) => `${path}.${name}`),
    );
    expect(unnamed).toEqual([]);
  });

  test.each(OPERATOR_FUNCTIONS)(
    "%s: INVALID_ARGUMENT naming the field, before any read, nothing written",
    async (path) => {
      const t = newBackend();
      const before = await dump(t);
      const base = baseArgs(path);
      let cases = 0;
      for (const { name } of fieldsOf(path)) {
        const kind = ARG_KINDS[name];
        for (const bad of BAD[kind]) {
          const { error, reads } = await refusal(t, path, { ...base, [name]: bad });
          expect(error, `${path} ${name}=${String(bad).slice(0, 20)}`).toMatchObject({
            code: "INVALID_ARGUMENT",
            field: name,
          });
          if (reads !== null) expect(reads, `${path} read before refusing ${name}`).toBe(0);
          cases++;
        }
        for (const bad of REFUSED_BY_VALIDATOR[kind] ?? []) {
          const { error } = await refusal(t, path, { ...base, [name]: bad });
          expect(String(error)).toMatch(/Validator error/);
          cases++;
        }
      }
      expect(await dump(t)).toEqual(before);
      // Functions without arguments have nothing to refuse; the others were fed bad values.
      if (fieldsOf(path).some(({ name }) => ARG_KINDS[name] !== "flag")) {
        expect(cases).toBeGreaterThan(0);
      }
    },
  );
});

describe("the org id cases of the issue", () => {
  test.each([
    ["", "empty"],
    ["   ", "blank"],
    [LONG, "10,000 characters"],
  ])("stats:recountStatus and stats:cancelRecounts refuse %#: %s", async (workosOrgId) => {
    const t = newBackend();
    for (const path of ["stats:recountStatus", "stats:cancelRecounts"]) {
      const { error, reads } = await refusal(t, path, { workosOrgId });
      expect(error).toMatchObject({ code: "INVALID_ARGUMENT", field: "workosOrgId" });
      expect(reads).toBe(0);
    }
  });

  test("a cursor without its phase, a cursor with one org, entity without org", async () => {
    const t = newBackend();
    for (const path of ["stats:recalculateAllOrgs", "migrations/initializeOrgStats:run"]) {
      const { error } = await refusal(t, path, { cursor: "org_x" });
      expect(error).toMatchObject({ code: "INVALID_ARGUMENT", field: "cursor" });
    }
    const status = await refusal(t, "stats:recountStatus", { workosOrgId: ORG_A, cursor: "c" });
    expect(status.error).toMatchObject({ code: "INVALID_ARGUMENT", field: "cursor" });
    const drift = await refusal(t, "stats:listDriftReports", { entity: "loads" });
    expect(drift.error).toMatchObject({ code: "INVALID_ARGUMENT", field: "entity" });
  });

  test("an org id with surrounding spaces is the org id", async () => {
    const t = newBackend();
    const status = await t.query(makeFunctionReference<"query">("stats:recountStatus"), {
      workosOrgId: ` ${ORG_A} `,
    });
    expect(status).toMatchObject({ rows: [], running: [] });
    // A well-formed id of no dry run is unknown, not malformed.
    const { error } = await refusal(t, "migrations/initializeOrgStats:dryRunReport", {
      dryRunId: "nope",
    });
    expect(error).toMatchObject({ code: "NOT_FOUND" });
  });
});
