/**
 * The contexts the stats module takes, over any app's data model, and the
 * one cast from an app's database to the stats tables' types. The module
 * imports nothing of the app (no `_generated` code): an app passes its own
 * contexts, which are assignable to these.
 */
import type {
  GenericActionCtx,
  GenericDatabaseReader,
  GenericMutationCtx,
  GenericQueryCtx,
} from "convex/server";
import type { StatsReader, StatsWriter } from "./tables";

/**
 * Any app's data model. `any` rather than `GenericDataModel`: an app's own
 * contexts must be accepted as they are, and Convex's context types are not
 * assignable across data models.
 */
type AnyDataModel = any;

/** A query's context, any app. */
export type StatsQueryCtx = GenericQueryCtx<AnyDataModel>;
/** A mutation's context, any app. */
export type StatsMutationCtx = GenericMutationCtx<AnyDataModel>;
/** An action's context, any app. */
export type StatsActionCtx = GenericActionCtx<AnyDataModel>;
/** A database reader over any app's tables (counted tables are read by their declared names). */
export type AnyReader = GenericDatabaseReader<AnyDataModel>;

/**
 * The app's database, typed as the stats tables. An app's schema spreads
 * `statsTables(...)`, whose documents are narrower than the module's
 * generic view of the same tables, so reads are sound; every write the
 * module makes is built from its own validators' types.
 */
export function statsDb(db: StatsMutationCtx["db"]): StatsWriter;
export function statsDb(db: AnyReader): StatsReader;
export function statsDb(db: AnyReader): StatsReader | StatsWriter {
  return db as unknown as StatsWriter;
}
