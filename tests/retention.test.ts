/**
 * Retention (`retention.purgeExpired`, `retention.purgeBatch`): deletes only
 * records past their window, in bounded batches measured with transaction
 * limits on, and refuses bad windows and bad arguments without writing.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import crons from "../convex/crons";
import { MAX_PURGE_BATCH_SIZE, PURGE_BATCH_SIZE } from "../convex/model/retention/purge";
import { retentionDays, WEBHOOK_EVENT_RETENTION } from "../convex/model/retention/windows";
import { holdScheduler, pendingJobs, runScheduled } from "./support/scheduled";
import { expectRejected, newBackend, ORG_A, type Backend } from "./support/setup";

const DAY = 24 * 60 * 60 * 1000;

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Inserts webhook event ids processed `ageDays` ago (one per entry). */
async function insertEvents(t: Backend, ageDays: number[]): Promise<void> {
  const now = Date.now();
  await t.run(async (ctx) => {
    for (const [i, age] of ageDays.entries()) {
      await ctx.db.insert("workosWebhookEvents", {
        eventId: `event_${age}_${i}`,
        event: "organization.updated",
        workosOrgId: ORG_A,
        eventCreatedAt: now - age * DAY,
        outcome: "updated",
        processedAt: now - age * DAY,
      });
    }
  });
}

/** Inserts drift reports detected `ageDays` ago. */
async function insertReports(t: Backend, ageDays: number[]): Promise<void> {
  const now = Date.now();
  await t.run(async (ctx) => {
    for (const age of ageDays) {
      await ctx.db.insert("statsDriftReports", {
        workosOrgId: ORG_A,
        entity: "loads",
        source: "recount",
        runId: `run_${age}`,
        detectedAt: now - age * DAY,
        buckets: [{ status: "Open", measure: "count", stored: 3, actual: 4, delta: 1 }],
      });
    }
  });
}

/** Inserts alert delivery rows created `ageDays` ago (the system clock is set back). */
async function insertAlerts(t: Backend, ageDays: number[]): Promise<void> {
  const now = Date.now();
  for (const age of ageDays) {
    vi.useFakeTimers({ toFake: ["Date"], now: now - age * DAY });
    await t.run(async (ctx) => {
      await ctx.db.insert("statsAlerts", {
        kind: "run_failed",
        key: `run_failed:${ORG_A}:all:run_${age}_${Math.random()}`,
        workosOrgId: ORG_A,
        runId: `run_${age}`,
        state: "delivered",
        attempts: 1,
        createdAt: Date.now(),
      });
    });
    vi.useRealTimers();
  }
}

async function remaining(t: Backend) {
  return await t.run(async (ctx) => ({
    events: (await ctx.db.query("workosWebhookEvents").take(10_000)).map(
      (e) => (Date.now() - e.processedAt) / DAY,
    ),
    reports: (await ctx.db.query("statsDriftReports").take(10_000)).map(
      (r) => (Date.now() - r.detectedAt) / DAY,
    ),
  }));
}

const repeat = (n: number, value: number) => Array.from({ length: n }, () => value);

describe("daily purge", () => {
  test("deletes only what is past its window, in batches within transaction limits", async () => {
    const t = newBackend({ transactionLimits: true });
    // Alert rows created 200 and 10 days ago (first: creation times only increase).
    await insertAlerts(t, [...repeat(3, 200), ...repeat(2, 10)]);
    // Defaults: webhook event ids 30 days, drift reports and alerts 180 days.
    await insertEvents(t, [...repeat(600, 45), ...repeat(50, 31), ...repeat(40, 29), 2, 0]);
    await insertReports(t, [...repeat(300, 400), ...repeat(20, 181), ...repeat(30, 179), 1]);

    const runs = await holdScheduler(t, async () => {
      const start = await t.mutation(async (ctx) => {
        const before = await ctx.meta.getTransactionMetrics();
        await ctx.runMutation(internal.retention.purgeExpired, {});
        const after = await ctx.meta.getTransactionMetrics();
        return after.documentsRead.used - before.documentsRead.used;
      });
      // The cron itself reads nothing: the batches do the work.
      expect(start).toBe(0);
      return await runScheduled(t);
    });

    const left = await remaining(t);
    expect(left.events.length).toBe(42);
    expect(Math.max(...left.events)).toBeLessThan(30);
    expect(left.reports.length).toBe(31);
    expect(Math.max(...left.reports)).toBeLessThan(180);

    // 650 event ids = 3 batches (256, 256, 138); 320 reports = 2 (256, 64).
    expect(runs.every((r) => r.name === "retention:purgeBatch")).toBe(true);
    const deleted = (table: string) =>
      runs
        .filter((r) => r.args.table === table)
        .map((r) => (r.measurement.ok ? r.measurement.io.documentsWritten : -1));
    expect(deleted("workosWebhookEvents")).toEqual([256, 256, 138]);
    expect(deleted("statsDriftReports")).toEqual([256, 64]);
    expect(deleted("statsAlerts")).toEqual([3]);
    const alertAges = await t.run(async (ctx) =>
      (await ctx.db.query("statsAlerts").take(100)).map(
        (a) => (Date.now() - a._creationTime) / DAY,
      ),
    );
    expect(alertAges.length).toBe(2);
    expect(Math.max(...alertAges)).toBeLessThan(11);
    for (const run of runs) {
      expect(run.measurement.ok).toBe(true);
      // Each batch reads only what it deletes (the index range stops at the
      // cutoff); convex-test counts a delete as a read of the document too.
      expect(run.measurement.io.documentsRead).toBe(2 * run.measurement.io.documentsWritten);
      expect(run.measurement.io.documentsWritten).toBeLessThanOrEqual(PURGE_BATCH_SIZE);
    }
    expect(await pendingJobs(t)).toBe(0);
  });

  test("a second run with nothing expired reads and deletes nothing", async () => {
    const t = newBackend({ transactionLimits: true });
    await insertEvents(t, repeat(5, 10));
    await insertReports(t, repeat(5, 10));
    const runs = await holdScheduler(t, async () => {
      await t.mutation(internal.retention.purgeExpired, {});
      return await runScheduled(t);
    });
    expect(runs.length).toBe(3);
    for (const run of runs) {
      expect(run.measurement.io.documentsRead).toBe(0);
      expect(run.measurement.io.documentsWritten).toBe(0);
    }
    expect((await remaining(t)).events.length).toBe(5);
  });

  test("windows come from the environment", async () => {
    vi.stubEnv("WEBHOOK_EVENT_RETENTION_DAYS", "10");
    vi.stubEnv("DRIFT_REPORT_RETENTION_DAYS", " 7.5 ");
    const t = newBackend({ transactionLimits: true });
    await insertEvents(t, [11, 11, 9]);
    await insertReports(t, [8, 8, 8, 7]);
    await holdScheduler(t, async () => {
      await t.mutation(internal.retention.purgeExpired, {});
      return await runScheduled(t);
    });
    const left = await remaining(t);
    expect(left.events.length).toBe(1);
    expect(left.reports.length).toBe(1);
  });

  test("a malformed or too short window fails the run and deletes nothing", async () => {
    for (const [name, value] of [
      ["WEBHOOK_EVENT_RETENTION_DAYS", "3"], // inside WorkOS's redelivery period
      ["WEBHOOK_EVENT_RETENTION_DAYS", "thirty"],
      ["DRIFT_REPORT_RETENTION_DAYS", "0"],
      ["DRIFT_REPORT_RETENTION_DAYS", "-5"],
      ["DRIFT_REPORT_RETENTION_DAYS", "Infinity"],
    ] as const) {
      vi.stubEnv(name, value);
      const t = newBackend();
      await insertEvents(t, [45]);
      await insertReports(t, [400]);
      await expect(t.mutation(internal.retention.purgeExpired, {})).rejects.toThrow(name);
      expect(await pendingJobs(t)).toBe(0);
      expect((await remaining(t)).events.length).toBe(1);
      vi.unstubAllEnvs();
    }
  });

  test("the purge is a daily cron", () => {
    expect(Object.values(crons.crons)).toContainEqual({
      name: "retention:purgeExpired",
      args: [{}],
      schedule: { type: "cron", cron: "30 6 * * *" },
    });
  });

  test("retentionDays: default when unset or blank", () => {
    expect(retentionDays(WEBHOOK_EVENT_RETENTION, undefined)).toBe(30);
    expect(retentionDays(WEBHOOK_EVENT_RETENTION, " ")).toBe(30);
    expect(retentionDays(WEBHOOK_EVENT_RETENTION, "7")).toBe(7);
  });
});

describe("purgeBatch arguments", () => {
  test("bad batch sizes and too recent cutoffs: INVALID_ARGUMENT, nothing written", async () => {
    const t = newBackend();
    await insertEvents(t, [45, 20, 1]);
    await insertReports(t, [400, 100]);
    const old = Date.now() - 365 * DAY;
    for (const batchSize of [0, -1, 1.5, MAX_PURGE_BATCH_SIZE + 1, Number.NaN]) {
      await expectRejected(
        t,
        () =>
          t.mutation(internal.retention.purgeBatch, {
            table: "workosWebhookEvents",
            cutoff: Date.now(),
            batchSize,
          }),
        "INVALID_ARGUMENT",
      );
      await expectRejected(
        t,
        () =>
          t.mutation(internal.retention.purgeBatch, {
            table: "statsDriftReports",
            cutoff: old,
            batchSize,
          }),
        "INVALID_ARGUMENT",
      );
    }
    // Webhook event ids younger than 7 days still guard against redeliveries.
    for (const cutoff of [Date.now(), Date.now() - 6 * DAY, Number.POSITIVE_INFINITY]) {
      await expectRejected(
        t,
        () => t.mutation(internal.retention.purgeBatch, { table: "workosWebhookEvents", cutoff }),
        "INVALID_ARGUMENT",
      );
    }
    await expectRejected(
      t,
      () =>
        t.mutation(internal.retention.purgeBatch, {
          table: "statsDriftReports",
          cutoff: Date.now(),
        }),
      "INVALID_ARGUMENT",
    );
    // An operator's own cutoff within bounds works, in one batch of the given size.
    const result = await t.mutation(internal.retention.purgeBatch, {
      table: "workosWebhookEvents",
      cutoff: Date.now() - 10 * DAY,
      batchSize: 1,
    });
    expect(result).toEqual({ table: "workosWebhookEvents", deleted: 1, continued: true });
  });
});
