/**
 * How the demo shows things: dashboards (the flat badge answers the frontend
 * reads, the detailed answers' `state`, `progress` and `knownDrift`), money,
 * and the I/O of a badge query next to what a scanning count reads.
 */
import { expect, vi } from "vitest";
import { api } from "../convex/_generated/api";
import { COUNTED } from "../convex/model/counted";
import { INVOICE_STATUSES } from "../convex/model/enums";
import { flatKeys, labelOf, type CountedTable } from "../convex/model/stats/declare";
import type { CountsResult } from "../convex/model/stats/read";
import { member, type Backend, type Io } from "../tests/support/setup";
import { scanInvoiceCounts, scanLoadCounts } from "../tests/support/scanCount";
import {
  fmtBytes,
  fmtInt,
  limitName,
  measureQueryToLimit,
  measureReadToLimit,
  print,
  type Measurement,
} from "../tests/support/measure";
import type { DemoOrg } from "./seeding";

/**
 * Where the workpool component's code lives (and the batch worker it runs
 * its loop on): its logs are not the module's, and the demo does not show them.
 */
const COMPONENT_CODE = /[\\/]@convex-dev[\\/](workpool|batch-worker)[\\/]/;

/** The stack frame that called a console method: the first one outside this file and the spy. */
function consoleCaller(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  const outside = frames.find(
    (f) => !f.includes("demo/print.ts") && !/[\\/](tinyspy|@vitest[\\/]spy)[\\/]/.test(f),
  );
  return outside ?? "";
}

/**
 * Silences what the `@convex-dev/workpool` component itself logs (its
 * `report` events, its batch worker's `[monitor]` restarts when the held
 * timers fire at once) until the returned function is called. `quietLogs`
 * mutes every `console.log` / `console.warn`; this mutes the component's
 * `console.info` / `console.error` / `console.debug` too, by the code that
 * calls them, so the module's own errors stay visible.
 */
export function quietComponentLogs(): () => void {
  const spies = (["info", "error", "debug"] as const).map((method) => {
    const original = console[method].bind(console);
    return vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      if (!COMPONENT_CODE.test(consoleCaller())) original(...args);
    });
  });
  return () => {
    for (const spy of spies) spy.mockRestore();
  };
}

/** Prints one line of the narrative (not muted with the functions' logs). */
export function say(line = ""): void {
  print(line);
}

/** `PENDING_PAYMENT` → `Pending payment`; `Open` stays `Open`. */
export function label(status: string): string {
  const words = status.toLowerCase().replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `$12,345.67`; negative amounts as `-$250.00`. */
export function money(cents: number): string {
  return (cents / 100).toLocaleString("en-US", { style: "currency", currency: "USD" });
}

/** `3 docs, 1.2 KiB` */
export function docs(io: Pick<Io, "documentsRead" | "bytesRead">): string {
  const n = io.documentsRead;
  return `${fmtInt(n)} ${n === 1 ? "doc" : "docs"}, ${fmtBytes(io.bytesRead)}`;
}

function reads(m: Measurement<unknown>): string {
  return m.ok ? docs(m.io) : `FAILS (over the ${limitName(m.error)} after ${docs(m.io)})`;
}

/** What a detailed answer says besides its counters, as the README names them. */
type BadgeMeta = Pick<CountsResult, "state" | "progress" | "knownDrift">;

/**
 * `exact, progress 1`; `counting, progress 0.42`; `approximate, knownDrift
 * [Missing data count at least 1]`: a detailed answer's `state` with what
 * goes with it.
 */
export function badgeState(r: BadgeMeta): string {
  const parts = [`state ${r.state}`];
  if (r.progress !== undefined) parts.push(`progress ${Number(r.progress.toFixed(2))}`);
  if (r.knownDrift !== undefined) {
    const known = r.knownDrift.map(
      (d) =>
        `${label(d.status)} ${d.measure === "count" ? "count" : "amount"} off by at least ${d.measure === "count" ? fmtInt(d.atLeast) : money(d.atLeast)}`,
    );
    parts.push(`knownDrift [${known.join(", ")}]`);
  }
  return parts.join(", ");
}

/**
 * `{ Open: 93, Assigned: 105, ... }`, a flat badge answer as the frontend
 * reads it, keys in the declaration's display order.
 */
export function flatLine(flat: Record<string, number>): string {
  const order = [COUNTED.loads, COUNTED.invoices].map(flatKeys).find((keys) => keys[0] in flat);
  const keys = order ?? Object.keys(flat);
  return `{ ${keys.map((k) => `${k}: ${flat[k]}`).join(", ")} }`;
}

/**
 * The flat answer `decl`'s detailed answer stands for: each status's count
 * under its display name (`Completed` as `Delivered`), raised by what
 * `knownDrift` says it is at least off by, `total` the sum when declared.
 */
function expectedFlat(decl: CountedTable, detailed: CountsResult): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const s of decl.statuses) {
    const off = (detailed.knownDrift ?? []).find((k) => k.status === s && k.measure === "count");
    out[labelOf(decl, s)] = detailed.counts[s] + (off?.atLeast ?? 0);
    total += out[labelOf(decl, s)];
  }
  if (decl.badgeTotal === true) out.total = total;
  return out;
}

/** Both count queries of one table for `org`: the flat badge answer (measured) and the detailed one. */
async function badgeAnswers(
  t: Backend,
  org: DemoOrg,
  entity: keyof typeof COUNTED,
): Promise<{ flat: Measurement<Record<string, number>>; detailed: CountsResult }> {
  const who = member(t, org.workosOrgId);
  const args = { workosOrgId: org.workosOrgId };
  const flat =
    entity === "loads"
      ? await measureQueryToLimit(who, api.loads.countLoadsByStatus, args)
      : await measureQueryToLimit(who, api.invoices.countInvoicesByStatus, args);
  const detailed =
    entity === "loads"
      ? await who.query(api.loads.countLoadsByStatusDetailed, args)
      : await who.query(api.invoices.countInvoicesByStatusDetailed, args);
  if (!flat.ok) throw new Error(`${org.name}: the ${entity} badge query failed: ${flat.error}`);
  // Checked: the flat answer has exactly the frontend's keys, with the detailed answer's numbers.
  expect(flat.result, `${org.name} ${entity}: flat badge answer`).toEqual(
    expectedFlat(COUNTED[entity], detailed),
  );
  return { flat, detailed };
}

/** The detailed loads answer of `org` (`loads:countLoadsByStatusDetailed`). */
export async function detailedLoads(t: Backend, org: DemoOrg) {
  return await member(t, org.workosOrgId).query(api.loads.countLoadsByStatusDetailed, {
    workosOrgId: org.workosOrgId,
  });
}

/** The detailed invoices answer of `org` (`invoices:countInvoicesByStatusDetailed`). */
export async function detailedInvoices(t: Backend, org: DemoOrg) {
  return await member(t, org.workosOrgId).query(api.invoices.countInvoicesByStatusDetailed, {
    workosOrgId: org.workosOrgId,
  });
}

/**
 * Prints an org's dashboard: the flat badge answers the frontend reads
 * (`countLoadsByStatus`, `countInvoicesByStatus`) with what they read, the
 * detailed answers' amounts and `state` (`...Detailed`), and what counting
 * by scanning the org's index reads (or where it fails). Fails the demo when
 * a flat answer is not the detailed one under the frontend's keys.
 */
export async function printDashboard(t: Backend, org: DemoOrg): Promise<void> {
  const loads = await badgeAnswers(t, org, "loads");
  const invoices = await badgeAnswers(t, org, "invoices");
  const scanLoads = await measureReadToLimit(t, (db) => scanLoadCounts(db, org.workosOrgId));
  const scanInvoices = await measureReadToLimit(t, (db) => scanInvoiceCounts(db, org.workosOrgId));
  const l = loads.detailed;
  const i = invoices.detailed;
  const totals = `${fmtInt(l.total)} loads, ${fmtInt(i.total)} invoices`;
  const partial = l.state === "partial" || i.state === "partial";
  const scanned = l.source === "scan" || i.source === "scan";
  say(
    `  ${org.name} (${org.workosOrgId}): ` +
      (partial
        ? `no counters yet, the badges count the first ${totals} only`
        : scanned
          ? `${totals}, counted by a bounded scan (no counters yet; exact while under 1,000)`
          : totals),
  );
  say(`    countLoadsByStatus     ${flatLine(loads.flat.ok ? loads.flat.result : {})}`);
  say(`    countInvoicesByStatus  ${flatLine(invoices.flat.ok ? invoices.flat.result : {})}`);
  say(
    `    Amounts   ${INVOICE_STATUSES.filter((s) => s !== "MISSING_DATA")
      .map((s) => `${label(s)} ${money(i.amountCents?.[s] ?? 0)}`)
      .join(" · ")}`,
  );
  say(`    Detailed answers     loads: ${badgeState(l)} | invoices: ${badgeState(i)}`);
  say(`    Badge queries read   loads: ${reads(loads.flat)} | invoices: ${reads(invoices.flat)}`);
  say(`    A scanning count     loads: ${reads(scanLoads)} | invoices: ${reads(scanInvoices)}`);
}

/** Prints dashboards of every org. */
export async function printDashboards(t: Backend, orgs: DemoOrg[]): Promise<void> {
  for (const org of orgs) await printDashboard(t, org);
}
