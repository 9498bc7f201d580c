/**
 * Lint as the Convex ecosystem does: @convex-dev/eslint-plugin's recommended
 * rules over convex/, and typescript-eslint with type information so that a
 * promise nobody awaits (a write that may never happen, an error nobody sees)
 * fails CI. `tests/architecture.test.ts` keeps what lint cannot say (import
 * directions, the write layer's privilege).
 */
import convexPlugin from "@convex-dev/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/_generated/**", "node_modules/**"],
  },
  {
    files: [
      "convex/**/*.ts",
      "tests/**/*.ts",
      "bench/**/*.ts",
      "demo/**/*.ts",
      "scripts/**/*.ts",
      "examples/**/*.{ts,tsx}",
    ],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: {
        // One TypeScript program per tsconfig (convex/ has its own).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  ...convexPlugin.configs.recommended,
);
