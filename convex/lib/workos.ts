/**
 * The WorkOS SDK (@workos-inc/node 8) as this project uses it: a client for
 * the sync, and webhook signature verification.
 *
 * Runtime: Convex bundles with the `convex` export condition, which the SDK
 * maps to its worker build (fetch + Web Crypto `SubtleCrypto`, no Node APIs),
 * so both run in the default runtime: no `"use node"` action is needed.
 *
 * Environment (set with `npx convex env set NAME value`):
 * - `WORKOS_API_KEY`: the sync's API key (`sk_...`);
 * - `WORKOS_WEBHOOK_SECRET`: the webhook endpoint's signing secret;
 * - `WORKOS_CLIENT_ID`: also read by `auth.config.ts`.
 */
import { SignatureVerificationException, WorkOS } from "@workos-inc/node";
import { z } from "zod";
import { readEnv, requireEnv } from "./env";

/** Oldest signature timestamp accepted (the SDK's default: 3 minutes). */
export const WEBHOOK_TOLERANCE_MS = 180_000;

/** A WorkOS timestamp (ISO 8601, e.g. `2024-05-01T12:00:00.000Z`), parsed to ms. */
export const zWorkOSTimestamp = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/**
 * A client authenticated with `WORKOS_API_KEY`.
 *
 * @throws when `WORKOS_API_KEY` is not set.
 */
export function workosClient(): WorkOS {
  const apiKey = requireEnv("WORKOS_API_KEY", "sk_...");
  return new WorkOS(apiKey, { clientId: readEnv("WORKOS_CLIENT_ID") ?? undefined });
}

/**
 * A client for webhook verification only. The SDK's constructor insists on an
 * API key or a client id although verification uses neither; the client id
 * is always set where auth works, so that is enough.
 */
function verificationClient(): WorkOS | null {
  const apiKey = readEnv("WORKOS_API_KEY") ?? undefined;
  const clientId = readEnv("WORKOS_CLIENT_ID") ?? undefined;
  if (apiKey === undefined && clientId === undefined) return null;
  return new WorkOS({ apiKey, clientId });
}

/** Why a delivery failed verification. */
export type SignatureFailure =
  | { ok: false; reason: "not_configured"; message: string }
  | { ok: false; reason: "bad_signature"; message: string };

/**
 * Checks the `WorkOS-Signature` header (`t=<ms>, v1=<hex HMAC-SHA256>`) of a
 * delivery whose body parsed to `payload`.
 *
 * WorkOS signs `<t>.<raw body>`. SDK 8.x's `webhooks.verifyHeader` (the check
 * inside `constructEvent`) HMACs `JSON.stringify(payload)` instead, which is
 * the raw body only when WorkOS serialized it the way `JSON.stringify` does.
 * So the SDK check runs first and, when it fails on a body in another form
 * (whitespace, `\u0026`-style escapes), the raw body is checked with the SDK's
 * own header parser and crypto provider. Both are HMACs under the secret, so
 * accepting either admits nothing WorkOS did not sign. Stale timestamps fail
 * both.
 */
export async function verifyWebhookSignature(args: {
  rawBody: string;
  payload: Record<string, unknown>;
  sigHeader: string;
  secret: string;
}): Promise<{ ok: true } | SignatureFailure> {
  const workos = verificationClient();
  if (workos === null) {
    return {
      ok: false,
      reason: "not_configured",
      message: "Neither WORKOS_CLIENT_ID nor WORKOS_API_KEY is set.",
    };
  }
  const { rawBody, payload, sigHeader, secret } = args;
  try {
    await workos.webhooks.verifyHeader({
      payload,
      sigHeader,
      secret,
      tolerance: WEBHOOK_TOLERANCE_MS,
    });
    return { ok: true };
  } catch (error) {
    if (!(error instanceof SignatureVerificationException)) throw error;
    if (rawBody !== JSON.stringify(payload) && (await rawBodySigned(workos, args))) {
      return { ok: true };
    }
    return { ok: false, reason: "bad_signature", message: error.message };
  }
}

/** Whether the header signs exactly `rawBody` with a timestamp inside the tolerance. */
async function rawBodySigned(
  workos: WorkOS,
  args: { rawBody: string; sigHeader: string; secret: string },
): Promise<boolean> {
  let timestamp: string;
  let hash: string | undefined;
  try {
    [timestamp, hash] = workos.webhooks.getTimestampAndSignatureHash(args.sigHeader);
  } catch (error) {
    if (error instanceof SignatureVerificationException) return false;
    throw error;
  }
  const signedAt = Number(timestamp);
  if (!hash || !Number.isSafeInteger(signedAt) || signedAt < Date.now() - WEBHOOK_TOLERANCE_MS) {
    return false;
  }
  const crypto = workos.getCryptoProvider();
  const expected = await crypto.computeHMACSignatureAsync(
    `${timestamp}.${args.rawBody}`,
    args.secret,
  );
  return await crypto.secureCompare(expected, hash);
}
