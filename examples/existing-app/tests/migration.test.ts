/**
 * Rehearsal (b), docs/adopting.md steps 6 to 9: the old one-document-per-org
 * stats move to the module's rows online. The app starts as the old app left
 * it (loads, invoices and old stats documents with counts in them), then:
 *
 * - widened: the schema accepts the old documents (`legacyStatsRow`), the
 *   builders count, `carryOver` answers an org without a module row from
 *   its old document;
 * - migrated: `@convex-dev/migrations` moves each old document into the
 *   module's rows (`migrations/legacyStats:moveLegacyStats`), one document
 *   per batch;
 * - narrowed: every `organizationStats` document passes the validator the
 *   schema has without `legacyStatsRow`, so the narrowing deploy goes through;
 * - seeded: `migrations/initializeOrgStats:initialize` (the old runbook
 *   path) makes every row exact.
 *
 * The app's own mutations write before, between and during every step and
 * batch; after each write both badges of every org are compared with what
 * the old system would have shown (its counts plus the writes since), or,
 * once a row is exact, with a from-scratch count. No badge ever answers
 * zeros or other numbers for an org that had counts.
 */
import { validate } from "convex-helpers/validators";
import { defineSchema } from "convex/server";
import { afterEach, expect, test, vi } from "vitest";
import { statsTables } from "../../../convex/model/stats/tables";
import { api, internal } from "../convex/_generated/api";
import { COUNTED } from "../convex/model/counted";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
import { carryOver } from "../convex/model/legacyStats";
import { appTables } from "../convex/model/tables";
import {
  badges,
  countFromScratch,
  expectedBadges,
  insertHistory,
  insertLegacyDoc,
  legacyDocOf,
  member,
  newApp,
  randomWrite,
  seededRandom,
  stepScheduled,
  type App,
  type Truth,
} from "./support";

/**
 * Consistent old counts, and more loads than a badge scans when it has no
 * counters (1,000): without `carryOver` its badge would be a lower bound.
 */
const ORG_A = "org_A";
/** Consistent, from before the old app counted `Expired` (no such field). */
const ORG_B = "org_B";
/** Old counts that drifted (the old helpers clamped and missed writes): 3 `Open` and 2 `DRAFT` too many. */
const ORG_C = "org_C";
/** Documents but no old stats document (the old badge showed zeros); not in `organizations`. */
const ORG_D = "org_D";
/** An old stats document of zeros and no documents. */
const ORG_E = "org_E";
const WITH_OLD_COUNTS = [ORG_A, ORG_B, ORG_C, ORG_E];
const ALL = [...WITH_OLD_COUNTS, ORG_D];

/** The schema after the narrowing deploy (step 8): no `legacyStatsRow`. */
const narrowedSchema = defineSchema({ ...appTables, ...statsTables(COUNTED) });

afterEach(() => {
  vi.useRealTimers();
});

function plus(a: Truth, b: Truth, sign: 1 | -1): Truth {
  const loads = { ...a.loads };
  for (const s of LOAD_STATUSES) loads[s] += sign * b.loads[s];
  const invoices = { ...a.invoices };
  for (const s of INVOICE_STATUSES) invoices[s] += sign * b.invoices[s];
  return { loads, invoices };
}

/**
 * The rehearsal's world: the orgs' histories written by the old app, their
 * old stats documents, and what the old system showed (its counts) and
 * what was true, to follow both as writes continue.
 */
async function oldWorld(t: App) {
  const mixedLoads = (i: number) => LOAD_STATUSES[i % (LOAD_STATUSES.length - 1)];
  const mixedInvoices = (i: number) => INVOICE_STATUSES[i % INVOICE_STATUSES.length];
  await insertHistory(t, ORG_A, 1_010, mixedLoads, mixedInvoices);
  await insertHistory(t, ORG_B, 20, mixedLoads, mixedInvoices);
  await insertHistory(t, ORG_C, 25, mixedLoads, mixedInvoices);
  await insertHistory(t, ORG_D, 15, mixedLoads, mixedInvoices);
  const start = new Map<string, Truth>();
  for (const org of ALL) start.set(org, await countFromScratch(t, org));
  const oldCounts = new Map<string, Truth>();
  for (const org of WITH_OLD_COUNTS) {
    const truth = start.get(org)!;
    const shown =
      org === ORG_C
        ? {
            loads: { ...truth.loads, Open: truth.loads.Open + 3 },
            invoices: { ...truth.invoices, DRAFT: truth.invoices.DRAFT + 2 },
          }
        : truth;
    oldCounts.set(org, shown);
    await insertLegacyDoc(t, org, shown, { expired: org !== ORG_B });
  }
  await t.run(async (ctx) => {
    for (const org of [ORG_A, ORG_B, ORG_C, ORG_E]) {
      await ctx.db.insert("organizations", { name: org, workosOrgId: org, orgType: "BROKER" });
    }
    // Not linked to WorkOS yet: the registry walk skips it.
    await ctx.db.insert("organizations", { name: "pending", orgType: "CARRIER" });
  });
  return { start, oldCounts };
}

test("old stats documents move to the module's rows online, and no badge shows zeros or other numbers", async () => {
  vi.useFakeTimers();
  const t = newApp();
  const { start, oldCounts } = await oldWorld(t);
  const rand = seededRandom(7);
  let writes = 0;
  const seen = { approximate: 0, exact: 0 };

  /**
   * Every org's badges against what they may show: from a row that is exact
   * (or a full scan), the from-scratch count; otherwise what the old system
   * would show now, its counts plus every write since.
   */
  async function checkBadges(where: string): Promise<void> {
    for (const org of ALL) {
      const truth = await countFromScratch(t, org);
      const shown = await badges(t, org);
      const who = member(t, org);
      const detailed = {
        loads: await who.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: org }),
        invoices: await who.query(api.invoices.countInvoicesByStatusDetailed, {
          workosOrgId: org,
        }),
      };
      const old = oldCounts.get(org);
      const oldNow = old === undefined ? null : plus(old, plus(truth, start.get(org)!, -1), 1);
      for (const table of ["loads", "invoices"] as const) {
        const state = detailed[table].state;
        const label = `${where}: ${org} ${table} (${state})`;
        if (state === "exact") {
          seen.exact++;
          expect(shown[table], label).toEqual(expectedBadges(truth)[table]);
        } else if (oldNow !== null) {
          // The org had counts: the badge answers the old system's numbers.
          seen.approximate++;
          expect(state, label).toBe("approximate");
          expect(shown[table], label).toEqual(expectedBadges(oldNow)[table]);
        } else {
          // ORG_D had no counts (its old badge showed zeros): while its row is
          // seeded, the numbers counted so far, never above the truth.
          expect(state, label).toBe("counting");
          const counted = Object.entries(shown[table]);
          const exact = expectedBadges(truth)[table] as Record<string, number>;
          for (const [key, n] of counted)
            expect(n, `${label} ${key}`).toBeLessThanOrEqual(exact[key]);
        }
      }
    }
  }

  async function writeAndCheck(where: string, orgs: string[]): Promise<void> {
    const org = orgs[rand(orgs.length)];
    const what = await randomWrite(t, org, rand, String(writes++));
    await checkBadges(`${where}, after ${what} on ${org}`);
  }

  // Step 6, widened: before any write, orgs with old counts answer them
  // (carryOver); ORG_D, without, answers a full scan (exact).
  await checkBadges("widened, before any write");
  expect(await badges(t, ORG_C)).toEqual(expectedBadges(oldCounts.get(ORG_C)!));
  expect(await badges(t, ORG_D)).toEqual(expectedBadges(start.get(ORG_D)!));
  // The narrowed schema refuses the old documents: the narrowing deploy
  // must wait for the migration (the check below can fail).
  const oldDoc = legacyDocOf(ORG_A, start.get(ORG_A)!);
  expect(validate(narrowedSchema.tables.organizationStats.validator, oldDoc)).toBe(false);

  // Writes on the widened app, ORG_D left alone until the seeding step.
  for (let i = 0; i < 20; i++) await writeAndCheck("widened", WITH_OLD_COUNTS);
  // The rows those writes created started from the old counts; the recounts
  // they scheduled have not run yet (held timers).
  await checkBadges("widened, writes done");
  expect(seen.approximate).toBeGreaterThan(0);

  // Step 7, migrate with @convex-dev/migrations, a document per batch, a
  // write after every scheduled step (batches, and the recounts they start).
  await t.mutation(internal.migrations.legacyStats.run, {
    fn: "migrations/legacyStats:moveLegacyStats",
    batchSize: 1,
  });
  const steps = await stepScheduled(t, async (step) => {
    await writeAndCheck(`migrating, step ${step}`, WITH_OLD_COUNTS);
  });
  expect(steps).toBeGreaterThan(5);
  const status = await t.run(async (ctx) => {
    const { migrations } = await import("../convex/migrations/legacyStats");
    return await migrations.getStatus(ctx, {
      migrations: [internal.migrations.legacyStats.moveLegacyStats],
    });
  });
  expect(status).toMatchObject([{ state: "success", isDone: true }]);

  // Step 8, narrow: every stats document passes the narrowed validator; no
  // org has old counters left for carryOver to hand out.
  const stored = await t.run(async (ctx) => await ctx.db.query("organizationStats").collect());
  expect(stored.length).toBeGreaterThan(0);
  for (const doc of stored) {
    const { _id, _creationTime, ...fields } = doc;
    expect(validate(narrowedSchema.tables.organizationStats.validator, fields), _id).toBe(true);
    expect(_creationTime).toBeGreaterThan(0);
  }
  for (const org of ALL) {
    expect(await t.run(async (ctx) => await carryOver(ctx.db, org, "loadInformation"))).toBeNull();
  }
  await checkBadges("narrowed");

  // Step 9, seed, by the old runbook path. `verifyStats` first: a report,
  // no counter written. ORG_D (no row: no old document, no write) would get
  // its row; the migrated orgs are exact already (their recounts ran while
  // the migration went on).
  const dryRunId = await t.action(internal.migrations.initializeOrgStats.verifyStats, {});
  await stepScheduled(t, async () => {});
  const report = await t.query(internal.migrations.initializeOrgStats.dryRunReport, { dryRunId });
  expect(report?.finished).toBe(true);
  const dEntries = report!.report.entries.filter((e) => e.workosOrgId === ORG_D);
  expect(dEntries.map((e) => e.action).sort()).toEqual(["create_row", "create_row"]);
  expect(
    report!.report.entries
      .filter((e) => e.workosOrgId !== ORG_D)
      .every((e) => e.action === "skip_exact"),
  ).toBe(true);
  const dRows = await t.run(
    async (ctx) =>
      await ctx.db
        .query("organizationStats")
        .withIndex("by_org_and_entity", (q) => q.eq("workosOrgId", ORG_D))
        .collect(),
  );
  expect(dRows).toEqual([]);

  await t.action(internal.migrations.initializeOrgStats.initialize, {});
  await stepScheduled(t, async (step) => {
    await writeAndCheck(`seeding, step ${step}`, ALL);
  });
  for (let i = 0; i < 5; i++) await writeAndCheck("seeded", ALL);

  // Exact everywhere, equal to a from-scratch count.
  for (const org of ALL) {
    const who = member(t, org);
    const loads = await who.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: org });
    const invoices = await who.query(api.invoices.countInvoicesByStatusDetailed, {
      workosOrgId: org,
    });
    expect([loads.state, invoices.state], org).toEqual(["exact", "exact"]);
    expect(await badges(t, org), org).toEqual(expectedBadges(await countFromScratch(t, org)));
  }
  expect(seen.exact).toBeGreaterThan(0);
  console.log("[example.migration] rehearsal", { writes, migrationSteps: steps, seen });
});
