/**
 * The demo's story, step by step. A step either runs (real functions of the
 * module on the in-memory backend) or is marked `pending` with the issue that
 * brings its code; a pending step may still run a stand-in, which says so.
 * To wire in a missing piece, give its step a `run` and drop `pending`.
 */
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { InvoiceStatus, LoadStatus } from "../convex/model/enums";
import { biller, measureMutation, member, type Backend, type Io } from "../tests/setup";
import { fmtInt, sumIo } from "../bench/lib";
import { differences } from "../bench/truth";
import { money, printDashboard, say } from "./print";
import { importShipments, type DemoOrg } from "./seeding";
import { UNMAPPED_PAIR } from "./shipments";

export type Demo = {
  t: Backend;
  orgs: DemoOrg[];
  /** I/O per function, summed over the demo's calls; `items`: loads or invoices touched. */
  ops: Map<string, { calls: number; items: number; io: Io }>;
};

export type Step = {
  title: string;
  /** The issue whose code this step needs, e.g. "issue 3: convex/lanes.ts createLaneAndBackfill". */
  pending?: string;
  run?: (demo: Demo) => Promise<void>;
};

/** Records one measured call of `name` that touched `items` loads or invoices. */
function tallyOp(demo: Demo, name: string, io: Io, items = 1): void {
  const entry = demo.ops.get(name) ?? { calls: 0, items: 0, io: sumIo([]) };
  entry.calls += 1;
  entry.items += items;
  entry.io = sumIo([entry.io, io]);
  demo.ops.set(name, entry);
}

/** Indices of the org's loads in `status`, first `n`. */
function loadsIn(org: DemoOrg, status: LoadStatus, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < org.loadStatus.length && out.length < n; i++) {
    if (org.loadStatus[i] === status) out.push(i);
  }
  return out;
}

/** Indices of the org's invoices in `status`, first `n`. */
function invoicesIn(org: DemoOrg, status: InvoiceStatus, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < org.invoiceStatus.length && out.length < n; i++) {
    if (org.invoiceStatus[i] === status) out.push(i);
  }
  return out;
}

/** How much activity an org gets: proportional-ish to its size. */
function scale(org: DemoOrg): number {
  return Math.max(1, Math.round(Math.sqrt(org.loadIds.length / 500)));
}

async function seed(demo: Demo): Promise<void> {
  say("  Stand-in for the FourKites batch import (issue 3): shipments are mapped to loads");
  say("  and invoices and written raw, about 1 KB per load (DESIGN §4's anchor).");
  for (const org of demo.orgs) {
    const total = org.shipments.length;
    await importShipments(demo.t, org, (done) => {
      say(`  importing ${org.name}: ${fmtInt(done)}/${fmtInt(total)} shipments`);
    });
  }
}

async function dashboards(demo: Demo): Promise<void> {
  for (const org of demo.orgs) await printDashboard(demo.t, org);
}

async function dispatch(demo: Demo): Promise<void> {
  const { t } = demo;
  for (const org of demo.orgs) {
    const k = scale(org);
    const who = member(t, org.workosOrgId);
    // New loads typed in by hand.
    const created: Id<"loads">[] = [];
    for (let n = 0; n < 5 * k; n++) {
      const { io, result } = await measureMutation(who, api.loads.createLoad, {
        workosOrgId: org.workosOrgId,
        externalLoadId: `MANUAL-${n}`,
        origin: { city: "Dallas", state: "TX" },
        destination: { city: "Memphis", state: "TN" },
        pickupAt: Date.UTC(2026, 11, 2),
      });
      tallyOp(demo, "createLoad", io);
      created.push(result.loadId);
    }
    // Status changes: dispatch, deliver, cancel.
    const moves: [LoadStatus, LoadStatus, number][] = [
      ["Open", "Assigned", 20 * k],
      ["Assigned", "Completed", 20 * k],
      ["Open", "Canceled", 3 * k],
    ];
    let changes = 0;
    for (const [from, to, n] of moves) {
      for (const i of loadsIn(org, from, n)) {
        const { io } = await measureMutation(who, api.loads.updateLoadStatus, {
          workosOrgId: org.workosOrgId,
          loadId: org.loadIds[i],
          status: to,
        });
        tallyOp(demo, "updateLoadStatus", io);
        org.loadStatus[i] = to;
        changes++;
      }
    }
    // One of the hand-typed loads was a mistake.
    const { io } = await measureMutation(who, api.loads.deleteLoad, {
      workosOrgId: org.workosOrgId,
      loadId: created[0],
    });
    tallyOp(demo, "deleteLoad", io);
    say(
      `  ${org.name}: ${created.length} loads created by hand (1 deleted again), ` +
        `${changes} status changes`,
    );
  }
}

async function billing(demo: Demo): Promise<void> {
  const { t } = demo;
  for (const org of demo.orgs) {
    const k = scale(org);
    const who = biller(t, org.workosOrgId);
    const bill = invoicesIn(org, "DRAFT", Math.min(500, 100 * k));
    const billed = await measureMutation(who, api.invoices.bulkUpdateStatus, {
      workosOrgId: org.workosOrgId,
      invoiceIds: bill.map((i) => org.invoiceIds[i]),
      status: "BILLED",
    });
    tallyOp(demo, "bulkUpdateStatus", billed.io, bill.length);
    for (const i of bill) org.invoiceStatus[i] = "BILLED";
    const pay = invoicesIn(org, "BILLED", 50 * k);
    const paid = await measureMutation(who, api.invoices.bulkUpdateStatus, {
      workosOrgId: org.workosOrgId,
      invoiceIds: pay.map((i) => org.invoiceIds[i]),
      status: "PAID",
    });
    tallyOp(demo, "bulkUpdateStatus", paid.io, pay.length);
    for (const i of pay) org.invoiceStatus[i] = "PAID";
    const voidIdx = invoicesIn(org, "DRAFT", 10 * k);
    const voided = await measureMutation(who, api.invoices.bulkVoidInvoices, {
      workosOrgId: org.workosOrgId,
      invoiceIds: voidIdx.map((i) => org.invoiceIds[i]),
      reason: "Duplicate of a corrected invoice",
    });
    tallyOp(demo, "bulkVoidInvoices", voided.io, voidIdx.length);
    for (const i of voidIdx) org.invoiceStatus[i] = "VOID";
    say(
      `  ${org.name}: billed ${fmtInt(bill.length)}, marked ${fmtInt(pay.length)} paid, ` +
        `voided ${fmtInt(voidIdx.length)} (each bulk call: one stats row read and written)`,
    );
  }
}

async function dashboardEdit(demo: Demo): Promise<void> {
  const org = demo.orgs[1];
  const [a, b] = loadsIn(org, "Open", 2);
  const [draft] = invoicesIn(org, "DRAFT", 1);
  const [voided] = invoicesIn(org, "VOID", 1);
  // Raw writes, as the Convex dashboard or `npx convex import` would make them:
  // nothing tells the counters.
  await demo.t.run(async (ctx) => {
    await ctx.db.patch("loads", org.loadIds[a], { status: "Canceled" });
    await ctx.db.patch("loads", org.loadIds[b], { status: "Completed" });
    const invoice = await ctx.db.get("invoices", org.invoiceIds[draft]);
    if (invoice === null) throw new Error("demo invoice missing");
    await ctx.db.patch("invoices", invoice._id, { amountCents: invoice.amountCents + 25_000 });
    await ctx.db.delete("invoices", org.invoiceIds[voided]);
  });
  org.loadStatus[a] = "Canceled";
  org.loadStatus[b] = "Completed";
  say(`  In ${org.name}, someone edits documents in the Convex dashboard:`);
  say("    two Open loads set to Canceled and Completed, a DRAFT invoice raised by $250.00,");
  say("    a VOID invoice deleted. The badges cannot know; they still show:");
  await printDashboard(demo.t, org);
}

async function driftCheck(demo: Demo): Promise<void> {
  say("  Until the recount lands, the demo's own from-scratch count shows what it will");
  say("  report and repair (this is the demo checking, not the recount):");
  for (const org of demo.orgs) {
    const diffs = await differences(demo.t, org.workosOrgId);
    if (diffs.length === 0) {
      say(`    ${org.name}: counters equal the documents`);
      continue;
    }
    say(`    ${org.name}: ${diffs.length} counters differ from the documents`);
    for (const d of diffs) {
      const show = d.measure === "amountCents" ? money : fmtInt;
      say(
        `      ${d.entity} ${d.status} ${d.measure === "count" ? "count" : "amount"}: ` +
          `stored ${show(d.stored)}, documents ${show(d.actual)}`,
      );
    }
  }
}

async function finale(demo: Demo): Promise<void> {
  await dashboards(demo);
  say();
  say("  What the demo's operations cost (from getTransactionMetrics, summed over its calls):");
  for (const [name, { calls, items, io }] of demo.ops) {
    const touched = items === calls ? "" : `, ${fmtInt(items)} invoices`;
    say(
      `    ${name.padEnd(18)} ${fmtInt(calls).padStart(4)} calls${touched}: ` +
        `read ${fmtInt(io.documentsRead)}, wrote ${fmtInt(io.documentsWritten)} documents`,
    );
  }
  say("  Every call read and wrote its org's stats row once, however many documents it changed.");
}

/** The story, in order. */
export const STEPS: Step[] = [
  { title: "Seed three organizations from FourKites-shaped shipments", run: seed },
  {
    title: "Migration: initialize the counters of organizations that predate them",
    pending: "issue 4: convex/migrations/initializeOrgStats.ts (the stand-in wrote the counters)",
  },
  { title: "Dashboards after seeding", run: dashboards },
  {
    title: "FourKites sync: new shipments and status updates of known ones",
    pending: "issue 3: convex/fourKitesSyncHelpers.ts importLoadFromShipment",
  },
  { title: "Dispatchers at work: loads created by hand, status changes", run: dispatch },
  {
    title: `Lane backfill: a ${UNMAPPED_PAIR.origin} → ${UNMAPPED_PAIR.destination} lane promotes the unmapped loads`,
    pending: "issue 3: convex/lanes.ts createLaneAndBackfill",
  },
  { title: "Billing: bulk invoice updates and voids", run: billing },
  {
    title: "Periodic cleanup: late lane matches, stale Open loads expire",
    pending: "issue 3: convex/lazyLoadPromotion.ts periodicCleanup",
  },
  { title: "A dashboard edit bypasses the code", run: dashboardEdit },
  {
    title: "Daily recount and drift report",
    pending: "issue 4: convex/stats.ts recalculateOrgStats",
    run: driftCheck,
  },
  { title: "Dashboards at the end", run: finale },
];
