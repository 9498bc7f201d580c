/**
 * docs/adopting.md step 1 says which files of this repository an app copies
 * and which packages it installs. This walks the imports of everything the
 * example app imports from the repository and checks the list is complete:
 * a module file that started importing more of this repository's own app
 * (or another package) fails here, and the doc must change with it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, test } from "vitest";

const REPO = resolve(__dirname, "..", "..", "..");
const EXAMPLE = resolve(__dirname, "..");

/** The files step 1 copies (repository paths; `/**` for a folder). */
const COPIED = [
  "convex/model/stats/**",
  "convex/model/uniqueness.ts",
  "convex/lib/errors.ts",
  "convex/lib/contention.ts",
  "convex/stats_helpers.ts",
];
/** The packages those files import (step 1 installs them). */
const PACKAGES = ["convex", "convex-helpers", "@convex-dev/workpool"];

const IMPORT = /(?:from|import)\s*\(?\s*["']([^"']+)["']/g;

/** The import specifiers of a file, comments aside (they quote code). */
function importsOf(file: string): string[] {
  const code = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(IMPORT)].map((m) => m[1]);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "_generated" || name === "node_modules") return [];
    if (statSync(path).isDirectory()) return tsFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`cannot resolve ${spec} from ${from}`);
}

function packageOf(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function isCopied(repoPath: string): boolean {
  return COPIED.some((c) =>
    c.endsWith("/**") ? repoPath.startsWith(c.slice(0, -2)) : repoPath === c,
  );
}

test("what the example imports from the repository is the copied list, and it imports only the listed packages", () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue: string[] = [];
  // The repository files the example's own code imports.
  for (const file of tsFiles(EXAMPLE)) {
    for (const spec of importsOf(file)) {
      if (!spec.startsWith(".") || resolve(dirname(file), spec).startsWith(EXAMPLE)) continue;
      queue.push(resolveRelative(file, spec));
    }
  }
  expect(queue.length).toBeGreaterThan(0);
  // And the front door an app imports from.
  queue.push(join(REPO, "convex", "stats_helpers.ts"));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith(".")) queue.push(resolveRelative(file, spec));
      else packages.add(packageOf(spec));
    }
  }
  const reached = [...seen].map((f) => relative(REPO, f)).sort();
  expect(reached.filter((p) => !isCopied(p))).toEqual([]);
  expect([...packages].sort()).toEqual([...PACKAGES].sort());
  // The walk went through the module, not just its front door.
  expect(reached).toEqual(
    expect.arrayContaining([
      "convex/stats_helpers.ts",
      "convex/model/stats/engine.ts",
      "convex/model/uniqueness.ts",
    ]),
  );
});
