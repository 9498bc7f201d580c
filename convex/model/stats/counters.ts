/**
 * Typed per-status counter records: `{ Open: 3, Assigned: 7, ... }`.
 *
 * The validators are built from the status lists in `model/enums.ts`, so the
 * schema, the stats engine and the recount all agree on the set of keys.
 */
import { v, type VFloat64 } from "convex/values";
import { INVOICE_STATUSES, LOAD_STATUSES, type InvoiceStatus, type LoadStatus } from "../enums";

/** One number per status. */
export type Counts<S extends string> = Record<S, number>;

/** Builds a record with one entry per status, each computed by `value`. */
export function tally<S extends string>(
  statuses: readonly S[],
  value: (status: S) => number,
): Counts<S> {
  // Every key of S is assigned in the loop below before the record escapes.
  const out = {} as Counts<S>;
  for (const status of statuses) out[status] = value(status);
  return out;
}

/** A record of zeros, one per status. */
export function zeroCounts<S extends string>(statuses: readonly S[]): Counts<S> {
  return tally(statuses, () => 0);
}

/** Sum of all entries. */
export function sumCounts<S extends string>(statuses: readonly S[], counts: Counts<S>): number {
  let total = 0;
  for (const s of statuses) total += counts[s];
  return total;
}

/** True when every entry of `a` equals the same entry of `b`. */
export function countsEqual<S extends string>(
  statuses: readonly S[],
  a: Counts<S>,
  b: Counts<S>,
): boolean {
  return statuses.every((s) => a[s] === b[s]);
}

function vCounts<S extends string>(statuses: readonly S[]) {
  // Same construction as `tally`, but for validators.
  const fields = {} as Record<S, VFloat64<number>>;
  for (const status of statuses) fields[status] = v.number();
  return v.object(fields);
}

/** `{ [LoadStatus]: number }` */
export const vLoadCounts = vCounts<LoadStatus>(LOAD_STATUSES);
/** `{ [InvoiceStatus]: number }`, used for both invoice counts and cents. */
export const vInvoiceCounts = vCounts<InvoiceStatus>(INVOICE_STATUSES);
