/**
 * What an app gives the stats module, once: its counted tables, and the hooks
 * through which the module reaches what it does not own (an org registry to
 * walk, who hears of drift and failed runs, the recount pool's parallelism).
 * The app builds it at its registration layer (`convex/functions.ts`), where
 * it may import its own alerting and registry code; the module only calls
 * the hooks it is given, so it imports none of that.
 */
import type { Id } from "./ids";
import type { AnyReader, StatsMutationCtx } from "./ctx";
import type { CountedTables } from "./declare";
import { entitiesOf, type Entities } from "./entities";

/** An org as an app's registry knows it. */
export type RegisteredOrg = { workosOrgId: string; deleted: boolean };

/**
 * An app's organization registry, if it has one: the recount's walk visits
 * its orgs first (then stats rows, then documents), and skips the ones it
 * marks deleted.
 */
export type OrgRegistry = {
  /** One page of registered orgs in a stable order (a `paginate` cursor). */
  page: (
    db: AnyReader,
    cursor: string | null,
    numItems: number,
  ) => Promise<{ orgs: RegisteredOrg[]; continueCursor: string; isDone: boolean }>;
  /** The registry's entry for `workosOrgId`, or null when it has none. */
  lookup: (db: AnyReader, workosOrgId: string) => Promise<RegisteredOrg | null>;
};

/** A recount run that gave up (after `MAX_PAGE_FAILURES`), or a walk that did (`entity` absent). */
export type RunFailure = { workosOrgId: string; entity?: string; runId: string; error: string };

/** Who hears of what the module finds. Each runs in the transaction that found it. */
export type StatsSubscribers = {
  /** A drift report was stored (by a flush or by a recount). */
  onDriftReport?: (ctx: StatsMutationCtx, reportId: Id<"statsDriftReports">) => Promise<void>;
  /** A recount run, or a job's walk, was marked failed. */
  onRunFailed?: (ctx: StatsMutationCtx, failure: RunFailure) => Promise<void>;
};

/** Counters as an app's previous counting system kept them, by status. */
export type CarriedCounters = {
  counts: Record<string, number>;
  amountCents?: Record<string, number>;
};

/** The stats module's configuration for one app. */
export type StatsConfig = StatsSubscribers & {
  tables: CountedTables;
  /** The engine's view of `tables`. */
  entities: Entities;
  registry?: OrgRegistry;
  /**
   * While an app moves off its previous counters (`docs/adopting.md`): the
   * counters that system kept for (org, table), or null. Read only when the
   * module has no row of (org, table) yet: a new row starts from them
   * (`carried`, answered as `approximate`), and a badge of an org without a
   * row answers them, so no badge drops to zero or to a partial count while
   * the org is seeded. Remove it once the old documents are migrated.
   */
  carryOver?: (
    db: AnyReader,
    workosOrgId: string,
    entity: string,
  ) => Promise<CarriedCounters | null>;
  /** Recount work items running at once (default 10). Read when work is enqueued. */
  maxParallelism?: () => number;
};

/** Builds the configuration (once, at module load). */
export function defineStatsConfig(options: Omit<StatsConfig, "entities">): StatsConfig {
  return { ...options, entities: entitiesOf(options.tables) };
}
