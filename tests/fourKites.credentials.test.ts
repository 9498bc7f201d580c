/**
 * FourKites credentials at rest: AES-GCM round trip, a fresh IV per
 * encryption, binding to the org, key rotation, and coded errors for a
 * missing, malformed or wrong key that never carry key material.
 */
import { ConvexError } from "convex/values";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  decryptCredentials,
  encryptCredentials,
  needsReencryption,
  type FourKitesCredentials,
} from "../convex/model/fourKites/credentials";
import { ORG_A, ORG_B } from "./support/setup";

const KEY_1 = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i + 1)));
const KEY_2 = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 200 - i)));

const ALL: FourKitesCredentials[] = [
  { kind: "apikey", apiKey: "ak-SECRET-1" },
  { kind: "oauth2", apiKey: "client-SECRET-2", clientSecret: "cs-SECRET-3" },
  { kind: "basic", username: "user-SECRET-4", password: "pw-SECRET-5 é ü" },
  { kind: "bearer", accessToken: "tok-SECRET-6" },
];

async function code(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConvexError) return e.data as { code: string; message: string };
    throw e;
  }
  throw new Error("expected a failure");
}

afterEach(() => vi.unstubAllEnvs());

describe("credentials encryption", () => {
  test("every auth kind round-trips; the stored form holds no plaintext; IVs differ", async () => {
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", KEY_1);
    for (const c of ALL) {
      const a = await encryptCredentials(ORG_A, c);
      const b = await encryptCredentials(ORG_A, c);
      expect(a.iv).not.toBe(b.iv);
      expect(a.ciphertext).not.toBe(b.ciphertext);
      expect(a.keyVersion).toBe(1);
      const stored = JSON.stringify(a);
      for (const s of Object.values(c).filter((x) => x !== c.kind)) {
        expect(stored).not.toContain(s);
        expect(stored).not.toContain(btoa(unescape(encodeURIComponent(s))));
      }
      expect(await decryptCredentials(ORG_A, a)).toEqual(c);
    }
  });

  test("a ciphertext does not decrypt for another org, with another key, or altered", async () => {
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", KEY_1);
    const enc = await encryptCredentials(ORG_A, ALL[0]);
    expect((await code(decryptCredentials(ORG_B, enc))).code).toBe("MISCONFIGURED");
    const flipped = atob(enc.ciphertext);
    const altered = btoa(String.fromCharCode(flipped.charCodeAt(0) ^ 1) + flipped.slice(1));
    expect((await code(decryptCredentials(ORG_A, { ...enc, ciphertext: altered }))).code).toBe(
      "MISCONFIGURED",
    );
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", KEY_2);
    const wrong = await code(decryptCredentials(ORG_A, enc));
    expect(wrong.code).toBe("MISCONFIGURED");
    expect(wrong.message).not.toContain(KEY_2);
  });

  test("a missing, non-base64 or short key is a coded error naming the variable", async () => {
    for (const key of [undefined, "", "!!not base64!!", btoa("short")]) {
      vi.stubEnv("FOURKITES_CREDENTIALS_KEY", key as string);
      const e = await code(encryptCredentials(ORG_A, ALL[0]));
      expect(e.code).toBe("MISCONFIGURED");
      expect(e.message).toContain("FOURKITES_CREDENTIALS_KEY");
    }
  });

  test("rotation: old ciphertexts decrypt with FOURKITES_CREDENTIALS_KEY_V<n>", async () => {
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", KEY_1);
    const old = await encryptCredentials(ORG_A, ALL[1]);
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY", KEY_2);
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY_VERSION", "2");
    expect(needsReencryption(old)).toBe(true);
    expect((await code(decryptCredentials(ORG_A, old))).message).toContain(
      "FOURKITES_CREDENTIALS_KEY_V1",
    );
    vi.stubEnv("FOURKITES_CREDENTIALS_KEY_V1", KEY_1);
    expect(await decryptCredentials(ORG_A, old)).toEqual(ALL[1]);
    const fresh = await encryptCredentials(ORG_A, ALL[1]);
    expect(fresh.keyVersion).toBe(2);
    expect(needsReencryption(fresh)).toBe(false);
  });
});
