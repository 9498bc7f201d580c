/**
 * The function builders every module uses instead of `./_generated/server`.
 *
 * `mutation` and `internalMutation` give the handler `ctx.counted` (the write
 * layer for loads and invoices) and a `ctx.db` that refuses to write those two
 * tables, and flush the stats accumulator once after the handler succeeds, in
 * the same transaction. A test fails when any other file imports the raw
 * builders from `_generated/server`.
 */
import { customMutation } from "convex-helpers/server/customFunctions";
import {
  action,
  httpAction,
  internalAction,
  internalMutation as rawInternalMutation,
  internalQuery,
  mutation as rawMutation,
  query,
  type DatabaseWriter,
  type MutationCtx as RawMutationCtx,
} from "./_generated/server";
import { CountedWriter } from "./model/stats/writer";
import { STATS_ENTITIES } from "./model/enums";
import { StatsAccumulator } from "./stats_helpers";

export { action, httpAction, internalAction, internalQuery, query };
export type { ActionCtx, MutationCtx, QueryCtx } from "./model/ctx";

const COUNTED_TABLES = STATS_ENTITIES;
const WRITE_METHODS = new Set<PropertyKey>(["insert", "patch", "replace", "delete"]);

/**
 * Wraps `db` so that writes to counted tables throw. The first argument of
 * every write is either a table name or (legacy overloads) a document id.
 * Exported for the architecture test.
 */
export function guardCountedTables(db: DatabaseWriter): DatabaseWriter {
  const isCounted = (first: unknown): boolean =>
    typeof first === "string" &&
    COUNTED_TABLES.some((table) => first === table || db.normalizeId(table, first) !== null);
  return new Proxy(db, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (!WRITE_METHODS.has(prop)) return value.bind(target);
      return (...args: unknown[]) => {
        if (isCounted(args[0])) {
          throw new Error(
            `[write-layer] ${String(prop)} on a counted table must go through ctx.counted (convex/model/stats/writer.ts)`,
          );
        }
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/**
 * The customization both mutation builders share. Public mutations refuse to
 * change a deleted org's counters; internal ones (maintenance) may.
 */
const withCountedWrites = (refuseDeletedOrgs: boolean) => ({
  args: {},
  input: async (ctx: RawMutationCtx) => {
    const stats = new StatsAccumulator({ refuseDeletedOrgs });
    return {
      ctx: { db: guardCountedTables(ctx.db), counted: new CountedWriter(ctx.db, stats) },
      args: {},
      onSuccess: async () => {
        await stats.flush(ctx);
      },
    };
  },
});

/**
 * Public mutation with the write layer and the stats flush. Refuses
 * (`ORG_DELETED`) to change the counters of a deleted org.
 */
export const mutation = customMutation(rawMutation, withCountedWrites(true));
/**
 * Internal mutation with the write layer and the stats flush. Keeps a deleted
 * org's counters exact instead of refusing: callers that must not act for a
 * deleted org check the registry themselves.
 */
export const internalMutation = customMutation(rawInternalMutation, withCountedWrites(false));
