/**
 * Test doubles for WorkOS: webhook deliveries signed the way WorkOS signs
 * them, and a fake organizations API served through a stubbed `fetch`.
 */
import { vi } from "vitest";
import type { Backend } from "./setup";

export const WEBHOOK_SECRET = "whsec_test_0123456789";
export const API_KEY = "sk_test_fake";
export const CLIENT_ID = "client_test";

/** Sets the deployment's WorkOS environment variables for one test. */
export function stubWorkOSEnv(): void {
  vi.stubEnv("WORKOS_WEBHOOK_SECRET", WEBHOOK_SECRET);
  vi.stubEnv("WORKOS_API_KEY", API_KEY);
  vi.stubEnv("WORKOS_CLIENT_ID", CLIENT_ID);
}

async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `WorkOS-Signature` for `body`: `t=<ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export async function signature(
  body: string,
  options: { secret?: string; timestamp?: number } = {},
): Promise<string> {
  const timestamp = options.timestamp ?? Date.now();
  const mac = await hmacSha256Hex(options.secret ?? WEBHOOK_SECRET, `${timestamp}.${body}`);
  return `t=${timestamp}, v1=${mac}`;
}

/** An organization object as WorkOS sends it (snake_case wire format). */
export function wireOrganization(id: string, name: string, updatedAt: number) {
  return {
    object: "organization",
    id,
    name,
    allow_profiles_outside_organization: false,
    domains: [],
    created_at: new Date(updatedAt - 1000).toISOString(),
    updated_at: new Date(updatedAt).toISOString(),
    external_id: null,
    metadata: {},
  };
}

let eventCounter = 0;

/** A webhook event body for an organization. */
export function orgEvent(
  event: "organization.created" | "organization.updated" | "organization.deleted",
  org: { id: string; name: string; updatedAt: number },
  options: { eventId?: string; createdAt?: number } = {},
) {
  return {
    id: options.eventId ?? `event_${String(++eventCounter).padStart(6, "0")}`,
    event,
    data: wireOrganization(org.id, org.name, org.updatedAt),
    created_at: new Date(options.createdAt ?? org.updatedAt).toISOString(),
  };
}

/** POSTs `body` to the webhook; signs it unless `sigHeader` is given (null: no header). */
export async function deliver(
  t: Backend,
  body: string | object,
  options: { sigHeader?: string | null } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const sigHeader = options.sigHeader === undefined ? await signature(raw) : options.sigHeader;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (sigHeader !== null) headers["WorkOS-Signature"] = sigHeader;
  const response = await t.fetch("/workos/webhook", { method: "POST", headers, body: raw });
  const json: Record<string, unknown> = await response.json();
  return { status: response.status, json };
}

/** What the fake organizations API saw. */
export type FakeApi = { requests: URL[] };

/**
 * Serves `GET https://api.workos.com/organizations` from `orgs` (in the given
 * order), `limit` per page (default 10, like WorkOS) with `list_metadata.after`
 * cursors, through a stubbed global `fetch`. Other paths answer 404, a wrong
 * API key 401, and the request numbered `failRequest` (0-based) 500.
 */
export function fakeWorkOSApi(
  orgs: ReturnType<typeof wireOrganization>[],
  options: { failRequest?: number } = {},
): FakeApi {
  const api: FakeApi = { requests: [] };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  vi.stubGlobal("fetch", async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    api.requests.push(url);
    if (options.failRequest === api.requests.length - 1) {
      return json(500, { message: "Internal Server Error" });
    }
    if (new Headers(init?.headers).get("Authorization") !== `Bearer ${API_KEY}`) {
      return json(401, { message: "Unauthorized" });
    }
    if (url.origin !== "https://api.workos.com" || url.pathname !== "/organizations") {
      return json(404, { message: "Not Found" });
    }
    const limit = Number(url.searchParams.get("limit") ?? "10");
    const after = url.searchParams.get("after");
    const start = after === null ? 0 : orgs.findIndex((o) => o.id === after) + 1;
    const data = orgs.slice(start, start + limit);
    const more = start + limit < orgs.length;
    return json(200, {
      object: "list",
      data,
      list_metadata: { before: null, after: more ? data[data.length - 1].id : null },
    });
  });
  return api;
}

/** A WorkOS-style organization id for test number `n`. */
export function orgId(n: number): string {
  return `org_01TEST${String(n).padStart(20, "0")}`;
}
