/**
 * Managing an org's FourKites integration: create, update, enable, disable,
 * test, and read its settings and sync health. Every public function needs
 * a token for the org with an integrations permission
 * (`INTEGRATIONS_PERMISSIONS`, default `integrations:manage`).
 *
 * Functions that take credentials are actions: the credentials are encrypted
 * (AES-GCM, `model/fourKites/credentials.ts`) before they reach a mutation,
 * so plaintext never sits in a mutation's arguments log or a document. No
 * function returns credentials. Logic lives in `model/fourKites/`.
 */
import { v, type Infer } from "convex/values";
import { internal } from "./_generated/api";
import { action, internalMutation, internalQuery, mutation, query } from "./functions";
import { FourKitesApiError, FourKitesClient, clientOptionsFromEnv } from "./model/fourKites/client";
import {
  assertCredentialsWellFormed,
  decryptCredentials,
  encryptCredentials,
  vFourKitesCredentials,
} from "./model/fourKites/credentials";
import { vEncryptedCredentials, type EncryptedCredentials } from "./model/fourKites/fields";
import {
  findIntegration,
  integrationView,
  requireIntegrationsManager,
  syncHealthView,
  viewIntegration,
  vIntegrationView,
  vSyncHealth,
  type IntegrationView,
} from "./model/fourKites/integrations";
import { checkSchedule, normalizeBaseUrl } from "./model/fourKites/settings";
import { baseUrlProblem } from "./model/fourKites/storedValues";
import {
  insertIntegration,
  vIntegrationChanges,
  vNewIntegration,
  setIntegrationEnabled,
  updateIntegration as applyIntegrationUpdate,
} from "./model/fourKites/manage";
import { assertOrgActive } from "./model/organizations/registry";
import { appError } from "./lib/errors";

/**
 * Creates the org's integration (enabled by default, first sync at the next
 * dispatcher tick).
 *
 * @throws `INVALID_ARGUMENT` (base URL, schedule, credentials), `MISCONFIGURED`
 *   (no encryption key), `ALREADY_EXISTS`, `ORG_DELETED`, and the caller checks.
 */
export const createIntegration = action({
  args: {
    workosOrgId: v.string(),
    baseUrl: v.string(),
    credentials: vFourKitesCredentials,
    intervalMinutes: v.optional(v.number()),
    lookbackMinutes: v.optional(v.number()),
    enabled: v.optional(v.boolean()),
  },
  returns: vIntegrationView,
  handler: async (ctx, args): Promise<IntegrationView> => {
    await requireIntegrationsManager(ctx, args.workosOrgId);
    const baseUrl = normalizeBaseUrl(args.baseUrl);
    const schedule = checkSchedule(args);
    assertCredentialsWellFormed(args.credentials);
    const credentials = await encryptCredentials(args.workosOrgId, args.credentials);
    return await ctx.runMutation(internal.fourKitesIntegrations.storeNewIntegration, {
      workosOrgId: args.workosOrgId,
      enabled: args.enabled ?? true,
      authKind: args.credentials.kind,
      credentials,
      baseUrl,
      ...schedule,
    });
  },
});

/** Stores a validated, encrypted new integration (see `insertIntegration`). */
export const storeNewIntegration = internalMutation({
  args: vNewIntegration,
  returns: vIntegrationView,
  handler: async (ctx, args) => await insertIntegration(ctx, args),
});

/**
 * Changes any of base URL, credentials (replacing them whole, any kind),
 * interval and lookback. A new base URL restarts the sync from scratch.
 *
 * @throws as `createIntegration`; `NOT_FOUND` without an integration.
 */
export const updateIntegration = action({
  args: {
    workosOrgId: v.string(),
    baseUrl: v.optional(v.string()),
    credentials: v.optional(vFourKitesCredentials),
    intervalMinutes: v.optional(v.number()),
    lookbackMinutes: v.optional(v.number()),
  },
  returns: vIntegrationView,
  handler: async (ctx, args): Promise<IntegrationView> => {
    await requireIntegrationsManager(ctx, args.workosOrgId);
    const baseUrl = args.baseUrl === undefined ? undefined : normalizeBaseUrl(args.baseUrl);
    const interval =
      args.intervalMinutes === undefined ? undefined : checkSchedule(args).intervalMinutes;
    const lookback =
      args.lookbackMinutes === undefined ? undefined : checkSchedule(args).lookbackMinutes;
    let encrypted = undefined;
    if (args.credentials !== undefined) {
      assertCredentialsWellFormed(args.credentials);
      encrypted = await encryptCredentials(args.workosOrgId, args.credentials);
    }
    return await ctx.runMutation(internal.fourKitesIntegrations.storeIntegrationUpdate, {
      workosOrgId: args.workosOrgId,
      baseUrl,
      authKind: args.credentials?.kind,
      credentials: encrypted,
      intervalMinutes: interval,
      lookbackMinutes: lookback,
    });
  },
});

/** Stores validated, encrypted changes (see `updateIntegration` in the model). */
export const storeIntegrationUpdate = internalMutation({
  args: vIntegrationChanges,
  returns: vIntegrationView,
  handler: async (ctx, args) => await applyIntegrationUpdate(ctx, args),
});

/** The enable/disable pair: the same check and write, with opposite flags. */
function integrationSwitch(enabled: boolean) {
  return mutation({
    args: { workosOrgId: v.string() },
    returns: vIntegrationView,
    handler: async (ctx, args) => {
      await requireIntegrationsManager(ctx, args.workosOrgId);
      return await setIntegrationEnabled(ctx, args.workosOrgId, enabled);
    },
  });
}

/** Enables the integration; it is due at once. Idempotent. */
export const enableIntegration = integrationSwitch(true);

/** Disables the integration (no more scheduled pulls). Idempotent. */
export const disableIntegration = integrationSwitch(false);

/** The org's integration settings (never its credentials), or null. */
export const getIntegration = query({
  args: { workosOrgId: v.string() },
  returns: v.union(v.null(), vIntegrationView),
  handler: async (ctx, args) => await viewIntegration(ctx, args.workosOrgId, integrationView),
});

/**
 * The org's sync health: last run (outcome, time, duration, pages, created /
 * updated / unchanged / rejected / unknown-status counts, doubts, fields the
 * parser does not read), last error, next due time, stored values out of the
 * code's range.
 */
export const getSyncHealth = query({
  args: { workosOrgId: v.string() },
  returns: v.union(v.null(), vSyncHealth),
  handler: async (ctx, args) =>
    await viewIntegration(ctx, args.workosOrgId, (found) => syncHealthView(found, Date.now())),
});

const vTestResult = v.union(
  v.object({
    ok: v.literal(true),
    shipmentsOnFirstPage: v.number(),
    totalCount: v.union(v.null(), v.number()),
  }),
  v.object({ ok: v.literal(false), kind: v.string(), message: v.string() }),
);
type TestResult = Infer<typeof vTestResult>;

/**
 * Tries the stored settings: reads page 1 and reports what came back, or why
 * it failed (auth, HTTP, timeout, malformed, or `stored_value` for a stored
 * base URL the code would not have written). Writes nothing.
 */
export const testIntegration = action({
  args: { workosOrgId: v.string() },
  returns: vTestResult,
  handler: async (ctx, args): Promise<TestResult> => {
    await requireIntegrationsManager(ctx, args.workosOrgId);
    const stored: { baseUrl: string; credentials: EncryptedCredentials } = await ctx.runQuery(
      internal.fourKitesIntegrations.storedConnection,
      {
        workosOrgId: args.workosOrgId,
      },
    );
    const urlProblem = baseUrlProblem(stored.baseUrl);
    if (urlProblem !== null)
      return { ok: false as const, kind: "stored_value", message: urlProblem };
    const credentials = await decryptCredentials(args.workosOrgId, stored.credentials);
    const client = new FourKitesClient(stored.baseUrl, credentials, clientOptionsFromEnv());
    try {
      const page = await client.fetchPage(1);
      return {
        ok: true as const,
        shipmentsOnFirstPage: page.shipments.length,
        totalCount: page.totalCount,
      };
    } catch (e) {
      if (!(e instanceof FourKitesApiError)) throw e;
      return { ok: false as const, kind: e.kind, message: e.message };
    }
  },
});

/**
 * Base URL and encrypted credentials of the org's integration, for the test
 * action. @throws `ORG_DELETED`, `NOT_FOUND`.
 */
export const storedConnection = internalQuery({
  args: { workosOrgId: v.string() },
  returns: v.object({ baseUrl: v.string(), credentials: vEncryptedCredentials }),
  handler: async (ctx, args) => {
    await assertOrgActive(ctx, args.workosOrgId);
    const found = await findIntegration(ctx.db, args.workosOrgId);
    if (found === null) {
      throw appError("NOT_FOUND", "This organization has no FourKites integration.", {
        workosOrgId: args.workosOrgId,
      });
    }
    return { baseUrl: found.baseUrl, credentials: found.credentials };
  },
});
