/**
 * The demo's story, step by step, on the module's real functions: history
 * from before the counters, the WorkOS registry, the migration, a day of
 * operations (FourKites sync, dispatch, a lane backfill, billing, the
 * periodic cleanup), an edit behind the code's back, and the daily recount
 * that finds and repairs it.
 */
import { ConvexError } from "convex/values";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import type { LoadStatus } from "../convex/model/enums";
import { BACKFILL_BATCH_SIZE } from "../convex/model/lanes/backfill";
import { DEFAULT_EXPIRY_GRACE_MS, EXPIRY_BATCH_SIZE } from "../convex/model/loads/expiry";
import { biller, measureMutation, member, storedCounters } from "../tests/support/setup";
import { manager } from "../tests/support/fourKitesSync";
import { deliver, orgEvent } from "../tests/support/workos";
import { fmtInt, measureMutationToLimit, measureQueryToLimit } from "../tests/support/measure";
import { differences } from "../tests/support/truth";
import { runRecountWork, type ScheduledRun } from "../tests/support/scheduled";
import { serveAccounts, standInAccount } from "./fourKitesApi";
import {
  drain,
  findInvoices,
  findLoads,
  numberField,
  orgName,
  plural,
  summary,
  tallyOp,
  type Demo,
  type PlantedDrift,
} from "./ops";
import { scheduledIntegrations } from "./integrations";
import {
  badgeState,
  detailedInvoices,
  detailedLoads,
  docs,
  flatLine,
  label,
  money,
  printDashboards,
  say,
} from "./print";
import { allRows, pageOutcome, pageStats, printRecounts, recountSummaries } from "./recounts";
import { writeHistory, type DemoOrg } from "./seeding";
import { DAY, UNMAPPED_PAIR, withStatus, type FourKitesShipment } from "../tests/support/shipments";

export type { Demo } from "./ops";

export type Step = { title: string; run: (demo: Demo) => Promise<void> };

/** How much activity an org gets: grows with its size. */
function scale(org: DemoOrg): number {
  return Math.max(1, Math.round(Math.sqrt(org.history / 500)));
}

async function history(demo: Demo): Promise<void> {
  say("  The TMS has run for months before this module: loads and invoices are in the database,");
  say("  but there are no counters (no organizationStats rows). Every shipment went through the");
  say("  import's zod schema and status mapping and was priced by the module's lane matching.");
  for (const org of demo.orgs) {
    const written = await writeHistory(demo.t, org, demo.now, (done) => {
      if (done % 5_000 === 0 || done === org.history) {
        say(`    ${org.name}: ${fmtInt(done)}/${fmtInt(org.history)} shipments written`);
      }
    });
    say(
      `  ${org.name}: ${fmtInt(org.history)} loads with an invoice each, ${written.lanes} contract ` +
        `lanes, ${fmtInt(written.unmapped)} loads UNMAPPED (${UNMAPPED_PAIR.origin.city} → ` +
        `${UNMAPPED_PAIR.destination.city} has no lane)`,
    );
  }
}

async function registry(demo: Demo): Promise<void> {
  say("  WorkOS delivers signed organization.created events to POST /workos/webhook:");
  for (const org of demo.orgs) {
    const event = orgEvent("organization.created", {
      id: org.workosOrgId,
      name: org.name,
      updatedAt: demo.now - 30 * DAY,
    });
    const reply = await deliver(demo.t, event);
    say(`    ${org.name}: HTTP ${reply.status} ${JSON.stringify(reply.json)}`);
  }
  say("  The registry creates each org's stats rows, marked not exact (the org already has");
  say("  documents), so the badge queries fall back to a bounded scan until the migration runs:");
  await printDashboards(demo.t, demo.orgs);
}

/** Every org's stored stats rows, to show that a dry run wrote no counters. */
async function statsRows(demo: Demo): Promise<string> {
  const rows = await Promise.all(demo.orgs.map((o) => storedCounters(demo.t, o.workosOrgId)));
  return JSON.stringify(rows);
}

async function dryRun(demo: Demo): Promise<void> {
  const { t } = demo;
  say("  npx convex run migrations/initializeOrgStats:run '{\"dryRun\": true}': the same walk and");
  say(
    "  recount pages as the real run, in report mode (each row's last page compares, sets nothing)",
  );
  const before = await statsRows(demo);
  const started = await t.action(internal.migrations.initializeOrgStats.run, { dryRun: true });
  if (!started.dryRun) throw new Error("expected a dry run");
  // Only the dry run's walk and pages: the recounts the registry scheduled stay pending.
  const runs = await runRecountWork(t);
  for (const r of runs) {
    if (!r.measurement.ok) throw new Error(`${r.name} failed: ${r.measurement.error}`);
    tallyOp(demo, r.name, r.measurement);
  }
  const pages = recountSummaries(runs);
  say("  npx convex run migrations/initializeOrgStats:dryRunReport");
  const status = await t.query(internal.migrations.initializeOrgStats.dryRunReport, {
    dryRunId: started.dryRunId,
  });
  if (status?.finished !== true) throw new Error("expected a finished dry run");
  const x = status.report.totals;
  say(
    `    ${x.rows} stats rows: ${x.seed} to seed, ${x.createRow} to create, ${x.skipExact} ` +
      `already exact; ${fmtInt(x.documentsCounted)} documents counted in ` +
      `${summary(runs.map((r) => r.measurement))}`,
  );
  for (const e of status.report.entries) {
    const changes = e.changes
      .filter((c) => c.measure === "count")
      .map((c) => `${label(c.status)} ${fmtInt(c.stored)} → ${fmtInt(c.actual)}`)
      .join(", ");
    const paged = pages.get(`${e.workosOrgId}/${e.entity}`);
    say(
      `    ${orgName(demo, e.workosOrgId)} ${e.entity}: ${e.action} (found in ${e.foundBy}), ` +
        `${fmtInt(e.documents ?? 0)} documents` +
        (paged === undefined ? "" : ` (${pageStats(paged)})`) +
        `: ${changes}`,
    );
  }
  if ((await statsRows(demo)) !== before) throw new Error("the dry run wrote stats rows");
  say(
    "    No counters written (the dry run writes only its own state and report): every stats row",
  );
  say("    is as it was before it.");
}

/**
 * While seeding runs, the badge of the largest org answers from the
 * recount's shadow counters: `state: counting` and the run's `progress`.
 * Prints it once, after the page that passes half of that org's loads;
 * fails the demo if a page in the middle of that recount leaves the badge
 * in another state, or when it was never shown.
 */
function seedingBadge(demo: Demo): {
  watch: (run: ScheduledRun) => Promise<string | null>;
  shown: () => boolean;
} {
  const org = demo.orgs[demo.orgs.length - 1];
  let counted = 0;
  let shown = false;
  const watch = async (run: ScheduledRun): Promise<string | null> => {
    const page = pageOutcome(run);
    if (run.args.workosOrgId !== org.workosOrgId || run.args.entity !== "loads") return null;
    if (page?.status !== "continued") return null;
    counted += page.documentsCounted;
    const detailed = await detailedLoads(demo.t, org);
    const progress = detailed.progress ?? 0;
    if (detailed.state !== "counting" || progress >= 1) {
      throw new Error(`${org.name} loads while seeding: ${badgeState(detailed)}`);
    }
    if (shown || counted < org.history / 2) return null;
    shown = true;
    const flat = await member(demo.t, org.workosOrgId).query(api.loads.countLoadsByStatus, {
      workosOrgId: org.workosOrgId,
    });
    say(
      `    After page ${page.pages} of the loads of ${org.name} (${fmtInt(counted)} counted), its badges:`,
    );
    say(
      `      countLoadsByStatusDetailed: ${badgeState(detailed)}, total ${fmtInt(detailed.total)}`,
    );
    say(`      countLoadsByStatus:         ${flatLine(flat)}`);
    say("      (progress is the cursor's position in time from the org's first load to the run's");
    say("      start; the history was written in the demo's first seconds, so it stays low here)");
    return null;
  };
  return { watch, shown: () => shown };
}

async function migration(demo: Demo): Promise<void> {
  await dryRun(demo);
  say("  npx convex run migrations/initializeOrgStats:run");
  const seeding = await demo.t.action(internal.migrations.initializeOrgStats.run, {});
  if (seeding.dryRun) throw new Error("expected the real run");
  const badge = seedingBadge(demo);
  const runs = await drain(demo, badge.watch);
  if (!badge.shown()) throw new Error("the seeding badge was never shown counting");
  say("  Each stats row's recount, its pages run one at a time:");
  printRecounts(demo, runs, allRows(demo));
  say(`  Seeding took ${summary(runs.map((r) => r.measurement))}.`);
  const reports = await demo.t.query(internal.stats.listDriftReports, {});
  if (reports.length > 0) throw new Error("seeding reported drift");
  say("  No drift reports: seeding a row that was never exact is not drift. The badges now read");
  say("  one document each:");
  await printDashboards(demo.t, demo.orgs);
}

/** A copy of `s` under a new FourKites id (and load number). */
function renumbered(s: FourKitesShipment, id: number): FourKitesShipment {
  return { ...s, id, loadNumber: `${s.loadNumber}-R${id % 1000}` };
}

/** Shipments FourKites sends that our schema must refuse, with what is wrong with each. */
function malformed(base: FourKitesShipment, idBase: number): unknown[] {
  const [pickup, delivery] = base.stops;
  return [
    { ...renumbered(base, idBase + 1), stops: [pickup] },
    { ...renumbered(base, idBase + 2), status: "Teleported" },
    { ...renumbered(base, idBase + 3), stops: [pickup, { ...delivery, latitude: 123.4 }] },
  ];
}

async function fourKitesSync(demo: Demo): Promise<void> {
  const { t, now } = demo;
  say("  Each org connects its own FourKites account (fourKitesIntegrations:createIntegration, an");
  say("  api key stored encrypted), and an operator pulls it now:");
  say(
    "  npx convex run fourKitesSync:syncFromFourKites '{\"workosOrgId\": ...}', per org, against a",
  );
  say(
    "  stand-in of the FourKites API (stubbed fetch): new shipments, newer statuses of known ones,",
  );
  say("  unchanged re-sends, and malformed payloads.");
  const listings = demo.orgs.map((org) => {
    const k = scale(org);
    const known = org.shipments.slice(0, org.history);
    const fresh = org.shipments.slice(org.history);
    const byStatus = (status: string, n: number) =>
      known.filter((s) => s.status === status).slice(0, n);
    const future = (s: FourKitesShipment) => Date.parse(s.stops[0].appointmentTime) > now;
    const updates = [
      ...byStatus("InTransit", 3 * k).map((s) => withStatus(s, "Delivered", now)),
      ...known
        .filter((s) => s.status === "Created" && future(s))
        .slice(-2 * k)
        .map((s) => withStatus(s, "Dispatched", now)),
    ];
    const resends = byStatus("Delivered", 2 * k);
    const bad = malformed(fresh[0], org.spec.idBase + 900_000);
    return standInAccount(org.spec.prefix.toLowerCase(), [
      ...fresh,
      ...updates,
      ...resends,
      ...bad,
    ]);
  });
  const served = serveAccounts(listings);
  for (const [k, org] of demo.orgs.entries()) {
    const account = listings[k];
    await manager(t, org.workosOrgId).action(api.fourKitesIntegrations.createIntegration, {
      workosOrgId: org.workosOrgId,
      baseUrl: account.baseUrl,
      credentials: { kind: "apikey", apiKey: account.apiKey },
    });
    const requestsBefore = served.requests.length;
    const result = await t.action(internal.fourKitesSync.syncFromFourKites, {
      workosOrgId: org.workosOrgId,
    });
    if (result.outcome !== "completed") {
      throw new Error(`${org.name}: the sync ended ${result.outcome}`);
    }
    const c = result.counts;
    const requests = served.requests.length - requestsBefore;
    say(
      `  ${org.name}: ${result.outcome}, ${plural(c.pages, "page")} (${plural(requests, "request")}), ` +
        `${fmtInt(c.received)} shipments: ${c.created} new, ${c.updated} updated, ` +
        `${c.unchanged} unchanged, ${c.rejected} rejected, ${c.unknownStatus} unknown status`,
    );
    const [health] = (
      await t.query(internal.fourKitesSync.status, { workosOrgId: org.workosOrgId })
    ).integrations;
    for (const r of health.lastRun?.rejections ?? []) {
      say(`    rejected shipment ${r.shipmentId}: ${r.path}: ${r.message}`);
    }
  }

  // A batch with one bad shipment is refused whole, and writes nothing.
  const acme = demo.orgs[0];
  const before = await member(t, acme.workosOrgId).query(api.loads.countLoadsByStatusDetailed, {
    workosOrgId: acme.workosOrgId,
  });
  const good = [0, 1].map((i) => renumbered(acme.shipments[i], acme.spec.idBase + 950_000 + i));
  const broken = {
    ...renumbered(acme.shipments[2], acme.spec.idBase + 950_002),
    updatedAt: "soon",
  };
  try {
    await t.mutation(internal.fourKitesSyncHelpers.importShipmentBatch, {
      workosOrgId: acme.workosOrgId,
      shipments: [...good, broken].map((s) => JSON.stringify(s)),
    });
    throw new Error("the malformed batch was accepted");
  } catch (e) {
    if (!(e instanceof ConvexError)) throw e;
    say("  importShipmentBatch with 2 good shipments and 1 malformed one is refused whole:");
    say(`    ${String(e.data.code)}: ${String(e.data.message)}`);
  }
  const after = await member(t, acme.workosOrgId).query(api.loads.countLoadsByStatusDetailed, {
    workosOrgId: acme.workosOrgId,
  });
  if (after.total !== before.total) throw new Error("a refused batch wrote loads");
  say(`    nothing written: ${acme.name} still has ${fmtInt(after.total)} loads`);

  // Re-sending known shipments costs one lookup each and writes nothing.
  const coastal = demo.orgs[2];
  const resent = coastal.shipments.filter((s) => s.status === "Delivered").slice(0, 40);
  const m = await measureMutation(t, internal.fourKitesSyncHelpers.importShipmentBatch, {
    workosOrgId: coastal.workosOrgId,
    shipments: resent.map((s) => JSON.stringify(s)),
  });
  tallyOp(demo, "fourKitesSyncHelpers:importShipmentBatch", m, resent.length);
  say(
    `  Re-importing ${resent.length} known ${coastal.name} shipments: ${m.result.unchanged} ` +
      `unchanged, read ${docs(m.io)}, wrote ${m.io.documentsWritten} documents (idempotent).`,
  );
}

async function dispatch(demo: Demo): Promise<void> {
  const { t, now } = demo;
  for (const org of demo.orgs) {
    const k = scale(org);
    const who = member(t, org.workosOrgId);
    const created: Id<"loads">[] = [];
    for (let n = 0; n < 2 * k; n++) {
      const m = await measureMutation(who, api.loads.createLoad, {
        workosOrgId: org.workosOrgId,
        externalLoadId: `MANUAL-${n}`,
        origin: { city: "Dallas", state: "TX" },
        destination: { city: "Memphis", state: "TN" },
        pickupAt: now + 3 * DAY,
      });
      tallyOp(demo, "loads:createLoad", m);
      created.push(m.result.loadId);
    }
    const upcoming = (status: LoadStatus) => (l: { status: string; pickupAt?: number }) =>
      l.status === status && (l.pickupAt ?? 0) > now;
    const moves: [number[], LoadStatus][] = [
      [await findLoads(t, org, 10 * k, upcoming("Open")), "Assigned"],
      [await findLoads(t, org, 10 * k, (l) => l.status === "Assigned"), "Completed"],
      [await findLoads(t, org, 2 * k, upcoming("Open"), org.history / 2), "Canceled"],
    ];
    let changes = 0;
    for (const [indices, to] of moves) {
      for (const i of indices) {
        const m = await measureMutation(who, api.loads.updateLoadStatus, {
          workosOrgId: org.workosOrgId,
          loadId: org.loadIds[i],
          status: to,
        });
        tallyOp(demo, "loads:updateLoadStatus", m);
        changes++;
      }
    }
    const m = await measureMutation(who, api.loads.deleteLoad, {
      workosOrgId: org.workosOrgId,
      loadId: created[0],
    });
    tallyOp(demo, "loads:deleteLoad", m);
    say(
      `  ${org.name}: ${created.length} loads created by hand (priced by the Dallas → Memphis ` +
        `lane; 1 deleted again), ${changes} status changes`,
    );
  }
}

async function laneBackfill(demo: Demo): Promise<void> {
  const { t, now } = demo;
  const { origin, destination } = UNMAPPED_PAIR;
  say(
    `  Each org adds its missing ${origin.city} → ${destination.city} lane (in effect for the past`,
  );
  say(
    `  year). The first ${BACKFILL_BATCH_SIZE} unmapped loads are promoted in the same transaction, the rest in`,
  );
  say("  scheduled batches; each batch reads the lane's unmapped loads, not the org's loads.");
  for (const org of demo.orgs) {
    const first = await measureMutationToLimit(
      biller(t, org.workosOrgId),
      api.lanes.createLaneAndBackfill,
      {
        workosOrgId: org.workosOrgId,
        origin: { city: origin.city, state: origin.state, postalCode: origin.postalCode },
        destination: {
          city: destination.city,
          state: destination.state,
          postalCode: destination.postalCode,
        },
        rateCents: 212_500,
        effectiveFrom: now - 365 * DAY,
      },
    );
    if (!first.ok) throw new Error(`createLaneAndBackfill failed: ${first.error}`);
    tallyOp(demo, "lanes:createLaneAndBackfill", first);
    const batches = await drain(demo, (r) =>
      r.name === "lanes:continueLaneBackfill"
        ? `    ${org.name}: scheduled batch promoted ` +
          `${numberField(r.measurement.ok ? r.measurement.result : null, "promoted") ?? 0}, ` +
          `read ${docs(r.measurement.io)}`
        : null,
    );
    const lane = await t.run((ctx) => ctx.db.get("lanes", first.result.laneId));
    const promoted = lane?.backfill?.promoted ?? 0;
    say(
      `  ${org.name} (${fmtInt(org.history)}+ loads): ${fmtInt(promoted)} loads promoted to ` +
        `CONTRACT, their invoices MISSING_DATA → DRAFT at ${money(212_500)}; ` +
        summary([first, ...batches.map((b) => b.measurement)]),
    );
  }
}

async function billing(demo: Demo): Promise<void> {
  const { t } = demo;
  for (const org of demo.orgs) {
    const k = scale(org);
    const who = biller(t, org.workosOrgId);
    const bill = await findInvoices(t, org, Math.min(500, 100 * k), (i) => i.status === "DRAFT");
    const billed = await measureMutation(who, api.invoices.bulkUpdateStatus, {
      workosOrgId: org.workosOrgId,
      invoiceIds: bill,
      status: "BILLED",
    });
    tallyOp(demo, "invoices:bulkUpdateStatus", billed, bill.length);
    const pay = bill.slice(0, 50 * k);
    const paid = await measureMutation(who, api.invoices.bulkUpdateStatus, {
      workosOrgId: org.workosOrgId,
      invoiceIds: pay,
      status: "PENDING_PAYMENT",
    });
    tallyOp(demo, "invoices:bulkUpdateStatus", paid, pay.length);
    const voids = await findInvoices(t, org, 10 * k, (i) => i.status === "DRAFT");
    const voided = await measureMutation(who, api.invoices.bulkVoidInvoices, {
      workosOrgId: org.workosOrgId,
      invoiceIds: voids,
      reason: "Duplicate of a corrected invoice",
    });
    tallyOp(demo, "invoices:bulkVoidInvoices", voided, voids.length);
    say(
      `  ${org.name}: billed ${fmtInt(bill.length)} (read ${docs(billed.io)}), ` +
        `${fmtInt(pay.length)} to pending payment, voided ${fmtInt(voids.length)}`,
    );
  }
  say("  Each bulk call read and wrote each org's invoices stats row once.");
}

async function cleanup(demo: Demo): Promise<void> {
  const { t } = demo;
  say("  npx convex run lazyLoadPromotion:periodicCleanup (the cron): Open loads whose pickup");
  say(
    `  passed more than ${DEFAULT_EXPIRY_GRACE_MS / 3_600_000} h ago expire, ${EXPIRY_BATCH_SIZE} per transaction, across all orgs.`,
  );
  const before = await Promise.all(demo.orgs.map((o) => detailedLoads(demo.t, o)));
  const first = await measureMutationToLimit(t, internal.lazyLoadPromotion.periodicCleanup, {});
  if (!first.ok) throw new Error(`periodicCleanup failed: ${first.error}`);
  tallyOp(demo, "lazyLoadPromotion:periodicCleanup", first);
  const rest = await drain(demo, (r) =>
    r.name === "lazyLoadPromotion:expireStaleLoads"
      ? `    scheduled batch expired ` +
        `${numberField(r.measurement.ok ? r.measurement.result : null, "expired") ?? 0}, ` +
        `read ${docs(r.measurement.io)}`
      : null,
  );
  for (const [n, org] of demo.orgs.entries()) {
    const after = await detailedLoads(demo.t, org);
    say(
      `  ${org.name}: ${fmtInt(after.counts.Expired - before[n].counts.Expired)} loads expired ` +
        `(Open ${fmtInt(before[n].counts.Open)} → ${fmtInt(after.counts.Open)})`,
    );
  }
  say(`  The run took ${summary([first, ...rest.map((r) => r.measurement)])}.`);
  const idle = await measureMutationToLimit(t, internal.lazyLoadPromotion.periodicCleanup, {});
  tallyOp(demo, "lazyLoadPromotion:periodicCleanup", idle);
  say(`  The next run, with nothing to do, read ${docs(idle.io)}.`);
}

async function dashboardEdit(demo: Demo): Promise<void> {
  const { t, now } = demo;
  const org = demo.orgs[1];
  const before = await detailedInvoices(t, org);
  // The rate cleared below must land in an empty bucket for the void to take it below zero.
  if (before.counts.MISSING_DATA !== 0) {
    throw new Error(`${org.name} has ${before.counts.MISSING_DATA} MISSING_DATA invoices left`);
  }
  const open = await findLoads(t, org, 2, (l) => l.status === "Open" && (l.pickupAt ?? 0) > now);
  const [raised, cleared] = await findInvoices(t, org, 2, (i) => i.status === "DRAFT");
  const [voided] = await findInvoices(t, org, 1, (i) => i.status === "VOID");
  // Raw writes, as the Convex dashboard or `npx convex import` make them:
  // nothing tells the counters.
  const cents = await t.run(async (ctx) => {
    await ctx.db.patch("loads", org.loadIds[open[0]], { status: "Canceled" });
    await ctx.db.patch("loads", org.loadIds[open[1]], { status: "Completed" });
    const invoice = await ctx.db.get("invoices", raised);
    const unpriced = await ctx.db.get("invoices", cleared);
    const gone = await ctx.db.get("invoices", voided);
    if (invoice === null || unpriced === null || gone === null) {
      throw new Error("demo invoices missing");
    }
    await ctx.db.patch("invoices", invoice._id, { amountCents: invoice.amountCents + 25_000 });
    await ctx.db.patch("invoices", unpriced._id, { status: "MISSING_DATA", amountCents: 0 });
    await ctx.db.delete("invoices", gone._id);
    return { cleared: unpriced.amountCents, voided: gone.amountCents };
  });
  const planted = (
    entity: PlantedDrift["entity"],
    status: string,
    measure: PlantedDrift["measure"],
    delta: number,
  ): PlantedDrift => ({ workosOrgId: org.workosOrgId, entity, status, measure, delta });
  demo.planted = [
    planted("loads", "Open", "count", -2),
    planted("loads", "Completed", "count", 1),
    planted("loads", "Canceled", "count", 1),
    planted("invoices", "DRAFT", "amountCents", 25_000),
    planted("invoices", "DRAFT", "count", -1),
    planted("invoices", "DRAFT", "amountCents", -cents.cleared),
    planted("invoices", "MISSING_DATA", "count", 1),
    planted("invoices", "VOID", "count", -1),
    planted("invoices", "VOID", "amountCents", -cents.voided),
  ];
  say(`  In ${org.name}, someone edits documents in the Convex dashboard: two Open loads set to`);
  say(`  Canceled and Completed, a DRAFT invoice raised by ${money(25_000)}, another one's rate`);
  say(
    `  cleared (MISSING_DATA, ${money(0)}), a VOID invoice of ${money(cents.voided)} deleted. ` +
      "The badges cannot know:",
  );
  await printDashboards(t, [org]);

  say("  A biller voids the invoice with the cleared rate through the app (bulkVoidInvoices).");
  say("  That counted write takes the Missing data counter below zero: the module keeps the");
  say("  value (never clamped), reports it and schedules a repair, and the badge says so:");
  const m = await measureMutation(biller(t, org.workosOrgId), api.invoices.bulkVoidInvoices, {
    workosOrgId: org.workosOrgId,
    invoiceIds: [cleared],
    reason: "Rate unknown",
  });
  tallyOp(demo, "invoices:bulkVoidInvoices", m);
  const after = await detailedInvoices(t, org);
  const flat = await member(t, org.workosOrgId).query(api.invoices.countInvoicesByStatus, {
    workosOrgId: org.workosOrgId,
  });
  say(`    countInvoicesByStatusDetailed: ${badgeState(after)}`);
  say(`    countInvoicesByStatus:         ${flatLine(flat)}`);
  const known = after.knownDrift ?? [];
  if (
    after.state !== "approximate" ||
    !known.some((d) => d.status === "MISSING_DATA" && d.measure === "count" && d.atLeast === 1)
  ) {
    throw new Error(`after the negative counter the badge says ${badgeState(after)}`);
  }
  const [report] = await t.query(internal.stats.listDriftReports, {
    workosOrgId: org.workosOrgId,
    entity: "invoices",
    limit: 1,
  });
  if (report?.source !== "negative_counter") throw new Error("no negative_counter report");
  for (const b of report.buckets)
    say(`    drift report (negative_counter): ${bucketLine("invoices", b)}`);
}

/** `loads Open count: stored 449, documents 447 (-2)`, and what an earlier report stated. */
function bucketLine(
  entity: string,
  b: {
    status: string;
    measure: string;
    stored: number;
    actual?: number;
    delta: number;
    alreadyReported?: number;
  },
) {
  const show = b.measure === "amountCents" ? money : fmtInt;
  const signed = (n: number) => `${n > 0 ? "+" : ""}${show(n)}`;
  const actual = b.actual === undefined ? `at least ${show(0)}` : show(b.actual);
  return (
    `${entity} ${label(b.status)} ${b.measure === "count" ? "count" : "amount"}: stored ` +
    `${show(b.stored)}, documents ${actual} (${signed(b.delta)}` +
    (b.alreadyReported === undefined
      ? ")"
      : `, of which ${signed(b.alreadyReported)} already reported)`)
  );
}

/** `org/entity/status/measure` → the drift of that counter, summed. */
function byBucket(
  items: { workosOrgId: string; entity: string; status: string; measure: string; delta: number }[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) {
    const key = `${i.workosOrgId}/${i.entity}/${i.status}/${i.measure}`;
    out.set(key, (out.get(key) ?? 0) + i.delta);
  }
  return out;
}

async function dailyRecount(demo: Demo): Promise<void> {
  const { t } = demo;
  say("  npx convex run stats:recalculateAllOrgs (the daily cron): walks every org and recounts");
  say(
    "  both counted tables page by page, each page sized to stay under half of every read limit:",
  );
  const first = await measureMutationToLimit(t, internal.stats.recalculateAllOrgs, {});
  if (!first.ok) throw new Error(`recalculateAllOrgs failed: ${first.error}`);
  tallyOp(demo, "stats:recalculateAllOrgs", first);
  const runs = await drain(demo);
  printRecounts(demo, runs, allRows(demo));
  say(`  The recount took ${summary([first, ...runs.map((p) => p.measurement)])}.`);

  say("  npx convex run stats:listDriftReports");
  const reports = await t.query(internal.stats.listDriftReports, {});
  for (const report of [...reports].reverse()) {
    say(
      `    ${orgName(demo, report.workosOrgId)}, ${report.entity} (${report.source}` +
        `${report.runId === undefined ? "" : `, run ${report.runId}`}): ` +
        plural(report.buckets.length, "counter"),
    );
    for (const b of report.buckets) say(`      ${bucketLine(report.entity, b)}`);
  }
  // Each drift once: a bucket an earlier report stated counts only its new part.
  const found = byBucket(
    reports.flatMap((r) =>
      r.buckets.map((b) => ({ ...r, ...b, delta: b.delta - (b.alreadyReported ?? 0) })),
    ),
  );
  const expected = byBucket(demo.planted);
  const keys = new Set([...found.keys(), ...expected.keys()]);
  for (const key of keys) {
    if (!expected.has(key) || found.get(key) !== expected.get(key)) {
      throw new Error(
        `drift ${key}: reported ${found.get(key) ?? "nothing"}, the edit moved it by ` +
          `${expected.get(key) ?? "nothing"}`,
      );
    }
  }
  say("  That is exactly the dashboard edit, each counter's drift counted once, and nothing else:");
  say("  every write made through the module kept its counters exact. The counters now match the");
  say("  documents again.");
}

async function finale(demo: Demo): Promise<void> {
  await printDashboards(demo.t, demo.orgs);
  for (const org of demo.orgs) {
    const diff = await differences(demo.t, org.workosOrgId);
    if (diff.length > 0) throw new Error(`${org.name} counters differ: ${JSON.stringify(diff)}`);
  }
  say("  Checked from scratch: every org's counters equal its documents.");
  say();
  say("  What the demo's calls read and wrote (getTransactionMetrics, per function):");
  for (const [name, { calls, items, io, max }] of demo.ops) {
    const touched = items === calls ? "" : ` (${fmtInt(items)} items)`;
    say(
      `    ${name.padEnd(42)} ${plural(calls, "call").padStart(9)}${touched}: read ` +
        `${fmtInt(io.documentsRead)} docs (at most ${fmtInt(max.documentsRead)} in one), ` +
        `wrote ${fmtInt(io.documentsWritten)}`,
    );
  }
  const count = await measureQueryToLimit(
    member(demo.t, demo.orgs[2].workosOrgId),
    api.loads.countLoadsByStatusDetailed,
    { workosOrgId: demo.orgs[2].workosOrgId },
  );
  say(
    `  A badge of the ${fmtInt(count.ok ? count.result.total : 0)}-load org still reads ` +
      `${docs(count.io)}; a scan of it cannot run at all.`,
  );
}

/** The story, in order. */
export const STEPS: Step[] = [
  { title: "Before the counters: three customers' FourKites shipments", run: history },
  { title: "WorkOS webhook registers the three organizations", run: registry },
  {
    title: "Migration initializeOrgStats: dry run, then seeding the counters",
    run: migration,
  },
  {
    title: "FourKites sync: new shipments, status updates, malformed payloads",
    run: fourKitesSync,
  },
  { title: "Dispatchers at work: loads created by hand, status changes", run: dispatch },
  {
    title: `Lane backfill: a ${UNMAPPED_PAIR.origin.city} → ${UNMAPPED_PAIR.destination.city} lane promotes the unmapped loads`,
    run: laneBackfill,
  },
  { title: "Billing: bulk invoice updates and voids", run: billing },
  { title: "Periodic cleanup: stale Open loads expire", run: cleanup },
  { title: "A dashboard edit bypasses the code", run: dashboardEdit },
  { title: "Daily recount and drift report", run: dailyRecount },
  { title: "Dashboards at the end", run: finale },
];

/**
 * After the story, with real timers (real HTTP on 127.0.0.1, workpool jobs):
 * adds its own shipments, so nothing above changes.
 */
export const LIVE_STEPS: Step[] = [
  {
    title: "FourKites integrations: the orgs pulled on the schedule from a local fake API",
    run: scheduledIntegrations,
  },
];
