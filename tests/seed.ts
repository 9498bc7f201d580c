/**
 * Fast seeding for large-org tests: inserts loads and their invoices raw, in
 * one transaction, then writes stats rows computed from scratch from every
 * document of the org (so the counters start exact without going through
 * thousands of mutations).
 */
import type { Doc, Id } from "../convex/_generated/dataModel";
import { tally } from "../convex/lib/counters";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import { locationKey } from "../convex/model/validate";
import type { Backend } from "./setup";

type LoadFields = Omit<Doc<"loads">, "_id" | "_creationTime">;
type InvoiceSeed = Pick<Doc<"invoices">, "status" | "amountCents"> & { laneId?: Id<"lanes"> };

export type LoadSeed = Partial<LoadFields> & {
  origin: { city: string; state: string };
  destination: { city: string; state: string };
  /** Defaults to a MISSING_DATA invoice for UNMAPPED loads, DRAFT 1000 ¢ otherwise; null: none. */
  invoice?: InvoiceSeed | null;
};

/** Inserts `count` loads built by `make(i)` into `org` and makes its stats rows exact. */
export async function seedLoads(
  t: Backend,
  org: string,
  count: number,
  make: (i: number) => LoadSeed,
): Promise<Id<"loads">[]> {
  return await t.run(async (ctx) => {
    const ids: Id<"loads">[] = [];
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const { invoice, ...spec } = make(i);
      // Absent, not `undefined`: that is how Convex stores a missing field.
      for (const [key, value] of Object.entries(spec)) {
        if (value === undefined) Reflect.deleteProperty(spec, key);
      }
      const load: LoadFields = {
        workosOrgId: org,
        source: "MANUAL",
        externalLoadId: `SEED-${org.slice(-4)}-${i}`,
        status: "Open",
        loadType: "UNMAPPED",
        originKey: locationKey(spec.origin),
        destinationKey: locationKey(spec.destination),
        statusChangedAt: now,
        ...spec,
      };
      const loadId = await ctx.db.insert("loads", load);
      ids.push(loadId);
      const inv =
        invoice === undefined
          ? load.loadType === "UNMAPPED"
            ? { status: "MISSING_DATA" as const, amountCents: 0 }
            : { status: "DRAFT" as const, amountCents: 1000 }
          : invoice;
      if (inv !== null) {
        await ctx.db.insert("invoices", {
          workosOrgId: org,
          loadId,
          status: inv.status,
          amountCents: inv.amountCents,
          laneId: inv.laneId,
          statusChangedAt: now,
        });
      }
    }
    // Exact stats rows from scratch.
    const loads = await ctx.db
      .query("loads")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org))
      .collect();
    const invoices = await ctx.db
      .query("invoices")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org))
      .collect();
    const rows = await ctx.db
      .query("organizationStats")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org))
      .collect();
    for (const row of rows) await ctx.db.delete("organizationStats", row._id);
    await ctx.db.insert("organizationStats", {
      workosOrgId: org,
      entity: "loads",
      exact: true,
      updatedAt: now,
      counts: tally(LOAD_STATUSES, (s) => loads.filter((l) => l.status === s).length),
    });
    await ctx.db.insert("organizationStats", {
      workosOrgId: org,
      entity: "invoices",
      exact: true,
      updatedAt: now,
      counts: tally(INVOICE_STATUSES, (s) => invoices.filter((i) => i.status === s).length),
      amountCents: tally(INVOICE_STATUSES, (s) =>
        invoices.filter((i) => i.status === s).reduce((sum, i) => sum + i.amountCents, 0),
      ),
    });
    return ids;
  });
}
