/**
 * The stored shape of a FourKites integration (`fourKitesIntegrations`):
 * field and validator declarations only, so the schema can import them
 * without pulling in any logic. The rules behind the fields live in
 * `integrations.ts` (settings, views), `sync.ts` and `pass.ts` (run state),
 * `storedValues.ts` (values the code would not have written).
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";

/** How an org authenticates to FourKites. */
export const AUTH_KINDS = ["apikey", "oauth2", "basic", "bearer"] as const;
export const vAuthKind = literals(...AUTH_KINDS);

/** Credentials as stored: never the plaintext (see `credentials.ts`). */
export const vEncryptedCredentials = v.object({
  /** base64 of AES-GCM ciphertext + tag. */
  ciphertext: v.string(),
  /** base64 of the 12-byte IV, fresh for every encryption. */
  iv: v.string(),
  keyVersion: v.number(),
});
export type EncryptedCredentials = Infer<typeof vEncryptedCredentials>;

/** Counts of one run (or of a pass so far). */
export const vRunCounts = v.object({
  /** Pages read for the first time in this run (the pass moved past them). */
  pages: v.number(),
  /** Shipments on those first reads. */
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
  /** Pages read again to check the listing did not shift (`pass.ts`). Absent in runs before it. */
  rereads: v.optional(v.number()),
  /** Shipments listed on two different pages of the pass (seen within one run). */
  duplicates: v.optional(v.number()),
  /** Shipments carrying fields in a style the parser does not read (`unreadFieldPaths`). */
  unreadFields: v.optional(v.number()),
});
export type RunCounts = Infer<typeof vRunCounts>;

/** A few rejected shipments of a run, so an operator can find them. */
export const vRejectionSample = v.object({
  page: v.number(),
  index: v.number(),
  shipmentId: v.union(v.null(), v.string()),
  path: v.string(),
  message: v.string(),
});

/**
 * Why a pass cannot stand behind "completed" (see `pass.ts`):
 * - `listing_shifted`: a page read again after the next one differed from its first read;
 * - `count_mismatch`: the shipments the pages held do not add up to the server's `totalCount`;
 * - `duplicates`: a shipment was listed on two pages;
 * - `page_size_changed`: a page before the last held more than the server's page size;
 * - `page_limit`: the pass stopped at `MAX_PASS_PAGES` pages.
 */
export const DOUBT_KINDS = [
  "listing_shifted",
  "count_mismatch",
  "duplicates",
  "page_size_changed",
  "page_limit",
] as const;
export const vDoubt = v.object({
  kind: literals(...DOUBT_KINDS),
  page: v.number(),
  message: v.string(),
});
export type Doubt = Infer<typeof vDoubt>;

/**
 * How a run ended: `completed` (the pass read the whole listing and can stand
 * behind it), `unverified` (it read to the end but has doubts: the watermark
 * stays, so the next pass covers the same window again), `partial` (page or
 * time budget; the pass continues), `failed`.
 */
export const RUN_OUTCOMES = ["completed", "unverified", "partial", "failed"] as const;
export const vRunOutcome = literals(...RUN_OUTCOMES);
export type RunOutcome = Infer<typeof vRunOutcome>;

/** The summary of the last finished (or failed) run. */
export const vRunSummary = v.object({
  runId: v.string(),
  outcome: vRunOutcome,
  startedAt: v.number(),
  finishedAt: v.number(),
  durationMs: v.number(),
  /** First page this run read (> 1 when it resumed a pass). */
  firstPage: v.number(),
  counts: vRunCounts,
  rejections: v.array(vRejectionSample),
  /** Distinct unmapped FourKites statuses seen (at most 10). */
  unknownStatuses: v.array(v.string()),
  /** The pass's doubts so far (at most 10); empty when it can stand behind it. */
  doubts: v.optional(v.array(vDoubt)),
  /** Distinct paths of fields the parser does not read, e.g. `stops[].schedule.appointmentTime` (at most 10). */
  unreadFieldPaths: v.optional(v.array(v.string())),
  /** The pass is a full reconciliation (cutoff 0: every shipment goes to the import). */
  fullPass: v.optional(v.boolean()),
});
export type RunSummary = Infer<typeof vRunSummary>;

/** The first read of a page, as the next read of it is compared with. */
export const vPageRead = v.object({
  page: v.number(),
  /** SHA-256 of the page's shipment ids in order (`pageFingerprint`). */
  fingerprint: v.string(),
  count: v.number(),
});
export type PageRead = Infer<typeof vPageRead>;

/** What a pass carries from one page to the next (and from one run to the next). */
export const vPassCheckpoint = v.object({
  /** The page size the server uses, once known (it may serve fewer than `perPage` asks). */
  pageSize: v.optional(v.number()),
  /** The first read of page `nextPage − 1`: read again after `nextPage` to check the boundary. */
  previous: v.optional(vPageRead),
  /** The last `totalCount` the server stated in this pass. */
  total: v.optional(v.number()),
  doubts: v.optional(v.array(vDoubt)),
});
export type PassCheckpoint = Infer<typeof vPassCheckpoint>;

/**
 * A pass through all pages in progress, persisted after every page whose
 * batches committed: a killed sync resumes at `nextPage`.
 */
export const vSyncPass = v.object({
  startedAt: v.number(),
  /** Shipments updated before this are skipped (watermark − lookback; 0 on a full pass). */
  cutoff: v.number(),
  nextPage: v.number(),
  ...vPassCheckpoint.fields,
});
export type SyncPass = Infer<typeof vSyncPass>;

/** The last failure: when, what kind, and a message without secrets. */
export const vLastError = v.object({ at: v.number(), kind: v.string(), message: v.string() });
export type LastError = Infer<typeof vLastError>;

/** The run holding the integration (a lease, so two runs never overlap). */
export const vRunLease = v.object({
  runId: v.string(),
  startedAt: v.number(),
  leaseUntil: v.number(),
});
export type RunLease = Infer<typeof vRunLease>;

/** Stored values the code would not have written, as found at `at`, each with what the sync did (`storedValues.ts`). */
export const vStoredValueReport = v.object({ at: v.number(), problems: v.array(v.string()) });

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
  /** Start time of the last pass that stood behind "completed": the next one keeps shipments updated since `watermark − lookback`. */
  watermark: v.optional(v.number()),
  /** Start time of the last completed full pass (cutoff 0); one is due every `FULL_PASS_EVERY_MS`. */
  fullPassAt: v.optional(v.number()),
  pass: v.optional(vSyncPass),
  running: v.optional(vRunLease),
  lastRun: v.optional(vRunSummary),
  lastError: v.optional(vLastError),
  /** The last time the sync found stored values out of the code's range, and what it did. */
  lastStoredValueReport: v.optional(vStoredValueReport),
  createdAt: v.number(),
  updatedAt: v.number(),
};
