/**
 * The seeding migration's dry run as paged work: a `statsDryRuns` document
 * holds the walk position, the rows found but not yet reported, the counting
 * in progress and the report so far. Each step (one scheduled mutation) does
 * one page of the org walk OR one page of one row's documents, so no single
 * transaction touches more than one page however many orgs there are. It
 * writes only its own document: never a counted table or a stats row.
 *
 * Its numbers are not a snapshot: writes landing between steps can shift
 * them slightly (the real run is exact).
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../ctx";
import { vStatsEntity, type StatsEntity } from "../enums";
import { tallyOfStored, type Tally } from "./counters";
import { entityDef } from "./entities";
import { vWalkPosition, walkPage, type WalkPosition } from "./recount/orgWalk";
import { decideRecount, type RecountDecision } from "./recount/start";
import { getStatsRow } from "./rows";
import { countPage } from "./scan";
import { getRecountState } from "./shadow";

/** Most rows listed in a dry-run report (the totals cover all of them). */
export const DRY_RUN_REPORT_LIMIT = 200;

/** Per status: count and cents (cents are 0 for loads). */
const vStatusTotals = v.array(
  v.object({ status: v.string(), count: v.number(), amountCents: v.number() }),
);
type StatusTotals = Infer<typeof vStatusTotals>;

function totalsOf(entity: StatsEntity, t: Tally): StatusTotals {
  return entityDef(entity).statuses.map((s) => ({
    status: s,
    count: t.count.get(s) ?? 0,
    amountCents: t.amountCents.get(s) ?? 0,
  }));
}

const vDryRunAction = literals("create_row", "seed", "skip_exact", "skip_running", "skip_deleted");
type DryRunAction = Infer<typeof vDryRunAction>;
const vFoundBy = literals("organizations", "statsRow", "documents");

function dryRunAction(decision: RecountDecision, rowExists: boolean): DryRunAction {
  if (decision.kind === "running") return "skip_running";
  if (decision.kind === "skip") {
    return decision.reason === "org_deleted" ? "skip_deleted" : "skip_exact";
  }
  return rowExists ? "seed" : "create_row";
}

/** A row the walk found, waiting to be reported (and counted, when it would be seeded). */
const vDryRunTarget = v.object({
  workosOrgId: v.string(),
  entity: vStatsEntity,
  foundBy: vFoundBy,
  action: vDryRunAction,
  stored: v.union(vStatusTotals, v.null()),
});
type DryRunTarget = Infer<typeof vDryRunTarget>;

/** One row of the report. */
const vDryRunEntry = v.object({
  workosOrgId: v.string(),
  entity: vStatsEntity,
  foundBy: vFoundBy,
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

export const vDryRunReport = v.object({
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

/** The `statsDryRuns` table: one document per dry run. */
export const vDryRunFields = {
  startedAt: v.number(),
  /** Set when the report is complete. */
  finishedAt: v.optional(v.number()),
  /** Most documents one counting step reads (the read budget may stop it sooner). */
  maxDocs: v.number(),
  /** Steps run; a scheduled step whose number is not the next one does nothing. */
  steps: v.number(),
  /** Where the org walk continues; null when it is done. */
  walk: v.union(vWalkPosition, v.null()),
  /** Rows of the last walk page not yet reported; the first may be being counted. */
  pending: v.array(vDryRunTarget),
  /** Counting of `pending[0]` so far: cursor and sums. */
  counting: v.union(
    v.object({
      cursor: v.union(v.number(), v.null()),
      totals: vStatusTotals,
      documents: v.number(),
    }),
    v.null(),
  ),
  report: vDryRunReport,
};

const TOTALS_KEY = {
  create_row: "createRow",
  seed: "seed",
  skip_exact: "skipExact",
  skip_running: "skipRunning",
  skip_deleted: "skipDeleted",
} as const;

/** Creates a dry run at `start` (the first step is the caller's to schedule). */
export async function createDryRun(
  ctx: MutationCtx,
  start: WalkPosition,
  maxDocs: number,
): Promise<Id<"statsDryRuns">> {
  return await ctx.db.insert("statsDryRuns", {
    startedAt: Date.now(),
    maxDocs,
    steps: 0,
    walk: start,
    pending: [],
    counting: null,
    report: {
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
    },
  });
}

/** What a step did: one walk page, one page of documents, finished, or nothing (superseded). */
export const vDryRunStepResult = v.object({
  kind: literals("walk", "count", "finished", "superseded"),
  /** Orgs found (walk) or documents counted (count). */
  items: v.number(),
  /** Whether another step is due. */
  more: v.boolean(),
});
export type DryRunStepResult = Infer<typeof vDryRunStepResult>;

/** Adds `target` to the report (`counted`: its documents, when it would be seeded). */
function report(
  doc: Doc<"statsDryRuns">,
  target: DryRunTarget,
  counted: { totals: StatusTotals; documents: number } | null,
): void {
  const r: DryRunReport = doc.report;
  r.totals.rows++;
  r.totals[TOTALS_KEY[target.action]]++;
  const entry: DryRunEntry = {
    workosOrgId: target.workosOrgId,
    entity: target.entity,
    foundBy: target.foundBy,
    action: target.action,
    documents: counted?.documents ?? null,
    changes: [],
  };
  if (counted !== null) {
    r.totals.documentsCounted += counted.documents;
    for (const status of entityDef(target.entity).statuses) {
      const stored = target.stored?.find((t) => t.status === status);
      const actual = counted.totals.find((t) => t.status === status);
      const pairs = [
        ["count", stored?.count ?? 0, actual?.count ?? 0],
        ["amountCents", stored?.amountCents ?? 0, actual?.amountCents ?? 0],
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
    if (entry.changes.length > 0 || target.action === "create_row") r.totals.rowsThatWouldChange++;
  }
  console.log("[migrations.initializeOrgStats] dry run", entry);
  if (r.entries.length < DRY_RUN_REPORT_LIMIT) r.entries.push(entry);
  else r.truncated = true;
}

function wouldCount(target: DryRunTarget): boolean {
  return target.action === "create_row" || target.action === "seed";
}

/** One page of the walk: the rows it finds and what the real run would do with each. */
async function discover(ctx: QueryCtx, position: WalkPosition) {
  const page = await walkPage(ctx.db, position);
  const now = Date.now();
  const targets: DryRunTarget[] = [];
  for (const target of page.targets) {
    for (const entity of target.entities) {
      const row = target.registryDeleted
        ? null
        : await getStatsRow(ctx.db, target.workosOrgId, entity);
      const state = row === null ? null : await getRecountState(ctx.db, target.workosOrgId, entity);
      const decision = decideRecount(
        row,
        state,
        { mode: "seed", registryDeleted: target.registryDeleted },
        now,
      );
      targets.push({
        workosOrgId: target.workosOrgId,
        entity,
        foundBy: target.foundBy,
        action: dryRunAction(decision, row !== null),
        stored: row === null ? null : totalsOf(entity, tallyOfStored(row)),
      });
    }
  }
  return { targets, orgs: page.targets.length, next: page.next };
}

/**
 * One step of dry run `id`: reports the skipped rows at the head of the
 * queue (no reads), then counts one page of the next row that would be
 * seeded; with nothing queued, reads one page of the walk; with the walk
 * done, finishes. `step` must be the next step number, so a duplicate of a
 * scheduled step does nothing.
 */
export async function dryRunStep(
  ctx: MutationCtx,
  id: Id<"statsDryRuns">,
  step: number,
): Promise<DryRunStepResult> {
  const doc = await ctx.db.get("statsDryRuns", id);
  if (doc === null || doc.finishedAt !== undefined || doc.steps + 1 !== step) {
    return { kind: "superseded", items: 0, more: false };
  }
  doc.steps = step;
  let result: DryRunStepResult;
  while (doc.pending.length > 0 && !wouldCount(doc.pending[0])) {
    report(doc, doc.pending[0], null);
    doc.pending.shift();
  }
  const head = doc.pending[0];
  if (head !== undefined) {
    const counting = doc.counting ?? { cursor: null, totals: [], documents: 0 };
    const { tally, scan } = await countPage(
      ctx,
      head.workosOrgId,
      head.entity,
      counting.cursor,
      doc.maxDocs,
    );
    const totals = totalsOf(head.entity, tally).map((t) => {
      const sum = counting.totals.find((s) => s.status === t.status);
      return {
        status: t.status,
        count: t.count + (sum?.count ?? 0),
        amountCents: t.amountCents + (sum?.amountCents ?? 0),
      };
    });
    const documents = counting.documents + scan.counted;
    if (scan.exhausted) {
      report(doc, head, { totals, documents });
      doc.pending.shift();
      doc.counting = null;
    } else {
      doc.counting = { cursor: scan.lastCreationTime, totals, documents };
    }
    result = { kind: "count", items: scan.counted, more: true };
  } else if (doc.walk !== null) {
    const page = await discover(ctx, doc.walk);
    doc.pending = page.targets;
    doc.walk = page.next;
    result = { kind: "walk", items: page.orgs, more: true };
  } else {
    doc.finishedAt = Date.now();
    console.log("[migrations.initializeOrgStats] dry run finished", {
      dryRunId: id,
      steps: doc.steps,
      totals: doc.report.totals,
    });
    result = { kind: "finished", items: 0, more: false };
  }
  const { _id, _creationTime, ...fields } = doc;
  await ctx.db.replace("statsDryRuns", _id, fields);
  return result;
}

/** A dry run's progress and report (`report` is complete once `finished`). */
export const vDryRunStatus = v.object({
  dryRunId: v.id("statsDryRuns"),
  finished: v.boolean(),
  startedAt: v.number(),
  finishedAt: v.union(v.number(), v.null()),
  steps: v.number(),
  report: vDryRunReport,
});
export type DryRunStatus = Infer<typeof vDryRunStatus>;

/** The status of dry run `id`, or of the newest one when `id` is null (null: none yet). */
export async function dryRunStatus(
  ctx: QueryCtx,
  id: Id<"statsDryRuns"> | null,
): Promise<DryRunStatus | null> {
  const doc =
    id === null
      ? await ctx.db.query("statsDryRuns").order("desc").first()
      : await ctx.db.get("statsDryRuns", id);
  if (doc === null) return null;
  return {
    dryRunId: doc._id,
    finished: doc.finishedAt !== undefined,
    startedAt: doc.startedAt,
    finishedAt: doc.finishedAt ?? null,
    steps: doc.steps,
    report: doc.report,
  };
}
