/**
 * The write layer: the only code that inserts, patches or deletes `loads` and
 * `invoices`. Every write records the document's old and new bucket with the
 * mutation's stats accumulator, which the wrapped builders flush once at the
 * end of the mutation (see `convex/functions.ts`).
 *
 * Domain code reaches it as `ctx.counted`; the `ctx.db` it gets refuses
 * writes to the counted tables.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { DatabaseWriter } from "../../_generated/server";
import { appError } from "../../lib/errors";
import { isValidAmountCents } from "../validate";
import { invoiceBucket, loadBucket, type StatsAccumulator } from "../../stats_helpers";

type Fields<T extends "loads" | "invoices"> = Omit<Doc<T>, "_id" | "_creationTime">;
/** A patch may not move a document to another org. */
type PatchOf<T extends "loads" | "invoices"> = Partial<Omit<Fields<T>, "workosOrgId">>;

function assertCents(amountCents: number): void {
  if (!isValidAmountCents(amountCents)) {
    throw appError(
      "INVALID_ARGUMENT",
      "amountCents must be a non-negative integer number of cents.",
      { amountCents },
    );
  }
}

/**
 * Writes counted documents and records their stats deltas.
 *
 * Patches and deletes take the current document (which the caller has read
 * anyway, to check org and status) instead of an id, so the layer adds no
 * reads. It remembers the latest version of every document it wrote, so a
 * caller holding an older copy cannot record a wrong bucket.
 */
export class CountedWriter {
  private readonly latestLoads = new Map<Id<"loads">, Doc<"loads"> | null>();
  private readonly latestInvoices = new Map<Id<"invoices">, Doc<"invoices"> | null>();

  constructor(
    private readonly db: DatabaseWriter,
    private readonly stats: StatsAccumulator,
  ) {}

  async insertLoad(fields: Fields<"loads">): Promise<Id<"loads">> {
    const id = await this.db.insert("loads", fields);
    this.stats.record({
      entity: "loads",
      id,
      workosOrgId: fields.workosOrgId,
      creationTime: null,
      before: null,
      after: loadBucket(fields),
    });
    return id;
  }

  /** Patches `load` and returns its new version. */
  async patchLoad(load: Doc<"loads">, patch: PatchOf<"loads">): Promise<Doc<"loads">> {
    const current = this.current(this.latestLoads, load);
    // `undefined` in a patch removes the field; as a property it reads the same.
    const next: Doc<"loads"> = { ...current, ...patch };
    await this.db.patch("loads", current._id, patch);
    this.latestLoads.set(current._id, next);
    this.stats.record({
      entity: "loads",
      id: current._id,
      workosOrgId: current.workosOrgId,
      creationTime: current._creationTime,
      before: loadBucket(current),
      after: loadBucket(next),
    });
    return next;
  }

  async deleteLoad(load: Doc<"loads">): Promise<void> {
    const current = this.current(this.latestLoads, load);
    await this.db.delete("loads", current._id);
    this.latestLoads.set(current._id, null);
    this.stats.record({
      entity: "loads",
      id: current._id,
      workosOrgId: current.workosOrgId,
      creationTime: current._creationTime,
      before: loadBucket(current),
      after: null,
    });
  }

  async insertInvoice(fields: Fields<"invoices">): Promise<Id<"invoices">> {
    assertCents(fields.amountCents);
    const id = await this.db.insert("invoices", fields);
    this.stats.record({
      entity: "invoices",
      id,
      workosOrgId: fields.workosOrgId,
      creationTime: null,
      before: null,
      after: invoiceBucket(fields),
    });
    return id;
  }

  /** Patches `invoice` and returns its new version. */
  async patchInvoice(
    invoice: Doc<"invoices">,
    patch: PatchOf<"invoices">,
  ): Promise<Doc<"invoices">> {
    if (patch.amountCents !== undefined) assertCents(patch.amountCents);
    const current = this.current(this.latestInvoices, invoice);
    const next: Doc<"invoices"> = { ...current, ...patch };
    await this.db.patch("invoices", current._id, patch);
    this.latestInvoices.set(current._id, next);
    this.stats.record({
      entity: "invoices",
      id: current._id,
      workosOrgId: current.workosOrgId,
      creationTime: current._creationTime,
      before: invoiceBucket(current),
      after: invoiceBucket(next),
    });
    return next;
  }

  async deleteInvoice(invoice: Doc<"invoices">): Promise<void> {
    const current = this.current(this.latestInvoices, invoice);
    await this.db.delete("invoices", current._id);
    this.latestInvoices.set(current._id, null);
    this.stats.record({
      entity: "invoices",
      id: current._id,
      workosOrgId: current.workosOrgId,
      creationTime: current._creationTime,
      before: invoiceBucket(current),
      after: null,
    });
  }

  private current<D extends { _id: string }>(latest: Map<D["_id"], D | null>, doc: D): D {
    const known = latest.get(doc._id);
    if (known === null) {
      throw new Error(`[write-layer] document ${doc._id} was deleted earlier in this mutation`);
    }
    return known ?? doc;
  }
}
