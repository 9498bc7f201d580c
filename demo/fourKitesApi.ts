/**
 * A stand-in for the FourKites API, so `syncFromFourKites` runs for real with
 * no network: `GET {base}/shipments?page=n&per_page=m` is answered from a
 * list of shipments through a stubbed global `fetch`, in the envelope the
 * sync parses (`{ shipments, pagination: { page, totalPages } }`). Anything
 * else, or a wrong API key, gets an HTTP error, as the real API would.
 */
import { vi } from "vitest";

export const FOURKITES_BASE_URL = "https://api.fourkites.demo/api/v1";
const API_KEY = "demo-fourkites-key";

/** Points the sync at the stand-in (the Convex environment variables it reads). */
export function configureFourKites(): void {
  vi.stubEnv("FOURKITES_API_BASE_URL", FOURKITES_BASE_URL);
  vi.stubEnv("FOURKITES_API_KEY", API_KEY);
}

/** What the stand-in served. */
export type FakeFourKites = { requests: string[] };

/** Serves `shipments` (any JSON values: the sync must cope with bad ones) page by page. */
export function serveShipments(shipments: unknown[]): FakeFourKites {
  const served: FakeFourKites = { requests: [] };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  vi.stubGlobal("fetch", async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    served.requests.push(url.toString());
    if (new Headers(init?.headers).get("apikey") !== API_KEY) {
      return json(401, { error: "invalid api key" });
    }
    if (`${url.origin}${url.pathname}` !== `${FOURKITES_BASE_URL}/shipments`) {
      return json(404, { error: "not found" });
    }
    const page = Number(url.searchParams.get("page") ?? "1");
    const perPage = Number(url.searchParams.get("per_page") ?? "100");
    const totalPages = Math.max(1, Math.ceil(shipments.length / perPage));
    return json(200, {
      shipments: shipments.slice((page - 1) * perPage, page * perPage),
      pagination: { page, totalPages },
    });
  });
  return served;
}
