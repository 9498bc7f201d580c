/**
 * Architecture rules that keep the counters exact by construction:
 * - only the write layer writes `loads` and `invoices`;
 * - only `convex/functions.ts` imports the raw mutation builders;
 * - every registered function has `args` and `returns` validators, no `v.any()`;
 * - table names in every `ctx.db.get/patch/replace/delete`, no `.collect()`
 *   and no query `.filter` in Convex code;
 * - import directions (see "import directions" below): registered modules do
 *   not import each other, model code takes its ctx types from
 *   `model/ctx.ts`, and `lib/` does not import `model/`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative } from "node:path";
import type { GenericValidator } from "convex/values";
import { describe, expect, test } from "vitest";
import schema from "../convex/schema";

const ROOT = join(__dirname, "..");
const CONVEX = join(ROOT, "convex");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "_generated" || name === "node_modules") return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|js)$/.test(name) ? [path] : [];
  });
}

const files = sourceFiles(CONVEX).map((path) => ({
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
      ]),
    );
  });

  test("only convex/functions.ts imports raw mutation builders", () => {
    const rawImports = files
      .filter(({ path }) => path !== "convex/functions.ts")
      .filter(({ text }) =>
        [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*["'][./]*_generated\/server["']/g)].some(
          ([, names]) => /(^|[\s,])(internalMutation|mutation)(\s|,|$)/.test(names),
        ),
      )
      .map(({ path }) => path);
    expect(rawImports).toEqual([]);
    // Nor through a namespace or default import.
    expect(
      offending(
        /import\s+(\*\s+as\s+)?\w+\s+from\s*["'][./]*_generated\/server["']/,
        (path) => path === "convex/functions.ts",
      ),
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
};

/**
 * Violations in files other branches are rewriting right now (stats engine,
 * FourKites sync). Each entry must still occur, so the list only shrinks:
 * delete an entry when its file is fixed.
 */
const PENDING: Record<string, string[]> = {
  "no registered module imports another registered module": [],
  "model code imports neither functions.ts nor registered modules, and takes ctx types from model/ctx.ts":
    [],
  "lib/ does not import model/": [],
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
