/**
 * Comparison (c): the seed system's design, for the org-day scenario. One
 * `benchSeedStats` document per org holds both entities' counters; every
 * counted document change calls a helper that looks the document up through
 * its index, gets it and patches it (no folding: 500 invoices, 500 patches).
 * Its daily recount counts one (table, status) pair after another, page by
 * page, and overwrites the counters at the end. Bench only.
 */
import { v, type GenericId } from "convex/values";
import { vInvoiceCounts, vLoadCounts } from "../../convex/model/counted";
import type { InvoiceStatus, LoadStatus } from "../../convex/model/enums";
import { app } from "../app";
import type { GenericMutationCtx, GenericQueryCtx } from "convex/server";
import type { DataModelFromSchemaDefinition } from "convex/server";
import type { benchSchema } from "../app";

type BenchDataModel = DataModelFromSchemaDefinition<typeof benchSchema>;
export type SeedQueryCtx = GenericQueryCtx<BenchDataModel>;
export type SeedMutationCtx = GenericMutationCtx<BenchDataModel>;

/** The org's counters document (index lookup), or an error when it was never set up. */
async function lookup(ctx: SeedQueryCtx, workosOrgId: string) {
  const row = await ctx.db
    .query("benchSeedStats")
    .withIndex("by_org", (q) => q.eq("workosOrgId", workosOrgId))
    .unique();
  if (row === null) throw new Error(`[bench.seed] no counters for ${workosOrgId}`);
  return row;
}

/** One counted document's change: its bucket before (null: new) and after. */
export type SeedChange =
  | { entity: "loads"; from: LoadStatus | null; to: LoadStatus }
  | {
      entity: "invoices";
      from: { status: InvoiceStatus; amountCents: number } | null;
      to: { status: InvoiceStatus; amountCents: number };
    };

/**
 * The seed system's helper, called once per changed document: a lookup, a
 * get and a patch of the org's counters document.
 */
export async function seedHelper(
  ctx: SeedMutationCtx,
  workosOrgId: string,
  change: SeedChange,
): Promise<void> {
  const found = await lookup(ctx, workosOrgId);
  const row = await ctx.db.get("benchSeedStats", found._id);
  if (row === null) throw new Error("[bench.seed] counters vanished");
  if (change.entity === "loads") {
    const loads = { ...row.loads };
    if (change.from !== null) loads[change.from] -= 1;
    loads[change.to] += 1;
    await ctx.db.patch("benchSeedStats", row._id, { loads, updatedAt: Date.now() });
    return;
  }
  const invoices = { ...row.invoices };
  const invoiceAmountCents = { ...row.invoiceAmountCents };
  if (change.from !== null) {
    invoices[change.from.status] -= 1;
    invoiceAmountCents[change.from.status] -= change.from.amountCents;
  }
  invoices[change.to.status] += 1;
  invoiceAmountCents[change.to.status] += change.to.amountCents;
  await ctx.db.patch("benchSeedStats", row._id, {
    invoices,
    invoiceAmountCents,
    updatedAt: Date.now(),
  });
}

const vCounters = {
  loads: vLoadCounts,
  invoices: vInvoiceCounts,
  invoiceAmountCents: vInvoiceCounts,
};

/** Writes the org's counters document (setup, and the recount's final overwrite). */
export const overwrite = app.mutation({
  args: { workosOrgId: v.string(), ...vCounters },
  returns: v.id("benchSeedStats"),
  handler: async (ctx, args): Promise<GenericId<"benchSeedStats">> => {
    const existing = await ctx.db
      .query("benchSeedStats")
      .withIndex("by_org", (q) => q.eq("workosOrgId", args.workosOrgId))
      .unique();
    const doc = { ...args, updatedAt: Date.now() };
    if (existing === null) return await ctx.db.insert("benchSeedStats", doc);
    await ctx.db.replace("benchSeedStats", existing._id, doc);
    return existing._id;
  },
});

/** The load badge: one lookup of the org's counters document. */
export const countLoads = app.query({
  args: { workosOrgId: v.string() },
  returns: vLoadCounts,
  handler: async (ctx, { workosOrgId }) => (await lookup(ctx, workosOrgId)).loads,
});

/** The invoice badge: the same document. */
export const countInvoices = app.query({
  args: { workosOrgId: v.string() },
  returns: v.object({ counts: vInvoiceCounts, amountCents: vInvoiceCounts }),
  handler: async (ctx, { workosOrgId }) => {
    const row = await lookup(ctx, workosOrgId);
    return { counts: row.invoices, amountCents: row.invoiceAmountCents };
  },
});

/** One page of the recount of one (table, status) pair: a count and a sum. */
export const recountPage = app.mutation({
  args: {
    workosOrgId: v.string(),
    table: v.union(v.literal("loads"), v.literal("invoices")),
    status: v.string(),
    cursor: v.union(v.null(), v.string()),
    numItems: v.number(),
  },
  returns: v.object({
    count: v.number(),
    amountCents: v.number(),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, { workosOrgId, table, status, cursor, numItems }) => {
    const opts = { cursor, numItems };
    if (table === "loads") {
      const page = await ctx.db
        .query("loads")
        .withIndex("by_org_and_status", (q) =>
          q.eq("workosOrgId", workosOrgId).eq("status", status as LoadStatus),
        )
        .paginate(opts);
      return {
        count: page.page.length,
        amountCents: 0,
        isDone: page.isDone,
        continueCursor: page.continueCursor,
      };
    }
    const page = await ctx.db
      .query("invoices")
      .withIndex("by_org_and_status", (q) =>
        q.eq("workosOrgId", workosOrgId).eq("status", status as InvoiceStatus),
      )
      .paginate(opts);
    return {
      count: page.page.length,
      amountCents: page.page.reduce((sum, i) => sum + i.amountCents, 0),
      isDone: page.isDone,
      continueCursor: page.continueCursor,
    };
  },
});
