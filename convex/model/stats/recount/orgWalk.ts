/**
 * Finding every organization whose counters need a recount, a bounded page
 * at a time, without ever collecting a whole table. Used by the daily
 * recount (`stats.recalculateAllOrgs`) and the seeding migration
 * (`migrations/initializeOrgStats`).
 *
 * Orgs come from three places, walked in this order:
 * 1. `organizations` (the registry): every org, both entities.
 * 2. `organizationStats` rows (by the `by_entity` index) whose org is not in
 *    the registry.
 * 3. A skip scan of the `by_org` index of `loads`, then `invoices`: one
 *    `.first()` read per distinct org (`workosOrgId > previous org`). This
 *    finds orgs that have documents but neither a registry entry nor a stats
 *    row, e.g. data imported with `npx convex import` before this module.
 * Each phase leaves out orgs an earlier phase owns, so an org is visited once
 * per entity.
 */
import { literals } from "convex-helpers/validators";
import { v, type Infer } from "convex/values";
import type { Id } from "../../../_generated/dataModel";
import type { DatabaseReader } from "../../../_generated/server";
import type { MutationCtx } from "../../ctx";
import { STATS_ENTITIES, type StatsEntity } from "../../enums";
import { getOrganization } from "../../organizations/registry";
import { entityDef } from "../entities";
import { getStatsRow } from "../rows";
import { startRecount, type RecountMode, type StartResult } from "./start";
import { isOrgDeleted } from "../../organizations/deleted";

/**
 * The order the walk finds orgs in: the registry, then stats rows of orgs not
 * in it, then a skip scan of the documents of orgs with neither.
 */
const rowsPhase = (entity: StatsEntity) => `${entity}Rows` as const;
const scanPhase = (entity: StatsEntity) => `${entity}Scan` as const;
export const WALK_PHASES = [
  "organizations" as const,
  ...STATS_ENTITIES.map(rowsPhase),
  ...STATS_ENTITIES.map(scanPhase),
];
export const vWalkPhase = literals(...WALK_PHASES);
export type WalkPhase = Infer<typeof vWalkPhase>;

/** Orgs (registry entries, stats rows or skip-scan steps) looked at per page. */
export const ORGS_PER_PAGE = 50;

/** Where a walk continues: a phase and its cursor (a paginate cursor or the last org id). */
export const vWalkPosition = v.object({ phase: vWalkPhase, cursor: v.union(v.string(), v.null()) });
export type WalkPosition = Infer<typeof vWalkPosition>;

/** One org to recount, and for which entities. */
export type WalkTarget = {
  workosOrgId: string;
  entities: StatsEntity[];
  foundBy: "organizations" | "statsRow" | "documents";
  /** The registry marks the org deleted: it is reported, not recounted. */
  registryDeleted: boolean;
};

export type WalkPage = { targets: WalkTarget[]; next: WalkPosition | null };

function after(phase: WalkPhase): WalkPosition | null {
  const i = WALK_PHASES.findIndex((p) => p === phase);
  return i + 1 < WALK_PHASES.length ? { phase: WALK_PHASES[i + 1], cursor: null } : null;
}

async function inRegistry(db: DatabaseReader, workosOrgId: string): Promise<boolean> {
  return (await getOrganization({ db }, workosOrgId)) !== null;
}

/** The first org id after `previous` in `entity`'s `by_org` index (one read). */
async function nextOrgWithDocuments(
  db: DatabaseReader,
  entity: StatsEntity,
  previous: string | null,
): Promise<string | null> {
  const doc = await entityDef(entity).orgsAfter(db, previous).first();
  return doc?.workosOrgId ?? null;
}

/**
 * One page of the walk: at most `limit` registry entries, stats rows or
 * skip-scan steps (each costs 1-3 reads). Read-only.
 */
export async function walkPage(
  db: DatabaseReader,
  position: WalkPosition,
  limit: number = ORGS_PER_PAGE,
): Promise<WalkPage> {
  const { phase, cursor } = position;
  const targets: WalkTarget[] = [];
  if (phase === "organizations") {
    const page = await db.query("organizations").paginate({ numItems: limit, cursor });
    for (const org of page.page) {
      targets.push({
        workosOrgId: org.workosOrgId,
        entities: [...STATS_ENTITIES],
        foundBy: "organizations",
        registryDeleted: isOrgDeleted(org),
      });
    }
    return { targets, next: page.isDone ? after(phase) : { phase, cursor: page.continueCursor } };
  }
  const rowsOf = STATS_ENTITIES.find((e) => rowsPhase(e) === phase);
  if (rowsOf !== undefined) {
    const entity = rowsOf;
    const page = await db
      .query("organizationStats")
      .withIndex("by_entity", (q) => q.eq("entity", entity))
      .paginate({ numItems: limit, cursor });
    for (const row of page.page) {
      if (isOrgDeleted(row) || (await inRegistry(db, row.workosOrgId))) continue;
      targets.push({
        workosOrgId: row.workosOrgId,
        entities: [entity],
        foundBy: "statsRow",
        registryDeleted: false,
      });
    }
    return { targets, next: page.isDone ? after(phase) : { phase, cursor: page.continueCursor } };
  }
  const entity = STATS_ENTITIES.find((e) => scanPhase(e) === phase);
  if (entity === undefined) throw new Error(`[stats.walk] unknown phase ${phase}`);
  let previous = cursor;
  for (let step = 0; step < limit; step++) {
    const workosOrgId = await nextOrgWithDocuments(db, entity, previous);
    if (workosOrgId === null) return { targets, next: after(phase) };
    previous = workosOrgId;
    if (await inRegistry(db, workosOrgId)) continue;
    if ((await getStatsRow(db, workosOrgId, entity)) !== null) continue;
    targets.push({ workosOrgId, entities: [entity], foundBy: "documents", registryDeleted: false });
  }
  return { targets, next: { phase, cursor: previous } };
}

/** What one step of a walk did. */
export const vWalkStep = v.object({
  position: vWalkPosition,
  targets: v.number(),
  started: v.number(),
  running: v.number(),
  skipped: v.number(),
  next: v.union(vWalkPosition, v.null()),
});
export type WalkStep = Infer<typeof vWalkStep>;

/**
 * One page of the walk, starting a recount (mode `daily` or `seed`, see
 * `decideRecount`) of every target found, its first page enqueued in the
 * stats workpool. Continuing the walk is the caller's job.
 */
export async function walkAndStart(
  ctx: Pick<MutationCtx, "db" | "runMutation">,
  mode: RecountMode,
  position: WalkPosition,
  jobId?: Id<"statsRecountJobs">,
): Promise<WalkStep> {
  const page = await walkPage(ctx.db, position);
  const results: StartResult[] = [];
  for (const target of page.targets) {
    for (const entity of target.entities) {
      results.push(
        await startRecount(ctx, target.workosOrgId, entity, {
          mode,
          registryDeleted: target.registryDeleted,
          schedulePages: true,
          jobId,
        }),
      );
    }
  }
  const countOf = (status: StartResult["status"]) =>
    results.filter((r) => r.status === status).length;
  return {
    position,
    targets: page.targets.length,
    started: countOf("started"),
    running: countOf("running"),
    skipped: countOf("skipped"),
    next: page.next,
  };
}
