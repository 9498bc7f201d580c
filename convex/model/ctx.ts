/**
 * The context types model code takes. Model functions depend on these, not on
 * the builders in `convex/functions.ts`, so the domain model does not import
 * the registration layer. `MutationCtx` carries the write layer
 * (`ctx.counted`) every mutation built in `functions.ts` provides.
 */
import type {
  ActionCtx as RawActionCtx,
  MutationCtx as GeneratedMutationCtx,
  QueryCtx as RawQueryCtx,
} from "../_generated/server";
import type { CountedWriter } from "./stats/writer";

/** A query's context. */
export type QueryCtx = RawQueryCtx;
/** A mutation's context, with the write layer for counted tables. */
export type MutationCtx = RawMutationCtx & { counted: CountedWriter };
/**
 * A mutation's context without the write layer: what the stats engine itself
 * takes, since it sits beneath `counted` (the writer calls it, not the reverse).
 */
export type RawMutationCtx = GeneratedMutationCtx;
/** An action's context. */
export type ActionCtx = RawActionCtx;
