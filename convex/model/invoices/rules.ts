/**
 * Invoice rules: creation (at most one non-void invoice per load), the status
 * transition table and bulk status changes. Writes use plain `ctx.db`: the write layer counts them.
 *
 * A load's invoices are found by `loadId`; one that names a load of another
 * org (written around the code) is not that load's: it is reported and
 * skipped (`ownInvoices`), never rated, deleted or named to the caller.
 */
import { v, type Infer } from "convex/values";
import { literals } from "convex-helpers/validators";
import type { Doc, Id } from "../../_generated/dataModel";
import type { MutationCtx } from "../ctx";
import { appError } from "../../lib/errors";
import { INVOICE_STATUSES, vInvoiceStatus, type InvoiceStatus } from "../enums";
import { DUPLICATE_PROBE } from "../uniqueness";
import { reportStoredProblems, requireCents, storedProblem } from "../validate";

/**
 * Allowed invoice status changes.
 *
 * | from            | to                         |
 * |-----------------|----------------------------|
 * | MISSING_DATA    | DRAFT (lane promotion only), VOID |
 * | DRAFT           | BILLED, VOID               |
 * | BILLED          | PENDING_PAYMENT, PAID, VOID |
 * | PENDING_PAYMENT | PAID, VOID                 |
 * | PAID            | (terminal)                 |
 * | VOID            | (terminal)                 |
 */
export const INVOICE_TRANSITIONS: Record<InvoiceStatus, readonly InvoiceStatus[]> = {
  MISSING_DATA: ["DRAFT", "VOID"],
  DRAFT: ["BILLED", "VOID"],
  BILLED: ["PENDING_PAYMENT", "PAID", "VOID"],
  PENDING_PAYMENT: ["PAID", "VOID"],
  PAID: [],
  VOID: [],
};

/**
 * Targets of `bulkUpdateStatus`. `MISSING_DATA` is never a target, and only
 * lane promotion moves an invoice to `DRAFT` (it needs the lane's rate).
 */
export const BULK_TARGET_STATUSES = ["BILLED", "PENDING_PAYMENT", "PAID", "VOID"] as const;

/** Statuses that mean the invoice was billed (sent to the customer). */
export const BILLED_INVOICE_STATUSES = ["BILLED", "PENDING_PAYMENT", "PAID"] as const;

function isBilledStatus(status: InvoiceStatus): boolean {
  return BILLED_INVOICE_STATUSES.some((s) => s === status);
}

/**
 * Whether the invoice was ever billed: it is billed, pending payment or paid
 * now, or it carries `billedAt` (billed, then voided). Such an invoice is a
 * record to keep. Any `billedAt` counts, even one the code would not write
 * (NaN, negative): keeping a record is the safe side (`deleteLoad` reports it).
 *
 * Caveat: an invoice voided after billing before `billedAt` existed carries
 * no trace of it and is not recognized.
 */
export function wasBilled(invoice: Pick<Doc<"invoices">, "status" | "billedAt">): boolean {
  return isBilledStatus(invoice.status) || invoice.billedAt !== undefined;
}

/** Most invoice ids one bulk call takes (keeps it ~1,000 reads, 500 writes). */
export const MAX_BULK_IDS = 500;

/**
 * Most invoices one load may accumulate (one live, the rest voided), so that
 * `findInvoicesOfLoad` (and `deleteLoad`) stay bounded. `createInvoice`
 * enforces it.
 */
export const MAX_INVOICES_PER_LOAD = 50;

/** Statuses an invoice can be created in. */
export type InitialInvoiceStatus = "MISSING_DATA" | "DRAFT";

// `findLoadInvoice` relies on VOID sorting after every other status.
if (INVOICE_STATUSES.some((s) => s > "VOID")) {
  throw new Error("VOID must be the greatest invoice status in index order");
}

/** The load an invoice lookup is for: its id and its org. */
type LoadRef = Pick<Doc<"loads">, "_id" | "workosOrgId">;

/**
 * The invoices of `invoices` that belong to `load`'s org. The others name the
 * load but were written for another org around the code: each is reported
 * (`[stored.invalid]`, action `skipped`) and left alone, so a lookup never
 * rates, deletes or names another org's invoice.
 */
function ownInvoices(load: LoadRef, invoices: Doc<"invoices">[]): Doc<"invoices">[] {
  return invoices.filter((invoice) => {
    if (invoice.workosOrgId === load.workosOrgId) return true;
    reportStoredProblems(
      { table: "invoices", id: invoice._id, workosOrgId: load.workosOrgId },
      [storedProblem("workosOrgId", invoice.workosOrgId)],
      "skipped",
    );
    return false;
  });
}

/**
 * One of the load's invoices, if any (one read when the load has at most one
 * of the kind, at most `DUPLICATE_PROBE`):
 * - `active`: its non-void invoice. The code keeps at most one per load
 *   (`createInvoice`); if a write around it left several, the first in index
 *   order (lowest status, then oldest) is the one promotion rates and
 *   `createInvoice` names in its `ALREADY_EXISTS` refusal.
 * - `voided`: its newest voided invoice (promotion never replaces one).
 *
 * Invoices of another org naming the load are skipped (`ownInvoices`);
 * caveat: past `DUPLICATE_PROBE` of them the load's own is not seen.
 */
export async function findLoadInvoice(
  ctx: Pick<MutationCtx, "db">,
  load: LoadRef,
  which: "active" | "voided",
): Promise<Doc<"invoices"> | null> {
  const range = ctx.db
    .query("invoices")
    .withIndex("by_load_and_status", (q) =>
      which === "active"
        ? q.eq("loadId", load._id).lt("status", "VOID")
        : q.eq("loadId", load._id).eq("status", "VOID"),
    );
  const candidates = await (which === "active" ? range : range.order("desc")).take(DUPLICATE_PROBE);
  return ownInvoices(load, candidates)[0] ?? null;
}

/**
 * Every invoice of a load (bounded by `MAX_INVOICES_PER_LOAD`), without those
 * of another org that name it (`ownInvoices`: reported, left alone).
 *
 * @throws `LIMIT_EXCEEDED` for a load with more invoices than that, which
 *   `createInvoice` does not allow; only data written around it (or before
 *   the cap was enforced) can get there.
 */
export async function findInvoicesOfLoad(
  ctx: Pick<MutationCtx, "db">,
  load: LoadRef,
): Promise<Doc<"invoices">[]> {
  const invoices = await ctx.db
    .query("invoices")
    .withIndex("by_load_and_status", (q) => q.eq("loadId", load._id))
    .take(MAX_INVOICES_PER_LOAD + 1);
  if (invoices.length > MAX_INVOICES_PER_LOAD) {
    throw appError(
      "LIMIT_EXCEEDED",
      `This load has more than ${MAX_INVOICES_PER_LOAD} invoices, more than one call may handle.`,
      { loadId: load._id, limit: MAX_INVOICES_PER_LOAD },
    );
  }
  return ownInvoices(load, invoices);
}

/**
 * Creates the invoice of `load`; the counters follow. Reads the load's
 * non-void invoice (at most 1) and its voided ones (at most
 * `MAX_INVOICES_PER_LOAD`); for a new load both queries are empty and read no
 * document.
 *
 * @throws `ALREADY_EXISTS` when the load has a non-void invoice,
 *   `LIMIT_EXCEEDED` when it already has `MAX_INVOICES_PER_LOAD` (voided)
 *   invoices, `INVALID_ARGUMENT` for a bad amount.
 */
export async function createInvoice(
  ctx: MutationCtx,
  input: {
    /** The load (only its id and org are used, so a just-inserted load needs no read). */
    load: Pick<Doc<"loads">, "_id" | "workosOrgId">;
    status: InitialInvoiceStatus;
    amountCents: number;
    laneId?: Id<"lanes">;
  },
): Promise<Id<"invoices">> {
  const amountCents = requireCents(input.amountCents, "amountCents");
  if (input.status === "MISSING_DATA" && amountCents !== 0) {
    throw appError("INVALID_ARGUMENT", "A MISSING_DATA invoice has no rate: amount must be 0.", {
      field: "amountCents",
    });
  }
  const active = await findLoadInvoice(ctx, input.load, "active");
  if (active !== null) {
    throw appError("ALREADY_EXISTS", "This load already has an invoice that is not void.", {
      invoiceId: active._id,
    });
  }
  // With no live invoice, every invoice of the load is void. (Another org's
  // invoices naming the load count toward the cap too: it only refuses sooner.)
  const voided = await ctx.db
    .query("invoices")
    .withIndex("by_load_and_status", (q) => q.eq("loadId", input.load._id).eq("status", "VOID"))
    .take(MAX_INVOICES_PER_LOAD);
  if (voided.length >= MAX_INVOICES_PER_LOAD) {
    throw appError(
      "LIMIT_EXCEEDED",
      `A load may have at most ${MAX_INVOICES_PER_LOAD} invoices; this one has ${voided.length} voided ones.`,
      { loadId: input.load._id, limit: MAX_INVOICES_PER_LOAD },
    );
  }
  return await ctx.db.insert("invoices", {
    workosOrgId: input.load.workosOrgId,
    loadId: input.load._id,
    status: input.status,
    amountCents,
    laneId: input.laneId,
    statusChangedAt: Date.now(),
  });
}

/**
 * Loads the invoices `ids` of `workosOrgId`, in order.
 *
 * @throws `NOT_FOUND` listing every id that does not exist or belongs to
 *   another org (the two are not told apart, so ids do not leak).
 */
export async function getOrgInvoices(
  ctx: Pick<MutationCtx, "db">,
  workosOrgId: string,
  ids: Id<"invoices">[],
): Promise<Doc<"invoices">[]> {
  const docs = await Promise.all(ids.map((id) => ctx.db.get("invoices", id)));
  const missing = ids.filter((id, i) => docs[i]?.workosOrgId !== workosOrgId);
  if (missing.length > 0) {
    throw appError("NOT_FOUND", `${missing.length} invoice(s) not found in this organization.`, {
      invoiceIds: missing,
    });
  }
  return docs.filter((d): d is Doc<"invoices"> => d !== null);
}

/** Per-id outcome of a bulk status change. */
export const vBulkOutcome = v.object({
  invoiceId: v.id("invoices"),
  from: vInvoiceStatus,
  outcome: literals("updated", "unchanged", "skipped"),
});
export type BulkOutcome = Infer<typeof vBulkOutcome>;

/** A bulk call's answer: the per-invoice outcomes and how many were updated. */
export const vBulkResult = v.object({
  updated: v.number(),
  results: v.array(vBulkOutcome),
});
export type BulkResult = Infer<typeof vBulkResult>;

/** `results` with the count of those updated. */
export function bulkResult(results: BulkOutcome[]): BulkResult {
  return { updated: results.filter((r) => r.outcome === "updated").length, results };
}

/**
 * Moves every invoice to `to`. An invoice already in `to` is `unchanged`. An
 * invoice whose transition is not allowed fails the whole call
 * (`onIneligible: "reject"`, nothing written) or is `skipped`. Moving an
 * invoice into a billed status (`BILLED_INVOICE_STATUSES`) sets `billedAt`
 * unless it is set already; voiding keeps it.
 *
 * @throws `ILLEGAL_TRANSITION` listing the ineligible invoices.
 */
export async function setInvoicesStatus(
  ctx: MutationCtx,
  invoices: Doc<"invoices">[],
  to: InvoiceStatus,
  options: { onIneligible: "reject" | "skip"; voidReason?: string },
): Promise<BulkOutcome[]> {
  const outcomes: BulkOutcome[] = invoices.map((inv) => ({
    invoiceId: inv._id,
    from: inv.status,
    outcome:
      inv.status === to
        ? "unchanged"
        : INVOICE_TRANSITIONS[inv.status].includes(to)
          ? "updated"
          : "skipped",
  }));
  const ineligible = outcomes.filter((o) => o.outcome === "skipped");
  if (ineligible.length > 0 && options.onIneligible === "reject") {
    throw appError("ILLEGAL_TRANSITION", `${ineligible.length} invoice(s) cannot move to ${to}.`, {
      to,
      invoices: ineligible.map((o) => ({ invoiceId: o.invoiceId, from: o.from })),
    });
  }
  const now = Date.now();
  for (let i = 0; i < invoices.length; i++) {
    if (outcomes[i].outcome !== "updated") continue;
    await ctx.db.patch("invoices", invoices[i]._id, {
      status: to,
      statusChangedAt: now,
      // The first move into a billed status records when it was billed.
      ...(isBilledStatus(to) && invoices[i].billedAt === undefined ? { billedAt: now } : {}),
      ...(to === "VOID" && options.voidReason !== undefined
        ? { voidReason: options.voidReason }
        : {}),
    });
  }
  return outcomes;
}
