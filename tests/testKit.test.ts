/**
 * One test kit (issue 10, item 6): the demo and the bench share helpers
 * through `tests/support/`, so the demo never imports the bench.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";

const ROOT = join(__dirname, "..");

/** Relative imports of every `.ts` file in `folder`, as "file: specifier". */
function imports(folder: string): string[] {
  return readdirSync(join(ROOT, folder))
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) => {
      const text = readFileSync(join(ROOT, folder, name), "utf8");
      return [...text.matchAll(/from\s+"(\.[^"]+)"/g)].map((m) => `${folder}/${name}: ${m[1]}`);
    });
}

test("the demo imports nothing from bench/", () => {
  const demo = imports("demo");
  expect(demo.length).toBeGreaterThan(0);
  expect(demo.filter((i) => /\/bench\//.test(i))).toEqual([]);
});

test("the test kit imports nothing from bench/ or demo/", () => {
  const kit = imports("tests/support");
  expect(kit.length).toBeGreaterThan(0);
  expect(kit.filter((i) => /\/(bench|demo)\//.test(i))).toEqual([]);
});

test("the check sees a planted violation", () => {
  const planted = ["demo/x.ts: ../bench/lib"].filter((i) => /\/bench\//.test(i));
  expect(planted).toHaveLength(1);
});
