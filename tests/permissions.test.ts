/**
 * Configurable permissions (`BILLING_PERMISSIONS`, `INTEGRATIONS_PERMISSIONS`):
 * parsing, the generic check, and the billing functions honouring the
 * configured list.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api } from "../convex/_generated/api";
import {
  BILLING,
  BILLING_PERMISSION,
  INTEGRATIONS,
  INTEGRATIONS_PERMISSION,
  configuredPermissions,
  hasAnyPermission,
  parsePermissionList,
} from "../convex/lib/auth";
import { seedOrg } from "./support/seed";
import { expectRejected, member, newBackend, ORG_A } from "./support/setup";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("parsePermissionList", () => {
  test("unset or blank means the defaults", () => {
    expect(parsePermissionList("X", undefined, ["a:b"])).toEqual(["a:b"]);
    expect(parsePermissionList("X", "", ["a:b"])).toEqual(["a:b"]);
    expect(parsePermissionList("X", "   ", ["a:b"])).toEqual(["a:b"]);
  });

  test("entries are trimmed, empties and repeats dropped", () => {
    expect(
      parsePermissionList("X", " accounting:manage ,, invoices:bulk-update,accounting:manage,", []),
    ).toEqual(["accounting:manage", "invoices:bulk-update"]);
    expect(parsePermissionList("X", "billing", ["a:b"])).toEqual(["billing"]);
  });

  test("a set value naming nothing usable fails closed with the variable's name", () => {
    for (const bad of [",", " , ,", "accounting manage", 'a:b,"c:d"', "a:b,c\td"]) {
      expect(() => parsePermissionList("BILLING_PERMISSIONS", bad, ["a:b"])).toThrow(
        /BILLING_PERMISSIONS/,
      );
    }
  });
});

describe("hasAnyPermission", () => {
  test("defaults when unset", () => {
    expect(configuredPermissions(BILLING)).toEqual([BILLING_PERMISSION]);
    expect(configuredPermissions(INTEGRATIONS)).toEqual([INTEGRATIONS_PERMISSION]);
    const caller = { permissions: [BILLING_PERMISSION] };
    expect(hasAnyPermission(caller, BILLING.envName, BILLING.defaults)).toBe(true);
    expect(hasAnyPermission(caller, INTEGRATIONS.envName, INTEGRATIONS.defaults)).toBe(false);
    expect(
      hasAnyPermission({ permissions: [INTEGRATIONS_PERMISSION] }, "INTEGRATIONS_PERMISSIONS", [
        INTEGRATIONS_PERMISSION,
      ]),
    ).toBe(true);
  });

  test("any one configured permission grants; the default no longer does when replaced", () => {
    vi.stubEnv("BILLING_PERMISSIONS", "accounting:manage, billing:admin");
    const check = (permissions: unknown) =>
      hasAnyPermission({ permissions }, BILLING.envName, BILLING.defaults);
    expect(check(["accounting:manage"])).toBe(true);
    expect(check(["loads:read", "billing:admin"])).toBe(true);
    expect(check([BILLING_PERMISSION])).toBe(false);
    expect(check([])).toBe(false);
    // A malformed claim grants nothing.
    expect(check(undefined)).toBe(false);
    expect(check("accounting:manage")).toBe(false);
    expect(check([42, null])).toBe(false);
  });

  test("the two sets are independent", () => {
    vi.stubEnv("INTEGRATIONS_PERMISSIONS", "fourkites:admin");
    expect(hasAnyPermission({ permissions: ["fourkites:admin"] }, "BILLING_PERMISSIONS", [])).toBe(
      false,
    );
    expect(configuredPermissions(INTEGRATIONS)).toEqual(["fourkites:admin"]);
    expect(configuredPermissions(BILLING)).toEqual([BILLING_PERMISSION]);
  });
});

describe("billing functions use BILLING_PERMISSIONS", () => {
  async function seeded() {
    const t = newBackend();
    const a = await seedOrg(t, ORG_A, { loads: 2, invoiceStatus: () => "DRAFT" });
    return { t, a };
  }

  test("a team's own permission grants billing; the default then does not", async () => {
    vi.stubEnv("BILLING_PERMISSIONS", "accounting:manage,finance:write");
    const { t, a } = await seeded();
    const bill = (permissions: string[], i: number) =>
      member(t, ORG_A, permissions).mutation(api.invoices.bulkUpdateStatus, {
        workosOrgId: ORG_A,
        invoiceIds: [a.invoiceIds[i]],
        status: "BILLED",
      });
    expect((await bill(["accounting:manage"], 0)).updated).toBe(1);
    expect((await bill(["finance:write"], 1)).updated).toBe(1);
    await expectRejected(t, () => bill([BILLING_PERMISSION], 0), "MISSING_PERMISSION");
    await expectRejected(
      t,
      () =>
        member(t, ORG_A, ["loads:read"]).mutation(api.lanes.createLaneAndBackfill, {
          workosOrgId: ORG_A,
          origin: "*",
          destination: { city: "Dallas", state: "TX" },
          rateCents: 100,
        }),
      "MISSING_PERMISSION",
    );
  });

  test("the refusal names the accepted permissions", async () => {
    vi.stubEnv("BILLING_PERMISSIONS", "accounting:manage");
    const { t, a } = await seeded();
    const call = member(t, ORG_A, []).mutation(api.invoices.createInvoice, {
      workosOrgId: ORG_A,
      loadId: a.loadIds[0],
      amountCents: 1,
    });
    await expect(call).rejects.toThrow(/accounting:manage/);
  });

  test("a malformed value refuses everyone and writes nothing", async () => {
    vi.stubEnv("BILLING_PERMISSIONS", " , ");
    const { t, a } = await seeded();
    await expect(
      member(t, ORG_A, [BILLING_PERMISSION]).mutation(api.invoices.bulkVoidInvoices, {
        workosOrgId: ORG_A,
        invoiceIds: [a.invoiceIds[0]],
      }),
    ).rejects.toThrow(/BILLING_PERMISSIONS/);
    const invoice = await t.run(async (ctx) => await ctx.db.get("invoices", a.invoiceIds[0]));
    expect(invoice?.status).toBe("DRAFT");
  });
});
