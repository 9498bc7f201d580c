/**
 * The WorkOS SDK (@workos-inc/node 8) as this project uses it: a client for
 * the sync; and webhook signature verification (Web Crypto, over the raw body).
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
import { WorkOS } from "@workos-inc/node";
import { z } from "zod";
import { isBeyondSkew } from "./clock";
import { readEnv, requireEnv } from "./env";

/**
 * Oldest signature timestamp accepted (the SDK's default: 3 minutes). The
 * newest is now + `MAX_CLOCK_SKEW_MS` (`lib/clock.ts`).
 */
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

/** Why a delivery failed verification (for the log; the caller only learns 401). */
export type SignatureFailure = { ok: false; message: string };

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Checks the `WorkOS-Signature` header (`t=<ms>, v1=<hex HMAC-SHA256>`) over
 * the raw body, before anything is parsed: WorkOS signs `<t>.<raw body>`.
 *
 * - The timestamp must lie in `[now - WEBHOOK_TOLERANCE_MS, now +
 *   MAX_CLOCK_SKEW_MS]`: old deliveries are replays, and one dated ahead
 *   would stay replayable for as long.
 * - The MAC is checked with Web Crypto's `verify` (constant time).
 *
 * Written here rather than with the SDK's `verifyHeader`, which (in 8.x)
 * checks `JSON.stringify` of the parsed payload, so it needs the body parsed
 * first and bounds the timestamp on one side only.
 */
export async function verifyWebhookSignature(args: {
  rawBody: string;
  sigHeader: string;
  secret: string;
  now: number;
}): Promise<{ ok: true } | SignatureFailure> {
  let timestamp: string | undefined;
  const macs: string[] = [];
  for (const part of args.sigHeader.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") timestamp = value;
    else if (key === "v1") macs.push(value);
  }
  if (timestamp === undefined || !/^\d{1,16}$/.test(timestamp) || macs.length === 0) {
    return { ok: false, message: "The signature header is malformed." };
  }
  const signedAt = Number(timestamp);
  if (signedAt < args.now - WEBHOOK_TOLERANCE_MS) {
    return { ok: false, message: "The signature timestamp is too old." };
  }
  if (isBeyondSkew(signedAt, args.now)) {
    return { ok: false, message: "The signature timestamp is in the future." };
  }
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(args.secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const signed = encoder.encode(`${timestamp}.${args.rawBody}`);
  for (const mac of macs) {
    if (!HEX_SHA256.test(mac)) continue;
    if (await crypto.subtle.verify("HMAC", key, hexToBytes(mac), signed)) return { ok: true };
  }
  return { ok: false, message: "The signature does not match." };
}
