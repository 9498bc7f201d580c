/**
 * I/O budgets of docs/DESIGN.md §4, asserted as document counts from
 * ctx.meta.getTransactionMetrics() with Convex's transaction limits enforced.
 */
import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { seedOrg } from "./support/seed";
import {
  biller,
  expectCountersExact,
  measureMutation,
  measureQuery,
  member,
  newBackend,
  ORG_A,
  ORG_B,
} from "./support/setup";

describe.each([1_000, 10_000])("I/O at %i loads per org", (size) => {
  test("count queries read exactly one document of at most 2 KiB", async () => {
    const t = newBackend({ transactionLimits: true });
    await seedOrg(t, ORG_A, { loads: size });
    await seedOrg(t, ORG_B, { loads: 10 });
    const who = member(t, ORG_A);
    const loads = await measureQuery(who, api.loads.countLoadsByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(loads.result).toMatchObject({ total: size, exact: true, source: "stats" });
    expect(loads.io.documentsRead).toBe(1);
    expect(loads.io.bytesRead).toBeLessThanOrEqual(2048);
    const invoices = await measureQuery(who, api.invoices.countInvoicesByStatusDetailed, {
      workosOrgId: ORG_A,
    });
    expect(invoices.result).toMatchObject({ total: size, exact: true, source: "stats" });
    expect(invoices.io.documentsRead).toBe(1);
    expect(invoices.io.bytesRead).toBeLessThanOrEqual(2048);
  });

  test("updateLoadStatus reads at most 4 and writes at most 2 documents", async () => {
    const t = newBackend({ transactionLimits: true });
    const { loadIds } = await seedOrg(t, ORG_A, { loads: size, loadStatus: () => "Open" });
    const { io, result } = await measureMutation(member(t, ORG_A), api.loads.updateLoadStatus, {
      workosOrgId: ORG_A,
      loadId: loadIds[size - 1],
      status: "Assigned",
    });
    expect(result.changed).toBe(true);
    expect(io.documentsRead).toBeLessThanOrEqual(4);
    expect(io.documentsWritten).toBeLessThanOrEqual(2);
    await expectCountersExact(t, ORG_A);
  });
});

test("bulkUpdateStatus of 500 invoices reads at most 1,010 and writes at most 505 documents", async () => {
  const t = newBackend({ transactionLimits: true });
  const { invoiceIds } = await seedOrg(t, ORG_A, { loads: 2_000, invoiceStatus: () => "DRAFT" });
  const { io, result } = await measureMutation(biller(t, ORG_A), api.invoices.bulkUpdateStatus, {
    workosOrgId: ORG_A,
    invoiceIds: invoiceIds.slice(0, 500),
    status: "BILLED",
  });
  expect(result.updated).toBe(500);
  expect(io.documentsRead).toBeLessThanOrEqual(1_010);
  expect(io.documentsWritten).toBeLessThanOrEqual(505);
  // One stats row written, not 500.
  expect(io.documentsWritten).toBe(501);
  await expectCountersExact(t, ORG_A);
});

test("bulkVoidInvoices of 500 invoices has the same cost", async () => {
  const t = newBackend({ transactionLimits: true });
  const { invoiceIds } = await seedOrg(t, ORG_A, { loads: 600, invoiceStatus: () => "BILLED" });
  const { io } = await measureMutation(biller(t, ORG_A), api.invoices.bulkVoidInvoices, {
    workosOrgId: ORG_A,
    invoiceIds: invoiceIds.slice(0, 500),
  });
  expect(io.documentsRead).toBeLessThanOrEqual(1_010);
  expect(io.documentsWritten).toBe(501);
  await expectCountersExact(t, ORG_A);
});

test("a write that changes no bucket does not touch the stats row", async () => {
  const t = newBackend({ transactionLimits: true });
  const { loadIds } = await seedOrg(t, ORG_A, { loads: 5, loadStatus: () => "Open" });
  const { io, result } = await measureMutation(member(t, ORG_A), api.loads.updateLoadStatus, {
    workosOrgId: ORG_A,
    loadId: loadIds[0],
    status: "Open",
  });
  expect(result.changed).toBe(false);
  expect(io.documentsRead).toBe(1);
  expect(io.documentsWritten).toBe(0);
});

test("createLoad of a new load reads only the stats rows (lookups that find nothing read nothing)", async () => {
  const t = newBackend({ transactionLimits: true });
  await seedOrg(t, ORG_A, { loads: 1_000 });
  const { io, result } = await measureMutation(member(t, ORG_A), api.loads.createLoad, {
    workosOrgId: ORG_A,
    externalLoadId: "NEW-1",
    origin: { city: "Reno", state: "NV" },
    destination: { city: "Boise", state: "ID" },
  });
  expect(result).toMatchObject({ loadType: "UNMAPPED", invoiceStatus: "MISSING_DATA" });
  // Lane, duplicate, live-invoice and invoice-cap lookups find nothing: 0 reads. The flush
  // reads and replaces the loads and invoices stats rows: 4 reads, 4 writes with the inserts.
  expect(io.documentsRead).toBeLessThanOrEqual(4);
  expect(io.documentsWritten).toBeLessThanOrEqual(4);
  await expectCountersExact(t, ORG_A);
});
