/**
 * The customization that makes a mutation builder count: handlers get a
 * `ctx.db` whose plain writes to counted tables are counted (`db.ts`), and
 * after a handler succeeds the stats accumulator is flushed once, in the same
 * transaction. An app applies it to its raw builders once, in its
 * `convex/functions.ts`:
 *
 * ```ts
 * export const mutation = customMutation(rawMutation, countedWrites(STATS, { refuseDeletedOrgs: true }));
 * ```
 */
import type { GenericDataModel, GenericMutationCtx } from "convex/server";
import type { StatsConfig } from "../config";
import { StatsAccumulator } from "../engine";
import { CountedDb } from "./db";

/**
 * The customization for `customMutation` (convex-helpers). Public mutations
 * should refuse (`ORG_DELETED`) to change a deleted org's counters; internal
 * ones (maintenance) keep them exact instead.
 *
 * Caveat: a nested `ctx.runMutation` counts its own writes (when built with
 * the same customization); afterwards this layer forgets what it had read,
 * so a later write re-reads the document it changes.
 */
export function countedWrites<DM extends GenericDataModel>(
  config: StatsConfig,
  options: { refuseDeletedOrgs: boolean },
) {
  return {
    args: {},
    input: async (ctx: GenericMutationCtx<DM>) => {
      const stats = new StatsAccumulator(config, options);
      const counted = new CountedDb(ctx.db, config.entities, stats);
      const runMutation: GenericMutationCtx<DM>["runMutation"] = async (reference, ...args) => {
        try {
          return await ctx.runMutation(reference, ...args);
        } finally {
          counted.forget();
        }
      };
      return {
        ctx: { db: counted.db, runMutation },
        args: {},
        onSuccess: async () => {
          await stats.flush(ctx);
        },
      };
    },
  };
}
