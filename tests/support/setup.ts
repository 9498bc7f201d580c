/**
 * Shared test plumbing: a fresh in-memory backend per test, identities for
 * the WorkOS claims the functions check, a from-scratch histogram to compare
 * the counters with, and per-call transaction metrics.
 */
import workpoolTest from "@convex-dev/workpool/test";
import { convexTest, type TestConvex } from "convex-test";
import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";
import { ConvexError } from "convex/values";
import { expect } from "vitest";
import { api } from "../../convex/_generated/api";
import schema from "../../convex/schema";
import type { Doc, Id } from "../../convex/_generated/dataModel";
import { laneEndKey } from "../../convex/model/lanes/rules";
import { locationKey } from "../../convex/model/validate";
import { BILLING_PERMISSION } from "../../convex/lib/auth";
import { tally, type Counts } from "../../convex/model/stats/counters";
import {
  INVOICE_STATUSES,
  LOAD_STATUSES,
  type InvoiceStatus,
  type LoadStatus,
} from "../../convex/model/enums";

export const modules = import.meta.glob("../../convex/**/*.ts");

export type Backend = ReturnType<typeof newBackend>;

/** A fresh in-memory Convex backend. */
export function newBackend(options: { transactionLimits?: boolean } = {}) {
  const t = convexTest({ schema, modules, transactionLimits: options.transactionLimits ?? false });
  registerComponents(t);
  return t;
}

/** Registers the app's components (`convex/convex.config.ts`) on a backend. */
export function registerComponents(t: TestConvex<typeof schema>): void {
  workpoolTest.register(t, "statsWorkpool");
  workpoolTest.register(t, "fourKitesWorkpool");
}

/** Stop locations shared by the tests. */
export const DALLAS = { city: "Dallas", state: "TX" };
export const ATLANTA = { city: "Atlanta", state: "GA" };
export const CHICAGO = { city: "Chicago", state: "IL" };

type LoadFields = Omit<Doc<"loads">, "_id" | "_creationTime">;

/**
 * The stored fields of a load for a raw insert (written around the code, as
 * old data or a dashboard edit would be): by default ORG_A's `Open` MANUAL
 * CONTRACT load from Dallas to Atlanta; `fields` override any of that. The
 * keys are built by `locationKey` from the (overridden) ends.
 */
export function rawLoad(
  fields: Partial<Omit<LoadFields, "originKey" | "destinationKey">> & { externalLoadId: string },
): LoadFields {
  const load = {
    workosOrgId: ORG_A,
    source: "MANUAL" as const,
    status: "Open" as const,
    loadType: "CONTRACT" as const,
    origin: DALLAS,
    destination: ATLANTA,
    statusChangedAt: 0,
    ...fields,
  };
  return {
    ...load,
    originKey: locationKey(load.origin),
    destinationKey: locationKey(load.destination),
  };
}

/** The fields of a lane as stored, keys excepted (`insertRawLane` derives them). */
type RawLane = Omit<Doc<"lanes">, "_id" | "_creationTime" | "originKey" | "destinationKey">;

/**
 * Inserts a lane straight into the table, around `createLaneAndBackfill`
 * (no backfill runs): a lane the code did not write, or one whose backfill
 * has not reached every load. By default ORG_A's Dallas → Atlanta lane at
 * $500.00 from 2024-01-01; `fields` override any of that. The keys are built
 * by `laneEndKey`, as the code builds them.
 */
export async function insertRawLane(
  t: Backend,
  fields: Partial<RawLane> = {},
): Promise<Id<"lanes">> {
  const lane: RawLane = {
    workosOrgId: ORG_A,
    origin: DALLAS,
    destination: ATLANTA,
    rateCents: 50_000,
    effectiveFrom: Date.UTC(2024, 0, 1),
    ...fields,
  };
  return await t.run((ctx) =>
    ctx.db.insert("lanes", {
      ...lane,
      originKey: laneEndKey(lane.origin),
      destinationKey: laneEndKey(lane.destination),
    }),
  );
}

export const ORG_A = "org_01AAAAAAAAAAAAAAAAAAAAAAAA";
export const ORG_B = "org_01BBBBBBBBBBBBBBBBBBBBBBBB";

/** A member of `org` (no billing permission unless asked). */
export function member(t: Backend, org: string, permissions: string[] = []) {
  return t.withIdentity({ subject: `user_${org}`, org_id: org, permissions });
}

/** A member of `org` holding the billing permission. */
export function biller(t: Backend, org: string) {
  return member(t, org, [BILLING_PERMISSION]);
}

/**
 * Creates `n` Dallas → Atlanta loads (`L-0` …) for `org` through
 * `loads.createLoad`, as a member would (counted writes, each with its
 * invoice); returns their ids in creation order.
 */
export async function createLoads(t: Backend, org: string, n: number): Promise<Id<"loads">[]> {
  const ids: Id<"loads">[] = [];
  for (let i = 0; i < n; i++) {
    const { loadId } = await member(t, org).mutation(api.loads.createLoad, {
      workosOrgId: org,
      externalLoadId: `L-${i}`,
      origin: DALLAS,
      destination: ATLANTA,
    });
    ids.push(loadId);
  }
  return ids;
}

export type Histogram = {
  loads: Counts<LoadStatus>;
  invoices: Counts<InvoiceStatus>;
  invoiceCents: Counts<InvoiceStatus>;
};

/** Every load and invoice of `org` (test only: full scan). */
export async function orgDocuments(t: Backend, org: string) {
  return await t.run(async (ctx) => ({
    loads: await ctx.db
      .query("loads")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org))
      .collect(),
    invoices: await ctx.db
      .query("invoices")
      .withIndex("by_org", (q) => q.eq("workosOrgId", org))
      .collect(),
  }));
}

/**
 * The counting rule for amounts, restated here as the tests' oracle (the
 * code's is `countedCents` in convex/model/stats/entities.ts): an amount the
 * code would write (an integer 0..$1,000,000.00 in cents) counts as itself,
 * anything else (negative, fractional, NaN, ±Infinity, over the cap) as 0.
 */
export function countedCents(amountCents: number): number {
  return Number.isInteger(amountCents) && amountCents >= 0 && amountCents <= 100_000_000
    ? Math.abs(amountCents)
    : 0;
}

/** Counts every load and invoice of `org` from scratch (test only: full scan). */
export async function histogram(t: Backend, org: string): Promise<Histogram> {
  const { loads, invoices } = await orgDocuments(t, org);
  return {
    loads: tally(LOAD_STATUSES, (s) => loads.filter((l) => l.status === s).length),
    invoices: tally(INVOICE_STATUSES, (s) => invoices.filter((i) => i.status === s).length),
    invoiceCents: tally(INVOICE_STATUSES, (s) =>
      invoices
        .filter((i) => i.status === s)
        .reduce((sum, i) => sum + countedCents(i.amountCents), 0),
    ),
  };
}

/** The counters as stored (zeros for a missing row). */
export async function storedCounters(t: Backend, org: string) {
  return await t.run(async (ctx) => {
    const rows = await ctx.db
      .query("organizationStats")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org))
      .collect();
    const loads = rows.find((r) => r.entity === "loads");
    const invoices = rows.find((r) => r.entity === "invoices");
    return { loads: loads ?? null, invoices: invoices ?? null };
  });
}

/** The last finished recount of each of `org`'s stats rows (`statsRecountSummaries`). */
export async function lastRecounts(t: Backend, org: string) {
  return await t.run(async (ctx) => {
    const rows = await ctx.db
      .query("statsRecountSummaries")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org))
      .collect();
    const of = (entity: string) => rows.find((r) => r.entity === entity)?.lastRecount;
    return { loads: of("loads"), invoices: of("invoices") };
  });
}

/** The recount states (runs in progress) of `org`'s stats rows. */
export async function recountStates(t: Backend, org: string) {
  return await t.run(async (ctx) =>
    ctx.db
      .query("statsRecounts")
      .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", org))
      .collect(),
  );
}

/**
 * Asserts the stored counters of `org` equal a from-scratch histogram, are
 * never negative, and the rows claim to be exact.
 */
export async function expectCountersExact(t: Backend, org: string): Promise<void> {
  const truth = await histogram(t, org);
  const { loads, invoices } = await storedCounters(t, org);
  const zeroLoads = tally(LOAD_STATUSES, () => 0);
  const zeroInvoices = tally(INVOICE_STATUSES, () => 0);
  const loadCounts = loads?.entity === "loads" ? loads.counts : zeroLoads;
  const invoiceCounts = invoices?.entity === "invoices" ? invoices.counts : zeroInvoices;
  const invoiceCents =
    (invoices?.entity === "invoices" ? invoices.amountCents : undefined) ?? zeroInvoices;
  expect({ loads: loadCounts, invoices: invoiceCounts, invoiceCents }).toEqual(truth);
  for (const n of [
    ...Object.values(loadCounts),
    ...Object.values(invoiceCounts),
    ...Object.values(invoiceCents),
  ]) {
    expect(n).toBeGreaterThanOrEqual(0);
  }
  if (loads !== null) expect(loads.exact).toBe(true);
  if (invoices !== null) expect(invoices.exact).toBe(true);
}

export type Io = {
  documentsRead: number;
  bytesRead: number;
  documentsWritten: number;
  bytesWritten: number;
  databaseQueries: number;
};

/** Anything that calls functions: the backend or an identity on it. */
export type Accessor = Pick<Backend, "mutation" | "query" | "action">;

/**
 * Runs `ref` inside a wrapper transaction and returns what the call itself
 * read and wrote, from `ctx.meta.getTransactionMetrics()`.
 */
export async function measureMutation<
  M extends FunctionReference<"mutation", "public" | "internal">,
>(t: Accessor, ref: M, args: FunctionArgs<M>): Promise<{ io: Io; result: FunctionReturnType<M> }> {
  return await t.mutation(async (ctx) => {
    const before = await ctx.meta.getTransactionMetrics();
    const result: FunctionReturnType<M> = await ctx.runMutation(ref, args);
    const after = await ctx.meta.getTransactionMetrics();
    return { io: ioDelta(before, after), result };
  });
}

/** Like `measureMutation`, for queries. */
export async function measureQuery<Q extends FunctionReference<"query", "public" | "internal">>(
  t: Accessor,
  ref: Q,
  args: FunctionArgs<Q>,
): Promise<{ io: Io; result: FunctionReturnType<Q> }> {
  return await t.query(async (ctx) => {
    const before = await ctx.meta.getTransactionMetrics();
    const result: FunctionReturnType<Q> = await ctx.runQuery(ref, args);
    const after = await ctx.meta.getTransactionMetrics();
    return { io: ioDelta(before, after), result };
  });
}

type Metrics = Record<keyof Io, { used: number }>;

/** What a transaction used between two `getTransactionMetrics()` readings. */
export function ioDelta(before: Metrics, after: Metrics): Io {
  return {
    documentsRead: after.documentsRead.used - before.documentsRead.used,
    bytesRead: after.bytesRead.used - before.bytesRead.used,
    documentsWritten: after.documentsWritten.used - before.documentsWritten.used,
    bytesWritten: after.bytesWritten.used - before.bytesWritten.used,
    databaseQueries: after.databaseQueries.used - before.databaseQueries.used,
  };
}

/** The `code` of the ConvexError thrown by `promise`. */
export async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ConvexError && typeof e.data?.code === "string") return e.data.code;
    throw e;
  }
  throw new Error("expected the call to fail");
}

const TABLES = [
  "organizations",
  "loads",
  "invoices",
  "lanes",
  "organizationStats",
  "statsDriftReports",
  "workosWebhookEvents",
  "statsAlerts",
] as const;

/** Every document of every table, to show that a failed call wrote nothing. */
export async function dump(t: Backend): Promise<unknown[]> {
  return await t.run(async (ctx) => {
    const out: unknown[] = [];
    for (const table of TABLES) out.push(...(await ctx.db.query(table).collect()));
    return out;
  });
}

/** Asserts `call` fails with a ConvexError `code` and leaves the database as it was. */
export async function expectRejected(
  t: Backend,
  call: () => Promise<unknown>,
  code: string,
): Promise<void> {
  const before = await dump(t);
  expect(await errorCode(call())).toBe(code);
  expect(await dump(t)).toEqual(before);
}

/**
 * Asserts `call` is refused by the function's argument validators (a value
 * outside a literal union, say) and writes nothing. Such calls do not compile
 * against the generated api; tests cast to make them.
 */
export async function expectArgsRefused(t: Backend, call: () => Promise<unknown>): Promise<void> {
  const before = await dump(t);
  await expect(call()).rejects.toThrow(/Validator error/);
  expect(await dump(t)).toEqual(before);
}

/** The `message` of the ConvexError thrown by `promise`. */
export async function errorMessage(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ConvexError && typeof e.data?.message === "string") return e.data.message;
    throw e;
  }
  throw new Error("expected the call to fail");
}
