/**
 * The legacy one-shot FourKites sync (`fourKitesSync:syncFromFourKites`,
 * deprecated): one set of credentials from the environment
 * (`FOURKITES_API_BASE_URL`, `FOURKITES_API_KEY`), pages of
 * `GET {base}/shipments?page={n}&per_page=100[&updated_since={iso}]` answered
 * with `{ "shipments": [...], "pagination": { "page": n, "totalPages": m } }`.
 * Per-org scheduled syncs (`sync.ts`) replace it; kept for operators until
 * they move to integrations.
 */
import { v, type Infer } from "convex/values";
import { z } from "zod";
import { internal } from "../../_generated/api";
import type { ActionCtx } from "../ctx";
import { readEnv } from "../../lib/env";
import { appError } from "../../lib/errors";
import { IMPORT_BATCH_SIZE } from "./import";
import { checkPageShipment, formatPath, type PayloadIssue } from "./shipment";
import { shipmentIdOf } from "./sync";

/** Shipments asked for per page. */
const LEGACY_PAGE_SIZE = 100;
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

export const vLegacySyncResult = v.object({
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

export type LegacySyncResult = Infer<typeof vLegacySyncResult>;

function readConfig(): { baseUrl: string; apiKey: string } {
  const baseUrl = readEnv("FOURKITES_API_BASE_URL");
  const apiKey = readEnv("FOURKITES_API_KEY");
  if (baseUrl === null || apiKey === null) {
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
  url.searchParams.set("per_page", String(LEGACY_PAGE_SIZE));
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

/**
 * Pulls and imports FourKites shipments for one org: validates each shipment
 * and imports the valid ones in batches (`fourKitesSyncHelpers.importShipmentBatch`).
 * Invalid shipments are reported (path + message) and logged; they do not
 * hold back the valid ones, and each batch is one transaction.
 *
 * @throws `ORG_DELETED` for a deleted org (before fetching anything); on
 *   missing configuration, an HTTP error or a malformed page envelope
 *   (`INVALID_PAYLOAD`); batches imported before that stay imported.
 */
export async function runLegacySync(
  ctx: ActionCtx,
  args: { workosOrgId: string; updatedSince?: string; maxPages?: number },
): Promise<LegacySyncResult> {
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
  const result: LegacySyncResult = {
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
}

function firstIssues(issues: PayloadIssue[]): PayloadIssue[] {
  return issues.slice(0, 10);
}
