/**
 * Hardening, issue 9 item 2: one amount cap (`MAX_AMOUNT_CENTS`) on every path
 * that sets an amount (manual invoices, lane rates and so promotions and
 * imports, the write layer itself), chosen so that no org's sums leave the
 * exactly representable range.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { StatsAccumulator } from "../convex/model/stats/engine";
import { CountedDb } from "../convex/model/stats/write/db";
import { STATS } from "../convex/model/statsConfig";
import { isValidAmountCents, MAX_AMOUNT_CENTS } from "../convex/model/validate";
import { seedOrg } from "./support/seed";
import {
  biller,
  DALLAS,
  ATLANTA,
  expectCountersExact,
  expectRejected,
  errorCode,
  newBackend,
  ORG_A,
  storedCounters,
} from "./support/setup";

const OUT_OF_RANGE = [
  ["negative", -1],
  ["fractional", 10.5],
  ["one over the cap", MAX_AMOUNT_CENTS + 1],
  ["near 2^53", Number.MAX_SAFE_INTEGER],
  ["past 2^53", Number.MAX_SAFE_INTEGER + 2],
  ["1e15", 1e15],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
] as const;

describe("amount cap", () => {
  test("the cap keeps every realistic org's sum exact", () => {
    // 90 million invoices at the cap still sum below 2^53.
    expect(MAX_AMOUNT_CENTS * 90_000_000).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(Number.isSafeInteger(MAX_AMOUNT_CENTS * 90_000_000)).toBe(true);
  });

  test("isValidAmountCents accepts exactly the integers 0..cap (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.constant(MAX_AMOUNT_CENTS)), (x) => {
        const expected = Number.isInteger(x) && x >= 0 && x <= MAX_AMOUNT_CENTS;
        expect(isValidAmountCents(x)).toBe(expected);
      }),
    );
  });

  test.each(OUT_OF_RANGE)(
    "createInvoice refuses a %s amount and writes nothing",
    async (_, amountCents) => {
      const t = newBackend();
      const { loadIds } = await seedOrg(t, ORG_A, { loads: 1, invoiceStatus: () => null });
      await expectRejected(
        t,
        () =>
          biller(t, ORG_A).mutation(api.invoices.createInvoice, {
            workosOrgId: ORG_A,
            loadId: loadIds[0],
            amountCents,
          }),
        "INVALID_ARGUMENT",
      );
    },
  );

  test.each(OUT_OF_RANGE)("a lane refuses a %s rate and writes nothing", async (_, rateCents) => {
    const t = newBackend();
    await expectRejected(
      t,
      () =>
        biller(t, ORG_A).mutation(api.lanes.createLaneAndBackfill, {
          workosOrgId: ORG_A,
          origin: DALLAS,
          destination: ATLANTA,
          rateCents,
        }),
      "INVALID_ARGUMENT",
    );
  });

  test.each(OUT_OF_RANGE)("the write layer refuses a %s amount", async (_, amountCents) => {
    const t = newBackend();
    const { loadIds } = await seedOrg(t, ORG_A, { loads: 1, invoiceStatus: () => null });
    const code = await t.run(async (ctx) => {
      const stats = new StatsAccumulator(STATS, { refuseDeletedOrgs: false });
      const { db } = new CountedDb(ctx.db, STATS.entities, stats);
      return await errorCode(
        db.insert("invoices", {
          workosOrgId: ORG_A,
          loadId: loadIds[0],
          status: "DRAFT",
          amountCents,
          statusChangedAt: Date.now(),
        }),
      );
    });
    expect(code).toBe("INVALID_ARGUMENT");
  });

  test("invoices and lanes at the cap are accepted and counted exactly", async () => {
    const t = newBackend();
    const who = biller(t, ORG_A);
    await who.mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: MAX_AMOUNT_CENTS,
    });
    for (const id of ["cap-1", "cap-2", "cap-3"]) {
      const created = await who.mutation(api.loads.createLoad, {
        workosOrgId: ORG_A,
        externalLoadId: id,
        origin: DALLAS,
        destination: ATLANTA,
      });
      expect(created).toMatchObject({ loadType: "CONTRACT", invoiceStatus: "DRAFT" });
    }
    const { invoices } = await storedCounters(t, ORG_A);
    expect(invoices?.entity === "invoices" && invoices.amountCents.DRAFT).toBe(
      3 * MAX_AMOUNT_CENTS,
    );
    await expectCountersExact(t, ORG_A);
  });
});
