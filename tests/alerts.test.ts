/**
 * Drift alerts against a real HTTP server on 127.0.0.1: the delivery action's
 * `fetch` really sends. One POST per report, retries while the server is down
 * or failing, delivery once it is back, no duplicates, nothing secret in the
 * body or the stored state, and the operator functions' refusals.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../convex/_generated/api";
import type { Doc, Id } from "../convex/_generated/dataModel";
import { readFileSync, readdirSync } from "node:fs";
import { ALERT_RETRY, ALERT_TIMEOUT_MS, isRetryableStatus } from "../convex/model/alerts/deliver";
import { enqueueDriftAlert, enqueueRunFailedAlert } from "../convex/model/alerts/queue";
import { expectRejected, newBackend, ORG_A, ORG_B, type Backend } from "./support/setup";

const TOKEN_PATH = "/services/T0000/B0000/s3cr3tT0k3nXYZ";
const WORKOS_SECRET = "whsec_do_not_leak_42";
const WORKOS_KEY = "sk_test_do_not_leak_43";

type Received = { path: string; headers: IncomingHttpHeaders; body: string };

/**
 * A webhook receiver on 127.0.0.1. `answer` picks the status of each request
 * (default 200; null: never answer, as a host behind a dropping firewall);
 * every request is recorded. `stop` / `start` take it down and bring it back
 * on the same port.
 */
class Receiver {
  received: Received[] = [];
  answer: (n: number) => number | null = () => 200;
  port = 0;
  private server: Server | null = null;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        this.received.push({ path: req.url ?? "", headers: req.headers, body });
        const status = this.answer(this.received.length);
        if (status === null) return; // held until `stop` closes the connection
        res.writeHead(status, { "Content-Type": "text/plain" });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    this.port = address.port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${TOKEN_PATH}`;
  }
}

let receiver: Receiver;
/** The real `setTimeout`, captured before the tests fake the clock: to wait for a socket. */
const realSetTimeout = globalThis.setTimeout;

beforeEach(async () => {
  receiver = new Receiver();
  await receiver.start();
  vi.stubEnv("STATS_ALERT_WEBHOOK_URL", receiver.url);
  vi.stubEnv("WORKOS_WEBHOOK_SECRET", WORKOS_SECRET);
  vi.stubEnv("WORKOS_API_KEY", WORKOS_KEY);
  vi.useFakeTimers();
});

afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  await receiver.stop();
});

/** Stores a drift report (as the stats engine does) and returns its id. */
async function storeReport(
  t: Backend,
  org = ORG_A,
  buckets: Doc<"statsDriftReports">["buckets"] = [
    { status: "Open", measure: "count", stored: 3, actual: 4, delta: 1 },
  ],
): Promise<Id<"statsDriftReports">> {
  return await t.run(async (ctx) => {
    return await ctx.db.insert("statsDriftReports", {
      workosOrgId: org,
      entity: "loads",
      source: "recount",
      runId: "run_1",
      detectedAt: Date.now(),
      buckets,
    });
  });
}

/** Queues the alert of a report the way the engine will: inside a mutation. */
async function enqueue(t: Backend, reportId: Id<"statsDriftReports">) {
  return await t.run(async (ctx) => await enqueueDriftAlert(ctx, reportId));
}

async function alerts(t: Backend) {
  return await t.run(async (ctx) => await ctx.db.query("statsAlerts").take(1_000));
}

/**
 * Fires the next due timer(s) (a scheduled function, a retry after its
 * backoff) and waits for the functions they started. Time only moves while
 * nothing runs, so an in-flight POST never sees its timeout fire early (as
 * it would under `finishAllScheduledFunctions`, which advances timers while
 * functions run).
 */
async function step(t: Backend): Promise<void> {
  await t.finishInProgressScheduledFunctions();
  vi.advanceTimersToNextTimer();
  await t.finishInProgressScheduledFunctions();
}

/**
 * Steps until no timer is left, or until every alert has settled (delivered
 * or failed) and 20 more steps sent nothing new: real sockets can leave
 * timers of Node's HTTP client on the fake clock for a while (seen under a
 * loaded machine), so an empty timer queue alone is not a reliable end.
 * Throws when an alert is still pending after 2,000 steps.
 */
async function drain(t: Backend): Promise<void> {
  let quietSteps = 0;
  for (let i = 0; i < 2_000; i++) {
    await t.finishInProgressScheduledFunctions();
    if (vi.getTimerCount() === 0) return;
    const settled = (await alerts(t)).every((a) => a.state !== "pending");
    const sent = receiver.received.length;
    await step(t);
    quietSteps = settled && receiver.received.length === sent ? quietSteps + 1 : 0;
    if (quietSteps >= 20) return;
  }
  throw new Error("an alert is still pending after 2,000 steps");
}

/** Steps until `done` holds (bounded). */
async function stepUntil(t: Backend, done: () => Promise<boolean>, max = 200): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await done()) return;
    await step(t);
  }
  throw new Error("condition not reached");
}

/**
 * Steps until the receiver holds its `n`-th request, which a delivery action
 * then waits on; moves the clock by the POST timeout so the action's own
 * timer aborts the request, and finishes the step. Bounded.
 */
async function stepUntilHeld(t: Backend, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    let done = false;
    const stepping = step(t).then(() => (done = true));
    for (let polls = 0; !done && receiver.received.length < n; polls++) {
      if (polls === 2_000) throw new Error("a step is stuck without a held request");
      await new Promise((resolve) => realSetTimeout(resolve, 5));
    }
    if (receiver.received.length >= n) vi.advanceTimersByTime(ALERT_TIMEOUT_MS);
    await stepping;
    if (receiver.received.length >= n) return;
  }
  throw new Error(`request ${n} never arrived`);
}

function bodies(): { text: string; alert: Record<string, unknown> }[] {
  return receiver.received.map((r) => JSON.parse(r.body));
}

describe("delivery to a real endpoint", () => {
  test("one POST per report, with the summary and nothing secret", async () => {
    const t = newBackend();
    await t.run(async (ctx) => {
      await ctx.db.insert("organizations", {
        workosOrgId: ORG_A,
        name: "Acme Freight",
        status: "active",
        updatedAt: Date.now(),
      });
    });
    const reports = [
      await storeReport(t, ORG_A),
      await storeReport(t, ORG_B, [
        { status: "BILLED", measure: "count", stored: 10, actual: 7, delta: -3 },
        { status: "BILLED", measure: "amountCents", stored: 5000, actual: 2000, delta: -3000 },
      ]),
      await storeReport(t, ORG_A),
    ];
    for (const id of reports) expect((await enqueue(t, id)).outcome).toBe("queued");
    await drain(t);

    expect(receiver.received.length).toBe(3);
    const byReport = new Map(bodies().map((b) => [b.alert.reportId, b]));
    expect([...byReport.keys()].sort()).toEqual([...reports].sort());
    const acme = byReport.get(reports[0]);
    expect(acme?.alert).toMatchObject({
      type: "stats.drift",
      workosOrgId: ORG_A,
      organizationName: "Acme Freight",
      entity: "loads",
      source: "recount",
      runId: "run_1",
      buckets: [{ status: "Open", measure: "count", stored: 3, actual: 4, delta: 1 }],
    });
    expect(acme?.text).toContain("Acme Freight");
    expect(acme?.text).toContain("Open count: stored 3, actual 4 (+1)");
    expect(acme?.text).toContain(reports[0]);
    const other = byReport.get(reports[1]);
    expect(other?.alert.organizationName).toBeNull();
    expect(other?.text).toContain("BILLED amount (cents): stored 5000, actual 2000 (-3000)");

    for (const r of receiver.received) {
      expect(r.path).toBe(TOKEN_PATH);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["idempotency-key"]).toBe(JSON.parse(r.body).alert.alertId);
      for (const secret of [WORKOS_SECRET, WORKOS_KEY, "s3cr3tT0k3n", "127.0.0.1"]) {
        expect(r.body).not.toContain(secret);
      }
    }
    const rows = await alerts(t);
    expect(rows.map((a) => [a.state, a.attempts])).toEqual([
      ["delivered", 1],
      ["delivered", 1],
      ["delivered", 1],
    ]);
    expect(JSON.stringify(rows)).not.toContain("s3cr3tT0k3n");

    // Queuing a report again, by the engine or by hand, sends nothing.
    expect(await enqueue(t, reports[0])).toEqual({
      outcome: "exists",
      alertId: rows.find((a) => a.reportId === reports[0])?._id,
    });
    expect(
      (await t.mutation(internal.alerts.sendDriftAlert, { reportId: reports[1] })).outcome,
    ).toBe("exists");
    await drain(t);
    expect(receiver.received.length).toBe(3);
    expect((await alerts(t)).length).toBe(3);
  });

  test("server down: retried with backoff, delivered once when it is back", async () => {
    const t = newBackend();
    await receiver.stop();
    const reportId = await storeReport(t);
    await enqueue(t, reportId);
    // Attempt times, to check the backoff: retry n waits initialBackoffMs ×
    // base^(n-1), times the pool's jitter (0.5–1.5×).
    const times: number[] = [];
    await stepUntil(t, async () => {
      const [current] = await alerts(t);
      if (current.lastAttemptAt !== undefined && current.lastAttemptAt !== times.at(-1)) {
        times.push(current.lastAttemptAt);
      }
      return current.attempts >= 3;
    });
    expect(times.length).toBe(3);
    for (let n = 1; n < times.length; n++) {
      const gap = times[n] - times[n - 1];
      expect(gap).toBeGreaterThanOrEqual(
        0.5 * ALERT_RETRY.initialBackoffMs * ALERT_RETRY.base ** (n - 1),
      );
      expect(gap).toBeLessThanOrEqual(
        1.5 * ALERT_RETRY.initialBackoffMs * ALERT_RETRY.base ** (n - 1) + 1_000,
      );
    }
    let [row] = await alerts(t);
    expect(row.state).toBe("pending");
    expect(row.lastError).toMatch(/^network error/);
    expect(row.lastError).not.toContain("s3cr3tT0k3n");
    expect(receiver.received.length).toBe(0);

    await receiver.start(); // same port
    await drain(t);
    [row] = await alerts(t);
    expect(row.state).toBe("delivered");
    expect(row.attempts).toBe(4);
    expect(row.httpStatus).toBe(200);
    expect(receiver.received.length).toBe(1);
    expect(JSON.parse(receiver.received[0].body).alert.reportId).toBe(reportId);
  });

  test("5xx and 429 are retried; the delivery that succeeds is the last POST", async () => {
    const t = newBackend();
    receiver.answer = (n) => [503, 429, 500][n - 1] ?? 200;
    await enqueue(t, await storeReport(t));
    await drain(t);
    const [row] = await alerts(t);
    expect(row.state).toBe("delivered");
    expect(row.attempts).toBe(4);
    expect(receiver.received.length).toBe(4);
    // Nothing is sent after the 2xx.
    await drain(t);
    expect(receiver.received.length).toBe(4);
  });

  test("a 4xx refusal is not retried and is reported failed", async () => {
    const t = newBackend();
    receiver.answer = () => 404;
    await enqueue(t, await storeReport(t));
    await drain(t);
    const [row] = await alerts(t);
    expect(row).toMatchObject({ state: "failed", attempts: 1, httpStatus: 404 });
    expect(row.lastError).toBe("HTTP 404 (not retried)");
    expect(receiver.received.length).toBe(1);
  });

  test("down for good: gives up after the retries, failed in status; resend delivers", async () => {
    const t = newBackend();
    await receiver.stop();
    await enqueue(t, await storeReport(t));
    await drain(t);
    let [row] = await alerts(t);
    expect(row.state).toBe("failed");
    expect(row.attempts).toBe(ALERT_RETRY.maxAttempts);
    expect(row.lastError).toMatch(/^gave up after 9 attempts: network error/);
    expect(row.lastError).not.toContain("s3cr3tT0k3n");

    const status = await t.query(internal.alerts.alertStatus, {});
    expect(status.endpoint).toBe("ok");
    expect(status.counts).toEqual({ pending: 0, delivered: 0, failed: 1 });
    expect(status.failed.map((a) => a.alertId)).toEqual([row._id]);
    expect(JSON.stringify(status)).not.toContain("s3cr3tT0k3n");

    await receiver.start();
    expect(await t.mutation(internal.alerts.retryAlert, { alertId: row._id })).toEqual({
      outcome: "queued",
      alertId: row._id,
    });
    await drain(t);
    [row] = await alerts(t);
    expect(row.state).toBe("delivered");
    expect(receiver.received.length).toBe(1);
    // A delivered alert is never resent.
    await expectRejected(
      t,
      () => t.mutation(internal.alerts.retryAlert, { alertId: row._id }),
      "INVALID_ARGUMENT",
    );
  });

  test("a failed run alerts once per (org, entity, run)", async () => {
    const t = newBackend();
    const failure = {
      workosOrgId: ORG_A,
      entity: "invoices" as const,
      runId: "run_9",
      error: "Too many reads in a single function execution",
    };
    const first = await t.run(async (ctx) => await enqueueRunFailedAlert(ctx, failure));
    const again = await t.run(async (ctx) => await enqueueRunFailedAlert(ctx, failure));
    const otherRun = await t.run(
      async (ctx) => await enqueueRunFailedAlert(ctx, { ...failure, runId: "run_10" }),
    );
    expect(first.outcome).toBe("queued");
    expect(again).toEqual({ outcome: "exists", alertId: first.alertId });
    expect(otherRun.outcome).toBe("queued");
    await drain(t);
    expect(receiver.received.length).toBe(2);
    const [body] = bodies();
    expect(body.alert).toMatchObject({
      type: "stats.run_failed",
      workosOrgId: ORG_A,
      entity: "invoices",
      error: failure.error,
      reportId: null,
    });
    expect(body.text).toContain("run_9");
    expect(body.text).toContain(failure.error);
  });
});

describe("an endpoint that takes the request and never answers", () => {
  test("the POST times out and is retried with the same key and body; delivered once answered", async () => {
    const t = newBackend();
    receiver.answer = (n) => (n === 1 ? null : 200);
    const reportId = await storeReport(t);
    await enqueue(t, reportId);
    await stepUntilHeld(t, 1);
    let [row] = await alerts(t);
    expect(row).toMatchObject({
      state: "pending",
      attempts: 1,
      lastError: `network error: timed out after ${ALERT_TIMEOUT_MS} ms`,
    });
    await drain(t);
    [row] = await alerts(t);
    expect(row).toMatchObject({ state: "delivered", attempts: 2, httpStatus: 200 });
    // The receiver got the request twice; the key (and the body's alertId) let it drop the copy.
    const [first, second] = receiver.received;
    expect(receiver.received.length).toBe(2);
    expect(second.headers["idempotency-key"]).toBe(row._id);
    expect(first.headers["idempotency-key"]).toBe(row._id);
    expect(second.body).toBe(first.body);
  });

  test("never answering at all: every attempt times out, then failed after the bounded attempts", async () => {
    const t = newBackend();
    receiver.answer = () => null;
    await enqueue(t, await storeReport(t));
    for (let n = 1; n <= ALERT_RETRY.maxAttempts; n++) await stepUntilHeld(t, n);
    await drain(t);
    const [row] = await alerts(t);
    expect(row.state).toBe("failed");
    expect(row.attempts).toBe(ALERT_RETRY.maxAttempts);
    expect(row.lastError).toBe(
      `gave up after ${ALERT_RETRY.maxAttempts} attempts: network error: timed out after ${ALERT_TIMEOUT_MS} ms`,
    );
    expect(receiver.received.length).toBe(ALERT_RETRY.maxAttempts);
  });
});

describe("duplicates the database does not prevent", () => {
  test("several registry entries for one org: delivered with one entry's name (deleted wins, else the oldest)", async () => {
    const t = newBackend();
    const entries: [string, string[], string][] = [
      [ORG_A, ["Acme Freight", "Acme Freight (old backup)"], "Acme Freight"],
      [ORG_B, ["Beta", "Beta (deleted)"], "Beta (deleted)"],
      ["org_many", Array.from({ length: 7 }, (_, i) => `Many ${i}`), "Many 0"],
    ];
    for (const [workosOrgId, names] of entries) {
      for (const name of names) {
        await t.run(async (ctx) => {
          const status = name.endsWith("(deleted)") ? "deleted" : "active";
          await ctx.db.insert("organizations", { workosOrgId, name, status, updatedAt: 1 });
        });
      }
    }
    const expected = new Map<unknown, string>();
    for (const [workosOrgId, , name] of entries) {
      expected.set(await storeReport(t, workosOrgId), name);
    }
    const failure = { workosOrgId: ORG_A, runId: "run_2", error: "boom" };
    expect((await t.run(async (ctx) => await enqueueRunFailedAlert(ctx, failure))).outcome).toBe(
      "queued",
    );
    for (const reportId of expected.keys()) {
      expect((await enqueue(t, reportId as Id<"statsDriftReports">)).outcome).toBe("queued");
    }
    await drain(t);
    expect((await alerts(t)).map((a) => [a.state, a.attempts])).toEqual(
      Array.from({ length: 4 }, () => ["delivered", 1]),
    );
    for (const body of bodies()) {
      const name =
        body.alert.reportId === null ? "Acme Freight" : expected.get(body.alert.reportId);
      expect(body.alert.organizationName).toBe(name);
    }
  });

  test("several alert rows for one key: queuing again writes and sends nothing; each can be resent", async () => {
    const t = newBackend();
    const reportId = await storeReport(t);
    const keys = [`drift:${reportId}`, `run_failed:${ORG_A}:loads:run_7`];
    const ids: Id<"statsAlerts">[] = [];
    for (const key of keys) {
      for (let copy = 0; copy < 2; copy++) {
        const drift = key.startsWith("drift:");
        const id = await t.run(async (ctx) => {
          return await ctx.db.insert("statsAlerts", {
            kind: drift ? "drift" : "run_failed",
            key,
            ...(drift ? { reportId } : { runId: "run_7", runError: "boom" }),
            workosOrgId: ORG_A,
            entity: "loads",
            state: "failed",
            attempts: 1,
            lastError: "HTTP 404 (not retried)",
            createdAt: Date.now(),
          });
        });
        ids.push(id);
      }
    }
    expect(await enqueue(t, reportId)).toEqual({ outcome: "exists", alertId: ids[0] });
    expect(await t.mutation(internal.alerts.sendDriftAlert, { reportId })).toEqual({
      outcome: "exists",
      alertId: ids[0],
    });
    const failure = { workosOrgId: ORG_A, entity: "loads", runId: "run_7", error: "boom" };
    expect(await t.run(async (ctx) => await enqueueRunFailedAlert(ctx, failure))).toEqual({
      outcome: "exists",
      alertId: ids[2],
    });
    await drain(t);
    expect(receiver.received.length).toBe(0);
    expect((await alerts(t)).length).toBe(4);

    for (const alertId of [ids[1], ids[3]]) {
      expect((await t.mutation(internal.alerts.retryAlert, { alertId })).outcome).toBe("queued");
    }
    await drain(t);
    expect(receiver.received.map((r) => r.headers["idempotency-key"]).sort()).toEqual(
      [ids[1], ids[3]].sort(),
    );
    const status = await t.query(internal.alerts.alertStatus, {});
    expect(status.counts).toEqual({ pending: 0, delivered: 2, failed: 2 });
  });

  test("no .unique() in the alerts, and the alerts stay small (model and module at most 450 lines)", () => {
    const files = [
      "convex/alerts.ts",
      ...readdirSync("convex/model/alerts").map((f) => `convex/model/alerts/${f}`),
    ];
    const lines = files.map((f) => readFileSync(f, "utf8").split("\n").length - 1);
    for (const f of files) expect(readFileSync(f, "utf8")).not.toMatch(/\.unique\(/);
    expect(lines.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(450);
  });
});

describe("resend", () => {
  test("a pending row left by the removed action retrier can be resent; it is delivered once", async () => {
    const t = newBackend();
    const reportId = await storeReport(t);
    const alertId = await t.run(async (ctx) => {
      return await ctx.db.insert("statsAlerts", {
        kind: "drift",
        key: `drift:${reportId}`,
        reportId,
        workosOrgId: ORG_A,
        entity: "loads",
        state: "pending",
        attempts: 2,
        lastError: "network error: fetch failed",
        retrierRunId: "retrier_run_1",
        createdAt: Date.now(),
      });
    });
    expect(await t.mutation(internal.alerts.retryAlert, { alertId })).toEqual({
      outcome: "queued",
      alertId,
    });
    await drain(t);
    const [row] = await alerts(t);
    expect(row).toMatchObject({ state: "delivered", attempts: 3, httpStatus: 200 });
    expect(row.retrierRunId).toBeUndefined();
    expect(receiver.received.map((r) => r.headers["idempotency-key"])).toEqual([alertId]);
  });

  test("a failed drift alert whose report is gone, or now another org's, is refused and sends nothing", async () => {
    const t = newBackend();
    receiver.answer = () => 410;
    const gone = await storeReport(t);
    const moved = await storeReport(t);
    await enqueue(t, gone);
    await enqueue(t, moved);
    await drain(t);
    expect(receiver.received.length).toBe(2);
    const rows = await alerts(t);
    expect(rows.map((a) => a.state)).toEqual(["failed", "failed"]);
    receiver.answer = () => 200;
    await t.run(async (ctx) => {
      await ctx.db.delete("statsDriftReports", gone);
      await ctx.db.patch("statsDriftReports", moved, { workosOrgId: ORG_B });
    });
    for (const row of rows) {
      await expectRejected(
        t,
        () => t.mutation(internal.alerts.retryAlert, { alertId: row._id }),
        "NOT_FOUND",
      );
    }
    await drain(t);
    expect(receiver.received.length).toBe(2);
    expect((await alerts(t)).map((a) => a.state)).toEqual(["failed", "failed"]);
  });
});

describe("configuration", () => {
  test("no URL: nothing written, nothing sent", async () => {
    vi.stubEnv("STATS_ALERT_WEBHOOK_URL", "");
    const t = newBackend();
    const reportId = await storeReport(t);
    expect(await enqueue(t, reportId)).toEqual({ outcome: "not_configured", alertId: null });
    await drain(t);
    expect(await alerts(t)).toEqual([]);
    expect(receiver.received.length).toBe(0);
    expect((await t.query(internal.alerts.alertStatus, {})).endpoint).toBe("unset");
  });

  test("a malformed URL is recorded failed without echoing it", async () => {
    for (const bad of ["not a url s3cr3tT0k3n", "ftp://example.invalid/s3cr3tT0k3n"]) {
      vi.stubEnv("STATS_ALERT_WEBHOOK_URL", bad);
      const t = newBackend();
      expect((await enqueue(t, await storeReport(t))).outcome).toBe("invalid_url");
      await drain(t);
      const [row] = await alerts(t);
      expect(row.state).toBe("failed");
      expect(row.attempts).toBe(0);
      expect(JSON.stringify(row)).not.toContain("s3cr3tT0k3n");
      expect((await t.query(internal.alerts.alertStatus, {})).endpoint).toBe("invalid");
    }
  });

  test("which HTTP answers are retried", () => {
    expect([500, 502, 503, 408, 429].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410].some(isRetryableStatus)).toBe(false);
  });
});

describe("operator functions refuse bad input and write nothing", () => {
  test("unknown ids, a pending alert, bad limits", async () => {
    const t = newBackend();
    await receiver.stop();
    const reportId = await storeReport(t);
    await enqueue(t, reportId);
    const [pending] = await alerts(t);
    const deletedReport = await storeReport(t);
    await t.run(async (ctx) => await ctx.db.delete("statsDriftReports", deletedReport));

    for (const reportId of ["nope", deletedReport, pending._id]) {
      await expectRejected(
        t,
        () => t.mutation(internal.alerts.sendDriftAlert, { reportId }),
        "NOT_FOUND",
      );
    }
    for (const alertId of ["nope", reportId]) {
      await expectRejected(
        t,
        () => t.mutation(internal.alerts.retryAlert, { alertId }),
        "NOT_FOUND",
      );
    }
    // A blank id is malformed, not unknown (tests/operators.args.test.ts covers every operator).
    await expectRejected(
      t,
      () => t.mutation(internal.alerts.sendDriftAlert, { reportId: "" }),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      () => t.mutation(internal.alerts.retryAlert, { alertId: " " }),
      "INVALID_ARGUMENT",
    );
    await expectRejected(
      t,
      () => t.mutation(internal.alerts.retryAlert, { alertId: pending._id }),
      "INVALID_ARGUMENT",
    );
    for (const limit of [-1, 1.5, 101, Number.NaN]) {
      await expectRejected(
        t,
        () => t.query(internal.alerts.alertStatus, { limit }),
        "INVALID_ARGUMENT",
      );
    }
    await expectRejected(
      t,
      () =>
        t.run(
          async (ctx) =>
            await enqueueRunFailedAlert(ctx, { workosOrgId: " ", runId: "r", error: "x" }),
        ),
      "INVALID_ARGUMENT",
    );
  });
});
