/**
 * Typed references to the mounted components (`convex.config.ts`).
 *
 * `npx convex dev` writes `components` into `_generated/api` (it asks the
 * deployment); the offline codegen CI runs does not. Code imports them from
 * here, so it compiles against either form of `_generated`. Keep the keys in
 * step with `convex.config.ts`.
 */
import type { ComponentApi as MigrationsApi } from "@convex-dev/migrations/_generated/component.js";
import type { ComponentApi as RateLimiterApi } from "@convex-dev/rate-limiter/_generated/component.js";
import type { ComponentApi as WorkpoolApi } from "@convex-dev/workpool/_generated/component.js";
import { componentsGeneric } from "convex/server";

// `componentsGeneric()` is an untyped proxy over the mounted components; the
// type says what is mounted.
export const components = componentsGeneric() as unknown as {
  rateLimiter: RateLimiterApi<"rateLimiter">;
  statsWorkpool: WorkpoolApi<"statsWorkpool">;
  migrations: MigrationsApi<"migrations">;
};
