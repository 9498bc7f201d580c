/**
 * Test plumbing for the example app: a fresh in-memory backend with its
 * components, callers of an org, from-scratch counts to compare the badges
 * with, the old stats documents as the old app kept them, and per-call
 * transaction metrics.
 */
import migrationsTest from "@convex-dev/migrations/test";
import rateLimiterTest from "@convex-dev/rate-limiter/test";
import workpoolTest from "@convex-dev/workpool/test";
import { convexTest, type TestConvex } from "convex-test";
import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";
import { vi } from "vitest";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import type { InvoiceStatus, LoadStatus } from "../convex/model/enums";
import type { LegacyStatsFields } from "../convex/model/legacyStats";
import schema from "../convex/schema";

export const modules = import.meta.glob("../convex/**/*.ts");

export type App = TestConvex<typeof schema>;
/** Anything that calls functions: the backend or an identity on it. */
export type Caller = Pick<App, "query" | "mutation" | "action">;

/** A fresh backend with the app's components (`convex/convex.config.ts`). */
export function newApp(options: { transactionLimits?: boolean } = {}): App {
  const t = convexTest({ schema, modules, transactionLimits: options.transactionLimits ?? true });
  rateLimiterTest.register(t, "rateLimiter");
  workpoolTest.register(t, "statsWorkpool");
  migrationsTest.register(t, "migrations");
  return t;
}

/** A signed-in user of `workosOrgId` (the WorkOS token's `org_id` claim). */
export function member(t: App, workosOrgId: string, user = "user_1"): Caller {
  return t.withIdentity({ subject: `${user}_${workosOrgId}`, org_id: workosOrgId });
}

export type LoadCounts = Record<LoadStatus, number>;
export type InvoiceCounts = Record<InvoiceStatus, number>;
export type Truth = { loads: LoadCounts; invoices: InvoiceCounts };

function zero<S extends string>(statuses: readonly S[]): Record<S, number> {
  return Object.fromEntries(statuses.map((s) => [s, 0])) as Record<S, number>;
}

/** Every load and invoice of `org`, counted from scratch (one transaction). */
export async function countFromScratch(t: App, org: string): Promise<Truth> {
  return await t.run(async (ctx) => {
    const loads = zero(LOAD_STATUSES);
    const invoices = zero(INVOICE_STATUSES);
    const allLoads = ctx.db
      .query("loadInformation")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org));
    for await (const load of allLoads) loads[load.status] += 1;
    const allInvoices = ctx.db
      .query("loadInvoices")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org));
    for await (const invoice of allInvoices) invoices[invoice.status] += 1;
    return { loads, invoices };
  });
}

/** The load badge as the frontend reads it, from stored counts (`Completed` shown as `Delivered`). */
export function loadBadge(c: LoadCounts) {
  return {
    Open: c.Open,
    Assigned: c.Assigned,
    Delivered: c.Completed,
    Canceled: c.Canceled,
    Expired: c.Expired,
  };
}

/** The invoice badge as the frontend reads it, with `total`. */
export function invoiceBadge(c: InvoiceCounts) {
  return { ...c, total: INVOICE_STATUSES.reduce((n, s) => n + c[s], 0) };
}

/** The two badges of `org`, through the public queries as the org's user calls them. */
export async function badges(t: App, org: string) {
  const who = member(t, org);
  return {
    loads: await who.query(api.loads.countLoadsByStatus, { workosOrgId: org }),
    invoices: await who.query(api.invoices.countInvoicesByStatus, { workosOrgId: org }),
  };
}

/** What `badges` should show for counts `c`. */
export function expectedBadges(c: Truth) {
  return { loads: loadBadge(c.loads), invoices: invoiceBadge(c.invoices) };
}

/**
 * Writes an org's history as the old app left it, around the counted
 * builders (`t.run` writes are not counted): `loads` loads with one invoice
 * each, statuses from `loadStatus` / `invoiceStatus`.
 */
export async function insertHistory(
  t: App,
  org: string,
  loads: number,
  loadStatus: (i: number) => LoadStatus = () => "Open",
  invoiceStatus: (i: number) => InvoiceStatus = () => "DRAFT",
): Promise<{ loadIds: Id<"loadInformation">[]; invoiceIds: Id<"loadInvoices">[] }> {
  return await t.run(async (ctx) => {
    const loadIds: Id<"loadInformation">[] = [];
    const invoiceIds: Id<"loadInvoices">[] = [];
    for (let i = 0; i < loads; i++) {
      const loadId = await ctx.db.insert("loadInformation", {
        workosOrgId: org,
        orderNumber: `${org}-${i}`,
        status: loadStatus(i),
        createdBy: "import",
        updatedAt: 0,
      });
      loadIds.push(loadId);
      invoiceIds.push(
        await ctx.db.insert("loadInvoices", {
          workosOrgId: org,
          loadId,
          status: invoiceStatus(i),
          amount: 100 + i,
          updatedBy: "import",
          updatedAt: 0,
        }),
      );
    }
    return { loadIds, invoiceIds };
  });
}

/** The old per-org stats document holding `c` (as the old helpers kept it). */
export function legacyDocOf(org: string, c: Truth, options: { expired?: boolean } = {}) {
  const { Expired, ...rest } = c.loads;
  const doc: LegacyStatsFields = {
    workosOrgId: org,
    loadCounts: options.expired === false ? rest : { ...rest, Expired },
    invoiceCounts: { ...c.invoices },
    lastRecalculated: 1,
    updatedAt: 1,
  };
  return doc;
}

/** Inserts the old stats document of `org` holding `c`. */
export async function insertLegacyDoc(
  t: App,
  org: string,
  c: Truth,
  options: { expired?: boolean } = {},
): Promise<void> {
  const doc = legacyDocOf(org, c, options);
  await t.run(async (ctx) => {
    // The widened schema accepts old documents; its type names only the module's rows.
    await ctx.db.insert("organizationStats", doc as never);
  });
}

export type Io = { documentsRead: number; documentsWritten: number; bytesRead: number };

type Metrics = Record<keyof Io, { used: number }>;
function delta(before: Metrics, after: Metrics): Io {
  return {
    documentsRead: after.documentsRead.used - before.documentsRead.used,
    documentsWritten: after.documentsWritten.used - before.documentsWritten.used,
    bytesRead: after.bytesRead.used - before.bytesRead.used,
  };
}

/** Runs `ref` inside a wrapper transaction and returns what the call itself read and wrote. */
export async function measureMutation<M extends FunctionReference<"mutation", "public">>(
  who: Caller,
  ref: M,
  args: FunctionArgs<M>,
): Promise<{ io: Io; result: FunctionReturnType<M> }> {
  return await who.mutation(async (ctx) => {
    const before = await ctx.meta.getTransactionMetrics();
    const result: FunctionReturnType<M> = await ctx.runMutation(ref, args);
    return { io: delta(before, await ctx.meta.getTransactionMetrics()), result };
  });
}

/** Like `measureMutation`, for a query. */
export async function measureQuery<Q extends FunctionReference<"query", "public">>(
  who: Caller,
  ref: Q,
  args: FunctionArgs<Q>,
): Promise<{ io: Io; result: FunctionReturnType<Q> }> {
  return await who.query(async (ctx) => {
    const before = await ctx.meta.getTransactionMetrics();
    const result: FunctionReturnType<Q> = await ctx.runQuery(ref, args);
    return { io: delta(before, await ctx.meta.getTransactionMetrics()), result };
  });
}

/** Runs everything scheduled (migration batches, recount pages) to the end. Needs fake timers. */
export async function runAllScheduled(t: App): Promise<void> {
  await t.finishAllScheduledFunctions(vi.runAllTimers, 10_000);
}

/**
 * Runs scheduled functions one timer at a time until none is left, calling
 * `between` after each step: the writes and checks that happen while the
 * background work is under way. Needs fake timers. Returns the steps run.
 */
export async function stepScheduled(
  t: App,
  between: (step: number) => Promise<void>,
  maxSteps = 5_000,
): Promise<number> {
  for (let step = 0; step < maxSteps; step++) {
    await t.finishInProgressScheduledFunctions();
    if (vi.getTimerCount() === 0) return step;
    vi.advanceTimersToNextTimer();
    await t.finishInProgressScheduledFunctions();
    await between(step);
  }
  throw new Error(`[example.stepScheduled] more than ${maxSteps} steps`);
}

/** A deterministic pseudo-random source (`rand(n)` in 0..n-1), for reproducible write sequences. */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % n;
  };
}

const WRITE_INVOICE_STATUSES: InvoiceStatus[] = ["DRAFT", "BILLED", "PAID", "VOID", "MISSING_DATA"];

/**
 * One random write of the app's own mutations for `org`, as its user:
 * create a load, change a load's status, delete a load, add an invoice,
 * bulk-change invoices, or rewrite one. Returns what it did.
 */
export async function randomWrite(
  t: App,
  org: string,
  rand: (n: number) => number,
  tag: string,
): Promise<string> {
  const who = member(t, org);
  const state = await t.run(async (ctx) => ({
    loads: await ctx.db
      .query("loadInformation")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org))
      .take(500),
    invoices: await ctx.db
      .query("loadInvoices")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org))
      .take(500),
  }));
  const op = state.loads.length === 0 ? 0 : rand(6);
  const load = state.loads[rand(Math.max(1, state.loads.length))];
  const some = state.invoices.filter(() => rand(3) === 0).slice(0, 8);
  const invoiceStatus = () => WRITE_INVOICE_STATUSES[rand(WRITE_INVOICE_STATUSES.length)];
  if (op === 1) {
    const status = LOAD_STATUSES[rand(LOAD_STATUSES.length)];
    await who.mutation(api.loads.updateLoadStatus, { loadId: load._id, status });
    return `updateLoadStatus ${status}`;
  }
  if (op === 2) {
    await who.mutation(api.loads.deleteLoad, { loadId: load._id });
    return "deleteLoad";
  }
  if (op === 3) {
    await who.mutation(api.invoices.createInvoice, { loadId: load._id });
    return "createInvoice";
  }
  if (op === 4 && some.length > 0) {
    await who.mutation(api.invoices.bulkUpdateStatus, {
      invoiceIds: some.map((i) => i._id),
      workosOrgId: org,
      newStatus: invoiceStatus(),
      updatedBy: "user_1",
    });
    return `bulkUpdateStatus x${some.length}`;
  }
  if (op === 5 && state.invoices.length > 0) {
    const invoice = state.invoices[rand(state.invoices.length)];
    await who.mutation(api.invoices.updateInvoice, {
      invoiceId: invoice._id,
      status: invoiceStatus(),
    });
    return "updateInvoice";
  }
  await who.mutation(api.loads.createLoad, { orderNumber: `${org}-${tag}` });
  return "createLoad";
}
