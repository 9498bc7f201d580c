/**
 * The function builders every module uses instead of `./_generated/server`.
 *
 * `mutation` and `internalMutation` count: in their handlers, plain
 * `ctx.db.insert/patch/replace/delete` on a counted table record the change
 * (the write layer, `model/stats/write/`), and after the handler succeeds the
 * stats accumulator is flushed once, in the same transaction. A test fails
 * when any other file imports the raw mutation builders.
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
} from "./_generated/server";
import type { DataModel } from "./_generated/dataModel";
import { STATS } from "./model/statsConfig";
import { countedWrites } from "./model/stats/write/builders";

export { action, httpAction, internalAction, internalQuery, query };
export type { ActionCtx, MutationCtx, QueryCtx } from "./model/ctx";

/**
 * Public mutation whose writes are counted. Refuses (`ORG_DELETED`) to
 * change the counters of a deleted org.
 */
export const mutation = customMutation(
  rawMutation,
  countedWrites<DataModel>(STATS, { refuseDeletedOrgs: true }),
);
/**
 * Internal mutation whose writes are counted. Keeps a deleted org's counters
 * exact instead of refusing: callers that must not act for a deleted org
 * check the registry themselves.
 */
export const internalMutation = customMutation(
  rawInternalMutation,
  countedWrites<DataModel>(STATS, { refuseDeletedOrgs: false }),
);
