/** `npm run demo`: one long scenario on the in-memory backend, printing as it goes. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test", "@convex-dev/aggregate"] } },
    include: ["demo/**/*.test.ts"],
    globals: true,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Let the narrative print live instead of after the test.
    disableConsoleIntercept: true,
  },
});
