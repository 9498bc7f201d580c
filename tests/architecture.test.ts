/**
 * Architecture rules that keep the counters exact by construction:
 * - only the write layer writes `loads` and `invoices`;
 * - only `convex/functions.ts` imports the raw mutation builders;
 * - every registered function has `args` and `returns` validators, no `v.any()`;
 * - table names in every `ctx.db.get/patch/replace/delete`, no `.collect()`
 *   and no query `.filter` in Convex code.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { GenericValidator } from "convex/values";
import { describe, expect, test } from "vitest";
import schema from "../convex/schema";
import { guardCountedTables } from "../convex/functions";
import { newBackend } from "./support/setup";

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

/** A write naming a counted table (the write layer's privilege). */
const WRITE_TO_COUNTED = /\.(insert|patch|replace|delete)\(\s*["'](loads|invoices)["']/;

describe("static rules", () => {
  test("the source scan sees the project's files", () => {
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        "convex/functions.ts",
        "convex/model/stats/writer.ts",
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

  test("the rules see calls split over several lines", () => {
    const sample = 'await ctx.db.insert(\n      "loads",\n      fields,\n    );';
    expect(WRITE_TO_COUNTED.test(sample)).toBe(true);
  });

  test("only the write layer writes loads and invoices", () => {
    const direct = offending(WRITE_TO_COUNTED, (path) => path === "convex/model/stats/writer.ts");
    expect(direct).toEqual([]);
  });

  test("ctx.db.get/patch/replace/delete always name the table", () => {
    expect(offending(/\bdb\.(get|patch|replace|delete)\(\s*(?!["'\s])/)).toEqual([]);
  });

  test("no .collect() and no query .filter in Convex code", () => {
    expect(offending(/\.collect\(\)/)).toEqual([]);
    expect(offending(/\.filter\(\s*\(?\s*q\s*\)?\s*=>/)).toEqual([]);
  });

  test("no v.any() in Convex code", () => {
    expect(offending(/\bv\.any\(/)).toEqual([]);
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

describe("runtime guard", () => {
  test("the db given to wrapped mutations refuses writes to counted tables", async () => {
    const t = newBackend();
    await t.run(async (ctx) => {
      const db = guardCountedTables(ctx.db);
      const laneId = await db.insert("lanes", {
        workosOrgId: "org_x",
        origin: "*",
        destination: { city: "Dallas", state: "TX" },
        originKey: "*",
        destinationKey: "DALLAS|TX",
        rateCents: 1,
        effectiveFrom: 1,
      });
      expect(laneId).toBeTruthy();
      const loadId = await ctx.db.insert("loads", {
        workosOrgId: "org_x",
        source: "MANUAL",
        externalLoadId: "X",
        status: "Open",
        loadType: "UNMAPPED",
        origin: { city: "A", state: "B" },
        destination: { city: "C", state: "D" },
        originKey: "A|B",
        destinationKey: "C|D",
        statusChangedAt: 1,
      });
      expect(() => db.patch("loads", loadId, { status: "Canceled" })).toThrow(/write-layer/);
      // The legacy overload without a table name is caught through the id.
      expect(() => db.patch(loadId, { status: "Canceled" })).toThrow(/write-layer/);
      expect(() => db.delete(loadId)).toThrow(/write-layer/);
      expect(() =>
        db.insert("invoices", {
          workosOrgId: "org_x",
          loadId,
          status: "DRAFT",
          amountCents: 1,
          statusChangedAt: 1,
        }),
      ).toThrow(/write-layer/);
      expect((await db.get("loads", loadId))?.status).toBe("Open");
    });
  });
});
