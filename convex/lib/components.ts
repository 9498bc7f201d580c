/**
 * Typed references to the app's components (`convex.config.ts`).
 *
 * `npx convex codegen` writes `components` into `_generated/api` only when it
 * can reach a deployment; the offline codegen this repo checks in
 * (`--system-udfs`) ignores components. So the reference is declared here
 * from the component package's own generated API type. Keep the keys in step
 * with the names in `convex.config.ts`.
 */
import type { ComponentApi as WorkpoolApi } from "@convex-dev/workpool/_generated/component.js";
import { componentsGeneric } from "convex/server";

/** The app's mounted components, by the name given in `convex.config.ts`. */
// `componentsGeneric()` is an untyped proxy over the mounted components; the
// type says what is mounted.
export const components = componentsGeneric() as unknown as {
  statsWorkpool: WorkpoolApi;
  fourKitesWorkpool: WorkpoolApi;
};
