/**
 * One sync run of an org's integration: the action body behind
 * `fourKitesSync:syncIntegration` (scheduled) and
 * `fourKitesSync:syncFromFourKites` (operators). It reads the pass's pages
 * from FourKites, checks each page boundary (`pass.ts`), imports through the
 * import mutations, and keeps the run state through `sync.ts`'s mutations.
 */
import { ConvexError, v, type Infer } from "convex/values";
import { internal } from "../../_generated/api";
import type { ActionCtx } from "../ctx";
import {
  FOURKITES_PAGE_SIZE,
  FourKitesApiError,
  FourKitesClient,
  clientOptionsFromEnv,
} from "./client";
import { decryptCredentials, encryptCredentials, needsReencryption } from "./credentials";
import {
  vDoubt,
  vRunCounts,
  vRunOutcome,
  type Doubt,
  type PassCheckpoint,
  type RunOutcome,
  type RunSummary,
} from "./fields";
import { zeroCounts } from "./integrations";
import { addDoubts, boundaryDoubt, pageFingerprint, shipmentIdOf, stepPage } from "./pass";
import { checkPageShipment } from "./shipment";
import { MAX_PASS_PAGES } from "./storedValues";
import type { BegunRun } from "./sync";
import { unreadFieldPaths } from "./unreadFields";

/** Pages one run moves past; a longer pass continues at the next dispatcher tick. */
export const MAX_PAGES_PER_RUN = 40;
/**
 * Wall time after which a run stops at the next page boundary (`partial`;
 * the next tick continues), well inside an action's 10 minutes even when
 * the pages in flight then spend their whole retry budget.
 */
export const RUN_TIME_BUDGET_MS = 4 * 60_000;
/** Rejections, unknown statuses and unread field paths kept in a run summary (all are counted and logged). */
const MAX_SAMPLES = 10;
/** Shipments per import mutation (`importShipmentBatch` takes at most 100). */
export const SYNC_BATCH_SIZE = 100;

export const vSyncRunResult = v.union(
  v.object({ outcome: v.literal("skipped"), reason: v.string() }),
  v.object({
    outcome: vRunOutcome,
    runId: v.string(),
    counts: vRunCounts,
    error: v.union(v.null(), v.object({ kind: v.string(), message: v.string() })),
    /** Why the pass cannot stand behind "completed" (empty when it can). */
    doubts: v.array(vDoubt),
  }),
);
export type SyncRunResult = Infer<typeof vSyncRunResult>;

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** The update time a raw shipment claims (ms), or NaN when it has none that parses. */
function rawUpdatedAt(raw: unknown): number {
  return isRecord(raw) && typeof raw.updatedAt === "string" ? Date.parse(raw.updatedAt) : NaN;
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
 * Imports the shipments of a run's pages: skips those updated before the
 * cutoff, validates the rest as parsed (`checkPageShipment`: the import
 * mutations' own checks), imports the valid ones in batches, and counts.
 * A shipment seen again in the run with the same `updatedAt` (on a page read
 * again, or listed twice) is handled once.
 */
class PageImporter {
  readonly counts = zeroCounts();
  readonly rejections: RunSummary["rejections"] = [];
  readonly unknownStatuses = new Set<string>();
  readonly unreadPaths = new Set<string>();
  /** Shipment id → the `updatedAt` handled in this run. */
  private readonly handled = new Map<string, unknown>();
  /** Shipment ids the first reads of this run's pages listed. */
  private readonly listed = new Set<string>();

  constructor(
    private readonly ctx: Pick<ActionCtx, "runMutation">,
    private readonly workosOrgId: string,
    private readonly cutoff: number,
  ) {}

  /**
   * Shipments on a page's first read that this run saw listed already (on an
   * earlier page, or earlier on this one). Each page is read for the first
   * time once per run, so any repeat is a duplicate in the listing.
   */
  repeatsOnPage(shipments: readonly unknown[]): number {
    let repeated = 0;
    for (const raw of shipments) {
      const id = shipmentIdOf(raw);
      if (id === null) continue;
      if (this.listed.has(id)) repeated++;
      else this.listed.add(id);
    }
    return repeated;
  }

  async importPage(page: number, shipments: readonly unknown[]): Promise<void> {
    const { counts, workosOrgId } = this;
    const valid: string[] = [];
    shipments.forEach((raw, index) => {
      const id = shipmentIdOf(raw);
      const updatedAt = isRecord(raw) ? raw.updatedAt : undefined;
      if (id !== null) {
        if (this.handled.has(id) && this.handled.get(id) === updatedAt) return;
        this.handled.set(id, updatedAt);
      }
      if (rawUpdatedAt(raw) < this.cutoff) {
        counts.skippedOld++;
        return;
      }
      const unread = unreadFieldPaths(raw);
      if (unread.length > 0) {
        counts.unreadFields++;
        for (const path of unread)
          if (this.unreadPaths.size < MAX_SAMPLES) this.unreadPaths.add(path);
      }
      const checked = checkPageShipment(raw, workosOrgId);
      if (!checked.ok) {
        counts.rejected++;
        const [first] = checked.issues;
        const sample = { page, index, shipmentId: id, ...first };
        console.warn("[fourkites.sync] shipment rejected", {
          workosOrgId,
          ...sample,
          issueCount: checked.issues.length,
        });
        if (this.rejections.length < MAX_SAMPLES) this.rejections.push(sample);
        return;
      }
      if (checked.shipment.status === null && this.unknownStatuses.size < MAX_SAMPLES) {
        this.unknownStatuses.add(checked.shipment.fourKitesStatus);
      }
      valid.push(checked.json);
    });
    for (let i = 0; i < valid.length; i += SYNC_BATCH_SIZE) {
      const batch = await this.ctx.runMutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
        workosOrgId,
        shipments: valid.slice(i, i + SYNC_BATCH_SIZE),
      });
      counts.created += batch.created;
      counts.updated += batch.updated;
      counts.unchanged += batch.unchanged;
      counts.unknownStatus += batch.unknownStatus;
    }
  }
}

/** Where reading one page left the pass. */
type PageOutcome = { checkpoint: PassCheckpoint; last: boolean; found: Doubt[] };

/**
 * Reads page `page` (its first read), then the page before it again, checks
 * the boundary, the page size, the end and repeats (`pass.ts`), and imports
 * this page and, when it changed, the page read again (a shipment that slid
 * back onto it is there). Returns the checkpoint to commit.
 */
async function readPage(
  client: FourKitesClient,
  importer: PageImporter,
  page: number,
  checkpoint: PassCheckpoint,
): Promise<PageOutcome> {
  const got = await client.fetchPage(page, FOURKITES_PAGE_SIZE);
  const previous = checkpoint.previous;
  // At once: the two reads of the page before must bracket this one.
  const reread =
    previous === undefined ? null : await client.fetchPage(previous.page, FOURKITES_PAGE_SIZE);
  const counts = importer.counts;
  const count = got.shipments.length;
  counts.pages++;
  counts.received += count;
  const found: Doubt[] = [];
  let shifted = false;
  if (reread !== null && previous !== undefined) {
    counts.rereads++;
    const doubt = boundaryDoubt(previous, await pageFingerprint(reread.shipments));
    if (doubt !== null) {
      found.push(doubt);
      shifted = true;
    }
  }
  const step = stepPage(checkpoint, { page, count, total: got.totalCount });
  found.push(...step.doubts);
  let last = step.last;
  const repeated = importer.repeatsOnPage(got.shipments);
  if (repeated > 0) {
    counts.duplicates += repeated;
    found.push({
      kind: "duplicates",
      page,
      message: `${repeated} shipment(s) on page ${page} were listed before in this pass`,
    });
    // A page that only repeats earlier ones (a server ignoring `page`) ends the pass.
    if (repeated === count) last = true;
  }
  if (!last && page >= MAX_PASS_PAGES) {
    last = true;
    found.push({
      kind: "page_limit",
      page,
      message: `the pass stopped at ${MAX_PASS_PAGES} pages`,
    });
  }
  await importer.importPage(page, got.shipments);
  if (shifted && reread !== null && previous !== undefined) {
    await importer.importPage(previous.page, reread.shipments);
  }
  return {
    checkpoint: {
      pageSize: step.pageSize,
      previous: { page, fingerprint: await pageFingerprint(got.shipments), count },
      total: got.totalCount ?? undefined,
      doubts: addDoubts(checkpoint.doubts ?? [], found),
    },
    last,
    found,
  };
}

/**
 * One sync run for `workosOrgId`.
 *
 * Moves through up to `maxPages` pages from the pass's next page; for each,
 * `readPage`, then commits the page with its checkpoint. The last page ends
 * the pass `completed`, or `unverified` when it has doubts. Any request
 * failure (after the client's retries), an unusable page or a refused import
 * ends the run as `failed`: the pages before it stay imported and committed,
 * the failing page is not half-committed (its batches are idempotent when
 * re-read), and the next run resumes at that page. Unexpected errors (bugs)
 * are recorded, then rethrown.
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
  const { pass } = begun;
  const importer = new PageImporter(ctx, workosOrgId, pass.cutoff);
  const counts = importer.counts;
  const firstPage = pass.nextPage;
  let checkpoint: PassCheckpoint = {
    pageSize: pass.pageSize,
    previous: pass.previous,
    total: pass.total,
    doubts: pass.doubts ?? [],
  };
  let client: FourKitesClient | null = null;
  let outcome: RunOutcome = "partial";
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
      const read = await readPage(client, importer, page, checkpoint);
      for (const doubt of read.found) {
        console.warn("[fourkites.sync] doubt", { workosOrgId, runId, ...doubt });
      }
      checkpoint = read.checkpoint;
      const kept = await ctx.runMutation(internal.fourKitesSync.commitSyncPage, {
        workosOrgId,
        runId,
        page,
        checkpoint,
      });
      if (!kept) {
        error = { kind: "lease_lost", message: "Another run took over this integration." };
        outcome = "failed";
        break;
      }
      if (read.last) {
        outcome = (checkpoint.doubts ?? []).length > 0 ? "unverified" : "completed";
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
  const doubts = checkpoint.doubts ?? [];
  const unreadFieldPaths = [...importer.unreadPaths];
  if (unreadFieldPaths.length > 0) {
    console.warn("[fourkites.sync] shipment fields the parser does not read", {
      workosOrgId,
      runId,
      shipments: counts.unreadFields,
      paths: unreadFieldPaths,
    });
  }
  const finishedAt = Date.now();
  const summary: RunSummary = {
    runId,
    outcome,
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
    firstPage,
    counts,
    rejections: importer.rejections,
    unknownStatuses: [...importer.unknownStatuses],
    doubts,
    unreadFieldPaths,
    fullPass: pass.cutoff === 0,
  };
  const passDone = outcome === "completed" || outcome === "unverified";
  await ctx.runMutation(internal.fourKitesSync.finishSyncRun, {
    workosOrgId,
    runId,
    end: { summary, passDone, ...(error ? { error } : {}) },
  });
  const log = { workosOrgId, runId, outcome, firstPage, ...counts, doubts: doubts.length, error };
  if (outcome === "failed") console.warn("[fourkites.sync] run failed", log);
  else console.log("[fourkites.sync]", log);
  if (unexpected !== null) throw unexpected;
  return { outcome, runId, counts, error, doubts };
}
