/**
 * FourKites credentials: the four auth kinds an org can configure, and their
 * encryption at rest. Credentials are stored only as AES-256-GCM ciphertext
 * (WebCrypto, available in the default Convex runtime) under a deployment key
 * from the environment; the org id is bound in as additional authenticated
 * data, so a ciphertext copied onto another org's integration does not
 * decrypt. Plaintext credentials live only inside the sync action and the
 * create/update/test calls; no function returns them and nothing logs them.
 *
 * Environment:
 * - `FOURKITES_CREDENTIALS_KEY`: base64 of 32 random bytes
 *   (`openssl rand -base64 32`), the key new ciphertexts use.
 * - `FOURKITES_CREDENTIALS_KEY_VERSION`: its version (positive integer,
 *   default 1), stored beside each ciphertext.
 * - `FOURKITES_CREDENTIALS_KEY_V<n>`: an older key still needed to decrypt
 *   ciphertexts of version n during a rotation (see docs/fourkites.md).
 */
import { v, type Infer } from "convex/values";
import { appError } from "../../lib/errors";
import { readEnv } from "../../lib/env";
import type { EncryptedCredentials } from "./fields";

const secret = v.string();

/**
 * Plaintext credentials, by kind. `oauth2` is the client-credentials grant
 * with the api key as `client_id`.
 */
export const vFourKitesCredentials = v.union(
  v.object({ kind: v.literal("apikey"), apiKey: secret }),
  v.object({ kind: v.literal("oauth2"), apiKey: secret, clientSecret: secret }),
  v.object({ kind: v.literal("basic"), username: secret, password: secret }),
  v.object({ kind: v.literal("bearer"), accessToken: secret }),
);
export type FourKitesCredentials = Infer<typeof vFourKitesCredentials>;

/** Longest accepted credential field (real ones are well under 1 KB). */
export const MAX_SECRET_LENGTH = 4096;

/** The secret values of `c` (for validation and for tests that look for leaks). */
export function secretValues(c: FourKitesCredentials): string[] {
  switch (c.kind) {
    case "apikey":
      return [c.apiKey];
    case "oauth2":
      return [c.apiKey, c.clientSecret];
    case "basic":
      return [c.username, c.password];
    case "bearer":
      return [c.accessToken];
  }
}

/**
 * Refuses empty, oversized or control-character credentials (they would
 * break headers) with `INVALID_ARGUMENT`; never echoes the value.
 */
export function assertCredentialsWellFormed(c: FourKitesCredentials): void {
  for (const value of secretValues(c)) {
    if (
      value.length === 0 ||
      value.length > MAX_SECRET_LENGTH ||
      /[\u0000-\u001f\u007f]/.test(value)
    ) {
      throw appError(
        "INVALID_ARGUMENT",
        `FourKites ${c.kind} credentials must be 1..${MAX_SECRET_LENGTH} characters without control characters.`,
        { field: "credentials" },
      );
    }
  }
  if (c.kind === "basic" && c.username.includes(":")) {
    throw appError("INVALID_ARGUMENT", "A basic-auth username must not contain ':'.", {
      field: "credentials",
    });
  }
}

function misconfigured(message: string) {
  return appError("MISCONFIGURED", message, { setting: "FOURKITES_CREDENTIALS_KEY" });
}

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  const binary = atob(s);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The key version new ciphertexts are written with. */
function currentKeyVersion(): number {
  const raw = readEnv("FOURKITES_CREDENTIALS_KEY_VERSION");
  if (raw === null) return 1;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw misconfigured("FOURKITES_CREDENTIALS_KEY_VERSION must be a positive integer.");
  }
  return n;
}

async function importKey(version: number): Promise<CryptoKey> {
  const current = currentKeyVersion();
  const name =
    version === current ? "FOURKITES_CREDENTIALS_KEY" : `FOURKITES_CREDENTIALS_KEY_V${version}`;
  const raw = readEnv(name);
  if (raw === null) {
    throw misconfigured(
      `Set ${name} (base64 of 32 random bytes, e.g. \`openssl rand -base64 32\`) to store FourKites credentials.`,
    );
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromBase64(raw.trim());
  } catch {
    throw misconfigured(`${name} is not valid base64.`);
  }
  if (bytes.length !== 32) {
    throw misconfigured(`${name} must decode to 32 bytes (got ${bytes.length}).`);
  }
  return await crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
}

const additionalData = (workosOrgId: string) =>
  new TextEncoder().encode(`fourkites-credentials:${workosOrgId}`);

/**
 * Encrypts `credentials` for `workosOrgId` with the current key and a random IV.
 *
 * @throws `MISCONFIGURED` when the key is missing or malformed.
 */
export async function encryptCredentials(
  workosOrgId: string,
  credentials: FourKitesCredentials,
): Promise<EncryptedCredentials> {
  const keyVersion = currentKeyVersion();
  const key = await importKey(keyVersion);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plaintext = new TextEncoder().encode(JSON.stringify(credentials));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(workosOrgId) },
    key,
    plaintext,
  );
  return { ciphertext: toBase64(new Uint8Array(ciphertext)), iv: toBase64(iv), keyVersion };
}

/**
 * Decrypts what `encryptCredentials` wrote for the same org.
 *
 * @throws `MISCONFIGURED` when the key of its version is missing, malformed
 *   or wrong (GCM authentication fails: a different key, another org's
 *   ciphertext, or tampering). The message never carries key material.
 */
export async function decryptCredentials(
  workosOrgId: string,
  stored: EncryptedCredentials,
): Promise<FourKitesCredentials> {
  const key = await importKey(stored.keyVersion);
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(stored.iv), additionalData: additionalData(workosOrgId) },
      key,
      fromBase64(stored.ciphertext),
    );
  } catch {
    throw misconfigured(
      `The stored FourKites credentials do not decrypt with key version ${stored.keyVersion} (wrong key, or the data was altered); set the credentials again.`,
    );
  }
  return JSON.parse(new TextDecoder().decode(plaintext)) as FourKitesCredentials;
}

/** True when `stored` was written with an older key than the current one. */
export function needsReencryption(stored: EncryptedCredentials): boolean {
  return stored.keyVersion !== currentKeyVersion();
}
