/**
 * The stats engine's front door: what mutations, the write layer and other
 * domains use to reach the counters. The engine itself lives in
 * `convex/model/stats/` (entity table `entities.ts`, engine `engine.ts`,
 * write layer `writer.ts`, read side `read.ts`, recount `recount/`); see
 * `docs/recount.md` for why the counters stay exact.
 */
export {
  ensureEmptyOrgStats,
  scheduleRecount,
  StatsAccumulator,
  type DocChange,
  type FlushResult,
} from "./model/stats/engine";
export { ENTITIES, entityDef, type EntityDef, type StatsRowOf } from "./model/stats/entities";
export { getStatsRow, newStatsRow, type StatsRow, type StatsRowFields } from "./model/stats/rows";
export type { Bucket, Tally } from "./model/stats/counters";
export type { DriftBucket } from "./model/stats/tables";
