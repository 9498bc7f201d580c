/**
 * How the demo shows things: dashboard badges ("Open 312 · Assigned 1,204"),
 * money, and the I/O of a badge query next to what a scanning count reads.
 */
import { api } from "../convex/_generated/api";
import type { Counts } from "../convex/model/stats/counters";
import { INVOICE_STATUSES, LOAD_STATUSES } from "../convex/model/enums";
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

function badges<S extends string>(statuses: readonly S[], counts: Counts<S>): string {
  return statuses.map((s) => `${label(s)} ${fmtInt(counts[s])}`).join(" · ");
}

/** `3 docs, 1.2 KiB` */
export function docs(io: Pick<Io, "documentsRead" | "bytesRead">): string {
  const n = io.documentsRead;
  return `${fmtInt(n)} ${n === 1 ? "doc" : "docs"}, ${fmtBytes(io.bytesRead)}`;
}

function reads(m: Measurement<unknown>): string {
  return m.ok ? docs(m.io) : `FAILS (over the ${limitName(m.error)} after ${docs(m.io)})`;
}

/**
 * Prints an org's dashboard from the badge queries, each with what it read,
 * and what counting by scanning the org's index reads (or where it fails).
 * Badges that are not exact (no exact stats row yet: the queries fall back to
 * a bounded scan) say so.
 */
export async function printDashboard(t: Backend, org: DemoOrg): Promise<void> {
  const who = member(t, org.workosOrgId);
  const args = { workosOrgId: org.workosOrgId };
  const loads = await measureQueryToLimit(who, api.loads.countLoadsByStatusDetailed, args);
  const invoices = await measureQueryToLimit(who, api.invoices.countInvoicesByStatusDetailed, args);
  if (!loads.ok || !invoices.ok) throw new Error("a badge query failed");
  const scanLoads = await measureReadToLimit(t, (db) => scanLoadCounts(db, org.workosOrgId));
  const scanInvoices = await measureReadToLimit(t, (db) => scanInvoiceCounts(db, org.workosOrgId));
  const l = loads.result;
  const i = invoices.result;
  const exact = l.exact && i.exact;
  const scanned = l.source === "scan" || i.source === "scan";
  const totals = `${fmtInt(l.total)} loads, ${fmtInt(i.total)} invoices`;
  say(
    `  ${org.name} (${org.workosOrgId}): ` +
      (!exact
        ? `NOT EXACT: no exact counters yet, the badges count the first ${totals} only`
        : scanned
          ? `${totals}, counted by a bounded scan (no exact counters yet; exact while under 1,000)`
          : totals),
  );
  say(`    Loads     ${badges(LOAD_STATUSES, l.counts)}`);
  say(`    Invoices  ${badges(INVOICE_STATUSES, i.counts)}`);
  say(
    `    Amounts   ${INVOICE_STATUSES.filter((s) => s !== "MISSING_DATA")
      .map((s) => `${label(s)} ${money(i.amountCents[s])}`)
      .join(" · ")}`,
  );
  say(`    Badge queries read   loads: ${reads(loads)} | invoices: ${reads(invoices)}`);
  say(`    A scanning count     loads: ${reads(scanLoads)} | invoices: ${reads(scanInvoices)}`);
}

/** Prints dashboards of every org. */
export async function printDashboards(t: Backend, orgs: DemoOrg[]): Promise<void> {
  for (const org of orgs) await printDashboard(t, org);
}
