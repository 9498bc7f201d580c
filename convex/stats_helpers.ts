/**
 * The stats module's front door: what an app imports to count its tables
 * (see `docs/adopting.md`). The module itself lives in `convex/model/stats/`
 * and imports nothing of the app; an app declares its counted tables, builds
 * a configuration, and registers the module's functions at their paths.
 */
export {
  defineCountedTables,
  type CountedTable,
  type CountedTables,
  type FlatCounts,
} from "./model/stats/declare";
export { statsTables } from "./model/stats/tables";
export {
  defineStatsConfig,
  type StatsConfig,
  type OrgRegistry,
  type RunFailure,
} from "./model/stats/config";
export { countedWrites } from "./model/stats/write/builders";
export { countWithTriggers } from "./model/stats/write/triggers";
export { countQueries, migrationFunctions, recountFunctions } from "./model/stats/api";
export {
  flatCounts,
  readCounts,
  vDetailedCounts,
  vFlatCounts,
  type CountsResult,
} from "./model/stats/read";
export { ensureEmptyOrgStats, markOrgStatsDeleted, scheduleRecount } from "./model/stats/engine";
export { getStatsRow } from "./model/stats/rows";
export { entitiesOf, entityIn } from "./model/stats/entities";
export { MAX_AMOUNT_CENTS } from "./model/stats/amounts";
