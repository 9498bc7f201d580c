/**
 * Writes behind the integration management functions
 * (`fourKitesIntegrations.ts`): create, update, enable, disable. Callers have
 * checked the caller's permission; credentials arrive here already encrypted.
 */
import { pick } from "convex-helpers";
import { v, type ObjectType } from "convex/values";
import { partial } from "convex-helpers/validators";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import { assertOrgActive } from "../organizations/registry";
import { fourKitesIntegrationFields } from "./fields";
import { findIntegration, integrationView, type IntegrationView } from "./integrations";
import { MINUTE_MS } from "./settings";
import { latestDueAt } from "./storedValues";

type Db = Pick<MutationCtx, "db">;

/** A validated, encrypted new integration: the settings a caller chose. */
export const vNewIntegration = pick(fourKitesIntegrationFields, [
  "workosOrgId",
  "enabled",
  "authKind",
  "credentials",
  "baseUrl",
  "intervalMinutes",
  "lookbackMinutes",
]);
export type NewIntegration = ObjectType<typeof vNewIntegration>;

/**
 * Inserts the org's integration; an enabled one is due at once.
 *
 * @throws `ORG_DELETED`; `ALREADY_EXISTS` when the org has one (update it).
 */
export async function insertIntegration(ctx: Db, args: NewIntegration): Promise<IntegrationView> {
  await assertOrgActive(ctx, args.workosOrgId);
  if ((await findIntegration(ctx.db, args.workosOrgId)) !== null) {
    throw appError(
      "ALREADY_EXISTS",
      "This organization already has a FourKites integration; update it instead.",
      { workosOrgId: args.workosOrgId },
    );
  }
  const now = Date.now();
  const id = await ctx.db.insert("fourKitesIntegrations", {
    ...args,
    nextDueAt: now,
    createdAt: now,
    updatedAt: now,
  });
  const doc = await ctx.db.get("fourKitesIntegrations", id);
  if (doc === null) throw new Error("[fourkites.integration] insert lost");
  console.log("[fourkites.integration] created", {
    workosOrgId: args.workosOrgId,
    authKind: args.authKind,
    enabled: args.enabled,
  });
  return integrationView(doc);
}

async function requireIntegration(ctx: Db, workosOrgId: string) {
  const found = await findIntegration(ctx.db, workosOrgId);
  if (found === null) {
    throw appError("NOT_FOUND", "This organization has no FourKites integration.", {
      workosOrgId,
    });
  }
  return found;
}

/** Validated, encrypted changes to the org's integration (any subset). */
export const vIntegrationChanges = {
  workosOrgId: v.string(),
  ...partial(
    pick(fourKitesIntegrationFields, [
      "baseUrl",
      "authKind",
      "credentials",
      "intervalMinutes",
      "lookbackMinutes",
    ]),
  ),
};
export type IntegrationChanges = ObjectType<typeof vIntegrationChanges>;

/**
 * Applies `changes`. A new base URL is another FourKites account as far as
 * the sync knows: its watermark and any pass in progress are dropped, so the
 * next run reads it from the start. New credentials keep both.
 *
 * @throws `ORG_DELETED`, `NOT_FOUND`.
 */
export async function updateIntegration(
  ctx: Db,
  changes: IntegrationChanges,
): Promise<IntegrationView> {
  await assertOrgActive(ctx, changes.workosOrgId);
  const existing = await requireIntegration(ctx, changes.workosOrgId);
  const { workosOrgId, ...fields } = changes;
  const patch: Partial<typeof existing> = { updatedAt: Date.now() };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) Object.assign(patch, { [key]: value });
  }
  if (changes.baseUrl !== undefined && changes.baseUrl !== existing.baseUrl) {
    Object.assign(patch, { watermark: undefined, pass: undefined });
  }
  if (changes.intervalMinutes !== undefined && existing.enabled) {
    // Due no later than one new interval from now (a stored time the code
    // would not have written, `NaN` or far ahead, does not survive this).
    const now = Date.now();
    const stored = existing.nextDueAt <= latestDueAt(now) ? existing.nextDueAt : now;
    patch.nextDueAt = Math.min(stored, now + changes.intervalMinutes * MINUTE_MS);
  }
  await ctx.db.patch("fourKitesIntegrations", existing._id, patch);
  console.log("[fourkites.integration] updated", {
    workosOrgId,
    fields: Object.keys(fields).filter((k) => fields[k as keyof typeof fields] !== undefined),
  });
  const doc = await ctx.db.get("fourKitesIntegrations", existing._id);
  if (doc === null) throw new Error("[fourkites.integration] patch lost");
  return integrationView(doc);
}

/**
 * Enables (due at once) or disables (the dispatcher skips it; a pass in
 * progress resumes when enabled again). Idempotent.
 *
 * @throws `ORG_DELETED` (enable only), `NOT_FOUND`.
 */
export async function setIntegrationEnabled(
  ctx: Db,
  workosOrgId: string,
  enabled: boolean,
): Promise<IntegrationView> {
  if (enabled) await assertOrgActive(ctx, workosOrgId);
  const existing = await requireIntegration(ctx, workosOrgId);
  if (existing.enabled !== enabled) {
    const now = Date.now();
    await ctx.db.patch("fourKitesIntegrations", existing._id, {
      enabled,
      updatedAt: now,
      ...(enabled ? { nextDueAt: now } : {}),
    });
    console.log("[fourkites.integration]", { workosOrgId, enabled });
  }
  const doc = await ctx.db.get("fourKitesIntegrations", existing._id);
  if (doc === null) throw new Error("[fourkites.integration] patch lost");
  return integrationView(doc);
}
