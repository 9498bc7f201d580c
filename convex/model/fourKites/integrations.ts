/**
 * Per-org FourKites integrations: the stored record (`fourKitesIntegrations`),
 * its settings and their validation, who may manage it, and what callers
 * see of it. Credentials are stored encrypted (`credentials.ts`) and never
 * leave this module in plaintext; `integrationView` and `syncHealthView` are
 * the only shapes functions return, and they carry no credential at all.
 */
import { v, type Infer } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { QueryCtx } from "../ctx";
import { requireIntegrations, requireOrgMember, type Caller } from "../../lib/auth";
import { appError } from "../../lib/errors";
import { AUTH_KINDS, vEncryptedCredentials } from "./credentials";
import { literals } from "convex-helpers/validators";
import { pickUnique } from "../uniqueness";

export const vAuthKind = literals(...AUTH_KINDS);

/** Minutes between scheduled pulls: default, bounds. */
export const DEFAULT_INTERVAL_MINUTES = 15;
export const MIN_INTERVAL_MINUTES = 5;
export const MAX_INTERVAL_MINUTES = 24 * 60;
/** Minutes a pass looks back before the watermark: default, bounds. */
export const DEFAULT_LOOKBACK_MINUTES = 60;
export const MAX_LOOKBACK_MINUTES = 7 * 24 * 60;
/** Longest base URL accepted. */
export const MAX_BASE_URL_LENGTH = 500;
const MINUTE = 60_000;

/** Counts of one run (or of a pass so far). */
export const vRunCounts = v.object({
  pages: v.number(),
  received: v.number(),
  /** Shipments last updated before the pass's cutoff (watermark − lookback). */
  skippedOld: v.number(),
  created: v.number(),
  updated: v.number(),
  unchanged: v.number(),
  rejected: v.number(),
  /** Imported with an unmapped status (`UNKNOWN_STATUS_RULE`). */
  unknownStatus: v.number(),
  requests: v.number(),
  retries: v.number(),
});
export type RunCounts = Infer<typeof vRunCounts>;

export const zeroCounts = (): RunCounts => ({
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
});

/** A few rejected shipments of a run, so an operator can find them. */
export const vRejectionSample = v.object({
  page: v.number(),
  index: v.number(),
  shipmentId: v.union(v.null(), v.string()),
  path: v.string(),
  message: v.string(),
});

/** The summary of the last finished (or failed) run. */
export const vRunSummary = v.object({
  runId: v.string(),
  outcome: literals("completed", "partial", "failed"),
  startedAt: v.number(),
  finishedAt: v.number(),
  durationMs: v.number(),
  /** First page this run read (> 1 when it resumed a pass). */
  firstPage: v.number(),
  counts: vRunCounts,
  rejections: v.array(vRejectionSample),
  /** Distinct unmapped FourKites statuses seen (at most 10). */
  unknownStatuses: v.array(v.string()),
});
export type RunSummary = Infer<typeof vRunSummary>;

/**
 * A pass through all pages in progress, persisted after every page whose
 * batches committed: a killed sync resumes at `nextPage`.
 */
export const vSyncPass = v.object({
  startedAt: v.number(),
  /** Shipments updated before this are skipped (watermark − lookback; 0 on the first pass). */
  cutoff: v.number(),
  nextPage: v.number(),
});

/** The last failure: when, what kind, and a message without secrets. */
export const vLastError = v.object({ at: v.number(), kind: v.string(), message: v.string() });
export type LastError = Infer<typeof vLastError>;

/** The run holding the integration (a lease, so two runs never overlap). */
export const vRunLease = v.object({
  runId: v.string(),
  startedAt: v.number(),
  leaseUntil: v.number(),
});

/** Fields of a `fourKitesIntegrations` document (the table is in `schema.ts`). */
export const fourKitesIntegrationFields = {
  workosOrgId: v.string(),
  enabled: v.boolean(),
  authKind: vAuthKind,
  credentials: vEncryptedCredentials,
  /** e.g. `https://api.fourkites.com/shipments`; pages are `GET <base>?page=N&perPage=100`. */
  baseUrl: v.string(),
  intervalMinutes: v.number(),
  lookbackMinutes: v.number(),
  /** When the dispatcher enqueues the next sync (enabled integrations only). */
  nextDueAt: v.number(),
  /** Start time of the last complete pass: the next one keeps shipments updated since `watermark − lookback`. */
  watermark: v.optional(v.number()),
  pass: v.optional(vSyncPass),
  running: v.optional(vRunLease),
  lastRun: v.optional(vRunSummary),
  lastError: v.optional(vLastError),
  createdAt: v.number(),
  updatedAt: v.number(),
};

/** Settings a manager can set (all optional on update). */
export const vIntegrationSettings = {
  baseUrl: v.string(),
  intervalMinutes: v.optional(v.number()),
  lookbackMinutes: v.optional(v.number()),
};

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
 * A base URL FourKites pages can be read from: `https`, or `http` on a
 * loopback host (local fakes); no user info (it would be a plaintext secret
 * in a column), no query or fragment (the sync adds `page`/`perPage`).
 *
 * @throws `INVALID_ARGUMENT` naming `baseUrl`.
 */
export function normalizeBaseUrl(raw: string): string {
  const bad = (why: string) =>
    appError("INVALID_ARGUMENT", `baseUrl ${why}.`, { field: "baseUrl" });
  if (raw.length > MAX_BASE_URL_LENGTH)
    throw bad(`must be at most ${MAX_BASE_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw bad("is not a URL");
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (!(url.protocol === "https:" || (url.protocol === "http:" && loopback))) {
    throw bad("must use https");
  }
  if (url.username !== "" || url.password !== "") {
    throw bad("must not carry credentials (set them as credentials instead)");
  }
  if (url.search !== "" || url.hash !== "") throw bad("must not have a query or fragment");
  return url.toString().replace(/\/+$/, "");
}

function checkMinutes(field: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw appError("INVALID_ARGUMENT", `${field} must be an integer from ${min} to ${max}.`, {
      field,
    });
  }
  return value;
}

/** Validated interval and lookback (defaults applied). */
export function checkSchedule(args: { intervalMinutes?: number; lookbackMinutes?: number }) {
  return {
    intervalMinutes: checkMinutes(
      "intervalMinutes",
      args.intervalMinutes ?? DEFAULT_INTERVAL_MINUTES,
      MIN_INTERVAL_MINUTES,
      MAX_INTERVAL_MINUTES,
    ),
    lookbackMinutes: checkMinutes(
      "lookbackMinutes",
      args.lookbackMinutes ?? DEFAULT_LOOKBACK_MINUTES,
      0,
      MAX_LOOKBACK_MINUTES,
    ),
  };
}

export const intervalMs = (i: Pick<Doc<"fourKitesIntegrations">, "intervalMinutes">) =>
  i.intervalMinutes * MINUTE;
export const lookbackMs = (i: Pick<Doc<"fourKitesIntegrations">, "lookbackMinutes">) =>
  i.lookbackMinutes * MINUTE;

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
  watermark: v.union(v.null(), v.number()),
  /** A run holds the lease now (started at). */
  runningSince: v.union(v.null(), v.number()),
  /** A pass is in progress and will resume at this page. */
  resumeAtPage: v.union(v.null(), v.number()),
  lastRun: v.union(v.null(), vRunSummary),
  lastError: v.union(v.null(), vLastError),
});
export type SyncHealth = Infer<typeof vSyncHealth>;

export function syncHealthView(i: Doc<"fourKitesIntegrations">, now: number): SyncHealth {
  return {
    workosOrgId: i.workosOrgId,
    enabled: i.enabled,
    authKind: i.authKind,
    nextDueAt: i.enabled ? i.nextDueAt : null,
    watermark: i.watermark ?? null,
    runningSince:
      i.running !== undefined && i.running.leaseUntil > now ? i.running.startedAt : null,
    resumeAtPage: i.pass?.nextPage ?? null,
    lastRun: i.lastRun ?? null,
    lastError: i.lastError ?? null,
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
