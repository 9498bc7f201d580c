/**
 * Who is calling: the WorkOS AuthKit access token's `sub` and `org_id`
 * claims (`auth.config.ts`). Public functions act for the caller's org only.
 */
import type { Auth } from "convex/server";
import { appError } from "./errors";

export type Caller = { userId: string; workosOrgId: string };

/**
 * The caller and the org their token is for.
 *
 * @throws `UNAUTHENTICATED` without an identity, `ORG_MISMATCH` when the
 *   token names no org.
 */
export async function requireCaller(ctx: { auth: Auth }): Promise<Caller> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) throw appError("UNAUTHENTICATED", "Sign in first.");
  const org = identity.org_id;
  if (typeof org !== "string" || org === "") {
    throw appError("ORG_MISMATCH", "The access token carries no org_id: select an organization.");
  }
  return { userId: identity.subject, workosOrgId: org };
}

/**
 * The caller, when their token is for `workosOrgId`.
 *
 * @throws as `requireCaller`, and `ORG_MISMATCH` for another org.
 */
export async function requireOrgMember(ctx: { auth: Auth }, workosOrgId: string): Promise<Caller> {
  const caller = await requireCaller(ctx);
  if (caller.workosOrgId !== workosOrgId) {
    throw appError("ORG_MISMATCH", "The access token is for another organization.");
  }
  return caller;
}
