/** `npm run bench`: the I/O benchmark. Kept out of `npm test` (which includes tests/ only). */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "edge-runtime",
    // convex-test and the aggregate's test helper use import.meta.glob: let vite transform them.
    server: { deps: { inline: ["convex-test", "@convex-dev/aggregate"] } },
    include: ["bench/**/*.test.ts"],
    globals: true,
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
    // Let progress print live instead of after the test.
    disableConsoleIntercept: true,
  },
});
