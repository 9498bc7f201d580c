/** Ids of the stats tables, without the app's `_generated` code. */
import type { GenericId } from "convex/values";
import type { StatsDataModel } from "./tables";

/** An id of a stats table. */
export type Id<T extends keyof StatsDataModel & string> = GenericId<T>;
