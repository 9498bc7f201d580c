/**
 * CI's "generated code is current" check, for the app (`.`) and the example
 * app (`examples/existing-app`): regenerates `convex/_generated` offline
 * (`convex codegen --system-udfs`, no deployment), compares it with what is
 * committed, and puts the committed files back.
 *
 * Two forms of `_generated` pass, because a team may commit either:
 *
 * - the offline form (`npm run codegen`), byte for byte;
 * - the form `npx convex dev` writes: it asks the deployment about the
 *   mounted components, so `api.d.ts` also declares `components` (and lays
 *   out its imports differently) and `api.js` exports
 *   `components = componentsGeneric()`. It passes when, comments and
 *   formatting aside, it states the same things as the offline form plus a
 *   `components` section naming exactly the components `convex.config.ts`
 *   mounts. What `components` maps each name to is left to the typecheck.
 *
 * Anything else fails: a module added, removed or renamed since the files
 * were generated, a schema or server file that differs, a file too many or
 * too few, a `components` section naming a component that is not mounted
 * (or missing one). `_generated/ai/` (guidelines `npx convex dev` may write)
 * is not compared, as codegen itself leaves it alone.
 *
 * Usage: `npm run codegen:check` (both apps), or
 * `tsx scripts/generated-check.ts [appDir...]` (default `.`). Exit 1 on a
 * problem, with what differs.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The files of one `_generated` folder, by name (`ai/` excluded). */
export type GeneratedFiles = Record<string, string>;

/** Which form the committed files are in, or the problems that make them stale. */
export type GeneratedVerdict =
  { ok: true; form: "offline" | "convex dev" } | { ok: false; problems: string[] };

/** Entries of `_generated` that codegen leaves alone (and this check too). */
const PRESERVED = new Set(["ai"]);

const COMPONENTS_DTS = "exportdeclareconstcomponents:";
const COMPONENTS_JS = "exportconstcomponents=componentsGeneric()";

/** Reads the files of `dir` (a `_generated` folder); empty when it does not exist. */
export function readGenerated(dir: string): GeneratedFiles {
  if (!existsSync(dir)) return {};
  const files: GeneratedFiles = {};
  for (const name of readdirSync(dir).sort()) {
    if (PRESERVED.has(name) || statSync(join(dir, name)).isDirectory()) continue;
    files[name] = readFileSync(join(dir, name), "utf8");
  }
  return files;
}

/** `text` without its comments (block comments, and line comments on lines of their own). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** `text` without comments and without any whitespace: what formatting cannot change. */
function squeeze(text: string): string {
  return stripComments(text)
    .replace(/\s+/g, "")
    .replace(/,([}\])>])/g, "$1");
}

/** Splits squeezed code at the `;` outside brackets. */
function splitStatements(code: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of code) {
    if (ch === "{" || ch === "(" || ch === "[") depth++;
    if (ch === "}" || ch === ")" || ch === "]") depth--;
    if (ch === ";" && depth === 0) {
      if (current !== "") out.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (current !== "") out.push(current);
  return out;
}

/**
 * The statements of a generated file, comments and formatting removed, in
 * sorted order (the two codegen forms order their imports differently).
 */
export function canonicalStatements(text: string): string[] {
  return splitStatements(squeeze(text)).sort();
}

/** The top-level keys of the object type in `export declare const components: {...}`. */
export function componentKeys(statement: string): string[] {
  const body = statement.slice(statement.indexOf("{") + 1, statement.lastIndexOf("}"));
  const keys: string[] = [];
  let depth = 0;
  let atKey = true;
  let key = "";
  let previous = "";
  for (const ch of body) {
    const arrow = ch === ">" && previous === "=";
    previous = ch;
    if (atKey && depth === 0) {
      if (ch === ":") {
        keys.push(key.replace(/^"|"$/g, ""));
        key = "";
        atKey = false;
      } else {
        key += ch;
      }
      continue;
    }
    if (ch === "{" || ch === "(" || ch === "<" || ch === "[") depth++;
    if (ch === "}" || ch === ")" || (ch === ">" && !arrow) || ch === "]") depth--;
    if ((ch === ";" || ch === ",") && depth === 0) atKey = true;
  }
  return keys.sort();
}

/** `api.js` of the `npx convex dev` form, as the offline form would state it. */
function withoutJsComponents(statements: string[]): { rest: string[]; components: boolean } {
  const components = statements.includes(COMPONENTS_JS);
  const rest = statements
    .filter((s) => s !== COMPONENTS_JS)
    .map((s) => s.replace(/^import\{anyApi,componentsGeneric\}from/, "import{anyApi}from"))
    .sort();
  return { rest, components };
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What `a` states that `b` does not (at most `limit`, shortened), for the report. */
function onlyIn(a: string[], b: string[], limit = 5): string[] {
  const rest = [...b];
  const out: string[] = [];
  for (const s of a) {
    const i = rest.indexOf(s);
    if (i >= 0) rest.splice(i, 1);
    else out.push(s.length > 120 ? `${s.slice(0, 117)}...` : s);
  }
  return out.slice(0, limit);
}

/**
 * Compares committed `_generated` files with the offline codegen's `fresh`
 * ones; `mounted` are the component names `convex.config.ts` mounts.
 */
export function compareGenerated(
  committed: GeneratedFiles,
  fresh: GeneratedFiles,
  mounted: string[],
): GeneratedVerdict {
  const problems: string[] = [];
  for (const name of Object.keys(fresh)) {
    if (!(name in committed)) problems.push(`${name}: missing (codegen writes it)`);
  }
  for (const name of Object.keys(committed)) {
    if (!(name in fresh)) problems.push(`${name}: not written by codegen (stale file)`);
  }
  const componentsIn: Record<string, boolean> = {};
  for (const [name, text] of Object.entries(committed)) {
    const expected = fresh[name];
    if (expected === undefined || expected === text) continue;
    let mine = canonicalStatements(text);
    let theirs = canonicalStatements(expected);
    if (name === "api.d.ts") {
      const section = mine.find((s) => s.startsWith(COMPONENTS_DTS));
      if (section !== undefined) {
        componentsIn[name] = true;
        mine = mine.filter((s) => s !== section);
        const keys = componentKeys(section);
        const want = [...mounted].sort();
        if (!sameList(keys, want)) {
          problems.push(
            `api.d.ts: components names [${keys.join(", ")}], convex.config.ts mounts [${want.join(", ")}]`,
          );
        }
      }
    }
    if (name === "api.js") {
      const js = withoutJsComponents(mine);
      componentsIn[name] = js.components;
      mine = js.rest;
      theirs = withoutJsComponents(theirs).rest;
    }
    if (sameList(mine, theirs)) continue;
    const extra = onlyIn(mine, theirs).map((s) => `    committed only: ${s}`);
    const missing = onlyIn(theirs, mine).map((s) => `    codegen only:   ${s}`);
    problems.push(`${name}: stale\n${[...extra, ...missing].join("\n")}`);
  }
  if ((componentsIn["api.d.ts"] ?? false) !== (componentsIn["api.js"] ?? false)) {
    problems.push("api.d.ts and api.js disagree on `components` (one form each)");
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, form: componentsIn["api.d.ts"] === true ? "convex dev" : "offline" };
}

/**
 * The names of the components `convexDir/convex.config.ts` mounts, read
 * from its `app.use(component)` / `app.use(component, { name: "..." })`
 * calls as written; a call without `name` takes the component's own name
 * (its `defineComponent("...")`). Empty without a config.
 *
 * @throws Error when a `use` names an import it cannot follow.
 */
export function mountedComponents(convexDir: string): string[] {
  const config = ["convex.config.ts", "convex.config.js"]
    .map((f) => join(convexDir, f))
    .find((f) => existsSync(f));
  if (config === undefined) return [];
  const source = stripComments(readFileSync(config, "utf8"));
  const imports = new Map<string, string>();
  for (const m of source.matchAll(/import\s+(\w+)\s+from\s+["']([^"']+)["']/g)) {
    imports.set(m[1], m[2]);
  }
  const names: string[] = [];
  for (const m of source.matchAll(/\.use\(\s*(\w+)\s*(?:,\s*\{([^}]*)\})?\s*\)/g)) {
    const explicit = /name\s*:\s*["']([^"']+)["']/.exec(m[2] ?? "")?.[1];
    if (explicit !== undefined) {
      names.push(explicit);
      continue;
    }
    const spec = imports.get(m[1]);
    if (spec === undefined) throw new Error(`[generated-check] ${config}: no import for ${m[1]}`);
    const definition = readFileSync(createRequire(config).resolve(spec), "utf8");
    const own = /defineComponent\(\s*["']([^"']+)["']/.exec(definition)?.[1];
    if (own === undefined) throw new Error(`[generated-check] ${spec}: no defineComponent name`);
    names.push(own);
  }
  return names.sort();
}

/** The offline codegen, run in `appDir` (the folder with `package.json` and `convex/`). */
export function runCodegen(appDir: string): void {
  const bin = fileURLToPath(new URL("../node_modules/convex/bin/main.js", import.meta.url));
  execFileSync(process.execPath, [bin, "codegen", "--system-udfs", "--typecheck", "disable"], {
    cwd: appDir,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** Puts `files` back as the whole of `dir` (`ai/` aside). */
function restore(dir: string, files: GeneratedFiles): void {
  for (const name of Object.keys(readGenerated(dir))) {
    if (!(name in files)) rmSync(join(dir, name));
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/**
 * Checks `appDir/convex/_generated` against a fresh offline codegen and
 * leaves the committed files as they were.
 */
export async function checkGenerated(appDir: string): Promise<GeneratedVerdict> {
  const convexDir = join(appDir, "convex");
  const dir = join(convexDir, "_generated");
  const committed = readGenerated(dir);
  let fresh: GeneratedFiles;
  try {
    runCodegen(appDir);
    fresh = readGenerated(dir);
  } finally {
    restore(dir, committed);
  }
  return compareGenerated(committed, fresh, mountedComponents(convexDir));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const apps = process.argv.length > 2 ? process.argv.slice(2) : ["."];
  let failed = false;
  for (const app of apps) {
    const verdict = await checkGenerated(resolve(app));
    const where = app === "." ? "convex/_generated" : `${app}/convex/_generated`;
    if (verdict.ok) {
      console.log(`[generated-check] ${where} is current (${verdict.form} form)`);
    } else {
      failed = true;
      for (const p of verdict.problems) console.error(`[generated-check] ${app}: ${p}`);
      console.error(
        `[generated-check] ${where} is stale: run 'npm run codegen' (or 'npx convex dev') and commit it.`,
      );
    }
  }
  if (failed) process.exit(1);
}
