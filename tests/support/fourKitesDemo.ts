/**
 * A demo-ready scenario for FourKites integrations (the demo's live step, and
 * a test): starts the fake FourKites API on 127.0.0.1, points each org's
 * integration at its own account there, with its own auth kind and
 * credentials (creating the integration, or updating the org's existing one:
 * a new base URL starts its sync from scratch), runs cron ticks until every
 * org has pulled, then a second pass over the same window (nothing changes),
 * and returns what an operator would see (`fourKitesSync:status`). The server
 * is always closed.
 *
 * The caller must have set `FOURKITES_CREDENTIALS_KEY` (see `stubSyncEnv`).
 */
import { api, internal } from "../../convex/_generated/api";
import type { FourKitesCredentials } from "../../convex/model/fourKites/credentials";
import { startFakeFourKites, type Shape } from "./fourKitesServer";
import { createIntegration, cronTick, integrations, makeAllDue, manager } from "./fourKitesSync";
import type { Backend } from "./setup";

export type DemoOrg = { workosOrgId: string; shipments: unknown[] };

const KINDS: Array<{ make: (i: number) => FourKitesCredentials; shape: Shape; total: boolean }> = [
  { make: (i) => ({ kind: "apikey", apiKey: `demo-key-${i}` }), shape: "data", total: true },
  {
    make: (i) => ({ kind: "oauth2", apiKey: `demo-client-${i}`, clientSecret: `demo-secret-${i}` }),
    shape: "dataShipments",
    total: true,
  },
  {
    make: (i) => ({ kind: "basic", username: `demo-user-${i}`, password: `demo-pw-${i}` }),
    shape: "shipments",
    total: false,
  },
  {
    make: (i) => ({ kind: "bearer", accessToken: `demo-token-${i}` }),
    shape: "array",
    total: false,
  },
];

/** Runs the scenario; returns the status after the first tick and after the re-run. */
export async function runFourKitesIntegrationsDemo(t: Backend, orgs: DemoOrg[]) {
  const server = await startFakeFourKites();
  try {
    const existing = new Set((await integrations(t)).map((i) => i.workosOrgId));
    for (const [i, org] of orgs.entries()) {
      const kind = KINDS[i % KINDS.length];
      const auth = kind.make(i);
      const tenant = `demo-${i}`;
      server.tenants.set(tenant, {
        auth,
        shape: kind.shape,
        withTotal: kind.total,
        shipments: org.shipments,
      });
      if (existing.has(org.workosOrgId)) {
        await manager(t, org.workosOrgId).action(api.fourKitesIntegrations.updateIntegration, {
          workosOrgId: org.workosOrgId,
          baseUrl: server.baseUrl(tenant),
          credentials: auth,
        });
      } else {
        await createIntegration(t, org.workosOrgId, server.baseUrl(tenant), auth);
      }
    }
    const firstTick = await cronTick(t);
    const afterFirst = await t.query(internal.fourKitesSync.status, {});
    await makeAllDue(t);
    const secondTick = await cronTick(t);
    const afterSecond = await t.query(internal.fourKitesSync.status, {});
    return {
      firstTick,
      secondTick,
      afterFirst,
      afterSecond,
      requests: server.requests.length,
    };
  } finally {
    await server.close();
  }
}
