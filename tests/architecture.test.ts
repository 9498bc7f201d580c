/**
 * Architecture rules that keep the counters exact by construction and the
 * import graph pointing one way:
 * - only `convex/functions.ts` imports the raw mutation builders, so every
 *   mutation counts its plain `ctx.db` writes (the write layer);
 * - every registered function has `args` and `returns` validators, no `v.any()`;
 * - table names in every `ctx.db.get/patch/replace/delete`, no `.collect()`,
 *   no query `.filter` and no `.unique()` in Convex code;
 * - import directions (see "import directions" below, each rule shown
 *   catching a planted violation): registered modules do not import each
 *   other; model code takes its ctx types from `model/ctx.ts`, which imports
 *   only `_generated` and enums; `lib/` does not import `model/`; no import
 *   cycle; the stats module imports nothing of the app and points down inside
 *   (functions, write layer, recount, read side, engine); the schema imports
 *   only declaration files.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative } from "node:path";
import type { GenericValidator } from "convex/values";
import { describe, expect, test } from "vitest";
import schema from "../convex/schema";

const ROOT = join(__dirname, "..");
const CONVEX = join(ROOT, "convex");
/** The adoption rehearsal's own Convex code: the static rules and the cycle rule hold there too. */
const EXAMPLE_CONVEX = join(ROOT, "examples", "existing-app", "convex");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "_generated" || name === "node_modules") return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|js)$/.test(name) ? [path] : [];
  });
}

const files = [...sourceFiles(CONVEX), ...sourceFiles(EXAMPLE_CONVEX)].map((path) => ({
  path: relative(ROOT, path),
  text: readFileSync(path, "utf8"),
}));

/**
 * Matches of `pattern` in the files, as "file:line: code". The pattern runs
 * over the whole text, so a call split over several lines still matches.
 */
function offending(pattern: RegExp, allow: (path: string) => boolean = () => false): string[] {
  const global = new RegExp(
    pattern.source,
    pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`,
  );
  return files.flatMap(({ path, text }) =>
    allow(path)
      ? []
      : [...text.matchAll(global)].map((m) => {
          const line = text.slice(0, m.index).split("\n").length;
          return `${path}:${line}: ${m[0].replace(/\s+/g, " ")}`;
        }),
  );
}

describe("static rules", () => {
  test("the source scan sees the project's files", () => {
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        "convex/functions.ts",
        "convex/model/stats/write/db.ts",
        "convex/loads.ts",
        "examples/existing-app/convex/functions.ts",
      ]),
    );
  });

  test("only convex/functions.ts (each app's) imports raw mutation builders", () => {
    const isBuilders = (path: string) => /(^|\/)convex\/functions\.ts$/.test(path);
    const rawImports = files
      .filter(({ path }) => !isBuilders(path))
      .filter(({ text }) =>
        [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*["'][./]*_generated\/server["']/g)].some(
          ([, names]) => /(^|[\s,])(internalMutation|mutation)(\s|,|$)/.test(names),
        ),
      )
      .map(({ path }) => path);
    expect(rawImports).toEqual([]);
    // Nor through a namespace or default import.
    expect(
      offending(/import\s+(\*\s+as\s+)?\w+\s+from\s*["'][./]*_generated\/server["']/, isBuilders),
    ).toEqual([]);
  });

  test("ctx.db.get/patch/replace/delete always name the table", () => {
    // A string literal, or (in the stats module) the declared counted table.
    expect(offending(/\bdb\.(get|patch|replace|delete)\(\s*(?!["'\s]|def\.table\b)/)).toEqual([]);
  });

  test("no .collect() and no query .filter in Convex code", () => {
    expect(offending(/\.collect\(\)/)).toEqual([]);
    expect(offending(/\.filter\(\s*\(?\s*q\s*\)?\s*=>/)).toEqual([]);
  });

  test("no .unique() outside the uniqueness rule (model/uniqueness.ts)", () => {
    // Convex has no unique constraint: a second document (an import of an old
    // backup) would make `.unique()` throw. Single-document lookups go through
    // `pickUnique`, which picks one by a documented rule and reports the rest.
    const pattern = /\.unique\(\)/;
    expect(pattern.test('await ctx.db\n  .query("organizations")\n  .unique()')).toBe(true);
    expect(offending(pattern, (path) => path === "convex/model/uniqueness.ts")).toEqual([]);
  });

  test("no v.any() in Convex code", () => {
    expect(offending(/\bv\.any\(/)).toEqual([]);
  });
});

type SourceFile = { path: string; text: string };
type Edge = { from: string; to: string; names: string; line: number };

/**
 * The relative imports (static, re-exports and dynamic) of each file, as
 * edges between repo paths with `.ts` added: `convex/lanes.ts` importing
 * "./model/lanes/rules" gives `convex/lanes.ts -> convex/model/lanes/rules.ts`.
 * `names` is the import clause (`type { MutationCtx }`, `* as x`, ...).
 */
function importEdges(sources: SourceFile[]): Edge[] {
  const pattern =
    /(?:^|\n)\s*(?:import|export)\s+([^;]*?)\s*from\s*["'](\.[^"']*)["']|\bimport\(\s*["'](\.[^"']*)["']\s*\)/g;
  return sources.flatMap(({ path, text }) =>
    [...text.matchAll(pattern)].map((m) => {
      const spec = m[2] ?? m[3];
      let to = posix.normalize(posix.join(posix.dirname(path), spec));
      if (!/\.(ts|js)$/.test(to)) to = `${to}.ts`;
      const line = text.slice(0, m.index + m[0].search(/\S/)).split("\n").length;
      return { from: path, to, names: (m[1] ?? "").replace(/\s+/g, " "), line };
    }),
  );
}

/**
 * Top-level Convex files that register no function: the builders, the schema,
 * the stats engine's front door and the two config files. Every other
 * `convex/*.ts` and every `convex/migrations/*.ts` is a registered module.
 */
const NOT_REGISTERED = new Set([
  "convex/functions.ts",
  "convex/schema.ts",
  "convex/stats_helpers.ts",
  "convex/auth.config.ts",
  "convex/convex.config.ts",
]);

function isRegisteredModule(path: string): boolean {
  return /^convex\/(migrations\/)?[^/]+\.ts$/.test(path) && !NOT_REGISTERED.has(path);
}

const CTX_TYPES = /\b(QueryCtx|MutationCtx|ActionCtx)\b/;

/**
 * Declaration files: enums, validators and field declarations, no logic. The
 * schema imports only these, and these import only each other.
 */
const DECLARATION_FILES = new Set([
  "convex/model/enums.ts",
  "convex/model/counted.ts",
  "convex/model/fields.ts",
  "convex/model/alerts/fields.ts",
  "convex/model/fourKites/fields.ts",
  "convex/model/stats/declare.ts",
  "convex/model/stats/tables.ts",
]);

/** The stats module: it imports nothing of the app (see `model/stats/ctx.ts`). */
const STATS = "convex/model/stats/";
/** What the stats module may import besides itself: helpers that know no domain. */
const STATS_MAY_IMPORT = new Set([
  "convex/lib/errors.ts",
  "convex/lib/contention.ts",
  "convex/model/uniqueness.ts",
]);
/**
 * The stats module's layers, top to bottom: its function definitions and the
 * write layer above the read side and the recount, those above the engine,
 * the engine above rows, shadows and tables. A file imports only its own
 * layer or lower ones.
 */
const STATS_LAYERS: [string, RegExp][] = [
  ["functions", /^convex\/model\/stats\/(api|status)\.ts$/],
  ["write layer", /^convex\/model\/stats\/write\//],
  ["recount", /^convex\/model\/stats\/recount\//],
  ["read side", /^convex\/model\/stats\/read\.ts$/],
  ["engine", /^convex\/model\/stats\/engine\.ts$/],
];
function statsLayer(path: string): number {
  const i = STATS_LAYERS.findIndex(([, pattern]) => pattern.test(path));
  return i === -1 ? STATS_LAYERS.length : i;
}

/**
 * The import cycles among `sources` (strongly connected components of more
 * than one file, and files importing themselves), each as its sorted files.
 */
function importCycles(sources: SourceFile[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of importEdges(sources)) {
    if (e.to.includes("/_generated/")) continue;
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const { path } of sources) if (!index.has(path)) visit(path);
  return cycles;
}

/** The import rules, each a function from the files to its violations. */
const IMPORT_RULES: Record<string, (sources: SourceFile[]) => string[]> = {
  "no registered module imports another registered module": (sources) =>
    importEdges(sources)
      .filter((e) => isRegisteredModule(e.from) && isRegisteredModule(e.to) && e.from !== e.to)
      .map((e) => `${e.from}:${e.line} -> ${e.to}`),
  "model code imports neither functions.ts nor registered modules, and takes ctx types from model/ctx.ts":
    (sources) =>
      importEdges(sources)
        .filter((e) => e.from.startsWith("convex/model/") && e.from !== "convex/model/ctx.ts")
        .filter(
          (e) =>
            e.to === "convex/functions.ts" ||
            isRegisteredModule(e.to) ||
            (e.to === "convex/_generated/server.ts" && CTX_TYPES.test(e.names)),
        )
        .map((e) => `${e.from}:${e.line} -> ${e.to}`),
  "lib/ does not import model/": (sources) =>
    importEdges(sources)
      .filter((e) => e.from.startsWith("convex/lib/") && e.to.startsWith("convex/model/"))
      .map((e) => `${e.from}:${e.line} -> ${e.to}`),
  "no import cycle among convex/ files (outside _generated)": (sources) =>
    importCycles(sources).map((cycle) => `cycle: ${cycle.join(", ")}`),
  "the stats module imports nothing of the app (no _generated, alerts, organizations, FourKites)": (
    sources,
  ) =>
    importEdges(sources)
      .filter((e) => e.from.startsWith(STATS))
      .filter((e) => !e.to.startsWith(STATS) && !STATS_MAY_IMPORT.has(e.to))
      .map((e) => `${e.from}:${e.line} -> ${e.to}`),
  "inside the stats module, imports point down: functions, write layer, recount, read side, engine":
    (sources) =>
      importEdges(sources)
        .filter((e) => e.from.startsWith(STATS) && e.to.startsWith(STATS))
        .filter((e) => statsLayer(e.to) < statsLayer(e.from))
        .map((e) => `${e.from}:${e.line} -> ${e.to}`),
  "model/ctx.ts imports only _generated and enums": (sources) =>
    importEdges(sources)
      .filter((e) => e.from === "convex/model/ctx.ts")
      .filter((e) => !e.to.startsWith("convex/_generated/") && e.to !== "convex/model/enums.ts")
      .map((e) => `${e.from}:${e.line} -> ${e.to}`),
  "schema.ts imports only declaration files, which import only each other": (sources) =>
    importEdges(sources)
      .filter((e) => e.from === "convex/schema.ts" || DECLARATION_FILES.has(e.from))
      .filter((e) => !DECLARATION_FILES.has(e.to))
      .map((e) => `${e.from}:${e.line} -> ${e.to}`),
};

/**
 * Known violations being fixed on another branch (none today). Each entry must
 * still occur, so the list only shrinks: delete an entry when it is fixed.
 */
const PENDING: Record<string, string[]> = {
  "no registered module imports another registered module": [],
  "model code imports neither functions.ts nor registered modules, and takes ctx types from model/ctx.ts":
    [],
  "lib/ does not import model/": [],
  "no import cycle among convex/ files (outside _generated)": [],
  "the stats module imports nothing of the app (no _generated, alerts, organizations, FourKites)":
    [],
  "inside the stats module, imports point down: functions, write layer, recount, read side, engine":
    [],
  "model/ctx.ts imports only _generated and enums": [],
  "schema.ts imports only declaration files, which import only each other": [],
};

/** A violation without its line number, as `PENDING` lists it. */
const withoutLine = (violation: string) => violation.replace(/:\d+ -> /, " -> ");

/** One planted violation per rule, in a small in-memory tree. */
const PLANTED: Record<string, { file: SourceFile; expected: string }[]> = {
  "no registered module imports another registered module": [
    {
      file: { path: "convex/loads.ts", text: 'import { x } from "./invoices";\n' },
      expected: "convex/loads.ts:1 -> convex/invoices.ts",
    },
    {
      file: {
        path: "convex/migrations/seed.ts",
        text: '// seeds\nexport { vWalkStep } from "../stats";\n',
      },
      expected: "convex/migrations/seed.ts:2 -> convex/stats.ts",
    },
    {
      file: { path: "convex/lanes.ts", text: 'const m = await import("./lazyLoadPromotion");\n' },
      expected: "convex/lanes.ts:1 -> convex/lazyLoadPromotion.ts",
    },
  ],
  "model code imports neither functions.ts nor registered modules, and takes ctx types from model/ctx.ts":
    [
      {
        file: {
          path: "convex/model/loads/rules.ts",
          text: 'import type { MutationCtx } from "../../functions";\n',
        },
        expected: "convex/model/loads/rules.ts:1 -> convex/functions.ts",
      },
      {
        file: {
          path: "convex/model/lanes/rules.ts",
          text: 'import type {\n  DatabaseReader,\n  QueryCtx,\n} from "../../_generated/server";\n',
        },
        expected: "convex/model/lanes/rules.ts:1 -> convex/_generated/server.ts",
      },
      {
        file: {
          path: "convex/model/invoices/rules.ts",
          text: 'import { vSyncResult } from "../../fourKitesSync";\n',
        },
        expected: "convex/model/invoices/rules.ts:1 -> convex/fourKitesSync.ts",
      },
    ],
  "lib/ does not import model/": [
    {
      file: {
        path: "convex/lib/auth.ts",
        text: 'import { requireText } from "../model/validate";\n',
      },
      expected: "convex/lib/auth.ts:1 -> convex/model/validate.ts",
    },
  ],
  "no import cycle among convex/ files (outside _generated)": [
    {
      // The engine taking something from the write layer, which sits on it.
      file: {
        path: "convex/model/stats/engine.ts",
        text: 'import type { CountedDb } from "./write/db";\n',
      },
      expected: "cycle: convex/model/stats/engine.ts, convex/model/stats/write/db.ts",
    },
    {
      file: { path: "convex/model/stats/tables.ts", text: 'import { x } from "./tables";\n' },
      expected: "cycle: convex/model/stats/tables.ts",
    },
  ],
  "the stats module imports nothing of the app (no _generated, alerts, organizations, FourKites)": [
    {
      file: {
        path: "convex/model/stats/engine.ts",
        text: 'import { enqueueDriftAlert } from "../alerts/queue";\n',
      },
      expected: "convex/model/stats/engine.ts:1 -> convex/model/alerts/queue.ts",
    },
    {
      file: {
        path: "convex/model/stats/recount/orgWalk.ts",
        text: 'import { getOrganization } from "../../organizations/registry";\n',
      },
      expected: "convex/model/stats/recount/orgWalk.ts:1 -> convex/model/organizations/registry.ts",
    },
    {
      file: {
        path: "convex/model/stats/read.ts",
        text: 'import type { Doc } from "../../_generated/dataModel";\n',
      },
      expected: "convex/model/stats/read.ts:1 -> convex/_generated/dataModel.ts",
    },
    {
      file: {
        path: "convex/model/stats/recount/pages.ts",
        text: 'import { shipmentIdOf } from "../../fourKites/sync";\n',
      },
      expected: "convex/model/stats/recount/pages.ts:1 -> convex/model/fourKites/sync.ts",
    },
  ],
  "inside the stats module, imports point down: functions, write layer, recount, read side, engine":
    [
      {
        file: {
          path: "convex/model/stats/engine.ts",
          text: 'import { CountedDb } from "./write/db";\n',
        },
        expected: "convex/model/stats/engine.ts:1 -> convex/model/stats/write/db.ts",
      },
      {
        file: {
          path: "convex/model/stats/read.ts",
          text: 'import { startRecount } from "./recount/start";\n',
        },
        expected: "convex/model/stats/read.ts:1 -> convex/model/stats/recount/start.ts",
      },
      {
        file: {
          path: "convex/model/stats/recount/pages.ts",
          text: 'import { recountFunctions } from "../api";\n',
        },
        expected: "convex/model/stats/recount/pages.ts:1 -> convex/model/stats/api.ts",
      },
    ],
  "model/ctx.ts imports only _generated and enums": [
    {
      file: {
        path: "convex/model/ctx.ts",
        text: 'import type { StatsConfig } from "./stats/config";\n',
      },
      expected: "convex/model/ctx.ts:1 -> convex/model/stats/config.ts",
    },
  ],
  "schema.ts imports only declaration files, which import only each other": [
    {
      file: {
        path: "convex/schema.ts",
        text: 'import { vWalkStep } from "./model/stats/recount/orgWalk";\n',
      },
      expected: "convex/schema.ts:1 -> convex/model/stats/recount/orgWalk.ts",
    },
    {
      file: {
        path: "convex/model/counted.ts",
        text: 'import { entitiesOf } from "./stats/entities";\n',
      },
      expected: "convex/model/counted.ts:1 -> convex/model/stats/entities.ts",
    },
  ],
};

/** Imports each rule must allow (so the rules do not over-reach). */
const ALLOWED: SourceFile[] = [
  { path: "convex/loads.ts", text: 'import { mutation } from "./functions";\n' },
  { path: "convex/lanes.ts", text: 'import { getStatsRow } from "./stats_helpers";\n' },
  { path: "convex/loads.ts", text: 'import { createLoad } from "./model/loads/rules";\n' },
  { path: "convex/model/loads/rules.ts", text: 'import type { MutationCtx } from "../ctx";\n' },
  {
    path: "convex/model/lanes/rules.ts",
    text: 'import type { DatabaseReader } from "../../_generated/server";\n',
  },
  { path: "convex/model/ctx.ts", text: 'import type { QueryCtx } from "../_generated/server";\n' },
  { path: "convex/lib/env.ts", text: 'import { env } from "../_generated/server";\n' },
  { path: "convex/model/loads/rules.ts", text: 'import { appError } from "../../lib/errors";\n' },
  {
    path: "convex/model/loads/rules.ts",
    text: 'import { STATS } from "../statsConfig";\nimport type { X } from "../ctx";\n',
  },
  {
    path: "convex/model/stats/write/db.ts",
    text: 'import { StatsAccumulator } from "../engine";\n',
  },
  { path: "convex/model/stats/engine.ts", text: 'import { appError } from "../../lib/errors";\n' },
  { path: "convex/model/stats/api.ts", text: 'import { readCounts } from "./read";\n' },
  {
    path: "convex/model/stats/recount/pages.ts",
    text: 'import { entityIn } from "../entities";\n',
  },
  { path: "convex/model/statsConfig.ts", text: 'import { queue } from "./alerts/queue";\n' },
  { path: "convex/schema.ts", text: 'import { COUNTED } from "./model/counted";\n' },
  { path: "convex/model/counted.ts", text: 'import { vCounts } from "./stats/tables";\n' },
];

describe("import directions", () => {
  const ruleNames = Object.keys(IMPORT_RULES);

  test.each(ruleNames)("%s", (rule) => {
    const found = IMPORT_RULES[rule](files);
    const pending = PENDING[rule];
    expect(found.filter((v) => !pending.includes(withoutLine(v)))).toEqual([]);
    // A pending entry that no longer occurs must be deleted from PENDING.
    expect(pending.filter((p) => !found.map(withoutLine).includes(p))).toEqual([]);
  });

  test.each(ruleNames)("a planted violation is caught: %s", (rule) => {
    for (const { file, expected } of PLANTED[rule]) {
      expect(IMPORT_RULES[rule]([...ALLOWED, file])).toEqual([expected]);
    }
  });

  test.each(ruleNames)("allowed imports pass: %s", (rule) => {
    expect(IMPORT_RULES[rule](ALLOWED)).toEqual([]);
  });

  test("the edges see the project's imports", () => {
    const edges = importEdges(files).map((e) => `${e.from} -> ${e.to}`);
    expect(edges).toContain("convex/loads.ts -> convex/functions.ts");
    expect(edges).toContain("convex/model/loads/rules.ts -> convex/model/ctx.ts");
  });

  test("the files listed as not registered register no function", () => {
    const builder =
      /=\s*(internalMutation|internalQuery|internalAction|mutation|query|action|httpAction)\(/;
    for (const path of NOT_REGISTERED) {
      const file = files.find((f) => f.path === path);
      expect(file, path).toBeDefined();
      expect(builder.test(file!.text), path).toBe(false);
    }
  });
});

/** Whether a validator is, or contains, `v.any()`. */
function containsAny(validator: GenericValidator): boolean {
  switch (validator.kind) {
    case "any":
      return true;
    case "object":
      return Object.values(validator.fields).some(containsAny);
    case "union":
      return validator.members.some(containsAny);
    case "array":
      return containsAny(validator.element);
    case "record":
      return containsAny(validator.key) || containsAny(validator.value);
    default:
      return false;
  }
}

describe("validators", () => {
  const modules = import.meta.glob<Record<string, unknown>>(
    // `convex.config.ts` only mounts components (and their config modules are
    // not loadable outside the Convex bundler).
    ["../convex/**/*.ts", "!../convex/_generated/**", "!../convex/convex.config.ts"],
    { eager: true },
  );

  type Registered = {
    isQuery?: boolean;
    isMutation?: boolean;
    isAction?: boolean;
    exportArgs: () => string;
    exportReturns: () => string;
  };
  function isRegistered(value: unknown): value is Registered {
    return (
      typeof value === "function" &&
      ("isQuery" in value || "isMutation" in value || "isAction" in value) &&
      "exportArgs" in value
    );
  }

  const functions = Object.entries(modules).flatMap(([path, exports]) =>
    Object.entries(exports).flatMap(([name, value]) =>
      isRegistered(value) ? [{ name: `${path}:${name}`, fn: value }] : [],
    ),
  );

  test("finds the registered functions", () => {
    expect(functions.length).toBeGreaterThanOrEqual(8);
  });

  test("every function has args and returns validators and no v.any()", () => {
    const missing = functions
      .filter(({ fn }) => fn.exportArgs().includes('"type":"any"') || fn.exportReturns() === "null")
      .map(({ name }) => name);
    const anyReturns = functions
      .filter(({ fn }) => fn.exportReturns().includes('"type":"any"'))
      .map(({ name }) => name);
    expect(missing).toEqual([]);
    expect(anyReturns).toEqual([]);
  });

  test("the schema has no v.any()", () => {
    const tables = Object.values(schema.tables);
    expect(tables.length).toBeGreaterThanOrEqual(6);
    for (const table of tables) expect(containsAny(table.validator)).toBe(false);
  });
});
