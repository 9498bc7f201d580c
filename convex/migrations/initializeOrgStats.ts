/**
 * Migration: seed `organizationStats` for every organization that existed
 * before the counters, by running the exact recount of each row that is
 * missing or not yet exact.
 *
 * ```sh
 * npx convex run migrations/initializeOrgStats:run '{"dryRun": true}'   # report only, writes nothing
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
 * - Dry run: an action that pages through the same walk and the same page
 *   counting with queries, keeping the per-org totals in the action's memory,
 *   so a big org can be counted over many transactions without storing
 *   anything. Its numbers are not a snapshot: writes landing between its
 *   queries can shift them slightly (the real run is exact).
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import { internalAction, internalMutation, internalQuery, type ActionCtx } from "../functions";
import { vStatsEntity, type StatsEntity } from "../model/enums";
import { tallyOfStored, type Tally } from "../model/stats/counters";
import { entityDef } from "../model/stats/entities";
import { startJob } from "../model/stats/recount/jobWalk";
import { vWalkPhase, vWalkStep, walkPage, type WalkPosition } from "../model/stats/recount/orgWalk";
import { decideRecount, type RecountDecision } from "../model/stats/recount/start";
import { getStatsRow, type StatsRow } from "../model/stats/rows";
import { countPage, UNLIMITED_PAGE } from "../model/stats/scan";
import { getRecountState } from "../model/stats/shadow";
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

/** Per status: count and cents (cents are 0 for loads). */
const vStatusTotals = v.array(
  v.object({ status: v.string(), count: v.number(), amountCents: v.number() }),
);
type StatusTotals = Infer<typeof vStatusTotals>;

/** Per status of `entity`: count and cents of a tally. */
function totalsOf(entity: StatsEntity, t: Tally): StatusTotals {
  return entityDef(entity).statuses.map((s) => ({
    status: s,
    count: t.count.get(s) ?? 0,
    amountCents: t.amountCents.get(s) ?? 0,
  }));
}

function storedTotals(row: StatsRow): StatusTotals {
  return totalsOf(row.entity, tallyOfStored(row));
}

const vDryRunAction = literals("create_row", "seed", "skip_exact", "skip_running", "skip_deleted");
type DryRunAction = Infer<typeof vDryRunAction>;

function dryRunAction(decision: RecountDecision, rowExists: boolean): DryRunAction {
  if (decision.kind === "running") return "skip_running";
  if (decision.kind === "skip") {
    return decision.reason === "org_deleted" ? "skip_deleted" : "skip_exact";
  }
  return rowExists ? "seed" : "create_row";
}

/** Dry run, step 1: one page of the walk and what the real run would do with each row. */
export const discover = internalQuery({
  args: vPosition,
  returns: v.object({
    targets: v.array(
      v.object({
        workosOrgId: v.string(),
        entity: vStatsEntity,
        foundBy: literals("organizations", "statsRow", "documents"),
        action: vDryRunAction,
        stored: v.union(vStatusTotals, v.null()),
      }),
    ),
    next: v.union(v.object(vPosition), v.null()),
  }),
  handler: async (ctx, args) => {
    const page = await walkPage(ctx.db, args);
    const now = Date.now();
    const targets = [];
    for (const target of page.targets) {
      for (const entity of target.entities) {
        const row = target.registryDeleted
          ? null
          : await getStatsRow(ctx.db, target.workosOrgId, entity);
        const state =
          row === null ? null : await getRecountState(ctx.db, target.workosOrgId, entity);
        const decision = decideRecount(
          row,
          state,
          { mode: "seed", registryDeleted: target.registryDeleted },
          now,
        );
        const action = dryRunAction(decision, row !== null);
        targets.push({
          workosOrgId: target.workosOrgId,
          entity,
          foundBy: target.foundBy,
          action,
          stored: row === null ? null : storedTotals(row),
        });
      }
    }
    return { targets, next: page.next };
  },
});

/** Dry run, step 2: counts one page of an org's documents after `cursor`. */
export const previewCount = internalQuery({
  args: {
    workosOrgId: v.string(),
    entity: vStatsEntity,
    cursor: v.union(v.number(), v.null()),
    maxDocs: v.optional(v.number()),
  },
  returns: v.object({
    totals: vStatusTotals,
    counted: v.number(),
    lastCreationTime: v.union(v.number(), v.null()),
    exhausted: v.boolean(),
  }),
  handler: async (ctx, args) => {
    const { tally, scan } = await countPage(
      ctx,
      args.workosOrgId,
      args.entity,
      args.cursor,
      args.maxDocs ?? UNLIMITED_PAGE,
    );
    return {
      totals: totalsOf(args.entity, tally),
      counted: scan.counted,
      lastCreationTime: scan.lastCreationTime,
      exhausted: scan.exhausted,
    };
  },
});

/** Most rows listed in a dry-run report (the totals cover all of them). */
export const DRY_RUN_REPORT_LIMIT = 200;

const vDryRunEntry = v.object({
  workosOrgId: v.string(),
  entity: vStatsEntity,
  foundBy: literals("organizations", "statsRow", "documents"),
  action: vDryRunAction,
  /** Documents counted (null when the row would be skipped). */
  documents: v.union(v.number(), v.null()),
  /** Buckets the seeding would change: stored (0 for a new row) vs counted. */
  changes: v.array(
    v.object({
      status: v.string(),
      measure: literals("count", "amountCents"),
      stored: v.number(),
      actual: v.number(),
      delta: v.number(),
    }),
  ),
});
type DryRunEntry = Infer<typeof vDryRunEntry>;

const vDryRunReport = v.object({
  dryRun: v.literal(true),
  totals: v.object({
    rows: v.number(),
    createRow: v.number(),
    seed: v.number(),
    skipExact: v.number(),
    skipRunning: v.number(),
    skipDeleted: v.number(),
    rowsThatWouldChange: v.number(),
    documentsCounted: v.number(),
  }),
  entries: v.array(vDryRunEntry),
  truncated: v.boolean(),
});
type DryRunReport = Infer<typeof vDryRunReport>;

const vRunResult = v.union(
  vDryRunReport,
  v.object({ dryRun: v.literal(false), firstStep: vWalkStep }),
);

/** Counts every document of (org, entity) with one query per page. */
async function previewOrg(
  ctx: ActionCtx,
  workosOrgId: string,
  entity: StatsEntity,
  maxDocs: number | undefined,
): Promise<{ totals: Map<string, { count: number; amountCents: number }>; documents: number }> {
  const totals = new Map<string, { count: number; amountCents: number }>();
  let documents = 0;
  let cursor: number | null = null;
  for (;;) {
    const page: {
      totals: StatusTotals;
      counted: number;
      lastCreationTime: number | null;
      exhausted: boolean;
    } = await ctx.runQuery(internal.migrations.initializeOrgStats.previewCount, {
      workosOrgId,
      entity,
      cursor,
      maxDocs,
    });
    for (const t of page.totals) {
      const sum = totals.get(t.status) ?? { count: 0, amountCents: 0 };
      totals.set(t.status, {
        count: sum.count + t.count,
        amountCents: sum.amountCents + t.amountCents,
      });
    }
    documents += page.counted;
    if (page.exhausted) return { totals, documents };
    cursor = page.lastCreationTime;
  }
}

async function dryRun(
  ctx: ActionCtx,
  start: WalkPosition,
  maxDocs: number | undefined,
): Promise<DryRunReport> {
  const report: DryRunReport = {
    dryRun: true,
    totals: {
      rows: 0,
      createRow: 0,
      seed: 0,
      skipExact: 0,
      skipRunning: 0,
      skipDeleted: 0,
      rowsThatWouldChange: 0,
      documentsCounted: 0,
    },
    entries: [],
    truncated: false,
  };
  const totalsKey = {
    create_row: "createRow",
    seed: "seed",
    skip_exact: "skipExact",
    skip_running: "skipRunning",
    skip_deleted: "skipDeleted",
  } as const;
  let position: WalkPosition | null = start;
  while (position !== null) {
    const page: {
      targets: Array<{
        workosOrgId: string;
        entity: StatsEntity;
        foundBy: DryRunEntry["foundBy"];
        action: DryRunEntry["action"];
        stored: StatusTotals | null;
      }>;
      next: WalkPosition | null;
    } = await ctx.runQuery(internal.migrations.initializeOrgStats.discover, position);
    for (const target of page.targets) {
      report.totals.rows++;
      report.totals[totalsKey[target.action]]++;
      const entry: DryRunEntry = {
        workosOrgId: target.workosOrgId,
        entity: target.entity,
        foundBy: target.foundBy,
        action: target.action,
        documents: null,
        changes: [],
      };
      if (target.action === "create_row" || target.action === "seed") {
        const counted = await previewOrg(ctx, target.workosOrgId, target.entity, maxDocs);
        entry.documents = counted.documents;
        report.totals.documentsCounted += counted.documents;
        for (const status of entityDef(target.entity).statuses) {
          const stored = target.stored?.find((t) => t.status === status);
          const actual = counted.totals.get(status) ?? { count: 0, amountCents: 0 };
          const pairs = [
            ["count", stored?.count ?? 0, actual.count],
            ["amountCents", stored?.amountCents ?? 0, actual.amountCents],
          ] as const;
          for (const [measure, before, after] of pairs) {
            if (before !== after) {
              entry.changes.push({
                status,
                measure,
                stored: before,
                actual: after,
                delta: after - before,
              });
            }
          }
        }
        if (entry.changes.length > 0 || target.action === "create_row") {
          report.totals.rowsThatWouldChange++;
        }
      }
      console.log("[migrations.initializeOrgStats] dry run", entry);
      if (report.entries.length < DRY_RUN_REPORT_LIMIT) report.entries.push(entry);
      else report.truncated = true;
    }
    position = page.next;
  }
  return report;
}

/**
 * Seeds the counters of every org (see the file comment). With
 * `dryRun: true` it only reports, per row, what it would do and which
 * buckets would change, and writes nothing. `phase` and `cursor` resume a
 * walk from a logged position.
 */
export const run = internalAction({
  args: {
    dryRun: v.optional(v.boolean()),
    phase: v.optional(vWalkPhase),
    cursor: v.optional(v.union(v.string(), v.null())),
    /** Dry run only: most documents one counting query reads (default: the read budget). */
    maxDocs: v.optional(v.number()),
  },
  returns: vRunResult,
  handler: async (ctx, args): Promise<Infer<typeof vRunResult>> => {
    const start: WalkPosition = {
      phase: args.phase ?? "organizations",
      cursor: args.cursor ?? null,
    };
    optionalPositiveInteger(args.maxDocs, "maxDocs");
    if (args.dryRun === true) return await dryRun(ctx, start, args.maxDocs);
    const firstStep = await ctx.runMutation(internal.migrations.initializeOrgStats.seedStep, start);
    return { dryRun: false, firstStep };
  },
});
