/**
 * The demo's bookkeeping: what every measured call read and wrote (summed per
 * function for the closing table), running the module's scheduled jobs with
 * progress lines, and finding documents in a given state to act on.
 */
import type { Doc, Id } from "../convex/_generated/dataModel";
import type { Backend, Io } from "../tests/support/setup";
import { fmtInt, maxIo, sumIo, type Measurement } from "../tests/support/measure";
import { runScheduled, type ScheduledRun } from "../tests/support/scheduled";
import { docs, say } from "./print";
import type { DemoOrg } from "./seeding";

/** Per function: calls, items touched, total and largest I/O of one call. */
export type OpTally = { calls: number; items: number; io: Io; max: Io };

export type Demo = {
  t: Backend;
  /** The demo's "now" (its start); shipments are placed around it. */
  now: number;
  orgs: DemoOrg[];
  ops: Map<string, OpTally>;
  /** The drift the dashboard edit planted, per org and entity, for the recount to find. */
  planted: PlantedDrift[];
};

/** One counter bucket a raw edit moved: what the recount should report. */
export type PlantedDrift = {
  workosOrgId: string;
  entity: "loads" | "invoices";
  status: string;
  measure: "count" | "amountCents";
  delta: number;
};

/** Records one measured call of `name` that touched `items` loads or invoices. */
export function tallyOp(demo: Demo, name: string, m: { io: Io }, items = 1): void {
  const entry = demo.ops.get(name) ?? { calls: 0, items: 0, io: sumIo([]), max: sumIo([]) };
  entry.calls += 1;
  entry.items += items;
  entry.io = sumIo([entry.io, m.io]);
  entry.max = maxIo([entry.max, m.io]);
  demo.ops.set(name, entry);
}

/** Field `key` of a function's result, when it is a number. */
export function numberField(result: unknown, key: string): number | undefined {
  if (typeof result !== "object" || result === null || !(key in result)) return undefined;
  const value: unknown = Reflect.get(result, key);
  return typeof value === "number" ? value : undefined;
}

/** The org's name, from its WorkOS id. */
export function orgName(demo: Demo, workosOrgId: unknown): string {
  return demo.orgs.find((o) => o.workosOrgId === workosOrgId)?.name ?? String(workosOrgId);
}

/** `1 page`, `3 pages` */
export function plural(n: number, noun: string): string {
  return `${fmtInt(n)} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * What a series of transactions read and wrote: `3 transactions; in all read
 * 1,053 docs, 630.5 KiB, wrote 525 docs; the largest read 406 docs, 243.2 KiB`.
 */
export function summary(measurements: Measurement<unknown>[]): string {
  const total = sumIo(measurements.map((m) => m.io));
  const max = maxIo(measurements.map((m) => m.io));
  return (
    `${plural(measurements.length, "transaction")}; in all read ${docs(total)}, ` +
    `wrote ${fmtInt(total.documentsWritten)} docs; the largest read ${docs(max)}`
  );
}

/**
 * Runs every job the module scheduled (and what those schedule), each as its
 * own measured transaction (`tests/support/scheduled.ts`), tallying them per
 * function. `line` may return a progress line for a run; it runs before the
 * next job, so it may also query the backend as that run left it.
 */
export async function drain(
  demo: Demo,
  line: (run: ScheduledRun) => string | null | Promise<string | null> = () => null,
): Promise<ScheduledRun[]> {
  return await runScheduled(demo.t, async (run) => {
    if (!run.measurement.ok) throw new Error(`${run.name} failed: ${run.measurement.error}`);
    tallyOp(demo, run.name, run.measurement);
    const text = await line(run);
    if (text !== null) say(text);
  });
}

/**
 * Indices (into `org.loadIds`) of the first `n` history loads that satisfy
 * `wanted`, read from the database as they are now, starting at `from`.
 */
export async function findLoads(
  t: Backend,
  org: DemoOrg,
  n: number,
  wanted: (load: Doc<"loads">) => boolean,
  from = 0,
): Promise<number[]> {
  return await t.run(async (ctx) => {
    const out: number[] = [];
    for (let i = from; i < org.loadIds.length && out.length < n; i++) {
      const load = await ctx.db.get("loads", org.loadIds[i]);
      if (load !== null && wanted(load)) out.push(i);
    }
    return out;
  });
}

/** Like `findLoads`, for the history's invoices; returns their ids. */
export async function findInvoices(
  t: Backend,
  org: DemoOrg,
  n: number,
  wanted: (invoice: Doc<"invoices">) => boolean,
): Promise<Id<"invoices">[]> {
  return await t.run(async (ctx) => {
    const out: Id<"invoices">[] = [];
    for (let i = 0; i < org.invoiceIds.length && out.length < n; i++) {
      const invoice = await ctx.db.get("invoices", org.invoiceIds[i]);
      if (invoice !== null && wanted(invoice)) out.push(invoice._id);
    }
    return out;
  });
}
