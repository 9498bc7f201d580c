/**
 * The shared checks: one integer check (`requireInteger` and its
 * shorthands), one env reader (`lib/env.ts`), one "is this org deleted".
 */
import { ConvexError } from "convex/values";
import { afterEach, describe, expect, test, vi } from "vitest";
import { readEnv, requireEnv } from "../convex/lib/env";
import { isOrgDeleted } from "../convex/model/organizations/deleted";
import {
  assertNonNegativeInteger,
  optionalPositiveInteger,
  requireCents,
  requireInteger,
} from "../convex/model/validate";

function errorData(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConvexError) return error.data;
    throw error;
  }
  throw new Error("expected a ConvexError");
}

describe("integer checks", () => {
  test.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -1])(
    "every shorthand rejects %s with INVALID_ARGUMENT naming the field",
    (bad) => {
      for (const check of [
        () => requireCents(bad, "amountCents"),
        () => assertNonNegativeInteger(bad, "n"),
        () => optionalPositiveInteger(bad, "maxDocs"),
        () => requireInteger(bad, "limit", { min: 1, max: 100 }),
      ]) {
        expect(errorData(check)).toMatchObject({ code: "INVALID_ARGUMENT" });
      }
    },
  );

  test("ranges and messages", () => {
    expect(requireCents(0, "amountCents")).toBe(0);
    expect(optionalPositiveInteger(undefined, "maxDocs")).toBeUndefined();
    expect(optionalPositiveInteger(7, "maxDocs", 7)).toBe(7);
    expect(errorData(() => optionalPositiveInteger(0, "maxDocs"))).toEqual({
      code: "INVALID_ARGUMENT",
      message: "maxDocs must be a positive integer.",
      field: "maxDocs",
    });
    expect(errorData(() => optionalPositiveInteger(8, "maxDocs", 7))).toEqual({
      code: "INVALID_ARGUMENT",
      message: "maxDocs must be an integer from 1 to 7.",
      field: "maxDocs",
      min: 1,
      max: 7,
    });
    expect(errorData(() => requireCents(-5, "amountCents"))).toMatchObject({
      message: "amountCents must be an integer from 0 to 100000000 (cents).",
    });
  });
});

describe("environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  test.each([
    ["unset", undefined],
    ["empty", ""],
    ["blank", "   "],
  ])("%s counts as not set", (_what, value) => {
    vi.stubEnv("CHECKS_TEST_VAR", value);
    expect(readEnv("CHECKS_TEST_VAR")).toBeNull();
    expect(() => requireEnv("CHECKS_TEST_VAR", "sk_...")).toThrow(
      "CHECKS_TEST_VAR is not set: npx convex env set CHECKS_TEST_VAR sk_...",
    );
  });

  test("a set value is returned, and an error never carries it", () => {
    vi.stubEnv("CHECKS_TEST_VAR", "secret-value");
    expect(readEnv("CHECKS_TEST_VAR")).toBe("secret-value");
    expect(requireEnv("CHECKS_TEST_VAR")).toBe("secret-value");
  });
});

describe("is this org deleted", () => {
  test.each([
    [{ status: "deleted" as const }, true],
    [{ status: "active" as const }, false],
    [{ orgDeleted: true }, true],
    [{ orgDeleted: false }, false],
    [{}, false],
    [null, false],
    [undefined, false],
  ])("%o -> %s", (record, expected) => {
    expect(isOrgDeleted(record)).toBe(expected);
  });
});
