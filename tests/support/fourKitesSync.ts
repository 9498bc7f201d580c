/**
 * Helpers for the FourKites integration tests: environment, a manager
 * identity, creating integrations, one cron tick run to completion, and a
 * dump of every table.
 */
import { afterEach, beforeEach, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { FourKitesCredentials } from "../../convex/model/fourKites/credentials";
import { latestDueAt, leaseHolds } from "../../convex/model/fourKites/storedValues";
import { member, type Backend } from "./setup";

export const TEST_KEY = btoa(
  String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 7 * i + 3)),
);

/** Encryption key and short HTTP tunables (timeouts, backoff) for tests. */
export function stubSyncEnv(): void {
  vi.stubEnv("FOURKITES_CREDENTIALS_KEY", TEST_KEY);
  // Generous: several syncs share one event loop with CPU-heavy in-memory mutations.
  vi.stubEnv("FOURKITES_HTTP_TIMEOUT_MS", "20000");
  vi.stubEnv("FOURKITES_HTTP_MAX_ATTEMPTS", "3");
  vi.stubEnv("FOURKITES_HTTP_BACKOFF_MS", "5");
  vi.stubEnv("FOURKITES_HTTP_MAX_RETRY_AFTER_MS", "2000");
}

/** `stubSyncEnv` before each test of the calling file; env stubs and mocks undone after each. */
export function syncEnvPerTest(): void {
  beforeEach(() => stubSyncEnv());
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
}

export const MANAGE = "integrations:manage";

/** A member of `org` allowed to manage integrations. */
export function manager(t: Backend, org: string) {
  return member(t, org, [MANAGE]);
}

export async function createIntegration(
  t: Backend,
  org: string,
  baseUrl: string,
  credentials: FourKitesCredentials,
  extra: { intervalMinutes?: number; lookbackMinutes?: number } = {},
) {
  return await manager(t, org).action(api.fourKitesIntegrations.createIntegration, {
    workosOrgId: org,
    baseUrl,
    credentials,
    ...extra,
  });
}

/**
 * The pages a pass asks for, in order, when it reads pages `from`..`to`: each
 * page, then the page before it again (`model/fourKites/pass.ts`), e.g.
 * `[1, 2, 1, 3, 2]` for pages 1 to 3, `[4, 3, 5, 4]` resuming at page 4 of 5.
 */
export function passRequests(to: number, from = 1): number[] {
  const out: number[] = [];
  for (let page = from; page <= to; page++) out.push(...(page > 1 ? [page, page - 1] : [page]));
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One cron tick: runs the dispatcher, then waits (real time, bounded) until
 * the workpool ran every sync it enqueued, i.e. until no integration holds a
 * lease and every due org has a newer `lastRun` than before.
 */
export async function cronTick(t: Backend): Promise<{ enqueued: number }> {
  const before = await integrations(t);
  const result = await t.mutation(internal.fourKitesSync.dispatchDueSyncs, {});
  const now0 = Date.now();
  // Orgs the dispatcher enqueues: due (or never due by a stored value the code
  // would not write), and not held by a live lease.
  const dueOrgs = new Set(
    before
      .filter(
        (i) =>
          i.enabled &&
          (i.nextDueAt <= now0 || !(i.nextDueAt <= latestDueAt(now0))) &&
          !leaseHolds(i.running, now0),
      )
      .map((i) => i.workosOrgId),
  );
  const lastRunBefore = new Map(before.map((i) => [i.workosOrgId, i.lastRun?.runId]));
  for (let i = 0; i < 300; i++) {
    await t.finishInProgressScheduledFunctions();
    const now = await integrations(t);
    const done = now
      .filter((x) => dueOrgs.has(x.workosOrgId))
      .every(
        (x) => x.running === undefined && x.lastRun?.runId !== lastRunBefore.get(x.workosOrgId),
      );
    if (done) break;
    await sleep(50);
  }
  await t.finishInProgressScheduledFunctions();
  return result;
}

/** Every integration document. */
export async function integrations(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("fourKitesIntegrations").take(1000));
}

/** Makes every enabled integration due now. */
export async function makeAllDue(t: Backend): Promise<void> {
  await t.run(async (ctx) => {
    for (const i of await ctx.db.query("fourKitesIntegrations").take(1000)) {
      await ctx.db.patch("fourKitesIntegrations", i._id, { nextDueAt: Date.now() - 1 });
    }
  });
}

export const ALL_TABLES = [
  "organizations",
  "loads",
  "invoices",
  "lanes",
  "organizationStats",
  "statsDriftReports",
  "workosWebhookEvents",
  "fourKitesIntegrations",
] as const;

/** Every document of every app table, by table. */
export async function dumpAll(t: Backend): Promise<Record<string, unknown[]>> {
  return await t.run(async (ctx) => {
    const out: Record<string, unknown[]> = {};
    for (const table of ALL_TABLES) out[table] = await ctx.db.query(table).take(100_000);
    return out;
  });
}
