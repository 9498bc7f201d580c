/**
 * The organization registry's registered functions, all internal: the
 * webhook's mutation (called by `http.ts`), the sync (`syncFromWorkOS`, the
 * operator's command) and its batch mutation and registry reader. The logic
 * lives in `model/organizations/registry.ts`, `model/organizations/webhook.ts` and
 * `model/organizations/workosSync.ts`.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { upsertOrganizations, vBatchResult } from "./model/organizations/lifecycle";
import { vOrgSnapshot } from "./model/organizations/registry";
import {
  syncOrganizationsFromWorkOS,
  vRegistryEntry,
  vSyncResult,
} from "./model/organizations/workosSync";
import { vApplyResult, vOrganizationEventInput } from "./model/organizations/webhook";
import {
  applyLifecycleEvent,
  vLifecycleEvent,
  vLifecycleResult,
} from "./model/organizations/lifecycle";

/**
 * Applies one verified WorkOS organization event, once per event id. Called
 * by the `POST /workos/webhook` HTTP action after the signature check.
 */
export const applyWebhookEvent = internalMutation({
  args: vOrganizationEventInput,
  returns: vApplyResult,
  handler: async (ctx, args) => await applyLifecycleEvent(ctx, args),
});

/**
 * Applies one verified WorkOS organization event from any receiver: the
 * `@convex-dev/workos-authkit` component's event hooks, or a team's own
 * webhook (see docs/operations.md). With `eventId`, once per id.
 *
 * ```ts
 * // convex/auth.ts, next to the authkit component
 * "organization.created": async (ctx, event) => {
 *   const lifecycle = lifecycleEventFromWorkOS(event);
 *   if (lifecycle) await ctx.runMutation(internal.organizations.applyOrganizationEvent, lifecycle);
 * },
 * ```
 */
export const applyOrganizationEvent = internalMutation({
  args: vLifecycleEvent,
  returns: vLifecycleResult,
  handler: async (ctx, args) => await applyLifecycleEvent(ctx, args),
});

/** Upserts up to 100 organizations listed by WorkOS; writes only what changed. */
export const upsertOrganizationsBatch = internalMutation({
  args: { organizations: v.array(vOrgSnapshot) },
  returns: vBatchResult,
  handler: async (ctx, args) => await upsertOrganizations(ctx, args.organizations),
});

/** One page of the registry, in creation order (for the sync's missing-org report). */
export const registryPage = internalQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: v.object({
    page: v.array(vRegistryEntry),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, args) => {
    const result = await ctx.db.query("organizations").paginate(args.paginationOpts);
    return {
      page: result.page.map((org) => ({
        workosOrgId: org.workosOrgId,
        status: org.status,
        registeredAt: org._creationTime,
      })),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
  },
});

/**
 * Registers or updates every WorkOS organization in the registry and reports
 * registry orgs WorkOS no longer lists (without deleting them). Needs
 * `WORKOS_API_KEY`. Safe to run any time; a second run writes nothing.
 *
 * ```sh
 * npx convex run organizations:syncFromWorkOS
 * ```
 */
export const syncFromWorkOS = internalAction({
  args: {},
  returns: vSyncResult,
  handler: async (ctx) => await syncOrganizationsFromWorkOS(ctx),
});
