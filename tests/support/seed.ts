/**
 * Bulk seeding for tests and benchmarks: inserts loads and invoices with raw
 * writes (as an import or a pre-existing deployment would have them) and, when
 * asked, an exact stats row computed from what was inserted.
 */
import type { Doc, Id } from "../../convex/_generated/dataModel";
import { tally } from "../../convex/model/stats/counters";
import {
  INVOICE_STATUSES,
  LOAD_STATUSES,
  type InvoiceStatus,
  type LoadStatus,
} from "../../convex/model/enums";
import type { LoadFields } from "../../convex/model/loads/rules";
import { locationKey } from "../../convex/model/validate";
import { orgLoads, writeExactFacets } from "./counted";
import { type Backend, histogram } from "./setup";

export type SeedOptions = {
  loads: number;
  /** Status of load i (default: cycles through LOAD_STATUSES). */
  loadStatus?: (i: number) => LoadStatus;
  /** Status of the invoice of load i, or null for no invoice (default: cycles, never MISSING_DATA). */
  invoiceStatus?: (i: number) => InvoiceStatus | null;
  /** Amount of the invoice of load i (default: 1,000.00 + i cents). */
  amountCents?: (i: number) => number;
  /** Write exact stats rows for what was seeded (default true). */
  withStats?: boolean;
  /** Pad each load to about this many bytes (default ~1 KB, as in docs/DESIGN.md §4). */
  loadBytes?: number;
  /** Fields of load i that replace the generated ones (e.g. from a FourKites shipment). */
  loadFields?: (i: number) => Partial<Omit<Doc<"loads">, "_id" | "_creationTime" | "workosOrgId">>;
  /** Called after each seeding transaction with the number of loads inserted so far. */
  onProgress?: (loadsDone: number) => void;
};

/** The stops of seeded loads: load i goes from `CITIES[i % 5]` to `CITIES[(i + 1) % 5]`. */
export const CITIES = [
  { city: "Dallas", state: "TX" },
  { city: "Atlanta", state: "GA" },
  { city: "Chicago", state: "IL" },
  { city: "Memphis", state: "TN" },
  { city: "Denver", state: "CO" },
];

/** Loads per seeding transaction: keeps each under Convex's 16,000-write limit. */
const SEED_CHUNK = 5_000;

/**
 * Inserts `options.loads` loads (and their invoices) for `org`, in chunks of
 * 5,000 loads per transaction. Call once per org.
 */
export async function seedOrg(
  t: Backend,
  org: string,
  options: SeedOptions,
): Promise<{ loadIds: Id<"loads">[]; invoiceIds: Id<"invoices">[] }> {
  const loadStatus = options.loadStatus ?? ((i) => LOAD_STATUSES[i % LOAD_STATUSES.length]);
  const nonMissing = INVOICE_STATUSES.filter((s) => s !== "MISSING_DATA");
  const invoiceStatus = options.invoiceStatus ?? ((i) => nonMissing[i % nonMissing.length]);
  const amountCents = options.amountCents ?? ((i) => 100_000 + i);
  // About 1 KB per load with the other fields, like the design's anchors.
  const padding = "x".repeat(Math.max(0, (options.loadBytes ?? 1000) - 450));
  const loadIds: Id<"loads">[] = [];
  const invoiceIds: Id<"invoices">[] = [];
  // What the filtered counters need of each load (facet fields, pickup, status).
  const loadFacts: Partial<Doc<"loads">>[] = [];
  const loadCounts = new Map<LoadStatus, number>();
  const invoiceCounts = new Map<InvoiceStatus, number>();
  const invoiceCents = new Map<InvoiceStatus, number>();
  const now = Date.now();
  for (let start = 0; start < options.loads; start += SEED_CHUNK) {
    const end = Math.min(options.loads, start + SEED_CHUNK);
    await t.run(async (ctx) => {
      for (let i = start; i < end; i++) {
        const origin = CITIES[i % CITIES.length];
        const destination = CITIES[(i + 1) % CITIES.length];
        const fields = options.loadFields?.(i) ?? {};
        const status = fields.status ?? loadStatus(i);
        const load = {
          workosOrgId: org,
          source: "FOURKITES" as const,
          externalLoadId: `SEED-${i}`,
          loadType: "CONTRACT" as const,
          origin,
          destination,
          originKey: locationKey(origin),
          destinationKey: locationKey(destination),
          pickupAt: now + 86_400_000,
          commodity: `General freight ${padding}`,
          statusChangedAt: now,
          ...fields,
          status,
        };
        // A field `loadFields` sets to `undefined` is absent, as Convex stores it.
        for (const [key, value] of Object.entries(load)) {
          if (value === undefined) Reflect.deleteProperty(load, key);
        }
        const loadId = await ctx.db.insert("loads", load);
        loadIds.push(loadId);
        const { workosOrgId, pickupAt, laneId, customerId } = load as Partial<Doc<"loads">>;
        loadFacts.push({ workosOrgId, status, pickupAt, laneId, customerId });
        loadCounts.set(status, (loadCounts.get(status) ?? 0) + 1);
        const iStatus = invoiceStatus(i);
        if (iStatus === null) continue;
        const cents = amountCents(i);
        invoiceIds.push(
          await ctx.db.insert("invoices", {
            workosOrgId: org,
            loadId,
            status: iStatus,
            amountCents: cents,
            statusChangedAt: now,
          }),
        );
        invoiceCounts.set(iStatus, (invoiceCounts.get(iStatus) ?? 0) + 1);
        invoiceCents.set(iStatus, (invoiceCents.get(iStatus) ?? 0) + cents);
      }
    });
    options.onProgress?.(end);
  }
  if (options.withStats ?? true) {
    await t.run(async (ctx) => {
      await ctx.db.insert("organizationStats", {
        workosOrgId: org,
        entity: "loads",
        exact: true,
        counts: tally(LOAD_STATUSES, (s) => loadCounts.get(s) ?? 0),
        updatedAt: now,
      });
      await ctx.db.insert("organizationStats", {
        workosOrgId: org,
        entity: "invoices",
        exact: true,
        counts: tally(INVOICE_STATUSES, (s) => invoiceCounts.get(s) ?? 0),
        amountCents: tally(INVOICE_STATUSES, (s) => invoiceCents.get(s) ?? 0),
        updatedAt: now,
      });
    });
    await writeExactFacets(t, org, loadFacts);
  }
  return { loadIds, invoiceIds };
}

/** The invoice a seeded load gets. */
type InvoiceSeed = Pick<Doc<"invoices">, "status" | "amountCents"> & { laneId?: Id<"lanes"> };

/** One load for `seedLoads`: its fields (defaults fill the rest) and its invoice. */
export type LoadSeed = Partial<LoadFields> & {
  origin: { city: string; state: string };
  destination: { city: string; state: string };
  /** Defaults to a MISSING_DATA invoice for UNMAPPED loads, DRAFT 1000 ¢ otherwise; null: none. */
  invoice?: InvoiceSeed | null;
};

/**
 * Fine-grained seeding: inserts `count` loads built by `make(i)` (and their
 * invoices) raw in one transaction, then rewrites the org's stats rows from a
 * from-scratch count of every document of the org. For orgs up to a few
 * thousand loads.
 */
export async function seedLoads(
  t: Backend,
  org: string,
  count: number,
  make: (i: number) => LoadSeed,
): Promise<Id<"loads">[]> {
  const ids = await t.run(async (ctx) => {
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
    return ids;
  });
  // Exact stats rows from scratch.
  const truth = await histogram(t, org);
  await t.run(async (ctx) => {
    const rows = await ctx.db
      .query("organizationStats")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org))
      .collect();
    for (const row of rows) await ctx.db.delete("organizationStats", row._id);
    const now = Date.now();
    await ctx.db.insert("organizationStats", {
      workosOrgId: org,
      entity: "loads",
      exact: true,
      updatedAt: now,
      counts: truth.loads,
    });
    await ctx.db.insert("organizationStats", {
      workosOrgId: org,
      entity: "invoices",
      exact: true,
      updatedAt: now,
      counts: truth.invoices,
      amountCents: truth.invoiceCents,
    });
  });
  await writeExactFacets(t, org, await orgLoads(t, org));
  return ids;
}
