/**
 * The WorkOS webhook (`POST /workos/webhook`): what a delivery must look
 * like, the checks it passes before anything is written, and how an
 * organization event is applied exactly once (by `lifecycle.ts`).
 *
 * Answers: 500 when the webhook secret is not set (checked first: a
 * configuration fault, whatever the request); 401 for a missing or wrong
 * signature or a signature timestamp outside [now - 3 min, now + skew
 * allowance], checked over the raw body before anything is parsed, so an
 * unsigned request gets 401 whatever its body; then 400 for a signed body
 * that is not JSON or not a well-formed event; 200 for an applied, duplicate
 * or ignored event; 500 when the write failed (WorkOS then retries). Nothing
 * is written on a 4xx.
 */
import { v } from "convex/values";
import { z } from "zod";
import { internal } from "../../_generated/api";
import type { ActionCtx } from "../ctx";
import { readEnv } from "../../lib/env";
import { verifyWebhookSignature, zWorkOSTimestamp } from "../../lib/workos";
import {
  ORGANIZATION_EVENTS,
  vOrganizationEvent,
  vRegistryOutcome,
  type OrganizationEvent,
  type RegistryOutcome,
} from "../enums";
import { vOrgSnapshot, type OrgSnapshot } from "./registry";

/** The header carrying `t=<ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "WorkOS-Signature";

/** Every event: `{ id, event, created_at, data }`. */
const zEnvelope = z.object({
  id: z.string().min(1),
  event: z.string().min(1),
  created_at: zWorkOSTimestamp,
  data: z.unknown(),
});

/** The organization object in `data` (only the fields the registry keeps). */
const zOrganization = z.object({
  id: z.string().min(1),
  name: z.string(),
  updated_at: zWorkOSTimestamp,
});

/** An organization event, as the HTTP action hands it to the mutation. */
export const vOrganizationEventInput = {
  eventId: v.string(),
  event: vOrganizationEvent,
  eventCreatedAt: v.number(),
  organization: vOrgSnapshot,
};
/** A verified organization event, as `applyWebhookEvent` takes it. */
export type OrganizationEventInput = {
  eventId: string;
  event: OrganizationEvent;
  eventCreatedAt: number;
  organization: OrgSnapshot;
};

/** What applying one webhook event did. */
export const vApplyResult = v.object({
  outcome: vRegistryOutcome,
  /** True when this event id was applied before: nothing was written. */
  duplicate: v.boolean(),
  documentsWritten: v.number(),
});
export type ApplyResult = {
  outcome: RegistryOutcome;
  duplicate: boolean;
  documentsWritten: number;
};

type Delivery =
  | { kind: "organization"; input: OrganizationEventInput }
  | { kind: "ignored"; eventId: string; event: string }
  | { kind: "invalid"; message: string };

function isOrganizationEvent(event: string): event is OrganizationEvent {
  return ORGANIZATION_EVENTS.some((known) => known === event);
}

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
}

/** Reads a verified body: an organization event, another event, or garbage. */
export function parseDelivery(payload: unknown): Delivery {
  const envelope = zEnvelope.safeParse(payload);
  if (!envelope.success) return { kind: "invalid", message: issuesOf(envelope.error) };
  const { id, event, created_at, data } = envelope.data;
  if (!isOrganizationEvent(event)) return { kind: "ignored", eventId: id, event };
  const org = zOrganization.safeParse(data);
  if (!org.success) return { kind: "invalid", message: `data.${issuesOf(org.error)}` };
  return {
    kind: "organization",
    input: {
      eventId: id,
      event,
      eventCreatedAt: created_at,
      organization: {
        workosOrgId: org.data.id,
        name: org.data.name,
        workosUpdatedAt: org.data.updated_at,
      },
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function reply(status: number, body: Record<string, string | boolean>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function reject(status: 400 | 401, error: string, message: string): Response {
  console.warn("[workos.webhook] rejected", { status, error, message });
  return reply(status, { error, message });
}

/**
 * Handles one delivery: checks it, then applies an organization event through
 * `organizations.applyWebhookEvent` (one transaction). The signature is
 * checked over the raw body before it is parsed, and nothing is written
 * before both pass.
 */
export async function receiveWorkOSWebhook(
  ctx: Pick<ActionCtx, "runMutation">,
  request: Request,
): Promise<Response> {
  const secret = readEnv("WORKOS_WEBHOOK_SECRET");
  if (secret === null) {
    console.error("[workos.webhook] not configured", { missing: "WORKOS_WEBHOOK_SECRET" });
    return reply(500, { error: "NOT_CONFIGURED", message: "The webhook secret is not set." });
  }
  const sigHeader = request.headers.get(SIGNATURE_HEADER);
  if (sigHeader === null || sigHeader.trim() === "") {
    return reject(401, "MISSING_SIGNATURE", `The ${SIGNATURE_HEADER} header is missing.`);
  }
  // The signature is checked over the raw bytes before anything is parsed,
  // so a stranger learns nothing from the answer but 401.
  const rawBody = await request.text();
  const verified = await verifyWebhookSignature({ rawBody, sigHeader, secret, now: Date.now() });
  if (!verified.ok) return reject(401, "INVALID_SIGNATURE", verified.message);

  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    return reject(400, "MALFORMED_JSON", "The body is not valid JSON.");
  }
  if (!isRecord(payload)) return reject(400, "MALFORMED_JSON", "The body is not a JSON object.");

  const delivery = parseDelivery(payload);
  if (delivery.kind === "invalid") return reject(400, "INVALID_PAYLOAD", delivery.message);
  if (delivery.kind === "ignored") {
    console.log("[workos.webhook] ignored", { eventId: delivery.eventId, event: delivery.event });
    return reply(200, { received: true, outcome: "ignored" });
  }
  const result: ApplyResult = await ctx.runMutation(
    internal.organizations.applyWebhookEvent,
    delivery.input,
  );
  console.log("[workos.webhook] applied", {
    eventId: delivery.input.eventId,
    event: delivery.input.event,
    workosOrgId: delivery.input.organization.workosOrgId,
    ...result,
  });
  return reply(200, { received: true, outcome: result.outcome, duplicate: result.duplicate });
}
