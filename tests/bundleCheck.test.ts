/**
 * The CI bundle step (`scripts/bundle-check.ts`): convex/ and the example
 * app's convex/ bundle for the Convex runtimes, and a planted Node built-in
 * outside `"use node"` fails it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { bundleCheck, entryPoints, hasUseNode } from "../scripts/bundle-check";

const dirs: string[] = [];
function fakeConvexDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "bundle-check-test-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("bundle check", () => {
  test("the project's convex/ bundles", async () => {
    const { problems, entries } = await bundleCheck(join(__dirname, "..", "convex"));
    expect(problems).toEqual([]);
    expect(entries).toBeGreaterThanOrEqual(20);
  });

  test("the example app's convex/, which imports the module from the repository, bundles", async () => {
    const dir = join(__dirname, "..", "examples", "existing-app", "convex");
    const { problems, entries } = await bundleCheck(dir);
    expect(problems).toEqual([]);
    expect(entries).toBeGreaterThanOrEqual(15);
  });

  test.each([
    ["node:fs", 'import { readFileSync } from "node:fs";\nexport const f = () => readFileSync;\n'],
    ["crypto", 'import { createHash } from "crypto";\nexport const h = () => createHash;\n'],
    ["path", 'import * as p from "path";\nexport const j = p.join;\n'],
  ])("a default-runtime file importing %s fails", async (_name, source) => {
    const dir = fakeConvexDir({ "model/bad.ts": source, "ok.ts": "export const a = 1;\n" });
    const { problems } = await bundleCheck(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0].file).toMatch(/^model[/\\]bad\.ts:\d+$/);
    expect(problems[0].message).toMatch(/use node/);
  });

  test('the same import passes in a "use node" file', async () => {
    const dir = fakeConvexDir({
      "nodeAction.ts":
        '"use node";\nimport { readFileSync } from "node:fs";\nexport const f = readFileSync;\n',
    });
    expect((await bundleCheck(dir)).problems).toEqual([]);
  });

  test('"use node" is refused in http, crons and auth.config', async () => {
    const dir = fakeConvexDir({ "crons.ts": '"use node";\nexport default {};\n' });
    const { problems } = await bundleCheck(dir);
    expect(problems.map((p) => p.message)).toEqual(['"use node" is not allowed in crons']);
  });

  test("entry points follow Convex's rules", () => {
    const dir = fakeConvexDir({
      "a.ts": "export const a = 1;\n",
      "schema.ts": "export default {};\n",
      "auth.config.ts": "export default {};\n",
      "convex.config.ts": "export default {};\n",
      "a.test.ts": "export const t = 1;\n",
      "_generated/api.js": "export const api = {};\n",
      "types.d.ts": "export type T = 1;\n",
      "empty.ts": "// nothing\n",
    });
    const found = entryPoints(dir);
    const names = (list: string[]) => list.map((p) => p.slice(dir.length + 1)).sort();
    expect(names(found.isolate)).toEqual(["a.ts"]);
    expect(names(found.separate)).toEqual(["auth.config.ts", "schema.ts"]);
    expect(found.node).toEqual([]);
  });

  test("hasUseNode reads the directive, not a mention", () => {
    expect(hasUseNode('/** header */\n"use node";\nexport {}')).toBe(true);
    expect(hasUseNode('// see "use node" files\nexport const x = 1;')).toBe(false);
  });
});
