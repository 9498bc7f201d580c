/**
 * The WorkOS webhook: signature checks (401), malformed bodies (400),
 * missing secret (500), idempotent redelivery, event ordering, and deletion.
 */
import { WorkOS } from "@workos-inc/node";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { dump, newBackend, ORG_A, rawLoad, storedCounters, type Backend } from "./support/setup";
import {
  CLIENT_ID,
  deliver,
  orgEvent,
  signature,
  stubWorkOSEnv,
  WEBHOOK_SECRET,
} from "./support/workos";

const T1 = Date.parse("2026-01-01T00:00:00.000Z");
const T2 = T1 + 60_000;
const T3 = T2 + 60_000;

async function registryEntry(t: Backend, workosOrgId: string) {
  return await t.run(
    async (ctx) =>
      await ctx.db
        .query("organizations")
        .withIndex("by_workos_org_id", (q) => q.eq("workosOrgId", workosOrgId))
        .unique(),
  );
}

/** Asserts the delivery is refused with `status` and leaves the database as it was. */
async function expectRefused(
  t: Backend,
  status: number,
  error: string,
  body: string | object,
  options: { sigHeader?: string | null } = {},
) {
  const before = await dump(t);
  const reply = await deliver(t, body, options);
  expect(reply).toMatchObject({ status, json: { error } });
  expect(await dump(t)).toEqual(before);
}

beforeEach(stubWorkOSEnv);
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("WorkOS webhook", () => {
  test("our signatures match what the SDK computes (header format check)", async () => {
    const payload = orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 });
    const header = await signature(JSON.stringify(payload), { timestamp: 1_700_000_000_000 });
    const sdk = new WorkOS({ clientId: CLIENT_ID }).webhooks;
    expect(sdk.getTimestampAndSignatureHash(header)).toEqual([
      "1700000000000",
      await sdk.computeSignature("1700000000000", payload, WEBHOOK_SECRET),
    ]);
  });

  test("organization.created registers the org with exact zero stats rows", async () => {
    const t = newBackend();
    const reply = await deliver(
      t,
      orgEvent("organization.created", { id: ORG_A, name: "Acme Freight", updatedAt: T1 }),
    );
    expect(reply).toEqual({
      status: 200,
      json: { received: true, outcome: "registered", duplicate: false },
    });
    expect(await registryEntry(t, ORG_A)).toMatchObject({
      name: "Acme Freight",
      status: "active",
      workosUpdatedAt: T1,
    });
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads).toMatchObject({ exact: true, counts: { Open: 0, Assigned: 0 } });
    expect(invoices).toMatchObject({ exact: true, amountCents: { DRAFT: 0 } });
    expect(loads?.orgDeleted).toBeUndefined();
  });

  test("a valid event delivered 3 times is processed once", async () => {
    const t = newBackend();
    const event = orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 });
    const first = await deliver(t, event);
    expect(first.json).toMatchObject({ outcome: "registered", duplicate: false });
    const afterFirst = await dump(t);
    for (let i = 0; i < 2; i++) {
      // Each redelivery is signed afresh, as WorkOS does.
      const again = await deliver(t, event);
      expect(again).toEqual({
        status: 200,
        json: { received: true, outcome: "registered", duplicate: true },
      });
    }
    expect(await dump(t)).toEqual(afterFirst);
    const recorded = await t.run((ctx) => ctx.db.query("workosWebhookEvents").collect());
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ eventId: event.id, outcome: "registered" });
  });

  test("bad, missing or stale signatures are refused with 401 and write nothing", async () => {
    const t = newBackend();
    const event = orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 });
    const body = JSON.stringify(event);
    await expectRefused(t, 401, "MISSING_SIGNATURE", body, { sigHeader: null });
    await expectRefused(t, 401, "MISSING_SIGNATURE", body, { sigHeader: "  " });
    await expectRefused(t, 401, "INVALID_SIGNATURE", body, { sigHeader: "nonsense" });
    await expectRefused(t, 401, "INVALID_SIGNATURE", body, { sigHeader: `t=${Date.now()}` });
    await expectRefused(t, 401, "INVALID_SIGNATURE", body, {
      sigHeader: await signature(body, { secret: "whsec_someone_else" }),
    });
    // Signed, then tampered with.
    const tampered = body.replace("Acme", "Evil");
    await expectRefused(t, 401, "INVALID_SIGNATURE", tampered, {
      sigHeader: await signature(body),
    });
    // Correctly signed, but 4 minutes old (tolerance: 3 minutes).
    await expectRefused(t, 401, "INVALID_SIGNATURE", body, {
      sigHeader: await signature(body, { timestamp: Date.now() - 240_000 }),
    });
    // Same, with the body in a form that takes the raw-body path.
    const spaced = JSON.stringify(event, null, 2);
    await expectRefused(t, 401, "INVALID_SIGNATURE", spaced, {
      sigHeader: await signature(spaced, { timestamp: Date.now() - 240_000 }),
    });
    expect(await dump(t)).toEqual([]);
  });

  test("malformed JSON and malformed events are refused with 400 and write nothing", async () => {
    const t = newBackend();
    await expectRefused(t, 400, "MALFORMED_JSON", '{"id": "event_1", ');
    await expectRefused(t, 400, "MALFORMED_JSON", "[1, 2]");
    await expectRefused(t, 400, "MALFORMED_JSON", "null");
    await expectRefused(t, 400, "INVALID_PAYLOAD", { id: "event_1", data: {} });
    const event = orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 });
    const { name: _name, ...nameless } = event.data;
    await expectRefused(t, 400, "INVALID_PAYLOAD", { ...event, data: nameless });
    await expectRefused(t, 400, "INVALID_PAYLOAD", {
      ...event,
      data: { ...event.data, updated_at: "yesterday" },
    });
    await expectRefused(t, 400, "INVALID_PAYLOAD", { ...event, created_at: 12 });
  });

  test("other events are acknowledged and ignored", async () => {
    const t = newBackend();
    const reply = await deliver(t, {
      id: "event_user_1",
      event: "user.created",
      data: { id: "user_1", email: "a@example.com" },
      created_at: new Date(T1).toISOString(),
    });
    expect(reply).toEqual({ status: 200, json: { received: true, outcome: "ignored" } });
    expect(await dump(t)).toEqual([]);
  });

  test("without WORKOS_WEBHOOK_SECRET the webhook answers 500 and writes nothing", async () => {
    const t = newBackend();
    vi.stubEnv("WORKOS_WEBHOOK_SECRET", "");
    const reply = await deliver(
      t,
      orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 }),
    );
    expect(reply).toMatchObject({ status: 500, json: { error: "NOT_CONFIGURED" } });
    expect(await dump(t)).toEqual([]);
  });

  test("a body signed as sent but not in JSON.stringify form is accepted (raw-body check)", async () => {
    const t = newBackend();
    // Pretty-printed, with `&` escaped as \u0026: the SDK's JSON.stringify(payload)
    // differs from these bytes, so only the raw-body check can accept it.
    const event = orgEvent("organization.created", { id: ORG_A, name: "A&B", updatedAt: T1 });
    const raw = JSON.stringify(event, null, 2).replace("A&B", "A\\u0026B");
    expect(JSON.stringify(JSON.parse(raw))).not.toBe(raw);
    const reply = await deliver(t, raw);
    expect(reply).toMatchObject({ status: 200, json: { outcome: "registered" } });
    expect(await registryEntry(t, ORG_A)).toMatchObject({ name: "A&B" });
  });

  test("updates apply in updated_at order, whatever the delivery order", async () => {
    const t = newBackend();
    const org = (name: string, updatedAt: number) => ({ id: ORG_A, name, updatedAt });
    // An update delivered before the create registers the org...
    expect((await deliver(t, orgEvent("organization.updated", org("Acme 2", T2)))).json).toEqual({
      received: true,
      outcome: "registered",
      duplicate: false,
    });
    // ...the older create then changes nothing but the event log.
    const created = await deliver(t, orgEvent("organization.created", org("Acme", T1)));
    expect(created.json).toMatchObject({ outcome: "stale" });
    expect(await registryEntry(t, ORG_A)).toMatchObject({ name: "Acme 2", workosUpdatedAt: T2 });
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads?.exact).toBe(true);
    expect(invoices?.exact).toBe(true);

    expect(
      (await deliver(t, orgEvent("organization.updated", org("Acme 3", T3)))).json,
    ).toMatchObject({ outcome: "updated" });
    const before = await registryEntry(t, ORG_A);
    expect(
      (await deliver(t, orgEvent("organization.updated", org("Late", T2)))).json,
    ).toMatchObject({ outcome: "stale" });
    expect(await registryEntry(t, ORG_A)).toEqual(before);
    expect(
      (await deliver(t, orgEvent("organization.updated", org("Acme 3", T3)))).json,
    ).toMatchObject({ outcome: "unchanged" });
    expect(await registryEntry(t, ORG_A)).toEqual(before);
  });

  test("organization.deleted is final: later creates and updates are ignored", async () => {
    const t = newBackend();
    const org = (name: string, updatedAt: number) => ({ id: ORG_A, name, updatedAt });
    await deliver(t, orgEvent("organization.created", org("Acme", T1)));
    const deletedAt = T2 + 5_000;
    const deleted = await deliver(
      t,
      orgEvent("organization.deleted", org("Acme", T2), { createdAt: deletedAt }),
    );
    expect(deleted.json).toMatchObject({ outcome: "deleted" });
    expect(await registryEntry(t, ORG_A)).toMatchObject({ status: "deleted", deletedAt });
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads).toMatchObject({ orgDeleted: true, exact: true });
    expect(invoices).toMatchObject({ orgDeleted: true, exact: true });

    const settled = await registryEntry(t, ORG_A);
    for (const late of [
      orgEvent("organization.updated", org("Acme again", T3)),
      orgEvent("organization.created", org("Acme again", T3)),
    ]) {
      expect((await deliver(t, late)).json).toMatchObject({ outcome: "ignored_deleted" });
    }
    expect(
      (await deliver(t, orgEvent("organization.deleted", org("Acme", T3)))).json,
    ).toMatchObject({ outcome: "already_deleted" });
    expect(await registryEntry(t, ORG_A)).toEqual(settled);
  });

  test("deleting an unknown org that has documents leaves a tombstone and flagged inexact rows", async () => {
    const t = newBackend();
    // A load written before the stats existed (raw insert, as old data would be).
    await t.run(async (ctx) => {
      await ctx.db.insert(
        "loads",
        rawLoad({ externalLoadId: "L-old", loadType: "UNMAPPED", statusChangedAt: T1 }),
      );
    });
    const reply = await deliver(
      t,
      orgEvent("organization.deleted", { id: ORG_A, name: "Acme", updatedAt: T1 }),
    );
    expect(reply.json).toMatchObject({ outcome: "deleted" });
    expect(await registryEntry(t, ORG_A)).toMatchObject({ status: "deleted", name: "Acme" });
    const { loads, invoices } = await storedCounters(t, ORG_A);
    expect(loads).toMatchObject({ orgDeleted: true, exact: false });
    expect(invoices).toMatchObject({ orgDeleted: true, exact: true });
    // A late create for the deleted id does not bring it back.
    const late = await deliver(
      t,
      orgEvent("organization.created", { id: ORG_A, name: "Acme", updatedAt: T1 }),
    );
    expect(late.json).toMatchObject({ outcome: "ignored_deleted" });
    expect(await registryEntry(t, ORG_A)).toMatchObject({ status: "deleted" });
  });
});
