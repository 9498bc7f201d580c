/**
 * Caller checks for public functions. The frontend passes the org it shows;
 * the call goes through only when the caller's WorkOS access token carries the
 * same `org_id` claim. Internal functions (cron, sync, migrations) never call
 * these: they take the org as a trusted argument.
 */
import type { Auth } from "convex/server";
import { appError } from "./errors";
import { readEnv } from "./env";

/**
 * Default of `BILLING_PERMISSIONS`: the WorkOS permission (token claim
 * `permissions`) required for everything that sets or changes what is
 * billed: bulk invoice changes, manual invoices and lanes (their rates price
 * invoices). Create it in the WorkOS dashboard (Roles & Permissions) and
 * grant it to the billing roles, or name your own with `BILLING_PERMISSIONS`.
 */
export const BILLING_PERMISSION = "invoices:bulk-update";

/** Default of `INTEGRATIONS_PERMISSIONS`: managing FourKites and other integrations. */
export const INTEGRATIONS_PERMISSION = "integrations:manage";

/**
 * A permission set read from the environment: any one of `names` grants it,
 * `envName` overrides `names` (see `configuredPermissions`).
 */
export type PermissionSet = { envName: string; defaults: readonly string[] };

/** Billing (see `BILLING_PERMISSION`); env `BILLING_PERMISSIONS`. */
export const BILLING: PermissionSet = {
  envName: "BILLING_PERMISSIONS",
  defaults: [BILLING_PERMISSION],
};

/** Integrations (see `INTEGRATIONS_PERMISSION`); env `INTEGRATIONS_PERMISSIONS`. */
export const INTEGRATIONS: PermissionSet = {
  envName: "INTEGRATIONS_PERMISSIONS",
  defaults: [INTEGRATIONS_PERMISSION],
};

// A WorkOS permission slug: no whitespace, quotes or commas (commas separate).
const PERMISSION_SLUG = /^[^\s,"'`]+$/;

/**
 * Parses a comma-separated permission list (`"accounting:manage, invoices:bulk-update"`):
 * entries are trimmed, empty entries and repeats dropped. Unset or blank
 * means `defaults`.
 *
 * Caveat: a value that is set but names no usable permission (`","`, or an
 * entry with a space or a quote inside) is a deployment mistake. It throws
 * (the call fails, nothing is granted) instead of silently falling back to
 * the defaults, which could grant access the team meant to withdraw.
 *
 * @throws Error naming the variable when the value is malformed.
 */
export function parsePermissionList(
  envName: string,
  raw: string | undefined,
  defaults: readonly string[],
): string[] {
  if (raw === undefined || raw.trim() === "") return [...defaults];
  const entries = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const bad = entries.filter((entry) => !PERMISSION_SLUG.test(entry));
  if (entries.length === 0 || bad.length > 0) {
    throw new Error(
      `[auth] ${envName} must be a comma-separated list of WorkOS permission slugs` +
        ` (e.g. "accounting:manage,invoices:bulk-update")` +
        (bad.length > 0 ? `; not a slug: ${bad.map((b) => JSON.stringify(b)).join(", ")}` : "") +
        `. Fix it with: npx convex env set ${envName} ...`,
    );
  }
  return [...new Set(entries)];
}

/** The permissions that grant `set` in this deployment (env value, else defaults). */
export function configuredPermissions(set: PermissionSet): string[] {
  return parsePermissionList(set.envName, readEnv(set.envName) ?? undefined, set.defaults);
}

/**
 * Whether `identity` (a `Caller`, or anything carrying the token's
 * `permissions` claim) holds at least one of the permissions configured by
 * `envName` (comma-separated; `defaults` when unset).
 *
 * @throws Error when `envName` is set to a malformed value (see `parsePermissionList`).
 */
export function hasAnyPermission(
  identity: { permissions?: unknown },
  envName: string,
  defaults: readonly string[],
): boolean {
  const granted = parsePermissionList(envName, readEnv(envName) ?? undefined, defaults);
  const held = Array.isArray(identity.permissions) ? identity.permissions : [];
  return held.some((p) => typeof p === "string" && granted.includes(p));
}

/**
 * @throws `MISSING_PERMISSION` unless the caller holds one of the permissions
 *   of `set`; the error lists them.
 */
export function requireAnyPermission(caller: Caller, set: PermissionSet): void {
  if (!hasAnyPermission(caller, set.envName, set.defaults)) {
    const accepted = configuredPermissions(set);
    throw appError(
      "MISSING_PERMISSION",
      `This action needs one of these permissions: ${accepted.map((p) => `"${p}"`).join(", ")}.`,
      { permission: accepted[0] ?? "", permissions: accepted },
    );
  }
}

/** @throws `MISSING_PERMISSION` unless the caller holds a billing permission (`BILLING_PERMISSIONS`). */
export function requireBilling(caller: Caller): void {
  requireAnyPermission(caller, BILLING);
}

/** @throws `MISSING_PERMISSION` unless the caller holds an integrations permission (`INTEGRATIONS_PERMISSIONS`). */
export function requireIntegrations(caller: Caller): void {
  requireAnyPermission(caller, INTEGRATIONS);
}

/** What a verified caller is allowed to act as. */
export type Caller = {
  /** WorkOS user id (`sub`). */
  subject: string;
  workosOrgId: string;
  permissions: string[];
};

/**
 * Returns the caller when its token is for `workosOrgId`.
 *
 * @throws `UNAUTHENTICATED` with no identity, `ORG_MISMATCH` when the token's
 *   `org_id` claim is absent or names another org.
 */
export async function requireOrgMember(ctx: { auth: Auth }, workosOrgId: string): Promise<Caller> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) {
    throw appError("UNAUTHENTICATED", "Sign in to call this function.");
  }
  const orgClaim = identity.org_id;
  if (typeof orgClaim !== "string" || orgClaim.length === 0) {
    throw appError(
      "ORG_MISMATCH",
      "The access token carries no org_id claim; select an organization first.",
    );
  }
  if (orgClaim !== workosOrgId) {
    throw appError("ORG_MISMATCH", "The access token is for another organization.", {
      workosOrgId,
    });
  }
  const rawPermissions = identity.permissions;
  const permissions = Array.isArray(rawPermissions)
    ? rawPermissions.filter((p): p is string => typeof p === "string")
    : [];
  return { subject: identity.subject, workosOrgId, permissions };
}

/** @throws `MISSING_PERMISSION` unless the caller's token grants `permission`. */
export function requirePermission(caller: Caller, permission: string): void {
  if (!caller.permissions.includes(permission)) {
    throw appError("MISSING_PERMISSION", `This action needs the "${permission}" permission.`, {
      permission,
    });
  }
}
