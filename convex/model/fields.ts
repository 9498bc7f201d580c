/**
 * Field validators shared by the schema and the domain model: a stop
 * location and a lane's backfill state. A declaration file: it imports only
 * `convex/values`.
 */
import { v } from "convex/values";

/** A stop location as loads and lanes store it. */
export const vLocation = v.object({
  city: v.string(),
  state: v.string(),
  postalCode: v.optional(v.string()),
  latitude: v.optional(v.number()),
  longitude: v.optional(v.number()),
});

/**
 * Backfill state of a lane (see `model/lanes/backfill.ts`). Each (re)start gets
 * a new `runId`; a scheduled batch of an older run is a no-op.
 */
export const vLaneBackfill = v.object({
  runId: v.number(),
  state: v.union(v.literal("running"), v.literal("done")),
  /** `paginate` cursor into the lane's range of unmapped loads; null = start. */
  cursor: v.union(v.null(), v.string()),
  batches: v.number(),
  examined: v.number(),
  promoted: v.number(),
  startedAt: v.number(),
  updatedAt: v.number(),
});
