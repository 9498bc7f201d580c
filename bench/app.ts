/**
 * The benchmark's own test app: schema-typed function builders for the
 * comparison functions in `bench/functions/` and the two @convex-dev/aggregate
 * component instances they use. Nothing under `bench/` is deployed; the
 * aggregate is a dev dependency used only here.
 */
import aggregateTest from "@convex-dev/aggregate/test";
import type { ComponentApi } from "@convex-dev/aggregate/_generated/component.js";
import { defineTestApp, type TestConvexRoot } from "convex-test";
import type { GenericDataModel } from "convex/server";
import schema from "../convex/schema";

/**
 * Registers one aggregate component instance on a backend and returns its
 * typed function references (the component's own `register` returns nothing).
 */
export function registerAggregate(t: TestConvexRoot<GenericDataModel>, name: string): ComponentApi {
  return t.registerComponent<ComponentApi>(name, aggregateTest.schema, aggregateTest.modules);
}

/** Component instance names: one aggregate per counted table. */
export const AGGREGATE_COMPONENTS = ["loadAggregate", "invoiceAggregate"] as const;

export const app = defineTestApp({
  schema,
  components: {
    loadAggregate: { register: registerAggregate },
    invoiceAggregate: { register: registerAggregate },
  },
});
