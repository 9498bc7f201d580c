/**
 * Finding every organization whose counters need a recount, a bounded page
 * at a time, without ever collecting a whole table. Used by the daily
 * recount and the seeding migration (and its dry run).
 *
 * Orgs come from three places, walked in this order:
 * 1. the app's registry (`config.registry`, when it has one): every org,
 *    every counted table;
 * 2. `organizationStats` rows (by the `by_entity` index) of orgs the
 *    registry does not know;
 * 3. a skip scan of each counted table's org index: one `.first()` read per
 *    distinct org. This finds orgs that have documents but neither a
 *    registry entry nor a stats row (data from before the counters).
 * Each phase leaves out orgs an earlier phase owns, so an org is visited once
 * per counted table.
 */
import { v, type Infer } from "convex/values";
import type { StatsConfig } from "../config";
import { statsDb, type AnyReader, type StatsMutationCtx } from "../ctx";
import type { Id } from "../ids";
import { getStatsRow, isRowOrgDeleted } from "../rows";
import { walkPhases, type FoundBy } from "../tables";
import type { WalkPosition } from "./jobs";
import { canceledSince } from "./marks";
import { startRecount, type StartOptions, type StartResult } from "./start";
import type { RecountMode } from "./state";

/** Orgs (registry entries, stats rows or skip-scan steps) looked at per page. */
export const ORGS_PER_PAGE = 50;

/** One org to recount, and for which tables. */
export type WalkTarget = {
  workosOrgId: string;
  entities: string[];
  foundBy: FoundBy;
  /** The registry marks the org deleted: it is reported, not recounted. */
  registryDeleted: boolean;
};

export type WalkPage = { targets: WalkTarget[]; next: WalkPosition | null };

/** Where a walk continues, as results show it. */
export const vWalkPosition = v.object({ phase: v.string(), cursor: v.union(v.string(), v.null()) });

function after(config: StatsConfig, phase: string): WalkPosition | null {
  const phases = walkPhases(config.tables);
  const i = phases.indexOf(phase);
  return i + 1 < phases.length ? { phase: phases[i + 1], cursor: null } : null;
}

async function inRegistry(config: StatsConfig, db: AnyReader, workosOrgId: string) {
  return config.registry !== undefined && (await config.registry.lookup(db, workosOrgId)) !== null;
}

/**
 * One page of the walk: at most `limit` registry entries, stats rows or
 * skip-scan steps (each costs 1-3 reads). Read-only.
 *
 * @throws Error for a phase the app's tables do not have.
 */
export async function walkPage(
  db: AnyReader,
  config: StatsConfig,
  position: WalkPosition,
  limit: number = ORGS_PER_PAGE,
): Promise<WalkPage> {
  const { phase, cursor } = position;
  const targets: WalkTarget[] = [];
  const entities = [...config.entities.keys()];
  if (phase === "organizations") {
    if (config.registry === undefined) return { targets, next: after(config, phase) };
    const page = await config.registry.page(db, cursor, limit);
    for (const org of page.orgs) {
      targets.push({
        workosOrgId: org.workosOrgId,
        entities,
        foundBy: "organizations",
        registryDeleted: org.deleted,
      });
    }
    return {
      targets,
      next: page.isDone ? after(config, phase) : { phase, cursor: page.continueCursor },
    };
  }
  const rowsOf = entities.find((e) => `${e}Rows` === phase);
  if (rowsOf !== undefined) {
    const page = await statsDb(db)
      .query("organizationStats")
      .withIndex("by_entity", (q) => q.eq("entity", rowsOf))
      .paginate({ numItems: limit, cursor });
    for (const row of page.page) {
      if (isRowOrgDeleted(row) || (await inRegistry(config, db, row.workosOrgId))) continue;
      targets.push({
        workosOrgId: row.workosOrgId,
        entities: [rowsOf],
        foundBy: "statsRow",
        registryDeleted: false,
      });
    }
    return {
      targets,
      next: page.isDone ? after(config, phase) : { phase, cursor: page.continueCursor },
    };
  }
  const entity = entities.find((e) => `${e}Scan` === phase);
  if (entity === undefined) throw new Error(`[stats.walk] unknown phase ${phase}`);
  const def = config.entities.get(entity);
  if (def === undefined) throw new Error(`[stats.walk] unknown table ${entity}`);
  let previous = cursor;
  for (let step = 0; step < limit; step++) {
    const doc = await def.orgsAfter(db, previous).first();
    const workosOrgId = doc === null ? null : def.orgOf(doc);
    if (workosOrgId === null) return { targets, next: after(config, phase) };
    if (typeof workosOrgId !== "string") {
      // A document without a usable org id (written around the code) ends
      // the skip scan: nothing sorts after it that an org id could match.
      console.warn("[stats.walk] document without an org id ends the scan", {
        entity,
        id: doc?._id,
      });
      return { targets, next: after(config, phase) };
    }
    previous = workosOrgId;
    if (await inRegistry(config, db, workosOrgId)) continue;
    if ((await getStatsRow(db, workosOrgId, entity)) !== null) continue;
    targets.push({ workosOrgId, entities: [entity], foundBy: "documents", registryDeleted: false });
  }
  return { targets, next: { phase, cursor: previous } };
}

/**
 * What one step of a walk did, per stats row it visited: `started` a run,
 * `adopted` a run already running outside any job, found one `running` that
 * another job (or, outside a job, anyone) counts, or `skipped` the row.
 * `visited = started + adopted + running + skipped`.
 */
export const vWalkStep = v.object({
  position: vWalkPosition,
  targets: v.number(),
  visited: v.number(),
  started: v.number(),
  adopted: v.number(),
  running: v.number(),
  skipped: v.number(),
  next: v.union(vWalkPosition, v.null()),
});
export type WalkStep = Infer<typeof vWalkStep>;

/**
 * One page of the walk, starting a recount (see `startRecount`) of every
 * target found, its first page enqueued in the stats workpool. Returns the
 * step and every start's result, with its target. Continuing the walk is the
 * caller's job. `request`: the walk was requested before this transaction
 * (a job's step in the pool), so orgs canceled since are skipped.
 */
export async function walkAndStart(
  ctx: Pick<StatsMutationCtx, "db" | "runMutation">,
  config: StatsConfig,
  mode: RecountMode,
  position: WalkPosition,
  options: {
    jobId?: Id<"statsRecountJobs">;
    maxPage?: number;
    request?: StartOptions["request"];
  } = {},
): Promise<{ step: WalkStep; results: { target: WalkTarget; result: StartResult }[] }> {
  const page = await walkPage(ctx.db, config, position);
  const results: { target: WalkTarget; result: StartResult }[] = [];
  const { request } = options;
  for (const target of page.targets) {
    // The org's cancel mark, looked up once for all its tables.
    const canceled =
      request !== undefined &&
      !target.registryDeleted &&
      (await canceledSince(ctx, target.workosOrgId, request.at, {
        all: request.includeCancelAll,
      }));
    for (const entity of target.entities) {
      const result: StartResult = canceled
        ? { entity, status: "skipped", runId: null, reason: "canceled" }
        : await startRecount(ctx, config, target.workosOrgId, entity, {
            mode,
            registryDeleted: target.registryDeleted,
            schedulePages: true,
            jobId: options.jobId,
            maxPage: options.maxPage,
            foundBy: target.foundBy,
          });
      results.push({ target, result });
    }
  }
  const countOf = (status: StartResult["status"]) =>
    results.filter((r) => r.result.status === status).length;
  return {
    step: {
      position,
      targets: page.targets.length,
      visited: results.length,
      started: countOf("started"),
      adopted: countOf("adopted"),
      running: countOf("running"),
      skipped: countOf("skipped"),
      next: page.next,
    },
    results,
  };
}

export type { WalkPosition };
