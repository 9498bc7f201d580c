/**
 * The context types model code takes. Model functions depend on these, not
 * on the builders in `convex/functions.ts`, so the domain model does not
 * import the registration layer. In every mutation built with
 * `functions.ts`, `ctx.db` writes to counted tables are counted (the write
 * layer, `model/stats/write/`); the type is the generated one.
 */
import type {
  ActionCtx as GeneratedActionCtx,
  MutationCtx as GeneratedMutationCtx,
  QueryCtx as GeneratedQueryCtx,
} from "../_generated/server";

/** A query's context. */
export type QueryCtx = GeneratedQueryCtx;
/** A mutation's context (its `ctx.db` counts writes to counted tables). */
export type MutationCtx = GeneratedMutationCtx;
/** An action's context. */
export type ActionCtx = GeneratedActionCtx;
