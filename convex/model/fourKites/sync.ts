/**
 * Scheduled FourKites pulls, one org at a time: the run state kept on the
 * integration (lease, pass in progress, watermark, last run) and the action
 * body that pages through the API and imports through the existing import
 * mutations.
 *
 * A pass reads every page (the API has no "updated since" filter) and keeps
 * shipments updated at or after its cutoff, `watermark − lookback`. After each
 * page's import batches committed, the next page number is persisted: a run
 * killed mid-pass is resumed there by the next run (once its lease expired).
 * When the last page is done the watermark becomes the pass's start time:
 * every update before that instant was on some page during the pass, and
 * updates made during the pass are at or after it, so the next pass (cutoff
 * = start − lookback) keeps them. The lookback absorbs clock skew between
 * FourKites and us.
 */
import { v, type Infer } from "convex/values";
import { ConvexError } from "convex/values";
import { internal } from "../../_generated/api";
import type { Doc } from "../../_generated/dataModel";
import type { ActionCtx, MutationCtx } from "../ctx";
import { MAX_ID_LENGTH } from "../validate";
import {
  FOURKITES_PAGE_SIZE,
  FourKitesApiError,
  FourKitesClient,
  clientOptionsFromEnv,
  isLastPage,
} from "./client";
import {
  decryptCredentials,
  encryptCredentials,
  needsReencryption,
  vEncryptedCredentials,
} from "./credentials";
import {
  findIntegration,
  intervalMs,
  lookbackMs,
  vRunCounts,
  vRunSummary,
  vSyncPass,
  zeroCounts,
  type LastError,
  type RunSummary,
} from "./integrations";
import { checkPageShipment } from "./shipment";
import { isOrgDeleted } from "../organizations/deleted";
import { getOrganization } from "../organizations/registry";

/** A run's lease: longer than an action may run (10 min), so a live run is never overtaken. */
export const SYNC_LEASE_MS = 11 * 60_000;
/** Pages one run reads; a longer pass continues at the next dispatcher tick. */
export const MAX_PAGES_PER_RUN = 40;
/** Integrations the dispatcher enqueues per tick; the rest wait one tick. */
export const MAX_DISPATCH_PER_TICK = 50;
/**
 * Wall time after which a run stops at the next page boundary (`partial`;
 * the next tick continues), well inside an action's 10 minutes even when
 * the page in flight then spends its whole retry budget.
 */
export const RUN_TIME_BUDGET_MS = 4 * 60_000;
/** Rejections and unknown statuses kept in a run summary (all are counted and logged). */
const MAX_SAMPLES = 10;
/** Shipments per import mutation (`importShipmentBatch` takes at most 100). */
export const SYNC_BATCH_SIZE = 100;

type Db = Pick<MutationCtx, "db">;

// ---------------------------------------------------------------- run state

/** A deleted org is recorded as the last error rather than failing the scheduled run. */
async function orgIsDeleted(ctx: Db, workosOrgId: string): Promise<boolean> {
  return isOrgDeleted(await getOrganization(ctx, workosOrgId));
}

/** What `beginRun` hands the action. */
export const vBegunRun = v.union(
  v.object({
    skipped: v.literal(false),
    baseUrl: v.string(),
    credentials: vEncryptedCredentials,
    pass: vSyncPass,
  }),
  v.object({
    skipped: v.literal(true),
    reason: v.union(
      v.literal("no_integration"),
      v.literal("disabled"),
      v.literal("org_deleted"),
      v.literal("running"),
    ),
  }),
);
export type BegunRun = Infer<typeof vBegunRun>;

/**
 * Takes the lease for `runId` and returns what the run needs (credentials
 * still encrypted), or why the run is skipped: no integration, disabled, a
 * deleted org (recorded as the last error), or another run holding the lease.
 * Starts a new pass unless one is in progress.
 */
export async function beginRun(
  ctx: Db,
  workosOrgId: string,
  runId: string,
  now: number,
): Promise<BegunRun> {
  const integration = await findIntegration(ctx.db, workosOrgId);
  if (integration === null) return { skipped: true, reason: "no_integration" };
  if (!integration.enabled) return { skipped: true, reason: "disabled" };
  if (await orgIsDeleted(ctx, workosOrgId)) {
    await ctx.db.patch("fourKitesIntegrations", integration._id, {
      lastError: { at: now, kind: "org_deleted", message: "The organization was deleted." },
    });
    return { skipped: true, reason: "org_deleted" };
  }
  if (integration.running !== undefined && integration.running.leaseUntil > now) {
    return { skipped: true, reason: "running" };
  }
  const pass = integration.pass ?? {
    startedAt: now,
    cutoff:
      integration.watermark === undefined ? 0 : integration.watermark - lookbackMs(integration),
    nextPage: 1,
  };
  await ctx.db.patch("fourKitesIntegrations", integration._id, {
    pass,
    running: { runId, startedAt: now, leaseUntil: now + SYNC_LEASE_MS },
  });
  return {
    skipped: false,
    baseUrl: integration.baseUrl,
    credentials: integration.credentials,
    pass,
  };
}

/** The integration when `runId` still holds its lease, else null (logged). */
async function leased(
  ctx: Db,
  workosOrgId: string,
  runId: string,
): Promise<Doc<"fourKitesIntegrations"> | null> {
  const integration = await findIntegration(ctx.db, workosOrgId);
  if (integration?.running?.runId !== runId) {
    console.warn("[fourkites.sync] lease lost", { workosOrgId, runId });
    return null;
  }
  return integration;
}

/**
 * Records that page `page` is imported: the pass resumes after it. Returns
 * false when the run lost its lease (it must stop).
 */
export async function commitPage(
  ctx: Db,
  workosOrgId: string,
  runId: string,
  page: number,
  now: number,
): Promise<boolean> {
  const integration = await leased(ctx, workosOrgId, runId);
  if (integration === null || integration.pass === undefined || integration.running === undefined) {
    return false;
  }
  await ctx.db.patch("fourKitesIntegrations", integration._id, {
    pass: { ...integration.pass, nextPage: page + 1 },
    running: { ...integration.running, leaseUntil: now + SYNC_LEASE_MS },
  });
  return true;
}

export const vRunEnd = v.object({
  summary: vRunSummary,
  /** True when the last page was imported: the pass is done. */
  passDone: v.boolean(),
  error: v.optional(v.object({ kind: v.string(), message: v.string() })),
});
export type RunEnd = Infer<typeof vRunEnd>;

/**
 * Ends the run: releases the lease, stores the summary and the error (or
 * clears it). A finished pass moves the watermark to its start; an
 * unfinished one stays for the next run, which is due at once when this run
 * only stopped at its page budget.
 */
export async function finishRun(
  ctx: Db,
  workosOrgId: string,
  runId: string,
  end: RunEnd,
  now: number,
): Promise<void> {
  const integration = await leased(ctx, workosOrgId, runId);
  if (integration === null) return;
  const lastError: LastError | undefined =
    end.error === undefined ? undefined : { at: now, ...end.error };
  await ctx.db.patch("fourKitesIntegrations", integration._id, {
    running: undefined,
    lastRun: end.summary,
    lastError,
    ...(end.passDone ? { pass: undefined, watermark: integration.pass?.startedAt } : {}),
    ...(end.summary.outcome === "partial" && integration.enabled ? { nextDueAt: now } : {}),
  });
}

// --------------------------------------------------------------- dispatcher

/**
 * Enqueues one sync for every enabled integration due at `now` (at most
 * `MAX_DISPATCH_PER_TICK`, read through `by_enabled_and_next_due_at`) and
 * moves each one's next due time an interval ahead. An org whose run still
 * holds its lease is not enqueued again.
 */
export async function dispatchDue(
  ctx: Db,
  now: number,
  enqueue: (workosOrgId: string) => Promise<void>,
): Promise<{ enqueued: number; busy: number; more: boolean }> {
  const due = await ctx.db
    .query("fourKitesIntegrations")
    .withIndex("by_enabled_and_next_due_at", (q) => q.eq("enabled", true).lte("nextDueAt", now))
    .take(MAX_DISPATCH_PER_TICK + 1);
  const more = due.length > MAX_DISPATCH_PER_TICK;
  let enqueued = 0;
  let busy = 0;
  for (const integration of due.slice(0, MAX_DISPATCH_PER_TICK)) {
    await ctx.db.patch("fourKitesIntegrations", integration._id, {
      nextDueAt: now + intervalMs(integration),
    });
    if (integration.running !== undefined && integration.running.leaseUntil > now) {
      busy++;
      continue;
    }
    await enqueue(integration.workosOrgId);
    enqueued++;
  }
  if (due.length > 0) console.log("[fourkites.dispatch]", { enqueued, busy, more });
  return { enqueued, busy, more };
}

// ------------------------------------------------------------------- action

export const vSyncRunResult = v.union(
  v.object({ outcome: v.literal("skipped"), reason: v.string() }),
  v.object({
    outcome: v.union(v.literal("completed"), v.literal("partial"), v.literal("failed")),
    runId: v.string(),
    counts: vRunCounts,
    error: v.union(v.null(), v.object({ kind: v.string(), message: v.string() })),
  }),
);
export type SyncRunResult = Infer<typeof vSyncRunResult>;

/** The shipment id a raw shipment claims (cut to `MAX_ID_LENGTH`), or null. */
export function shipmentIdOf(raw: unknown): string | null {
  if (typeof raw !== "object" || raw === null || !("id" in raw)) return null;
  const id = raw.id;
  return typeof id === "string" || typeof id === "number"
    ? String(id).slice(0, MAX_ID_LENGTH)
    : null;
}

/** The update time a raw shipment claims (ms), or NaN when it has none that parses. */
function rawUpdatedAt(raw: unknown): number {
  if (typeof raw !== "object" || raw === null || !("updatedAt" in raw)) return NaN;
  return typeof raw.updatedAt === "string" ? Date.parse(raw.updatedAt) : NaN;
}

/** A failure as stored and logged: a kind and a message without secrets. */
function describeError(e: unknown): { kind: string; message: string } {
  if (e instanceof FourKitesApiError) return { kind: e.kind, message: e.message };
  if (e instanceof ConvexError) {
    const data = e.data as { code?: unknown; message?: unknown };
    return { kind: String(data.code ?? "error"), message: String(data.message ?? "") };
  }
  return { kind: "internal", message: e instanceof Error ? e.message : String(e) };
}

/**
 * One sync run for `workosOrgId` (the body of `fourKitesSync:syncIntegration`).
 *
 * Reads up to `maxPages` pages from the pass's next page; for each page,
 * skips shipments updated before the cutoff, validates the rest as parsed
 * (`checkPageShipment`: the import mutations' own checks), imports the
 * valid ones in batches, then commits the page. Invalid shipments are
 * counted, sampled and logged, and do not hold back the others. Any request
 * failure (after the client's retries), an unusable page or a refused
 * import ends the run as `failed`: the pages before it stay imported and
 * committed, the failing page is not half-committed (its batches are
 * idempotent when re-read), and the next run resumes at that page.
 * Unexpected errors (bugs) are recorded, then rethrown.
 */
export async function runSync(
  ctx: Pick<ActionCtx, "runMutation">,
  workosOrgId: string,
  maxPages: number = MAX_PAGES_PER_RUN,
): Promise<SyncRunResult> {
  const runId = crypto.randomUUID();
  const startedAt = Date.now();
  const begun: BegunRun = await ctx.runMutation(internal.fourKitesSync.beginSyncRun, {
    workosOrgId,
    runId,
  });
  if (begun.skipped) {
    console.log("[fourkites.sync] skipped", { workosOrgId, reason: begun.reason });
    return { outcome: "skipped", reason: begun.reason };
  }
  const counts = zeroCounts();
  const rejections: RunSummary["rejections"] = [];
  const unknownStatuses = new Set<string>();
  const firstPage = begun.pass.nextPage;
  let client: FourKitesClient | null = null;
  let outcome: "completed" | "partial" | "failed" = "partial";
  let error: { kind: string; message: string } | null = null;
  let unexpected: unknown = null;
  try {
    const credentials = await decryptCredentials(workosOrgId, begun.credentials);
    if (needsReencryption(begun.credentials)) {
      // Key rotation: move the stored ciphertext to the current key.
      await ctx.runMutation(internal.fourKitesIntegrations.storeIntegrationUpdate, {
        workosOrgId,
        credentials: await encryptCredentials(workosOrgId, credentials),
      });
    }
    client = new FourKitesClient(begun.baseUrl, credentials, clientOptionsFromEnv());
    for (let page = firstPage; page < firstPage + maxPages; page++) {
      const got = await client.fetchPage(page, FOURKITES_PAGE_SIZE);
      counts.pages++;
      counts.received += got.shipments.length;
      const valid: string[] = [];
      got.shipments.forEach((raw, index) => {
        if (rawUpdatedAt(raw) < begun.pass.cutoff) {
          counts.skippedOld++;
          return;
        }
        const checked = checkPageShipment(raw, workosOrgId);
        if (!checked.ok) {
          counts.rejected++;
          const [first] = checked.issues;
          const sample = { page, index, shipmentId: shipmentIdOf(raw), ...first };
          console.warn("[fourkites.sync] shipment rejected", {
            workosOrgId,
            ...sample,
            issueCount: checked.issues.length,
          });
          if (rejections.length < MAX_SAMPLES) rejections.push(sample);
          return;
        }
        if (checked.shipment.status === null && unknownStatuses.size < MAX_SAMPLES) {
          unknownStatuses.add(checked.shipment.fourKitesStatus);
        }
        valid.push(checked.json);
      });
      for (let i = 0; i < valid.length; i += SYNC_BATCH_SIZE) {
        const batch = await ctx.runMutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
          workosOrgId,
          shipments: valid.slice(i, i + SYNC_BATCH_SIZE),
        });
        counts.created += batch.created;
        counts.updated += batch.updated;
        counts.unchanged += batch.unchanged;
        counts.unknownStatus += batch.unknownStatus;
      }
      const kept = await ctx.runMutation(internal.fourKitesSync.commitSyncPage, {
        workosOrgId,
        runId,
        page,
      });
      if (!kept) {
        error = { kind: "lease_lost", message: "Another run took over this integration." };
        outcome = "failed";
        break;
      }
      if (isLastPage(page, got, FOURKITES_PAGE_SIZE)) {
        outcome = "completed";
        break;
      }
      if (Date.now() - startedAt > RUN_TIME_BUDGET_MS) break;
    }
  } catch (e) {
    outcome = "failed";
    error = describeError(e);
    if (!(e instanceof FourKitesApiError) && !(e instanceof ConvexError)) unexpected = e;
  }
  counts.requests = client?.stats.requests ?? 0;
  counts.retries = client?.stats.retries ?? 0;
  const finishedAt = Date.now();
  const summary: RunSummary = {
    runId,
    outcome,
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
    firstPage,
    counts,
    rejections,
    unknownStatuses: [...unknownStatuses],
  };
  await ctx.runMutation(internal.fourKitesSync.finishSyncRun, {
    workosOrgId,
    runId,
    end: { summary, passDone: outcome === "completed", ...(error ? { error } : {}) },
  });
  const log = { workosOrgId, runId, outcome, firstPage, ...counts, error };
  if (outcome === "failed") console.warn("[fourkites.sync] run failed", log);
  else console.log("[fourkites.sync]", log);
  if (unexpected !== null) throw unexpected;
  return { outcome, runId, counts, error };
}
