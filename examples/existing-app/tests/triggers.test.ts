/**
 * The other way to count, for an app that already wraps its builders with
 * convex-helpers `Triggers` (docs/adopting.md, step 2):
 * `countWithTriggers(triggers, STATS)` registers the counting as triggers.
 * The same writes through both paths, in the same kind of transaction: the
 * counters stay exact either way, and what each path reads and writes for a
 * status change and for 500 invoice changes.
 */
import { Triggers } from "convex-helpers/server/triggers";
import type { GenericDatabaseWriter } from "convex/server";
import { expect, test, vi } from "vitest";
import { countedWrites } from "../../../convex/model/stats/write/builders";
import { countWithTriggers } from "../../../convex/model/stats/write/triggers";
import { internal } from "../convex/_generated/api";
import type { DataModel, Id } from "../convex/_generated/dataModel";
import type { MutationCtx } from "../convex/_generated/server";
import { STATS } from "../convex/model/statsConfig";
import {
  badges,
  countFromScratch,
  expectedBadges,
  insertHistory,
  newApp,
  runAllScheduled,
  type App,
  type Io,
} from "./support";

const ORG = "org_T";

const triggers = new Triggers<DataModel>();
countWithTriggers(triggers, STATS);

/** A counting `ctx.db` and what to run once the handler is done. */
type Path = (
  ctx: MutationCtx,
) => Promise<{ db: GenericDatabaseWriter<DataModel>; done: () => Promise<void> }>;

const PATHS: Record<string, Path> = {
  countedWrites: async (ctx) => {
    const { ctx: counted, onSuccess } = await countedWrites<DataModel>(STATS, {
      refuseDeletedOrgs: false,
    }).input(ctx);
    return { db: counted.db, done: onSuccess };
  },
  countWithTriggers: async (ctx) => ({ db: triggers.wrapDB(ctx).db, done: async () => {} }),
};

/** An org of `loads` loads (one invoice each) whose counters are exact. */
async function seeded(
  loads: number,
): Promise<{ t: App; loadIds: Id<"loadInformation">[]; invoiceIds: Id<"loadInvoices">[] }> {
  vi.useFakeTimers();
  try {
    const t = newApp();
    const ids = await insertHistory(t, ORG, loads);
    await t.mutation(internal.stats.recalculateOrgStats, { workosOrgId: ORG });
    await runAllScheduled(t);
    return { t, ...ids };
  } finally {
    vi.useRealTimers();
  }
}

/** Runs `body` on a counting `ctx.db` of `path` in one transaction; what it read and wrote. */
async function measured(
  t: App,
  path: Path,
  body: (db: GenericDatabaseWriter<DataModel>) => Promise<void>,
): Promise<Io> {
  return await t.mutation(async (ctx) => {
    const before = await ctx.meta.getTransactionMetrics();
    const { db, done } = await path(ctx);
    await body(db);
    await done();
    const after = await ctx.meta.getTransactionMetrics();
    return {
      documentsRead: after.documentsRead.used - before.documentsRead.used,
      documentsWritten: after.documentsWritten.used - before.documentsWritten.used,
      bytesRead: after.bytesRead.used - before.bytesRead.used,
    };
  });
}

async function expectExact(t: App): Promise<void> {
  expect(await badges(t, ORG)).toEqual(expectedBadges(await countFromScratch(t, ORG)));
}

test.each(Object.keys(PATHS))(
  "%s: insert, patch, replace and delete keep the counters exact",
  async (name) => {
    const { t, loadIds, invoiceIds } = await seeded(20);
    const path = PATHS[name];
    await measured(t, path, async (db) => {
      const loadId = await db.insert("loadInformation", {
        workosOrgId: ORG,
        orderNumber: "new",
        status: "Assigned",
        createdBy: "u",
        updatedAt: 1,
      });
      await db.insert("loadInvoices", {
        workosOrgId: ORG,
        loadId,
        status: "BILLED",
        updatedBy: "u",
        updatedAt: 1,
      });
      await db.patch("loadInformation", loadIds[0], { status: "Completed" });
      const invoice = await db.get("loadInvoices", invoiceIds[1]);
      if (invoice === null) throw new Error("invoice missing");
      const { _id, _creationTime, ...fields } = invoice;
      await db.replace("loadInvoices", _id, { ...fields, status: "PAID" });
      await db.delete("loadInformation", loadIds[2]);
      await db.delete("loadInvoices", invoiceIds[2]);
    });
    await expectExact(t);
    expect((await badges(t, ORG)).loads).toMatchObject({ Open: 18, Assigned: 1, Delivered: 1 });
  },
);

test("I/O of both paths: a status change and 500 invoice changes", async () => {
  const io: Record<string, { statusChange: Io; bulk500: Io }> = {};
  for (const [name, path] of Object.entries(PATHS)) {
    const { t, loadIds, invoiceIds } = await seeded(600);
    const statusChange = await measured(t, path, async (db) => {
      const load = await db.get("loadInformation", loadIds[599]);
      if (load === null) throw new Error("load missing");
      await db.patch("loadInformation", load._id, { status: "Assigned" });
    });
    const bulk500 = await measured(t, path, async (db) => {
      for (const id of invoiceIds.slice(0, 500)) {
        const invoice = await db.get("loadInvoices", id);
        if (invoice === null) throw new Error("invoice missing");
        await db.patch("loadInvoices", invoice._id, { status: "BILLED" });
      }
    });
    await expectExact(t);
    io[name] = { statusChange, bulk500 };
  }
  console.log("[example.triggers] I/O", io);
  // countedWrites: the handler's get and the patch (which reads what it
  // changes) per document; the changes folded, the stats row read and
  // replaced once per mutation.
  expect(io.countedWrites.statusChange).toMatchObject({ documentsRead: 4, documentsWritten: 2 });
  expect(io.countedWrites.bulk500).toMatchObject({ documentsRead: 1_002, documentsWritten: 501 });
  // Triggers: besides the get and the patch, the document read before and
  // after each write, and each write's change applied to the stats row at
  // once (read and replaced per write): 6 reads and 2 writes per change.
  expect(io.countWithTriggers.statusChange).toMatchObject({
    documentsRead: 6,
    documentsWritten: 2,
  });
  expect(io.countWithTriggers.bulk500).toMatchObject({
    documentsRead: 3_000,
    documentsWritten: 1_000,
  });
});
