/**
 * Caller checks for public functions. The frontend passes the org it shows;
 * the call goes through only when the caller's WorkOS access token carries the
 * same `org_id` claim. Internal functions (cron, sync, migrations) never call
 * these: they take the org as a trusted argument.
 */
import type { Auth } from "convex/server";
import { appError } from "./errors";

/**
 * WorkOS permission (token claim `permissions`) required for everything that
 * sets or changes what is billed: bulk invoice changes, manual invoices and
 * lanes (their rates price invoices). Create it in the WorkOS dashboard
 * (Roles & Permissions) and grant it to the billing roles.
 */
export const BILLING_PERMISSION = "invoices:bulk-update";

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
