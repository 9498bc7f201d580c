/**
 * The one place Convex code reads deployment environment variables (set with
 * `npx convex env set NAME value`). Reads go through the `env` object codegen
 * exports from `_generated/server` (what `@convex-dev/no-process-env` asks
 * for), and an empty or blank value counts as unset, so `NAME=""` never
 * passes for a configured secret.
 */
import { env } from "../_generated/server";

/** An environment variable, or null when unset, empty or blank. */
export function readEnv(name: string): string | null {
  const value = env[name];
  return value === undefined || value.trim() === "" ? null : value;
}

/**
 * An environment variable that must be set.
 *
 * @param hint what to set it to, for the operator (e.g. `sk_...`); never the
 *   value itself, so the error can be logged.
 * @throws an `Error` naming the variable when it is unset or blank: a
 *   configuration mistake the operator must see, not a caller's error.
 */
export function requireEnv(name: string, hint = "..."): string {
  const value = readEnv(name);
  if (value === null) throw new Error(`${name} is not set: npx convex env set ${name} ${hint}`);
  return value;
}
