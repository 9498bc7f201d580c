/**
 * The demo's closing step: the three orgs' FourKites integrations (created in
 * the story's sync step) move to accounts of their own on a local fake
 * FourKites API on 127.0.0.1, each with another auth kind and response shape,
 * and are pulled on the schedule (`runFourKitesIntegrationsDemo` in
 * tests/support/fourKitesDemo.ts). It runs after the story, with real timers:
 * the syncs are real HTTP requests and workpool jobs. It adds its own
 * shipments, so the story's dashboards and drift report stay as they are.
 */
import { expect, vi } from "vitest";
import type { SyncHealth } from "../convex/model/fourKites/integrations";
import { runFourKitesIntegrationsDemo, type DemoOrg } from "../tests/support/fourKitesDemo";
import { stubSyncEnv } from "../tests/support/fourKitesSync";
import { generateShipments, withStatus } from "../tests/support/shipments";
import { differences } from "../tests/support/truth";
import type { Demo } from "./ops";
import { orgName, plural } from "./ops";
import { say } from "./print";

/** New shipments each org's FourKites account holds. */
const NEW_PER_ORG = [6, 9, 4];
/** A status no mapping knows yet (imported by `UNKNOWN_STATUS_RULE`). */
const NEW_STATUS = "AWAITING_CUSTOMS";

/** What the fake API serves for `org` (the `k`-th), and what it should yield. */
function accountOf(demo: Demo, k: number) {
  const org = demo.orgs[k];
  const known = org.shipments.slice(0, org.history);
  const fresh = generateShipments(
    {
      ...org.spec,
      prefix: `${org.spec.prefix}K`,
      idBase: org.spec.idBase + 800_000,
      seed: org.spec.seed + 500,
    },
    NEW_PER_ORG[k],
  );
  // History the story left alone: in transit from the end of the history
  // (the story's sync updated the first ones), delivered ones re-sent as they are.
  const updates = known
    .filter((s) => s.status === "InTransit")
    .slice(-2)
    .map((s) => withStatus(s, "Delivered", demo.now));
  const resends = known.filter((s) => s.status === "Delivered").slice(-3);
  const unknown = { ...fresh[0], id: org.spec.idBase + 800_900, status: NEW_STATUS };
  const bad = { ...fresh[1], id: org.spec.idBase + 800_901, updatedAt: "yesterday-ish" };
  const shipments: unknown[] = [...fresh, unknown, ...updates, ...resends, bad];
  return { org, shipments, valid: fresh.length + 1 + updates.length + resends.length };
}

function counts(h: SyncHealth): string {
  const c = h.lastRun?.counts;
  if (c === undefined) return "no run";
  return (
    `${plural(c.pages, "page")} (${plural(c.requests, "request")}), ${c.received} received, ` +
    `${c.skippedOld} updated before the window: ` +
    `${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ` +
    `${c.rejected} rejected, ${c.unknownStatus} unknown status`
  );
}

/** The orgs' integrations, pulled by two cron ticks; prints `fourKitesSync:status`. */
export async function scheduledIntegrations(demo: Demo): Promise<void> {
  const { t } = demo;
  say(
    "  fourKitesIntegrations:updateIntegration moves each org's integration to an account of its",
  );
  say(
    "  own on a local fake API (127.0.0.1), each with another auth kind (a new base URL starts the",
  );
  say(
    "  sync from scratch); the cron dispatcher (fourKitesSync:dispatchDueSyncs) enqueues one sync",
  );
  say("  per due org on the fourKitesWorkpool.");
  // The story's stand-in stubbed `fetch`: from here the requests really go out.
  vi.unstubAllGlobals();
  stubSyncEnv();
  const accounts = demo.orgs.map((_, k) => accountOf(demo, k));
  const orgs: DemoOrg[] = accounts.map((a) => ({
    workosOrgId: a.org.workosOrgId,
    shipments: a.shipments,
  }));
  const result = await runFourKitesIntegrationsDemo(t, orgs);
  const byOrg = (list: SyncHealth[], org: string) => {
    const found = list.find((h) => h.workosOrgId === org);
    if (found === undefined) throw new Error(`no integration for ${org}`);
    return found;
  };

  say(`  Tick 1: ${plural(result.firstTick.enqueued, "sync")} enqueued.`);
  expect(result.firstTick.enqueued).toBe(accounts.length);
  for (const a of accounts) {
    const h = byOrg(result.afterFirst.integrations, a.org.workosOrgId);
    say(
      `    ${orgName(demo, a.org.workosOrgId)} (${h.authKind}): ${h.lastRun?.outcome}, ${counts(h)}`,
    );
    for (const r of h.lastRun?.rejections ?? []) {
      say(`      rejected shipment ${r.shipmentId}: ${r.path}: ${r.message}`);
    }
    if ((h.lastRun?.unknownStatuses.length ?? 0) > 0) {
      say(
        `      unknown statuses: ${h.lastRun?.unknownStatuses.join(", ")} (imported, new loads Open)`,
      );
    }
    const c = h.lastRun?.counts;
    expect(h.lastRun?.outcome).toBe("completed");
    expect(h.lastError).toBeNull();
    expect(c?.rejected).toBe(1);
    expect(c?.unknownStatus).toBe(1);
    expect((c?.created ?? 0) + (c?.updated ?? 0) + (c?.unchanged ?? 0)).toBe(a.valid);
  }

  say(
    `  Tick 2 (all due again, same window): ${plural(result.secondTick.enqueued, "sync")} enqueued.`,
  );
  for (const a of accounts) {
    const h = byOrg(result.afterSecond.integrations, a.org.workosOrgId);
    say(
      `    ${orgName(demo, a.org.workosOrgId)} (${h.authKind}): ${h.lastRun?.outcome}, ${counts(h)}`,
    );
    expect(h.lastRun?.counts.created).toBe(0);
    expect(h.lastRun?.counts.updated).toBe(0);
    const next = h.nextDueAt === null ? "disabled" : new Date(h.nextDueAt).toISOString();
    say(`      next due ${next}`);
  }
  say(`  The fake API answered ${plural(result.requests, "request")}; nothing else was contacted.`);

  for (const a of accounts) {
    const diff = await differences(t, a.org.workosOrgId);
    if (diff.length > 0) {
      throw new Error(`${a.org.name} counters differ: ${JSON.stringify(diff)}`);
    }
  }
  say("  Checked from scratch: every org's counters equal its documents after the syncs.");
}
