/**
 * The benchmark's own test app: schema-typed function builders for the
 * comparison functions in `bench/functions/` and the two @convex-dev/aggregate
 * component instances they use. Nothing under `bench/` is deployed; the
 * aggregate is a dev dependency used only here.
 */
import aggregateTest from "@convex-dev/aggregate/test";
import type { ComponentApi } from "@convex-dev/aggregate/_generated/component.js";
import { defineTestApp, type TestConvexRoot } from "convex-test";
import { defineSchema, defineTable, type GenericDataModel } from "convex/server";
import { v } from "convex/values";
import schema from "../convex/schema";
import { vInvoiceCounts, vLoadCounts } from "../convex/model/counted";

/**
 * Registers one aggregate component instance on a backend and returns its
 * typed function references (the component's own `register` returns nothing).
 */
export function registerAggregate(t: TestConvexRoot<GenericDataModel>, name: string): ComponentApi {
  return t.registerComponent<ComponentApi>(name, aggregateTest.schema, aggregateTest.modules);
}

/** Component instance names: one aggregate per counted table. */
export const AGGREGATE_COMPONENTS = ["loadAggregate", "invoiceAggregate"] as const;

/**
 * The seed system's counters, for the org-day comparison (`functions/seed.ts`):
 * one document per org holding both entities' counters. A bench-only table.
 */
const seedStats = defineTable({
  workosOrgId: v.string(),
  loads: vLoadCounts,
  invoices: vInvoiceCounts,
  invoiceAmountCents: vInvoiceCounts,
  updatedAt: v.number(),
}).index("by_org", ["workosOrgId"]);

/** The project's schema plus the bench-only `benchSeedStats` table. */
export const benchSchema = defineSchema({ ...schema.tables, benchSeedStats: seedStats });

export const app = defineTestApp({
  schema: benchSchema,
  components: {
    loadAggregate: { register: registerAggregate },
    invoiceAggregate: { register: registerAggregate },
  },
});
