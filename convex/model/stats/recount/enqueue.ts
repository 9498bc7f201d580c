/**
 * Enqueuing recount work in the `statsWorkpool` component: every recount
 * page and every step of a job's walk is a work item, so at most
 * `maxParallelism` of them run at once, whatever the number of orgs. Pages
 * never schedule themselves: the pool's completion (`completion.ts`,
 * registered as `stats:recountWorkDone`) enqueues the next one.
 *
 * The module reaches its registered functions by path (`stats:recountPage`,
 * `stats:recountWalkStep`, `stats:recountWorkDone`): every app registers them
 * there (see `docs/adopting.md`).
 */
import type { ComponentApi as WorkpoolApi } from "@convex-dev/workpool/_generated/component.js";
import { Workpool } from "@convex-dev/workpool";
import { componentsGeneric, makeFunctionReference } from "convex/server";
import { v, type Infer } from "convex/values";
import { NO_WRITES, adaptivePageSize, currentRate } from "../../../lib/contention";
import type { StatsConfig } from "../config";
import type { StatsMutationCtx } from "../ctx";
import type { Id } from "../ids";
import { getStatsRow } from "../rows";
import { DEFAULT_PAGE_DOCS } from "./state";

/** Work items of the stats pool running at once unless the app says otherwise. */
export const DEFAULT_MAX_PARALLELISM = 10;

/** What the completion handler needs to continue or retry a work item. */
export const vWorkContext = v.union(
  v.object({
    kind: v.literal("page"),
    workosOrgId: v.string(),
    entity: v.string(),
    runId: v.string(),
    jobId: v.union(v.id("statsRecountJobs"), v.null()),
    pageSize: v.number(),
    /** The most a page of this run may read (a dry run's `maxDocs`); absent: the default. */
    maxPage: v.optional(v.number()),
    failures: v.number(),
  }),
  v.object({ kind: v.literal("walk"), jobId: v.id("statsRecountJobs"), failures: v.number() }),
);
export type WorkContext = Infer<typeof vWorkContext>;
export type PageContext = Extract<WorkContext, { kind: "page" }>;

const recountPage = makeFunctionReference<"mutation">("stats:recountPage");
const recountWalkStep = makeFunctionReference<"mutation">("stats:recountWalkStep");
const recountWorkDone = makeFunctionReference<"mutation">("stats:recountWorkDone");

/** The app's stats pool, as mounted in its `convex.config.ts` under `statsWorkpool`. */
// `componentsGeneric()` is an untyped proxy over the mounted components.
const statsWorkpool = (componentsGeneric() as unknown as { statsWorkpool: WorkpoolApi })
  .statsWorkpool;

/** The stats pool (a new client per call: the parallelism may come from the environment). */
function pool(config: StatsConfig): Workpool {
  return new Workpool(statsWorkpool, {
    maxParallelism: config.maxParallelism?.() ?? DEFAULT_MAX_PARALLELISM,
    logLevel: "WARN",
  });
}

type PoolCtx = Pick<StatsMutationCtx, "db" | "runMutation">;

/** The client's enqueue only calls `ctx.runMutation`; its type asks for a whole context. */
function enqueueCtx(ctx: PoolCtx): Parameters<Workpool["enqueueMutation"]>[0] {
  return ctx as unknown as Parameters<Workpool["enqueueMutation"]>[0];
}

/**
 * The page size for the next page of (org, entity): the contention rule on
 * the write rate the row keeps while it is recounted (`docs/contention.md`),
 * never above `cap`. Read here, in the transaction that enqueues the page,
 * so the page itself does not read the stats row every counted write rewrites.
 */
async function nextPageSize(
  ctx: Pick<StatsMutationCtx, "db">,
  workosOrgId: string,
  entity: string,
  cap: number,
): Promise<number> {
  const row = await getStatsRow(ctx.db, workosOrgId, entity);
  const rate = currentRate(row?.writeRate ?? NO_WRITES, Date.now());
  return Math.max(1, Math.min(cap, adaptivePageSize(rate), DEFAULT_PAGE_DOCS));
}

/** A run's page to enqueue. */
export type PageTarget = {
  workosOrgId: string;
  entity: string;
  runId: string;
  jobId: Id<"statsRecountJobs"> | null;
  maxPage?: number;
};

/**
 * Enqueues a page of run `runId` of (org, entity). `cap` bounds the page
 * size (a retry halves it); `runAfter` delays it (backoff).
 */
export async function enqueuePage(
  ctx: PoolCtx,
  config: StatsConfig,
  page: PageTarget,
  options: { cap?: number; failures?: number; runAfter?: number } = {},
): Promise<void> {
  const cap = Math.min(options.cap ?? DEFAULT_PAGE_DOCS, page.maxPage ?? DEFAULT_PAGE_DOCS);
  const pageSize = await nextPageSize(ctx, page.workosOrgId, page.entity, cap);
  const context: PageContext = {
    kind: "page",
    ...page,
    pageSize,
    failures: options.failures ?? 0,
  };
  await pool(config).enqueueMutation(
    enqueueCtx(ctx),
    recountPage,
    { workosOrgId: page.workosOrgId, entity: page.entity, runId: page.runId, maxDocs: pageSize },
    { onComplete: recountWorkDone, context, runAfter: options.runAfter },
  );
}

/** Enqueues the next step of job `jobId`'s walk over all orgs. */
export async function enqueueWalkStep(
  ctx: PoolCtx,
  config: StatsConfig,
  jobId: Id<"statsRecountJobs">,
  options: { failures?: number; runAfter?: number } = {},
): Promise<void> {
  const context: WorkContext = { kind: "walk", jobId, failures: options.failures ?? 0 };
  await pool(config).enqueueMutation(
    enqueueCtx(ctx),
    recountWalkStep,
    { jobId },
    { onComplete: recountWorkDone, context, runAfter: options.runAfter },
  );
}
