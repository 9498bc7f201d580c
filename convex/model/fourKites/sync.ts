/**
 * Scheduled FourKites pulls, one org at a time: the run state kept on the
 * integration (lease, pass in progress, watermark, last run) and the
 * dispatcher. The action body that pages through the API is `syncRun.ts`;
 * what lets a pass say "completed" is `pass.ts`.
 *
 * A pass reads every page (the API has no "updated since" filter) and keeps
 * shipments updated at or after its cutoff, `watermark − lookback` (0 for a
 * full pass: the first one, one every `FULL_PASS_EVERY_MS`, and any after a
 * stored watermark the code would not have written). After each page's
 * import batches committed, the page's checkpoint is persisted: a run killed
 * mid-pass is resumed there by the next run (once its lease expired). When
 * the last page is done and the pass can stand behind it (`completed`), the
 * watermark becomes the pass's start time: every shipment listed throughout
 * the pass was on some page, and updates made during the pass are at or
 * after its start, so the next pass (cutoff = start − lookback) keeps them.
 * An `unverified` pass leaves the watermark, so the next pass covers the same
 * window again. The lookback absorbs clock skew between FourKites and us.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../ctx";
import { appError, orgDeletedError } from "../../lib/errors";
import { isOrgDeleted } from "../organizations/deleted";
import { getOrganization } from "../organizations/registry";
import {
  vEncryptedCredentials,
  vRunSummary,
  vSyncPass,
  type LastError,
  type PassCheckpoint,
  type SyncPass,
} from "./fields";
import { findIntegration } from "./integrations";
import {
  SYNC_LEASE_MS,
  baseUrlProblem,
  intervalMs,
  latestDueAt,
  leaseHolds,
  lookbackMs,
  passProblem,
  storedValueProblems,
  trustedTime,
} from "./storedValues";

/** Integrations the dispatcher enqueues per tick; the rest wait one tick. */
export const MAX_DISPATCH_PER_TICK = 50;
/**
 * How often a pass is a full reconciliation (cutoff 0, every shipment goes to
 * the import, not only those updated since the watermark): it costs no extra
 * request (every pass reads every page) and about one document read per
 * shipment, and it closes any gap the watermark could hide.
 */
export const FULL_PASS_EVERY_MS = 24 * 60 * 60_000;

type Db = Pick<MutationCtx, "db">;
type Integration = Doc<"fourKitesIntegrations">;

// ---------------------------------------------------------------- run state

/** Records the stored values of `integration` the code would not have written (and logs them). */
function storedValueReport(
  integration: Integration,
  now: number,
): Pick<Integration, "lastStoredValueReport"> {
  const problems = storedValueProblems(integration, now);
  if (problems.length === 0) return {};
  console.warn("[fourkites.stored_value]", { workosOrgId: integration.workosOrgId, problems });
  return { lastStoredValueReport: { at: now, problems } };
}

/** Why a run does not start. */
export const vSkipReason = literals(
  "no_integration",
  "disabled",
  "org_deleted",
  "running",
  "invalid_base_url",
);

/** What `beginRun` hands the action. */
export const vBegunRun = v.union(
  v.object({
    skipped: v.literal(false),
    baseUrl: v.string(),
    credentials: vEncryptedCredentials,
    pass: vSyncPass,
  }),
  v.object({ skipped: v.literal(true), reason: vSkipReason }),
);
export type BegunRun = Infer<typeof vBegunRun>;

/**
 * The pass a run continues: the stored one when the code could have written
 * it, else a new one from page 1 (full when there is no trusted watermark or
 * the last full pass is `FULL_PASS_EVERY_MS` old).
 */
function passToRun(integration: Integration, now: number): SyncPass {
  if (integration.pass !== undefined && passProblem(integration.pass, now) === null) {
    return integration.pass;
  }
  const watermark = trustedTime(integration.watermark, now);
  const fullPassAt = trustedTime(integration.fullPassAt, now);
  const full =
    watermark === undefined || fullPassAt === undefined || now - fullPassAt >= FULL_PASS_EVERY_MS;
  return {
    startedAt: now,
    cutoff: full ? 0 : Math.max(0, watermark - lookbackMs(integration)),
    nextPage: 1,
  };
}

/**
 * Takes the lease for `runId` and returns what the run needs (credentials
 * still encrypted), or why the run is skipped: no integration, disabled, a
 * deleted org or a stored base URL the code would not have written (either
 * recorded as the last error), or another run holding the lease. Stored
 * values out of the code's range are replaced as `storedValues.ts` says, and
 * reported. Starts a new pass unless one is in progress.
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
  if (isOrgDeleted(await getOrganization(ctx, workosOrgId))) {
    await ctx.db.patch("fourKitesIntegrations", integration._id, {
      lastError: { at: now, kind: "org_deleted", message: "The organization was deleted." },
    });
    return { skipped: true, reason: "org_deleted" };
  }
  if (leaseHolds(integration.running, now)) return { skipped: true, reason: "running" };
  const report = storedValueReport(integration, now);
  const urlProblem = baseUrlProblem(integration.baseUrl);
  if (urlProblem !== null) {
    await ctx.db.patch("fourKitesIntegrations", integration._id, {
      ...report,
      lastError: { at: now, kind: "stored_value", message: urlProblem },
    });
    return { skipped: true, reason: "invalid_base_url" };
  }
  const pass = passToRun(integration, now);
  await ctx.db.patch("fourKitesIntegrations", integration._id, {
    ...report,
    // Untrusted times go: the pass above did not use them, and the next watermark replaces them.
    ...(trustedTime(integration.watermark, now) === undefined ? { watermark: undefined } : {}),
    ...(trustedTime(integration.fullPassAt, now) === undefined ? { fullPassAt: undefined } : {}),
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
async function leased(ctx: Db, workosOrgId: string, runId: string): Promise<Integration | null> {
  const integration = await findIntegration(ctx.db, workosOrgId);
  if (integration?.running?.runId !== runId) {
    console.warn("[fourkites.sync] lease lost", { workosOrgId, runId });
    return null;
  }
  return integration;
}

/**
 * Records that page `page` is imported, with what the pass carries to the
 * next page (`checkpoint`): the pass resumes after it. Returns false when the
 * run lost its lease or the pass is no longer at that page (it must stop).
 */
export async function commitPage(
  ctx: Db,
  workosOrgId: string,
  runId: string,
  page: number,
  checkpoint: PassCheckpoint,
  now: number,
): Promise<boolean> {
  const integration = await leased(ctx, workosOrgId, runId);
  if (integration?.pass?.nextPage !== page || integration.running === undefined) return false;
  await ctx.db.patch("fourKitesIntegrations", integration._id, {
    pass: {
      startedAt: integration.pass.startedAt,
      cutoff: integration.pass.cutoff,
      nextPage: page + 1,
      ...checkpoint,
    },
    running: { ...integration.running, leaseUntil: now + SYNC_LEASE_MS },
  });
  return true;
}

export const vRunEnd = v.object({
  summary: vRunSummary,
  /** True when the last page was imported: the pass is done (`completed` or `unverified`). */
  passDone: v.boolean(),
  error: v.optional(v.object({ kind: v.string(), message: v.string() })),
});
export type RunEnd = Infer<typeof vRunEnd>;

/**
 * Ends the run: releases the lease, stores the summary and the error (or
 * clears it). A finished pass that can stand behind it (`completed`) moves
 * the watermark to its start (and, when full, the last full pass); an
 * `unverified` one moves neither, so the next pass covers its window again.
 * An unfinished pass stays for the next run, which is due at once when this
 * run only stopped at its page or time budget.
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
  const pass = integration.pass;
  const verified = end.passDone && end.summary.outcome === "completed" && pass !== undefined;
  await ctx.db.patch("fourKitesIntegrations", integration._id, {
    running: undefined,
    lastRun: end.summary,
    lastError,
    ...(end.passDone ? { pass: undefined } : {}),
    ...(verified ? { watermark: pass.startedAt } : {}),
    ...(verified && pass.cutoff === 0 ? { fullPassAt: pass.startedAt } : {}),
    ...(end.summary.outcome === "partial" && integration.enabled ? { nextDueAt: now } : {}),
  });
}

// --------------------------------------------------------------- dispatcher

/**
 * Enqueues one sync for every enabled integration due at `now` (at most
 * `MAX_DISPATCH_PER_TICK`, read through `by_enabled_and_next_due_at`) and
 * moves each one's next due time an interval ahead. An org whose run still
 * holds its lease is not enqueued again. An enabled integration whose next
 * due time the code would not have written (`NaN`, `Infinity`, more than an
 * interval ahead: the due range never reaches it) is found through the same
 * index beyond `latestDueAt`, reported and treated as due. With nothing due
 * and nothing stuck, a tick reads no document.
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
  const room = MAX_DISPATCH_PER_TICK + 1 - due.length;
  const stuck =
    room <= 0
      ? []
      : await ctx.db
          .query("fourKitesIntegrations")
          .withIndex("by_enabled_and_next_due_at", (q) =>
            q.eq("enabled", true).gt("nextDueAt", latestDueAt(now)),
          )
          .take(room);
  const all = [...due, ...stuck];
  const more = all.length > MAX_DISPATCH_PER_TICK;
  let enqueued = 0;
  let busy = 0;
  for (const integration of all.slice(0, MAX_DISPATCH_PER_TICK)) {
    await ctx.db.patch("fourKitesIntegrations", integration._id, {
      nextDueAt: now + intervalMs(integration),
      ...(integration.nextDueAt <= now ? {} : storedValueReport(integration, now)),
    });
    if (leaseHolds(integration.running, now)) {
      busy++;
      continue;
    }
    await enqueue(integration.workosOrgId);
    enqueued++;
  }
  if (all.length > 0) {
    console.log("[fourkites.dispatch]", { enqueued, busy, more, stuck: stuck.length });
  }
  return { enqueued, busy, more };
}

// ------------------------------------------------------------ operator runs

/**
 * Refuses an operator's run of `workosOrgId`'s integration
 * (`fourKitesSync:syncFromFourKites`) before anything is fetched, with a
 * coded error: `ORG_DELETED` for a deleted org; `NOT_FOUND` when the org has
 * no integration (`reason: "unknown_org"` when the registry does not know
 * the org either, `"no_integration"` when it does); `INTEGRATION_DISABLED`
 * for a disabled integration (enable it first: disabling is the org's
 * choice, and an operator's run does not override it). An org the registry
 * does not know but that has an integration runs (the registry may not be
 * synced yet, as for the imports).
 */
export async function assertOperatorRunAllowed(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
): Promise<void> {
  const org = await getOrganization(ctx, workosOrgId);
  if (isOrgDeleted(org)) throw orgDeletedError(workosOrgId);
  const integration = await findIntegration(ctx.db, workosOrgId);
  if (integration === null) {
    throw appError(
      "NOT_FOUND",
      org === null
        ? "Unknown organization: the registry does not know it and it has no FourKites integration."
        : "This organization has no FourKites integration (fourKitesIntegrations:createIntegration).",
      { workosOrgId, reason: org === null ? "unknown_org" : "no_integration" },
    );
  }
  if (!integration.enabled) {
    throw appError(
      "INTEGRATION_DISABLED",
      "This organization's FourKites integration is disabled; enable it first (fourKitesIntegrations:enableIntegration).",
      { workosOrgId },
    );
  }
}
