/**
 * FourKites syncs.
 *
 * Scheduled, per org (the integration in `fourKitesIntegrations`):
 * - `dispatchDueSyncs` (cron, every minute) enqueues one `syncIntegration`
 *   per due integration on the `fourKitesWorkpool` workpool;
 * - `syncIntegration` pages through the org's FourKites API and imports
 *   (`model/fourKites/sync.ts`); `beginSyncRun`, `commitSyncPage` and
 *   `finishSyncRun` keep its lease, resume point and summary;
 * - `status`: sync health of every integration, for operators.
 *
 * Legacy, one-shot (kept for the demo and operators until they move to
 * integrations; deprecated):
 *
 * `syncFromFourKites`: pulls shipment pages from the FourKites API, validates
 * each shipment, and imports the valid ones in batches
 * (`fourKitesSyncHelpers.importShipmentBatch`). Invalid shipments are
 * reported in the result (path + message) and logged; they do not hold back
 * the valid ones, and each batch is one transaction, so nothing is ever
 * half-written. Re-running a sync is safe: imports are idempotent.
 *
 * Configuration (Convex environment variables):
 * - `FOURKITES_API_BASE_URL`, e.g. `https://tracking-api.fourkites.com/api/v1`
 * - `FOURKITES_API_KEY`, sent as the `apikey` header
 *
 * Request: `GET {base}/shipments?page={n}&per_page=100[&updated_since={iso}]`.
 * Response: `{ "shipments": [...], "pagination": { "page": n, "totalPages": m } }`
 * (no `pagination` means a single page).
 */
import { Workpool } from "@convex-dev/workpool";
import { v } from "convex/values";
import { z } from "zod";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { components } from "./lib/components";
import { syncHealthView, vSyncHealth } from "./model/fourKites/integrations";
import {
  beginRun,
  commitPage,
  dispatchDue,
  finishRun,
  runSync,
  vBegunRun,
  vRunEnd,
  vSyncRunResult,
  MAX_PAGES_PER_RUN,
  type SyncRunResult,
} from "./model/fourKites/sync";
import { appError } from "./lib/errors";
import { checkPageShipment, formatPath, type PayloadIssue } from "./model/fourKites/shipment";
import { MAX_ID_LENGTH } from "./model/validate";
import { IMPORT_BATCH_SIZE } from "./fourKitesSyncHelpers";

/** Shipments asked for per page. */
export const FOURKITES_PAGE_SIZE = 100;
/** Pages one sync reads unless told otherwise (a later run continues). */
export const DEFAULT_MAX_PAGES = 50;
/** Rejections carried in the result (all are counted and logged). */
const MAX_REPORTED_REJECTIONS = 100;

const pageSchema = z.object({
  shipments: z.array(z.unknown()).max(1000),
  pagination: z
    .object({ page: z.number().int().min(1), totalPages: z.number().int().min(0) })
    .nullish(),
});

const vIssue = v.object({ path: v.string(), message: v.string() });

const vSyncResult = v.object({
  pages: v.number(),
  /** True when `maxPages` stopped the sync before the last page. */
  morePages: v.boolean(),
  received: v.number(),
  created: v.number(),
  updated: v.number(),
  unchanged: v.number(),
  rejected: v.number(),
  rejections: v.array(
    v.object({
      page: v.number(),
      index: v.number(),
      shipmentId: v.union(v.null(), v.string()),
      issues: v.array(vIssue),
    }),
  ),
});

type SyncResult = typeof vSyncResult.type;

function readConfig(): { baseUrl: string; apiKey: string } {
  const baseUrl = process.env.FOURKITES_API_BASE_URL;
  const apiKey = process.env.FOURKITES_API_KEY;
  if (!baseUrl || !apiKey) {
    throw new Error(
      "[fourkites.sync] set FOURKITES_API_BASE_URL and FOURKITES_API_KEY (npx convex env set ...)",
    );
  }
  return { baseUrl: baseUrl.replace(/\/+$/, ""), apiKey };
}

async function fetchPage(
  config: { baseUrl: string; apiKey: string },
  page: number,
  updatedSince: string | undefined,
): Promise<z.infer<typeof pageSchema>> {
  const url = new URL(`${config.baseUrl}/shipments`);
  url.searchParams.set("page", String(page));
  url.searchParams.set("per_page", String(FOURKITES_PAGE_SIZE));
  if (updatedSince !== undefined) url.searchParams.set("updated_since", updatedSince);
  const response = await fetch(url.toString(), {
    headers: { apikey: config.apiKey, accept: "application/json" },
  });
  if (!response.ok) {
    throw new Error(`[fourkites.sync] GET shipments page ${page} failed: HTTP ${response.status}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw appError("INVALID_PAYLOAD", `FourKites page ${page} is not valid JSON.`, { page });
  }
  const parsed = pageSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: formatPath(i.path),
      message: i.message,
    }));
    throw appError(
      "INVALID_PAYLOAD",
      `FourKites page ${page} is malformed: ${issues[0].path}: ${issues[0].message}`,
      { page, issues: issues.slice(0, 20) },
    );
  }
  return parsed.data;
}

function shipmentIdOf(raw: unknown): string | null {
  if (typeof raw !== "object" || raw === null || !("id" in raw)) return null;
  const id = raw.id;
  return typeof id === "string" || typeof id === "number"
    ? String(id).slice(0, MAX_ID_LENGTH)
    : null;
}

/**
 * Pulls and imports FourKites shipments for one org.
 *
 * ```sh
 * npx convex run fourKitesSync:syncFromFourKites '{"workosOrgId": "org_..."}'
 * npx convex run fourKitesSync:syncFromFourKites \
 *   '{"workosOrgId": "org_...", "updatedSince": "2024-05-01T00:00:00Z", "maxPages": 5}'
 * ```
 *
 * @throws `ORG_DELETED` for a deleted org (before fetching anything); on
 *   missing configuration, an HTTP error or a malformed page envelope
 *   (`INVALID_PAYLOAD`); batches imported before that stay imported.
 */
export const syncFromFourKites = internalAction({
  args: {
    workosOrgId: v.string(),
    /** Only shipments updated since this ISO time (passed to FourKites). */
    updatedSince: v.optional(v.string()),
    maxPages: v.optional(v.number()),
  },
  returns: vSyncResult,
  handler: async (ctx, args): Promise<SyncResult> => {
    const config = readConfig();
    const maxPages = args.maxPages ?? DEFAULT_MAX_PAGES;
    if (!Number.isInteger(maxPages) || maxPages < 1) {
      throw appError("INVALID_ARGUMENT", "maxPages must be a positive integer.", {
        field: "maxPages",
      });
    }
    // Checked once up front; each import batch checks again in its transaction.
    await ctx.runQuery(internal.fourKitesSyncHelpers.assertOrgActiveForImport, {
      workosOrgId: args.workosOrgId,
    });
    const result: SyncResult = {
      pages: 0,
      morePages: false,
      received: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      rejected: 0,
      rejections: [],
    };
    for (let page = 1; page <= maxPages; page++) {
      const body = await fetchPage(config, page, args.updatedSince);
      result.pages++;
      result.received += body.shipments.length;
      const valid: string[] = [];
      body.shipments.forEach((raw, index) => {
        // Validated as parsed, never re-encoded first (`1e400` is refused at
        // its path, as the import mutation refuses it), with the mutation's
        // own checks, so one bad shipment never fails a batch.
        const checked = checkPageShipment(raw, args.workosOrgId);
        if (checked.ok) {
          valid.push(checked.json);
          return;
        }
        result.rejected++;
        const rejection = { page, index, shipmentId: shipmentIdOf(raw), issues: checked.issues };
        console.warn("[fourkites.sync] shipment rejected", {
          workosOrgId: args.workosOrgId,
          ...rejection,
          issues: rejection.issues.slice(0, 5),
        });
        if (result.rejections.length < MAX_REPORTED_REJECTIONS) {
          result.rejections.push({ ...rejection, issues: firstIssues(checked.issues) });
        }
      });
      for (let i = 0; i < valid.length; i += IMPORT_BATCH_SIZE) {
        const batch = await ctx.runMutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
          workosOrgId: args.workosOrgId,
          shipments: valid.slice(i, i + IMPORT_BATCH_SIZE),
        });
        result.created += batch.created;
        result.updated += batch.updated;
        result.unchanged += batch.unchanged;
      }
      const totalPages = body.pagination?.totalPages ?? page;
      if (body.shipments.length === 0 || page >= totalPages) break;
      if (page === maxPages) result.morePages = true;
    }
    console.log("[fourkites.sync]", {
      workosOrgId: args.workosOrgId,
      pages: result.pages,
      morePages: result.morePages,
      received: result.received,
      created: result.created,
      updated: result.updated,
      unchanged: result.unchanged,
      rejected: result.rejected,
    });
    return result;
  },
});

function firstIssues(issues: PayloadIssue[]): PayloadIssue[] {
  return issues.slice(0, 10);
}

// ------------------------------------------------------------ scheduled syncs

/**
 * The pool FourKites syncs run on: its own, so slow external HTTP never
 * holds the recount's slots, and at most 4 orgs sync at once.
 */
const fourKitesPool = new Workpool(components.fourKitesWorkpool, { maxParallelism: 4 });

/**
 * Cron: enqueues one sync per due integration and moves its next due time.
 *
 * ```sh
 * npx convex run fourKitesSync:dispatchDueSyncs
 * ```
 */
export const dispatchDueSyncs = internalMutation({
  args: {},
  returns: v.object({ enqueued: v.number(), busy: v.number(), more: v.boolean() }),
  handler: async (ctx) =>
    await dispatchDue(ctx, Date.now(), async (workosOrgId) => {
      await fourKitesPool.enqueueAction(ctx, internal.fourKitesSync.syncIntegration, {
        workosOrgId,
      });
    }),
});

/**
 * One sync run of the org's integration (see `runSync`). Safe to call by
 * hand: it skips when another run holds the lease.
 *
 * ```sh
 * npx convex run fourKitesSync:syncIntegration '{"workosOrgId": "org_..."}'
 * ```
 */
export const syncIntegration = internalAction({
  args: {
    workosOrgId: v.string(),
    /** Pages this run may read (default `MAX_PAGES_PER_RUN`); the pass continues next run. */
    maxPages: v.optional(v.number()),
  },
  returns: vSyncRunResult,
  handler: async (ctx, args): Promise<SyncRunResult> => {
    const maxPages = args.maxPages ?? MAX_PAGES_PER_RUN;
    if (!Number.isSafeInteger(maxPages) || maxPages < 1 || maxPages > MAX_PAGES_PER_RUN) {
      throw appError(
        "INVALID_ARGUMENT",
        `maxPages must be an integer from 1 to ${MAX_PAGES_PER_RUN}.`,
        {
          field: "maxPages",
        },
      );
    }
    return await runSync(ctx, args.workosOrgId, maxPages);
  },
});

/** Takes the run's lease and returns its settings (credentials encrypted). */
export const beginSyncRun = internalMutation({
  args: { workosOrgId: v.string(), runId: v.string() },
  returns: vBegunRun,
  handler: async (ctx, args) => await beginRun(ctx, args.workosOrgId, args.runId, Date.now()),
});

/** Records an imported page; false when the run lost its lease. */
export const commitSyncPage = internalMutation({
  args: { workosOrgId: v.string(), runId: v.string(), page: v.number() },
  returns: v.boolean(),
  handler: async (ctx, args) =>
    await commitPage(ctx, args.workosOrgId, args.runId, args.page, Date.now()),
});

/** Ends a run: summary, error, watermark, lease. */
export const finishSyncRun = internalMutation({
  args: { workosOrgId: v.string(), runId: v.string(), end: vRunEnd },
  returns: v.null(),
  handler: async (ctx, args) => {
    await finishRun(ctx, args.workosOrgId, args.runId, args.end, Date.now());
    return null;
  },
});

/** Most integrations `status` lists per call. */
const MAX_STATUS_ROWS = 200;

/**
 * Operator view of sync health: every integration (or one org's), with its
 * last run, last error, next due time and any pass in progress. Never
 * credentials.
 *
 * ```sh
 * npx convex run fourKitesSync:status
 * npx convex run fourKitesSync:status '{"workosOrgId": "org_..."}'
 * ```
 */
export const status = internalQuery({
  args: { workosOrgId: v.optional(v.string()) },
  returns: v.object({ integrations: v.array(vSyncHealth), truncated: v.boolean() }),
  handler: async (ctx, args) => {
    const rows =
      args.workosOrgId === undefined
        ? await ctx.db
            .query("fourKitesIntegrations")
            .withIndex("by_org")
            .take(MAX_STATUS_ROWS + 1)
        : await ctx.db
            .query("fourKitesIntegrations")
            .withIndex("by_org", (q) => q.eq("workosOrgId", args.workosOrgId as string))
            .take(MAX_STATUS_ROWS + 1);
    const now = Date.now();
    return {
      integrations: rows.slice(0, MAX_STATUS_ROWS).map((r) => syncHealthView(r, now)),
      truncated: rows.length > MAX_STATUS_ROWS,
    };
  },
});
