/**
 * The stats module's functions, as definitions (args, returns, handler) for
 * an app to register with its own builders, at the paths the module and the
 * runbooks call them by (`stats:recountPage`, `stats:recalculateAllOrgs`,
 * `migrations/initializeOrgStats:run`, ...):
 *
 * ```ts
 * const recount = recountFunctions(STATS);
 * export const recountPage = internalMutation(recount.recountPage);
 * ```
 *
 * Each handler checks its arguments (`checks.ts`) and calls the module's
 * logic; nothing here is app-specific.
 */
import type { RunResult } from "@convex-dev/workpool";
import { makeFunctionReference } from "convex/server";
import { v, type Infer, type PropertyValidators, type VString } from "convex/values";
import { appError } from "../../lib/errors";
import {
  optionalCount,
  optionalCursor,
  optionalEntities,
  optionalOrgId,
  optionalTime,
  requireId,
  requireLimit,
  requireOrgId,
  requireWalkStart,
} from "./checks";
import type { StatsConfig } from "./config";
import { statsDb, type StatsActionCtx, type StatsMutationCtx, type StatsQueryCtx } from "./ctx";
import { type CountedTable, type FacetName, type FlatCounts } from "./declare";
import { entityIn } from "./entities";
import type { Id } from "./ids";
import { filterOf, type FilterArgs } from "./facets/query";
import {
  flatCounts,
  readCounts,
  readFilteredCounts,
  vDetailedCounts,
  vFlatCounts,
  type CountsResult,
  type DetailedCounts,
} from "./read";
import { cancelBatch, cancelRecounts, vCancelResult } from "./recount/cancel";
import { onWorkDone } from "./recount/completion";
import { vWorkContext } from "./recount/enqueue";
import { throwIfFaulted } from "./recount/faults";
import { startJob, walkJobStep } from "./recount/jobWalk";
import { jobActive, jobRunning, latestJob } from "./recount/jobs";
import { vWalkStep } from "./recount/orgWalk";
import { runRecountPage, vPageOutcome } from "./recount/pages";
import { startRecount, vStartResult } from "./recount/start";
import { DEFAULT_PAGE_DOCS } from "./recount/state";
import { recentDriftReports, recountStatus, vDriftReport, vRecountStatus } from "./status";
import { vEntityOf, vSeedReport, walkPhases } from "./tables";

function vPhaseOf(config: StatsConfig) {
  const [first, ...rest] = walkPhases(config.tables).map((phase) => v.literal(phase));
  return v.union(first, ...rest);
}

/** The recount's functions (register them in `convex/stats.ts`). */
export function recountFunctions(config: StatsConfig) {
  const vEntity = vEntityOf(config.tables);
  const vPhase = vPhaseOf(config);
  return {
    /**
     * Starts an exact recount of one org (every counted table unless
     * `entities` says otherwise). A running recount is kept unless it is
     * stale, failed or `force` is set. Deleted orgs are skipped.
     * `schedulePages: false` leaves the pages to the caller (tests, bench).
     * `requestedAt`: when a scheduled request was made (a write's seeding);
     * it does not start when a cancel of the org or of all recounts was
     * recorded since (`recount/marks.ts`). Without it the call is the request.
     */
    recalculateOrgStats: {
      args: {
        workosOrgId: v.string(),
        entities: v.optional(v.array(vEntity)),
        force: v.optional(v.boolean()),
        schedulePages: v.optional(v.boolean()),
        requestedAt: v.optional(v.number()),
      },
      returns: v.array(vStartResult),
      handler: async (
        ctx: StatsMutationCtx,
        args: {
          workosOrgId: string;
          entities?: string[];
          force?: boolean;
          schedulePages?: boolean;
          requestedAt?: number;
        },
      ) => {
        const workosOrgId = requireOrgId(args.workosOrgId);
        const entities = optionalEntities(args.entities);
        const requestedAt = optionalTime(args.requestedAt, "requestedAt");
        const registered = await config.registry?.lookup(ctx.db, workosOrgId);
        const results = [];
        for (const entity of config.entities.keys()) {
          if (entities !== undefined && !entities.includes(entity)) continue;
          results.push(
            await startRecount(ctx, config, workosOrgId, entity, {
              mode: "daily",
              force: args.force,
              registryDeleted: registered?.deleted === true,
              schedulePages: args.schedulePages ?? true,
              request:
                requestedAt === undefined ? undefined : { at: requestedAt, includeCancelAll: true },
            }),
          );
        }
        console.log("[stats.recalculateOrgStats]", { workosOrgId, results });
        return results;
      },
    },

    /**
     * One page of recount `runId` of (org, entity): at most `maxDocs`
     * documents (default 1,000), fewer when the read budget runs out first.
     * A page of a run that was replaced or canceled does nothing.
     */
    recountPage: {
      args: {
        workosOrgId: v.string(),
        entity: vEntity,
        runId: v.string(),
        maxDocs: v.optional(v.number()),
      },
      returns: vPageOutcome,
      handler: async (
        ctx: StatsMutationCtx,
        args: { workosOrgId: string; entity: string; runId: string; maxDocs?: number },
      ) => {
        optionalCount(args.maxDocs, "maxDocs", Number.MAX_SAFE_INTEGER);
        throwIfFaulted({ ...args, maxDocs: args.maxDocs });
        const outcome = await runRecountPage(ctx, config, args);
        const { status, pages, documentsCounted, documentsRead, bytesRead } = outcome;
        console.log("[stats.recountPage]", {
          ...args,
          status,
          pages,
          documentsCounted,
          documentsRead,
          bytesRead,
        });
        return outcome;
      },
    },

    /** The stats pool's completion for recount pages and walk steps (`recount/completion.ts`). */
    recountWorkDone: {
      args: {
        workId: v.string(),
        context: vWorkContext,
        result: v.union(
          v.object({
            kind: v.literal("success"),
            returnValue: v.union(vPageOutcome, vWalkStep, v.null()),
          }),
          v.object({ kind: v.literal("failed"), error: v.string() }),
          v.object({ kind: v.literal("canceled") }),
        ),
      },
      returns: v.null(),
      handler: async (
        ctx: StatsMutationCtx,
        args: { context: Infer<typeof vWorkContext>; result: RunResult },
      ) => {
        await onWorkDone(ctx, config, args.context, args.result);
        return null;
      },
    },

    /**
     * The daily recount (cron): creates a job, walks the first page of orgs
     * starting each org's recount, and enqueues the rest of the walk.
     * `phase` / `cursor` start the walk elsewhere.
     */
    recalculateAllOrgs: {
      args: { phase: v.optional(vPhase), cursor: v.optional(v.union(v.string(), v.null())) },
      returns: vWalkStep,
      handler: async (ctx: StatsMutationCtx, args: { phase?: string; cursor?: string | null }) => {
        const start = requireWalkStart(args.phase, args.cursor, walkPhases(config.tables)[0]);
        const { jobId, step } = await startJob(ctx, config, "daily", start);
        console.log("[stats.recalculateAllOrgs] started", { jobId, step });
        return step;
      },
    },

    /** One step of a job's walk over all orgs (pool work). */
    recountWalkStep: {
      args: { jobId: v.id("statsRecountJobs") },
      returns: v.union(vWalkStep, v.null()),
      handler: async (ctx: StatsMutationCtx, args: { jobId: Id<"statsRecountJobs"> }) => {
        const step = await walkJobStep(ctx, config, args.jobId);
        console.log("[stats.recountWalkStep]", { jobId: args.jobId, step });
        return step;
      },
    },

    /**
     * Cancels the recounts of one org, or (`{}`) every recount and the
     * running jobs; nothing requested before the cancel starts after it.
     * Live counters are not touched. `NOT_FOUND` for an unknown org.
     */
    cancelRecounts: {
      args: { workosOrgId: v.optional(v.string()) },
      returns: vCancelResult,
      handler: async (ctx: StatsMutationCtx, args: { workosOrgId?: string }) =>
        await cancelRecounts(ctx, config, optionalOrgId(args.workosOrgId)),
    },

    /** The continuation of every cancel: seals it, then the rest of a cancel-all, a batch at a time. */
    cancelRecountsBatch: {
      args: {},
      returns: v.object({ canceledRuns: v.number(), more: v.boolean() }),
      handler: async (ctx: StatsMutationCtx) => await cancelBatch(ctx, config),
    },

    /**
     * Recount status for operators: the current daily run and migration,
     * rows not exact, the oldest running run; per stats row its last
     * finished recount and the running one; the newest drift reports.
     */
    recountStatus: {
      args: {
        workosOrgId: v.optional(v.string()),
        limit: v.optional(v.number()),
        cursor: v.optional(v.union(v.string(), v.null())),
      },
      returns: vRecountStatus,
      handler: async (
        ctx: StatsQueryCtx,
        args: { workosOrgId?: string; limit?: number; cursor?: string | null },
      ) => {
        const workosOrgId = optionalOrgId(args.workosOrgId);
        const limit = requireLimit(args.limit);
        const cursor = optionalCursor(args.cursor);
        if (cursor !== null && workosOrgId !== undefined) {
          throw appError(
            "INVALID_ARGUMENT",
            "cursor pages the rows of all orgs: leave out workosOrgId.",
            { field: "cursor" },
          );
        }
        return await recountStatus(ctx.db, config, { workosOrgId, limit, cursor });
      },
    },

    /** Drift reports, newest first: all orgs, or one org (optionally one table). */
    listDriftReports: {
      args: {
        workosOrgId: v.optional(v.string()),
        entity: v.optional(vEntity),
        limit: v.optional(v.number()),
      },
      returns: v.array(vDriftReport),
      handler: async (
        ctx: StatsQueryCtx,
        args: { workosOrgId?: string; entity?: string; limit?: number },
      ) => {
        const limit = requireLimit(args.limit);
        const workosOrgId = optionalOrgId(args.workosOrgId);
        if (args.entity !== undefined && workosOrgId === undefined) {
          throw appError(
            "INVALID_ARGUMENT",
            "entity filters the reports of one org: pass workosOrgId.",
            {
              field: "entity",
            },
          );
        }
        return await recentDriftReports(ctx.db, config, limit, workosOrgId, args.entity);
      },
    },
  };
}

/** A dry run's progress and report. */
export const vDryRunStatus = v.object({
  dryRunId: v.id("statsRecountJobs"),
  finished: v.boolean(),
  startedAt: v.number(),
  /** Rows counted so far and rows still counting. */
  rowsDone: v.number(),
  rowsRunning: v.number(),
  report: vSeedReport,
});

/**
 * The seeding migration's functions (register them in
 * `convex/migrations/initializeOrgStats.ts`): seed the counters of every org
 * that existed before them, or (dry run) report what seeding would change.
 */
export function migrationFunctions(
  config: StatsConfig,
  modulePath = "migrations/initializeOrgStats",
) {
  const vPhase = vPhaseOf(config);
  const position = { phase: vPhase, cursor: v.union(v.string(), v.null()) };
  const seedStep = makeFunctionReference<"mutation">(`${modulePath}:seedStep`);
  const startDryRun = makeFunctionReference<"mutation">(`${modulePath}:startDryRun`);
  const vRunResult = v.union(
    v.object({ dryRun: v.literal(true), dryRunId: v.id("statsRecountJobs") }),
    v.object({ dryRun: v.literal(false), firstStep: vWalkStep }),
  );
  return {
    /** Starts the seeding job: rows missing or not exact are recounted; exact rows are skipped. */
    seedStep: {
      args: position,
      returns: vWalkStep,
      handler: async (ctx: StatsMutationCtx, args: { phase: string; cursor: string | null }) => {
        const start = requireWalkStart(args.phase, args.cursor, args.phase);
        const { jobId, step } = await startJob(ctx, config, "seed", start);
        console.log("[migrations.initializeOrgStats] step", { jobId, step });
        return step;
      },
    },

    /** Starts a dry run: the seeding's walk and pages, writing only its own state and report. */
    startDryRun: {
      args: { ...position, maxDocs: v.optional(v.number()) },
      returns: v.id("statsRecountJobs"),
      handler: async (
        ctx: StatsMutationCtx,
        args: { phase: string; cursor: string | null; maxDocs?: number },
      ) => {
        const start = requireWalkStart(args.phase, args.cursor, args.phase);
        const pageCap = optionalCount(args.maxDocs, "maxDocs", DEFAULT_PAGE_DOCS);
        const { jobId, step } = await startJob(ctx, config, "report", start, { pageCap });
        console.log("[migrations.initializeOrgStats] dry run started", { dryRunId: jobId, step });
        return jobId;
      },
    },

    /**
     * A dry run's progress and report: `dryRunId`, or the newest dry run
     * (null: none has run). The report is complete once `finished`.
     */
    dryRunReport: {
      args: { dryRunId: v.optional(v.string()) },
      returns: v.union(vDryRunStatus, v.null()),
      handler: async (ctx: StatsQueryCtx, args: { dryRunId?: string }) =>
        await dryRunStatus(
          ctx,
          args.dryRunId === undefined ? null : requireId(args.dryRunId, "dryRunId"),
        ),
    },

    /**
     * Seeds the counters of every org, or with `dryRun: true` starts the dry
     * run (read its report with `dryRunReport`). `phase` and `cursor` resume
     * a walk from a logged position; `maxDocs` caps a dry run's pages.
     */
    run: {
      args: {
        dryRun: v.optional(v.boolean()),
        phase: v.optional(vPhase),
        cursor: v.optional(v.union(v.string(), v.null())),
        maxDocs: v.optional(v.number()),
      },
      returns: vRunResult,
      handler: async (
        ctx: StatsActionCtx,
        args: { dryRun?: boolean; phase?: string; cursor?: string | null; maxDocs?: number },
      ): Promise<Infer<typeof vRunResult>> => {
        const start = requireWalkStart(args.phase, args.cursor, walkPhases(config.tables)[0]);
        optionalCount(args.maxDocs, "maxDocs", DEFAULT_PAGE_DOCS);
        if (args.dryRun === true) {
          const dryRunId = (await ctx.runMutation(startDryRun, {
            ...start,
            maxDocs: args.maxDocs,
          })) as Id<"statsRecountJobs">;
          return { dryRun: true, dryRunId };
        }
        if (args.maxDocs !== undefined) {
          throw appError("INVALID_ARGUMENT", "maxDocs applies to a dry run only.", {
            field: "maxDocs",
          });
        }
        const firstStep = (await ctx.runMutation(seedStep, start)) as Infer<typeof vWalkStep>;
        return { dryRun: false, firstStep };
      },
    },
  };
}

/** The status of dry run `id` (its id as text), or of the newest one (null: none). */
async function dryRunStatus(
  ctx: StatsQueryCtx,
  id: string | null,
): Promise<Infer<typeof vDryRunStatus> | null> {
  const db = statsDb(ctx.db);
  const jobId = id === null ? null : db.normalizeId("statsRecountJobs", id);
  if (id !== null && jobId === null) {
    throw appError("NOT_FOUND", "No such dry run.", { dryRunId: id });
  }
  const job =
    jobId === null ? await latestJob(ctx.db, "report") : await db.get("statsRecountJobs", jobId);
  if (job === null) {
    if (id !== null) throw appError("NOT_FOUND", "No such dry run.", { dryRunId: id });
    return null;
  }
  if (job.report === undefined)
    throw appError("NOT_FOUND", "No such dry run.", { dryRunId: job._id });
  return {
    dryRunId: job._id,
    finished: !jobActive(job),
    startedAt: job.startedAt,
    rowsDone: job.finished + job.canceled + job.failed,
    rowsRunning: jobRunning(job),
    report: job.report,
  };
}

/**
 * The count queries of counted table `table` (register them in the table's
 * module): the flat badge answer and the detailed one. `authorize` checks
 * the caller may read `workosOrgId`'s counters (throws otherwise).
 */
export function countQueries<D extends CountedTable>(
  config: StatsConfig,
  table: string,
  decl: D,
  authorize: (ctx: StatsQueryCtx, workosOrgId: string) => Promise<void>,
) {
  const def = entityIn(config.entities, table);
  const detailed = async (ctx: StatsQueryCtx, workosOrgId: string): Promise<CountsResult> => {
    await authorize(ctx, workosOrgId);
    return await readCounts(ctx, config, def, workosOrgId);
  };
  return {
    /** `{ Open: 3, Delivered: 7, ... }`: the closest honest numbers in every state, 1 document. */
    flat: {
      args: { workosOrgId: v.string() },
      returns: vFlatCounts(decl),
      handler: async (ctx: StatsQueryCtx, args: { workosOrgId: string }): Promise<FlatCounts<D>> =>
        flatCounts(decl, await detailed(ctx, args.workosOrgId)),
    },
    /** Counters by status with `state`, `progress` and `knownDrift` (see `read.ts`). */
    detailed: {
      args: { workosOrgId: v.string() },
      returns: vDetailedCounts(decl),
      // The counters are built from the same declaration as the validator.
      handler: async (ctx: StatsQueryCtx, args: { workosOrgId: string }) =>
        (await detailed(ctx, args.workosOrgId)) as DetailedCounts<D>,
    },
  };
}

/**
 * A filtered query's arguments for table `D`: the org, at most one facet
 * value (each declared facet is an optional argument), and for a table with
 * a date field an inclusive `startDate` / `endDate` (`YYYY-MM-DD`).
 */
export type FilteredArgs<D extends CountedTable> = { workosOrgId: string } & {
  [K in FacetName<D>]?: string;
} & (D["dateField"] extends object ? { startDate?: string; endDate?: string } : unknown);

/** The validators of `FilteredArgs<D>`, built from the declaration. */
function vFilteredArgs<D extends CountedTable>(decl: D) {
  const args: PropertyValidators = { workosOrgId: v.string() };
  for (const facet of Object.keys(decl.facets ?? {})) args[facet] = v.optional(v.string());
  if (decl.dateField !== undefined) {
    args.startDate = v.optional(v.string());
    args.endDate = v.optional(v.string());
  }
  // Built from the same declaration the type is.
  return args as unknown as { workosOrgId: VString } & {
    [K in keyof Omit<FilteredArgs<D>, "workosOrgId">]-?: VString<string | undefined, "optional">;
  };
}

/**
 * Checks a facet value a filtered query was given, against what the app
 * knows of it (e.g. that a lane exists and belongs to the org); throws the
 * app's error (`NOT_FOUND`, `INVALID_ARGUMENT`) otherwise. The module checks
 * the value's form first.
 */
export type FacetCheck = (
  ctx: StatsQueryCtx,
  workosOrgId: string,
  facet: string,
  value: string,
) => Promise<void>;

/**
 * The filtered count queries of counted table `table`, which must declare
 * facets or a date field (register them in the table's module): the flat
 * badge answer and the detailed one, for one facet value and/or an inclusive
 * day range (`docs/filtered-counts.md`). Arguments are checked before
 * anything is read; then `authorize` (as for `countQueries`), then
 * `checkFacet` for the facet value given.
 */
export function filteredCountQueries<D extends CountedTable>(
  config: StatsConfig,
  table: string,
  decl: D,
  authorize: (ctx: StatsQueryCtx, workosOrgId: string) => Promise<void>,
  checkFacet: FacetCheck,
) {
  const def = entityIn(config.entities, table);
  if (def.facets === null) throw new Error(`[stats] ${table} declares no filtered counters`);
  const detailed = async (ctx: StatsQueryCtx, args: FilteredArgs<D>): Promise<CountsResult> => {
    const { workosOrgId, ...rest } = args as { workosOrgId: string } & FilterArgs;
    const filter = filterOf(def, rest);
    await authorize(ctx, workosOrgId);
    if (filter.facet !== null) {
      await checkFacet(ctx, workosOrgId, filter.facet.name, filter.facet.value);
    }
    return await readFilteredCounts(ctx, config, def, workosOrgId, filter);
  };
  const args = vFilteredArgs(decl);
  return {
    /** `{ Open: 3, Delivered: 7, ... }` under the filter: at most 8 documents. */
    flat: {
      args,
      returns: vFlatCounts(decl),
      handler: async (ctx: StatsQueryCtx, a: FilteredArgs<D>): Promise<FlatCounts<D>> =>
        flatCounts(decl, await detailed(ctx, a)),
    },
    /** Counters by status under the filter, with `state` and `progress` (see `read.ts`). */
    detailed: {
      args,
      returns: vDetailedCounts(decl),
      handler: async (ctx: StatsQueryCtx, a: FilteredArgs<D>) =>
        (await detailed(ctx, a)) as DetailedCounts<D>,
    },
  };
}
