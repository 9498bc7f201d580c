/**
 * The function builders the app's modules use instead of `./_generated/server`
 * (docs/adopting.md, step 2). `mutation` and `internalMutation` count: plain
 * `ctx.db.insert/patch/replace/delete` on `loadInformation` and
 * `loadInvoices` keep the org's counters exact, flushed once per mutation.
 * The helpers the app used to call after each write are gone: with them the
 * writes would count twice.
 */
import { customMutation } from "convex-helpers/server/customFunctions";
import {
  action,
  internalAction,
  internalMutation as rawInternalMutation,
  internalQuery,
  mutation as rawMutation,
  query,
} from "./_generated/server";
import type { DataModel } from "./_generated/dataModel";
import { countedWrites } from "../../../convex/model/stats/write/builders";
import { STATS } from "./model/statsConfig";

export { action, internalAction, internalQuery, query };

/** Public mutation whose writes are counted; refuses to count for a deleted org. */
export const mutation = customMutation(
  rawMutation,
  countedWrites<DataModel>(STATS, { refuseDeletedOrgs: true }),
);

/** Internal mutation whose writes are counted (crons, migrations, the recount). */
export const internalMutation = customMutation(
  rawInternalMutation,
  countedWrites<DataModel>(STATS, { refuseDeletedOrgs: false }),
);
