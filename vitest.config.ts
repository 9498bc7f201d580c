/** `npm test`: the test suite (tests/**), on convex-test in an edge-runtime environment. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Convex functions run in a V8 isolate without Node APIs; edge-runtime is
    // the closest match, as the convex-test docs recommend.
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    include: ["tests/**/*.test.ts", "examples/*/tests/**/*.test.ts"],
    globals: true,
    // The functions log structured lines on every call; show them only for
    // failing tests.
    silent: "passed-only",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
