/**
 * Bundles convex/ the way `npx convex deploy` does, without a deployment:
 * every entry point Convex would push, with esbuild, for the runtime it would
 * run in. Fails (exit 1) when a file outside `"use node"` needs Node built-ins,
 * when a file that must run in the default runtime says `"use node"`, or when
 * anything else does not bundle. Output goes to a temporary directory that is
 * removed afterwards.
 *
 * The rules mirror convex 1.48's bundler (`convex/src/bundler/index.ts`):
 * entry points are the `.ts/.js` files below convex/ except `_generated/`,
 * dotfiles, `schema.ts` and names with more than one dot (`auth.config.ts`,
 * `convex.config.ts`); `schema.ts` and `auth.config.ts` are bundled on their
 * own. Default-runtime code is bundled for platform `browser`, ESM, with the
 * `convex` and `module` conditions; `"use node"` files for platform `node`.
 *
 * Usage: `npm run bundle:check` (the app's `convex/` and the example app's),
 * or `tsx scripts/bundle-check.ts [dir...]` (default `convex`).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions, type Message, type Plugin } from "esbuild";

const ENTRY_EXTENSIONS = [".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"];
/** Modules Convex always runs in its default runtime. */
const MUST_BE_ISOLATE = ["http", "crons", "schema", "auth.config"];
const USE_NODE = /^\s*(["'])use node\1;?\s*$/m;

/** Entry points by runtime, plus the two files Convex bundles separately. */
export type EntryPoints = { isolate: string[]; node: string[]; separate: string[] };

/** One problem found, with the file it is about. */
export type BundleProblem = { file: string; message: string };

function walk(dir: string, root: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        // A nested component definition is deployed as a component, not here.
        if (dir !== root && existsSync(join(path, "convex.config.ts"))) return [];
        return walk(path, root);
      }
      return [path];
    });
}

/** Whether a file's leading directives include `"use node"`. */
export function hasUseNode(source: string): boolean {
  const prologue = source.replace(/^(\s*(\/\*[\s\S]*?\*\/|\/\/[^\n]*))*/, "");
  return USE_NODE.test(prologue.split("\n").slice(0, 3).join("\n"));
}

/** The files Convex would bundle, grouped the way it bundles them. */
export function entryPoints(convexDir: string): EntryPoints {
  const out: EntryPoints = { isolate: [], node: [], separate: [] };
  for (const path of walk(convexDir, convexDir)) {
    const rel = relative(convexDir, path);
    const base = basename(path);
    if (!ENTRY_EXTENSIONS.some((ext) => rel.endsWith(ext)) || rel.endsWith(".d.ts")) continue;
    if (rel.startsWith(`_generated${sep}`) || base.startsWith(".") || base.startsWith("#")) {
      continue;
    }
    if (rel === "schema.ts" || rel === "auth.config.ts") {
      out.separate.push(path);
      continue;
    }
    if (base === "schema.ts" || (base.match(/\./g) ?? []).length > 1 || rel.includes(" ")) {
      continue;
    }
    const source = readFileSync(path, "utf8");
    if (!/^\s{0,100}(import|export)/m.test(source)) continue;
    (hasUseNode(source) ? out.node : out.isolate).push(path);
  }
  return out;
}

/** The default runtime has no `async_hooks`; Convex shims it with globals. */
const asyncHooksShim: Plugin = {
  name: "async-hooks-shim",
  setup(b) {
    b.onResolve({ filter: /^(node:)?async_hooks$/ }, (args) => ({
      path: args.path,
      namespace: "async-hooks-shim",
    }));
    b.onLoad({ filter: /.*/, namespace: "async-hooks-shim" }, () => ({
      contents:
        "export const AsyncLocalStorage = globalThis.AsyncLocalStorage;\n" +
        "export default { AsyncLocalStorage };\n",
      loader: "js",
    }));
  },
};

function describe(messages: Message[], convexDir: string): BundleProblem[] {
  return messages.map((m) => {
    const nodeHint = m.notes.some((n) => n.text.includes("Are you trying to bundle for node?"));
    const where = m.location
      ? `${relative(convexDir, resolve(m.location.file))}:${m.location.line}`
      : "(bundle)";
    return {
      file: where,
      message: nodeHint
        ? `${m.text}: Node built-ins need a "use node" file (actions only)`
        : m.text,
    };
  });
}

async function bundleGroup(
  entries: string[],
  options: BuildOptions,
  convexDir: string,
): Promise<BundleProblem[]> {
  if (entries.length === 0) return [];
  try {
    const result = await build({
      entryPoints: entries,
      bundle: true,
      format: "esm",
      target: "esnext",
      outbase: convexDir,
      conditions: ["convex", "module"],
      define: { "process.env.NODE_ENV": '"production"' },
      treeShaking: true,
      logLevel: "silent",
      write: true,
      ...options,
    });
    return describe(result.errors, convexDir);
  } catch (error) {
    if (error && typeof error === "object" && "errors" in error && Array.isArray(error.errors)) {
      return describe(error.errors as Message[], convexDir);
    }
    throw error;
  }
}

/**
 * Bundles `convexDir` into a temporary directory and returns every problem
 * found (empty when it would deploy) and how many entry points were bundled.
 */
export async function bundleCheck(
  convexDir: string,
): Promise<{ problems: BundleProblem[]; entries: number }> {
  const entries = entryPoints(convexDir);
  const problems: BundleProblem[] = [];
  for (const file of entries.node) {
    const rel = relative(convexDir, file).replace(/\.[^/.]+$/, "");
    if (MUST_BE_ISOLATE.includes(rel)) {
      problems.push({ file: rel, message: `"use node" is not allowed in ${rel}` });
    }
  }
  const outRoot = mkdtempSync(join(tmpdir(), "convex-bundle-check-"));
  try {
    problems.push(
      ...(await bundleGroup(
        entries.isolate,
        {
          platform: "browser",
          splitting: true,
          outdir: join(outRoot, "isolate"),
          plugins: [asyncHooksShim],
        },
        convexDir,
      )),
      ...(await bundleGroup(
        entries.node,
        { platform: "node", splitting: false, outdir: join(outRoot, "node"), packages: "external" },
        convexDir,
      )),
    );
    for (const file of entries.separate) {
      problems.push(
        ...(await bundleGroup(
          [file],
          { platform: "browser", splitting: false, outdir: join(outRoot, basename(file)) },
          convexDir,
        )),
      );
    }
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
  const count = entries.isolate.length + entries.node.length + entries.separate.length;
  return { problems, entries: count };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : ["convex"];
  let failed = false;
  for (const arg of dirs) {
    const dir = resolve(arg);
    const { problems, entries } = await bundleCheck(dir);
    if (problems.length > 0) {
      for (const p of problems) console.error(`[bundle-check] ${arg}: ${p.file}: ${p.message}`);
      console.error(
        `[bundle-check] ${arg}: ${problems.length} problem(s) in ${entries} entry points`,
      );
      failed = true;
    } else {
      console.log(`[bundle-check] ${arg}: ${entries} entry points bundle for the Convex runtimes`);
    }
  }
  if (failed) process.exit(1);
}
