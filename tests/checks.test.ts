/**
 * The shared checks: one integer check (`requireInteger` and its
 * shorthands), one env reader (`lib/env.ts`), one "is this org deleted";
 * and CI's check that the committed `convex/_generated` is current, in
 * either of the forms a team may commit (`scripts/generated-check.ts`).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConvexError } from "convex/values";
import { format } from "prettier";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  checkGenerated,
  compareGenerated,
  mountedComponents,
  readGenerated,
  runCodegen,
  type GeneratedFiles,
  type GeneratedVerdict,
} from "../scripts/generated-check";
import { readEnv, requireEnv } from "../convex/lib/env";
import { isOrgDeleted } from "../convex/model/organizations/deleted";
import {
  assertNonNegativeInteger,
  optionalPositiveInteger,
  requireCents,
  requireInteger,
} from "../convex/model/validate";

function errorData(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConvexError) return error.data;
    throw error;
  }
  throw new Error("expected a ConvexError");
}

describe("integer checks", () => {
  test.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -1])(
    "every shorthand rejects %s with INVALID_ARGUMENT naming the field",
    (bad) => {
      for (const check of [
        () => requireCents(bad, "amountCents"),
        () => assertNonNegativeInteger(bad, "n"),
        () => optionalPositiveInteger(bad, "maxDocs"),
        () => requireInteger(bad, "limit", { min: 1, max: 100 }),
      ]) {
        expect(errorData(check)).toMatchObject({ code: "INVALID_ARGUMENT" });
      }
    },
  );

  test("ranges and messages", () => {
    expect(requireCents(0, "amountCents")).toBe(0);
    expect(optionalPositiveInteger(undefined, "maxDocs")).toBeUndefined();
    expect(optionalPositiveInteger(7, "maxDocs", 7)).toBe(7);
    expect(errorData(() => optionalPositiveInteger(0, "maxDocs"))).toEqual({
      code: "INVALID_ARGUMENT",
      message: "maxDocs must be a positive integer.",
      field: "maxDocs",
    });
    expect(errorData(() => optionalPositiveInteger(8, "maxDocs", 7))).toEqual({
      code: "INVALID_ARGUMENT",
      message: "maxDocs must be an integer from 1 to 7.",
      field: "maxDocs",
      min: 1,
      max: 7,
    });
    expect(errorData(() => requireCents(-5, "amountCents"))).toMatchObject({
      message: "amountCents must be an integer from 0 to 100000000 (cents).",
    });
  });
});

describe("environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  test.each([
    ["unset", undefined],
    ["empty", ""],
    ["blank", "   "],
  ])("%s counts as not set", (_what, value) => {
    vi.stubEnv("CHECKS_TEST_VAR", value);
    expect(readEnv("CHECKS_TEST_VAR")).toBeNull();
    expect(() => requireEnv("CHECKS_TEST_VAR", "sk_...")).toThrow(
      "CHECKS_TEST_VAR is not set: npx convex env set CHECKS_TEST_VAR sk_...",
    );
  });

  test("a set value is returned, and an error never carries it", () => {
    vi.stubEnv("CHECKS_TEST_VAR", "secret-value");
    expect(readEnv("CHECKS_TEST_VAR")).toBe("secret-value");
    expect(requireEnv("CHECKS_TEST_VAR")).toBe("secret-value");
  });
});

describe("is this org deleted", () => {
  test.each([
    [{ status: "deleted" as const }, true],
    [{ status: "active" as const }, false],
    [{ orgDeleted: true }, true],
    [{ orgDeleted: false }, false],
    [{}, false],
    [null, false],
    [undefined, false],
  ])("%o -> %s", (record, expected) => {
    expect(isOrgDeleted(record)).toBe(expected);
  });
});

/**
 * `_generated` as `npx convex dev` writes it (convex 1.48, default
 * `convex.json`): the module imports first, then `fullApi`, `api` and
 * `internal`, then `components` (one `ComponentApi` import per mounted
 * component; with `legacyComponentApi` their types inline); `api.js` also
 * exports `components`. Built here from the offline form's module list and
 * formatted with prettier's defaults, as the CLI formats it.
 */
async function convexDevForm(
  offline: GeneratedFiles,
  components: { name: string; spec: string }[],
  options: { inlineComponents?: boolean; dropModule?: string } = {},
): Promise<GeneratedFiles> {
  const modules = [
    ...offline["api.d.ts"].matchAll(/import type \* as (\w+) from "\.\.\/(.+)\.js";/g),
  ]
    .map((m) => ({ ident: m[1], path: m[2] }))
    .filter((m) => m.path !== options.dropModule);
  const comment = (kind: string, name: string) =>
    `/**\n * A utility for referencing Convex functions in your app's ${kind} API.\n *\n * Usage:\n * \`\`\`js\n * const myFunctionReference = ${name}.myModule.myFunction;\n * \`\`\`\n */`;
  const header =
    "/* eslint-disable */\n/**\n * Generated `api` utility.\n *\n * THIS CODE IS AUTOMATICALLY GENERATED.\n *\n * To regenerate, run `npx convex dev`.\n * @module\n */\n";
  const componentLines = components.map(({ name, spec }) =>
    options.inlineComponents
      ? `"${name}": { lib: { enqueue: FunctionReference<"mutation", "internal", { fnArgs: any; fnHandle: string; config: { maxParallelism?: number } }, string, "${name}">; cancel: FunctionReference<"mutation", "internal", { id: string }, null, "${name}">; }; },`
      : `"${name}": import("${spec}/_generated/component.js").ComponentApi<"${name}">,`,
  );
  const dts = [
    header,
    ...modules.map((m) => `import type * as ${m.ident} from "../${m.path}.js";`),
    'import type { ApiFromModules, FilterApi, FunctionReference } from "convex/server";',
    "declare const fullApi: ApiFromModules<{",
    ...modules.map((m) => `"${m.path}": typeof ${m.ident},`),
    "}>;",
    comment("public", "api"),
    'export declare const api: FilterApi<typeof fullApi, FunctionReference<any, "public">>;',
    comment("internal", "internal"),
    'export declare const internal: FilterApi<typeof fullApi, FunctionReference<any, "internal">>;',
    "export declare const components: {",
    ...componentLines,
    "};",
  ].join("\n");
  const js = [
    header,
    'import { anyApi, componentsGeneric } from "convex/server";',
    comment("", "api").replace("app's  API", "app's API"),
    "export const api = anyApi;",
    "export const internal = anyApi;",
    "export const components = componentsGeneric();",
  ].join("\n");
  return {
    ...offline,
    "api.d.ts": await format(dts, { parser: "typescript" }),
    "api.js": await format(js, { parser: "typescript" }),
  };
}

const ROOT = join(__dirname, "..");
const EXAMPLE = join(ROOT, "examples", "existing-app");
const APPS = [
  {
    name: "the app",
    dir: ROOT,
    components: [
      { name: "statsWorkpool", spec: "@convex-dev/workpool" },
      { name: "fourKitesWorkpool", spec: "@convex-dev/workpool" },
    ],
  },
  {
    name: "the example app",
    dir: EXAMPLE,
    components: [
      { name: "rateLimiter", spec: "@convex-dev/rate-limiter" },
      { name: "statsWorkpool", spec: "@convex-dev/workpool" },
      { name: "migrations", spec: "@convex-dev/migrations" },
    ],
  },
];

function problemsOf(verdict: GeneratedVerdict): string[] {
  return verdict.ok ? [] : verdict.problems;
}

describe("generated code is current (scripts/generated-check.ts)", () => {
  test.each(APPS)("$name: the mounted components are read from convex.config.ts", (app) => {
    expect(mountedComponents(join(app.dir, "convex"))).toEqual(
      app.components.map((c) => c.name).sort(),
    );
  });

  describe.each(APPS)("$name", (app) => {
    const committed = readGenerated(join(app.dir, "convex", "_generated"));
    const mounted = app.components.map((c) => c.name);

    test("the committed offline form passes, and the `npx convex dev` form of the same files", async () => {
      expect(compareGenerated(committed, committed, mounted)).toEqual({
        ok: true,
        form: "offline",
      });
      for (const inlineComponents of [false, true]) {
        const dev = await convexDevForm(committed, app.components, { inlineComponents });
        expect(dev["api.d.ts"]).not.toBe(committed["api.d.ts"]);
        expect(compareGenerated(dev, committed, mounted)).toEqual({
          ok: true,
          form: "convex dev",
        });
      }
      // Formatting alone (the repository's prettier settings) changes nothing.
      const reformatted = {
        ...committed,
        "api.d.ts": await format(committed["api.d.ts"], { parser: "typescript", printWidth: 60 }),
      };
      expect(compareGenerated(reformatted, committed, mounted).ok).toBe(true);
    });

    test("a module missing from either form fails, naming it", async () => {
      const dev = await convexDevForm(committed, app.components, { dropModule: "stats" });
      const problems = problemsOf(compareGenerated(dev, committed, mounted));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^api\.d\.ts: stale/);
      expect(problems[0]).toContain('codegen only:   importtype*asstatsfrom"../stats.js"');
      const offline = {
        ...committed,
        "api.d.ts": committed["api.d.ts"].replace(/^.*"\.\.\/stats\.js";\n/m, ""),
      };
      expect(problemsOf(compareGenerated(offline, committed, mounted))[0]).toMatch(/stale/);
    });

    test("a components section that does not match convex.config.ts fails", async () => {
      const extra = await convexDevForm(committed, [
        ...app.components,
        { name: "aggregate", spec: "@convex-dev/aggregate" },
      ]);
      expect(problemsOf(compareGenerated(extra, committed, mounted))).toEqual([
        expect.stringMatching(
          /^api\.d\.ts: components names \[.*aggregate.*\], convex.config.ts mounts/,
        ),
      ]);
      const fewer = await convexDevForm(committed, app.components.slice(1));
      expect(problemsOf(compareGenerated(fewer, committed, mounted))).toHaveLength(1);
    });

    test("one file of each form, a file too many or too few, a changed data model: each fails", async () => {
      const dev = await convexDevForm(committed, app.components);
      const mixed = { ...committed, "api.js": dev["api.js"] };
      expect(problemsOf(compareGenerated(mixed, committed, mounted))).toEqual([
        "api.d.ts and api.js disagree on `components` (one form each)",
      ]);
      const extraFile = { ...committed, "api_cjs.cjs": "module.exports = {};\n" };
      expect(problemsOf(compareGenerated(extraFile, committed, mounted))).toEqual([
        "api_cjs.cjs: not written by codegen (stale file)",
      ]);
      const { ["server.js"]: _server, ...missing } = committed;
      expect(problemsOf(compareGenerated(missing, committed, mounted))).toEqual([
        "server.js: missing (codegen writes it)",
      ]);
      const dataModel = {
        ...committed,
        "dataModel.d.ts": committed["dataModel.d.ts"].replace('"../schema.js"', '"../schema2.js"'),
      };
      expect(problemsOf(compareGenerated(dataModel, committed, mounted))[0]).toMatch(
        /^dataModel\.d\.ts: stale/,
      );
    });
  });

  describe("end to end, with the offline codegen on a scratch app", () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    test("passes the convex dev form, fails a new module, and leaves the committed files as they were", async () => {
      const app = mkdtempSync(join(tmpdir(), "generated-check-test-"));
      dirs.push(app);
      symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
      writeFileSync(
        join(app, "package.json"),
        JSON.stringify({ name: "scratch", type: "module", dependencies: { convex: "*" } }),
      );
      mkdirSync(join(app, "convex"));
      const write = (name: string, text: string) => writeFileSync(join(app, "convex", name), text);
      write(
        "schema.ts",
        'import { defineSchema, defineTable } from "convex/server";\nimport { v } from "convex/values";\nexport default defineSchema({ things: defineTable({ n: v.number() }) });\n',
      );
      write(
        "things.ts",
        'import { query } from "./_generated/server";\nexport const count = query({ args: {}, handler: async () => 0 });\n',
      );
      write(
        "convex.config.ts",
        'import { defineApp } from "convex/server";\nimport workpool from "@convex-dev/workpool/convex.config";\nconst app = defineApp();\napp.use(workpool, { name: "pool" });\nexport default app;\n',
      );
      const generated = join(app, "convex", "_generated");
      runCodegen(app);
      const offline = readGenerated(generated);
      expect(Object.keys(offline).sort()).toEqual([
        "api.d.ts",
        "api.js",
        "dataModel.d.ts",
        "server.d.ts",
        "server.js",
      ]);

      const dev = await convexDevForm(offline, [{ name: "pool", spec: "@convex-dev/workpool" }]);
      for (const [name, text] of Object.entries(dev)) writeFileSync(join(generated, name), text);
      mkdirSync(join(generated, "ai"));
      writeFileSync(join(generated, "ai", "guidelines.md"), "# guidelines\n");
      expect(await checkGenerated(app)).toEqual({ ok: true, form: "convex dev" });
      expect(readGenerated(generated)).toEqual(dev);

      write(
        "more.ts",
        'import { query } from "./_generated/server";\nexport const more = query({ args: {}, handler: async () => 1 });\n',
      );
      const stale = await checkGenerated(app);
      expect(problemsOf(stale)).toEqual([
        expect.stringContaining("codegen only:   importtype*asmorefrom"),
      ]);
      // The committed files are back as they were, the ai/ folder kept.
      expect(readGenerated(generated)).toEqual(dev);
      expect(existsSync(join(generated, "ai", "guidelines.md"))).toBe(true);
    });
  });
});
