/**
 * Per-org FourKites integrations: finding the stored record
 * (`fourKitesIntegrations`, fields in `fields.ts`), who may manage it, and
 * what callers see of it. Credentials are stored encrypted (`credentials.ts`) and never
 * leave this module in plaintext; `integrationView` and `syncHealthView` are
 * the only shapes functions return, and they carry no credential at all.
 */
import { v, type Infer } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { QueryCtx } from "../ctx";
import { requireIntegrations, requireOrgMember, type Caller } from "../../lib/auth";
import { pickUnique } from "../uniqueness";
import { vAuthKind, vLastError, vRunSummary, vStoredValueReport, type RunCounts } from "./fields";
import { leaseHolds, storedValueProblems } from "./storedValues";

/** A run's counts before it read anything. */
export const zeroCounts = (): Required<RunCounts> => ({
  pages: 0,
  received: 0,
  skippedOld: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  rejected: 0,
  unknownStatus: 0,
  requests: 0,
  retries: 0,
  rereads: 0,
  duplicates: 0,
  unreadFields: 0,
});

/**
 * The caller, when its token is for `workosOrgId` and grants an integrations
 * permission (`INTEGRATIONS_PERMISSIONS`, default `integrations:manage`; the
 * generic check in `lib/auth.ts`).
 *
 * @throws `UNAUTHENTICATED`, `ORG_MISMATCH`, `MISSING_PERMISSION`.
 */
export async function requireIntegrationsManager(
  ctx: Parameters<typeof requireOrgMember>[0],
  workosOrgId: string,
): Promise<Caller> {
  const caller = await requireOrgMember(ctx, workosOrgId);
  requireIntegrations(caller);
  return caller;
}

/**
 * The org's integration, or null. One per org is the rule (create refuses a
 * second); should a bypass (dashboard edit, import) leave two, the oldest is
 * used, deterministically, and the duplicate is logged for an operator.
 */
export async function findIntegration(
  db: QueryCtx["db"],
  workosOrgId: string,
): Promise<Doc<"fourKitesIntegrations"> | null> {
  const picked = await pickUnique(
    db.query("fourKitesIntegrations").withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId)),
    "fourKitesIntegrations by org",
    { workosOrgId },
  );
  return picked?.doc ?? null;
}

/**
 * What a manager of the org sees of its integration through `view`, or null
 * when the org has none. Checks the caller (`requireIntegrationsManager`).
 */
export async function viewIntegration<V>(
  ctx: Pick<QueryCtx, "db" | "auth">,
  workosOrgId: string,
  view: (integration: Doc<"fourKitesIntegrations">) => V,
): Promise<V | null> {
  await requireIntegrationsManager(ctx, workosOrgId);
  const found = await findIntegration(ctx.db, workosOrgId);
  return found === null ? null : view(found);
}

/** What a manager sees of an integration: everything but the credentials. */
export const vIntegrationView = v.object({
  workosOrgId: v.string(),
  enabled: v.boolean(),
  authKind: vAuthKind,
  /** Credentials are stored (encrypted); they are never returned. */
  credentialsSet: v.boolean(),
  baseUrl: v.string(),
  intervalMinutes: v.number(),
  lookbackMinutes: v.number(),
  nextDueAt: v.union(v.null(), v.number()),
  watermark: v.union(v.null(), v.number()),
  createdAt: v.number(),
  updatedAt: v.number(),
});
export type IntegrationView = Infer<typeof vIntegrationView>;

export function integrationView(i: Doc<"fourKitesIntegrations">): IntegrationView {
  return {
    workosOrgId: i.workosOrgId,
    enabled: i.enabled,
    authKind: i.authKind,
    credentialsSet: true,
    baseUrl: i.baseUrl,
    intervalMinutes: i.intervalMinutes,
    lookbackMinutes: i.lookbackMinutes,
    nextDueAt: i.enabled ? i.nextDueAt : null,
    watermark: i.watermark ?? null,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  };
}

/** Sync health of one integration (operator status and the org's admins). */
export const vSyncHealth = v.object({
  workosOrgId: v.string(),
  enabled: v.boolean(),
  authKind: vAuthKind,
  nextDueAt: v.union(v.null(), v.number()),
  /** Start of the last pass that stood behind "completed" (see `pass.ts`). */
  watermark: v.union(v.null(), v.number()),
  /** Start of the last completed full pass (cutoff 0, every shipment imported). */
  lastFullPassAt: v.union(v.null(), v.number()),
  /** A run holds the lease now (started at). */
  runningSince: v.union(v.null(), v.number()),
  /** A pass is in progress and will resume at this page. */
  resumeAtPage: v.union(v.null(), v.number()),
  lastRun: v.union(v.null(), vRunSummary),
  lastError: v.union(v.null(), vLastError),
  /** Stored values the code would not have written, and what the sync does instead (`storedValues.ts`). */
  storedValueProblems: v.array(v.string()),
  /** The last time a sync or the dispatcher found such values (they are logged too). */
  lastStoredValueReport: v.union(v.null(), vStoredValueReport),
});
export type SyncHealth = Infer<typeof vSyncHealth>;

export function syncHealthView(i: Doc<"fourKitesIntegrations">, now: number): SyncHealth {
  return {
    workosOrgId: i.workosOrgId,
    enabled: i.enabled,
    authKind: i.authKind,
    nextDueAt: i.enabled ? i.nextDueAt : null,
    watermark: i.watermark ?? null,
    lastFullPassAt: i.fullPassAt ?? null,
    runningSince: leaseHolds(i.running, now) ? i.running.startedAt : null,
    resumeAtPage: i.pass?.nextPage ?? null,
    lastRun: i.lastRun ?? null,
    lastError: i.lastError ?? null,
    storedValueProblems: storedValueProblems(i, now),
    lastStoredValueReport: i.lastStoredValueReport ?? null,
  };
}

/** Most integrations `listSyncHealth` returns per call. */
const MAX_STATUS_ROWS = 200;

/** Sync health of every integration (or one org's), for operators. */
export const vSyncHealthList = v.object({
  integrations: v.array(vSyncHealth),
  /** More than `MAX_STATUS_ROWS` integrations exist; the rest are not listed. */
  truncated: v.boolean(),
});
export type SyncHealthList = Infer<typeof vSyncHealthList>;

/**
 * Sync health of the first `MAX_STATUS_ROWS` integrations (by org), or of
 * `workosOrgId`'s. Never credentials.
 */
export async function listSyncHealth(
  ctx: QueryCtx,
  workosOrgId: string | undefined,
  now: number,
): Promise<SyncHealthList> {
  const rows =
    workosOrgId === undefined
      ? await ctx.db
          .query("fourKitesIntegrations")
          .withIndex("by_org")
          .take(MAX_STATUS_ROWS + 1)
      : await ctx.db
          .query("fourKitesIntegrations")
          .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
          .take(MAX_STATUS_ROWS + 1);
  return {
    integrations: rows.slice(0, MAX_STATUS_ROWS).map((r) => syncHealthView(r, now)),
    truncated: rows.length > MAX_STATUS_ROWS,
  };
}
