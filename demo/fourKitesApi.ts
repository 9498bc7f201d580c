/**
 * A stand-in for each org's FourKites account, so the story's sync runs the
 * orgs' own integrations for real with no network: `GET <base>?page=N&perPage=M`
 * with the account's `apikey` header is answered from a list of shipments, as
 * `{ data: [...], totalCount }`, through a stubbed global `fetch`. A wrong key
 * gets 401, an unknown path 404, as the real API would. The stub answers only
 * the stand-in's host; the live step unstubs it before it reaches 127.0.0.1.
 */
import { vi } from "vitest";
import { stubSyncEnv } from "../tests/support/fourKitesSync";

/** The stand-in's host; each account is `<host>/<account>/shipments`. */
const FOURKITES_HOST = "https://api.fourkites.demo";

/** The integration settings (deployment key, HTTP tunables) the sync reads from the environment. */
export function configureFourKites(): void {
  stubSyncEnv();
}

/** One FourKites account of the stand-in. */
export type StandInAccount = { baseUrl: string; apiKey: string; shipments: unknown[] };

/** The account an org connects (base URL and api key of its own). */
export function standInAccount(name: string, shipments: unknown[]): StandInAccount {
  return {
    baseUrl: `${FOURKITES_HOST}/${name}/shipments`,
    apiKey: `demo-fourkites-key-${name}`,
    shipments,
  };
}

/** What the stand-in served. */
export type FakeFourKites = { requests: string[] };

/** Serves `accounts` (any JSON values: the sync must cope with bad ones) page by page. */
export function serveAccounts(accounts: readonly StandInAccount[]): FakeFourKites {
  const served: FakeFourKites = { requests: [] };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  vi.stubGlobal("fetch", async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    served.requests.push(url.toString());
    const account = accounts.find((a) => a.baseUrl === `${url.origin}${url.pathname}`);
    if (account === undefined) return json(404, { error: "not found" });
    if (new Headers(init?.headers).get("apikey") !== account.apiKey) {
      return json(401, { error: "invalid api key" });
    }
    const page = Number(url.searchParams.get("page") ?? "1");
    const perPage = Number(url.searchParams.get("perPage") ?? "100");
    return json(200, {
      data: account.shipments.slice((page - 1) * perPage, page * perPage),
      totalCount: account.shipments.length,
    });
  });
  return served;
}
