/**
 * A deleted organization: every public function refuses it with
 * ORG_DELETED and writes nothing, its counters stay as they were, and other
 * orgs are unaffected.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../convex/_generated/api";
import { assertOrgActive } from "../convex/model/organizations/registry";
import {
  biller,
  dump,
  errorCode,
  expectCountersExact,
  expectRejected,
  newBackend,
  ORG_A,
  ORG_B,
  storedCounters,
  DALLAS,
  ATLANTA,
} from "./support/setup";
import { deliver, orgEvent, stubWorkOSEnv } from "./support/workos";

const T1 = Date.parse("2026-01-01T00:00:00.000Z");

function newLoad(workosOrgId: string, externalLoadId: string) {
  return { workosOrgId, externalLoadId, origin: DALLAS, destination: ATLANTA };
}

beforeEach(stubWorkOSEnv);
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a deleted organization", () => {
  test("its public functions refuse with ORG_DELETED and write nothing", async () => {
    const t = newBackend();
    const a = biller(t, ORG_A);
    await deliver(t, orgEvent("organization.created", { id: ORG_A, name: "A", updatedAt: T1 }));
    // A lane prices the loads, so each gets a DRAFT invoice.
    await a.mutation(api.lanes.createLaneAndBackfill, {
      workosOrgId: ORG_A,
      origin: DALLAS,
      destination: ATLANTA,
      rateCents: 150_000,
      effectiveFrom: 1,
    });
    const { loadId, invoiceId } = await a.mutation(api.loads.createLoad, newLoad(ORG_A, "L-1"));
    const { loadId: bare, invoiceId: bareInvoice } = await a.mutation(
      api.loads.createLoad,
      newLoad(ORG_A, "L-2"),
    );
    // `bare` has no live invoice, so only the deletion can refuse a new one.
    await a.mutation(api.invoices.bulkVoidInvoices, {
      workosOrgId: ORG_A,
      invoiceIds: [bareInvoice],
    });
    const countsBefore = await storedCounters(t, ORG_A);

    const reply = await deliver(
      t,
      orgEvent("organization.deleted", { id: ORG_A, name: "A", updatedAt: T1 + 1 }),
    );
    expect(reply.json).toMatchObject({ outcome: "deleted" });

    const o = { workosOrgId: ORG_A };
    await expectRejected(t, () => a.query(api.loads.countLoadsByStatusDetailed, o), "ORG_DELETED");
    await expectRejected(
      t,
      () => a.query(api.invoices.countInvoicesByStatusDetailed, o),
      "ORG_DELETED",
    );
    await expectRejected(
      t,
      () => a.mutation(api.loads.createLoad, newLoad(ORG_A, "L-3")),
      "ORG_DELETED",
    );
    await expectRejected(
      t,
      () => a.mutation(api.loads.updateLoadStatus, { ...o, loadId, status: "Assigned" }),
      "ORG_DELETED",
    );
    await expectRejected(
      t,
      () => a.mutation(api.loads.deleteLoad, { ...o, loadId: bare }),
      "ORG_DELETED",
    );
    await expectRejected(
      t,
      () => a.mutation(api.invoices.createInvoice, { ...o, loadId: bare, amountCents: 1_00 }),
      "ORG_DELETED",
    );
    await expectRejected(
      t,
      () =>
        a.mutation(api.invoices.bulkUpdateStatus, {
          ...o,
          invoiceIds: [invoiceId],
          status: "BILLED",
        }),
      "ORG_DELETED",
    );
    await expectRejected(
      t,
      () => a.mutation(api.invoices.bulkVoidInvoices, { ...o, invoiceIds: [invoiceId] }),
      "ORG_DELETED",
    );

    // A call that would change nothing writes nothing, so it is not refused.
    const before = await dump(t);
    const noop = await a.mutation(api.loads.updateLoadStatus, { ...o, loadId, status: "Open" });
    expect(noop.changed).toBe(false);
    expect(await dump(t)).toEqual(before);

    // The counters are kept as they were (the recount skips deleted orgs).
    const countsAfter = await storedCounters(t, ORG_A);
    expect(countsAfter.loads).toMatchObject({ counts: countsBefore.loads?.counts, exact: true });
    expect(countsAfter.invoices).toMatchObject({
      counts: countsBefore.invoices?.counts,
      amountCents: countsBefore.invoices?.amountCents,
    });
    await expectCountersExact(t, ORG_A);

    // The registry check for writers the stats flush does not see (e.g. lanes).
    expect(await errorCode(t.run((ctx) => assertOrgActive(ctx, ORG_A)))).toBe("ORG_DELETED");
    await t.run((ctx) => assertOrgActive(ctx, ORG_B)); // unknown to the registry: passes

    // Other orgs are unaffected.
    const b = biller(t, ORG_B);
    await b.mutation(api.loads.createLoad, newLoad(ORG_B, "L-1"));
    const counts = await b.query(api.loads.countLoadsByStatusDetailed, { workosOrgId: ORG_B });
    expect(counts).toMatchObject({ total: 1, exact: true });
  });
});
