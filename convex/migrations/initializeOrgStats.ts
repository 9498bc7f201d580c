/**
 * Migration: seed `organizationStats` for every organization that existed
 * before the counters, by running the exact recount of each row that is
 * missing or not yet exact.
 *
 * ```sh
 * npx convex run migrations/initializeOrgStats:run '{"dryRun": true}'   # paged report, writes no counters
 * npx convex run migrations/initializeOrgStats:dryRunReport             # its report (`finished` when done)
 * npx convex run migrations/initializeOrgStats:run                      # seed (runs in the background)
 * npx convex run stats:recountStatus                                    # watch: running recounts
 * ```
 *
 * - Orgs are found in the registry, in existing stats rows, and by a skip
 *   scan of the loads and invoices `by_org` indexes (one read per distinct
 *   org), so orgs with documents but neither a registry entry nor a stats
 *   row are seeded too (`model/stats/recount/orgWalk.ts`).
 * - Idempotent: rows that are exact are skipped, so a second run writes
 *   nothing; a running recount is left to finish.
 * - Resumable: every step logs `next` (`[migrations.initializeOrgStats]`);
 *   `run '{"phase": ..., "cursor": ...}'` continues from there. Running it
 *   again from the start is also safe (see idempotent), only slower.
 * - Dry run: paged work, like the real run but writing nothing except its
 *   own `statsDryRuns` document. Each step is one scheduled mutation that
 *   reads one page of the org walk or one page of one row's documents
 *   (`model/stats/dryRun.ts`); `dryRunReport` returns the report, complete
 *   once `finished`. Its numbers are not a snapshot: writes landing between
 *   steps can shift them slightly (the real run is exact).
 */
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import { internalAction, internalMutation, internalQuery } from "../functions";
import { appError } from "../lib/errors";
import {
  createDryRun,
  dryRunStatus,
  dryRunStep as runDryRunStep,
  vDryRunStatus,
  vDryRunStepResult,
} from "../model/stats/dryRun";
import { startJob } from "../model/stats/recount/jobWalk";
import { vWalkPhase, vWalkStep, type WalkPosition } from "../model/stats/recount/orgWalk";
import { UNLIMITED_PAGE } from "../model/stats/scan";
import { optionalPositiveInteger } from "../model/validate";

const vPosition = { phase: vWalkPhase, cursor: v.union(v.string(), v.null()) };

/**
 * Starts the seeding job (`statsRecountJobs`, kind `seed`): its first walk
 * step runs here, starting the recount of every row found that is missing
 * or not exact; the rest of the walk and every page run in the stats
 * workpool (`stats:recountStatus` shows it as `migration`,
 * `stats:cancelRecounts` stops it).
 */
export const seedStep = internalMutation({
  args: vPosition,
  returns: vWalkStep,
  handler: async (ctx, args) => {
    const { jobId, step } = await startJob(ctx, "seed", args);
    console.log("[migrations.initializeOrgStats] step", { jobId, step });
    return step;
  },
});

const vDryRunStart = {
  ...vPosition,
  /** Most documents one counting step reads (default: the read budget decides). */
  maxDocs: v.optional(v.number()),
};

/** Creates a dry run and schedules its first step. */
export const startDryRun = internalMutation({
  args: vDryRunStart,
  returns: v.id("statsDryRuns"),
  handler: async (ctx, args) => {
    const maxDocs = optionalPositiveInteger(args.maxDocs, "maxDocs") ?? UNLIMITED_PAGE;
    const dryRunId = await createDryRun(ctx, { phase: args.phase, cursor: args.cursor }, maxDocs);
    await ctx.scheduler.runAfter(0, internal.migrations.initializeOrgStats.dryRunStep, {
      dryRunId,
      step: 1,
    });
    console.log("[migrations.initializeOrgStats] dry run started", { dryRunId, ...args });
    return dryRunId;
  },
});

/** One page of a dry run (see `model/stats/dryRun.ts`); schedules the next. */
export const dryRunStep = internalMutation({
  args: { dryRunId: v.id("statsDryRuns"), step: v.number() },
  returns: vDryRunStepResult,
  handler: async (ctx, args) => {
    const result = await runDryRunStep(ctx, args.dryRunId, args.step);
    if (result.more) {
      await ctx.scheduler.runAfter(0, internal.migrations.initializeOrgStats.dryRunStep, {
        dryRunId: args.dryRunId,
        step: args.step + 1,
      });
    }
    return result;
  },
});

/**
 * A dry run's progress and report: `dryRunId`, or the newest dry run when
 * omitted (null: none has run). The report is complete once `finished`.
 *
 * @throws ConvexError `NOT_FOUND` for an unknown `dryRunId`.
 */
export const dryRunReport = internalQuery({
  args: { dryRunId: v.optional(v.id("statsDryRuns")) },
  returns: v.union(vDryRunStatus, v.null()),
  handler: async (ctx, args) => {
    const status = await dryRunStatus(ctx, args.dryRunId ?? null);
    if (status === null && args.dryRunId !== undefined) {
      throw appError("NOT_FOUND", "No such dry run.", { dryRunId: args.dryRunId });
    }
    return status;
  },
});

const vRunResult = v.union(
  v.object({ dryRun: v.literal(true), dryRunId: v.id("statsDryRuns") }),
  v.object({ dryRun: v.literal(false), firstStep: vWalkStep }),
);

/**
 * Seeds the counters of every org (see the file comment). With
 * `dryRun: true` it starts the paged dry run instead, which only reports,
 * per row, what the seeding would do and which buckets would change (read it
 * with `dryRunReport`). `phase` and `cursor` resume a walk from a logged
 * position.
 *
 * @throws ConvexError `INVALID_ARGUMENT` for a `maxDocs` that is not a
 *   positive integer, or `maxDocs` without `dryRun`.
 */
export const run = internalAction({
  args: {
    dryRun: v.optional(v.boolean()),
    phase: v.optional(vWalkPhase),
    cursor: v.optional(v.union(v.string(), v.null())),
    /** Dry run only: most documents one counting step reads (default: the read budget). */
    maxDocs: v.optional(v.number()),
  },
  returns: vRunResult,
  handler: async (ctx, args): Promise<Infer<typeof vRunResult>> => {
    const start: WalkPosition = {
      phase: args.phase ?? "organizations",
      cursor: args.cursor ?? null,
    };
    optionalPositiveInteger(args.maxDocs, "maxDocs");
    if (args.dryRun === true) {
      const dryRunId = await ctx.runMutation(internal.migrations.initializeOrgStats.startDryRun, {
        ...start,
        maxDocs: args.maxDocs,
      });
      return { dryRun: true, dryRunId };
    }
    if (args.maxDocs !== undefined)
      throw appError("INVALID_ARGUMENT", "maxDocs applies to a dry run only.", {
        field: "maxDocs",
      });
    const firstStep = await ctx.runMutation(internal.migrations.initializeOrgStats.seedStep, start);
    return { dryRun: false, firstStep };
  },
});
