/**
 * The write layer: the only code that inserts, patches or deletes counted
 * documents. Every write records the document's old and new bucket with the
 * mutation's stats accumulator, which the wrapped builders flush once at the
 * end of the mutation (see `convex/functions.ts`). Written once over the
 * entity table; `insertLoad` and friends are typed shorthands.
 *
 * Domain code reaches it as `ctx.counted`; the `ctx.db` it gets refuses
 * writes to the counted tables.
 */
import type { Doc, Id } from "../../_generated/dataModel";
import type { DatabaseWriter } from "../../_generated/server";
import type { StatsAccumulator } from "../../stats_helpers";
import type { StatsEntity } from "../enums";
import type { Bucket } from "./counters";
import { entityDef, type CountedFields, type PatchValue } from "./entities";

/** A patch may not move a document to another org. */
export type PatchOf<T extends StatsEntity> = Partial<Omit<CountedFields<T>, "workosOrgId">>;

/**
 * Patch and delete of each counted table, with its name spelled out (the
 * only code outside `insert` that writes a counted table). One line pair per
 * entity of `entities.ts`.
 */
type Store<T extends StatsEntity> = {
  patch: (db: DatabaseWriter, id: Id<T>, value: PatchValue<Doc<T>>) => Promise<void>;
  delete: (db: DatabaseWriter, id: Id<T>) => Promise<void>;
};
const STORES: { [T in StatsEntity]: Store<T> } = {
  loads: {
    patch: (db, id, value) => db.patch("loads", id, value),
    delete: (db, id) => db.delete("loads", id),
  },
  invoices: {
    patch: (db, id, value) => db.patch("invoices", id, value),
    delete: (db, id) => db.delete("invoices", id),
  },
};

type Latest = { [T in StatsEntity]: Map<Id<T>, Doc<T> | null> };

/**
 * Writes counted documents and records their stats deltas.
 *
 * Patches and deletes take the current document (which the caller has read
 * anyway, to check org and status) instead of an id, so the layer adds no
 * reads. It remembers the latest version of every document it wrote, so a
 * caller holding an older copy cannot record a wrong bucket.
 */
export class CountedWriter {
  private readonly latest: Latest = { loads: new Map(), invoices: new Map() };

  constructor(
    private readonly db: DatabaseWriter,
    private readonly stats: StatsAccumulator,
  ) {}

  /** Inserts a counted document. */
  async insert<T extends StatsEntity>(table: T, fields: CountedFields<T>): Promise<Id<T>> {
    const def = entityDef(table);
    def.check(fields);
    const id = await this.db.insert(table, fields);
    this.stats.record({
      entity: table,
      id,
      workosOrgId: fields.workosOrgId,
      creationTime: null,
      before: null,
      after: def.bucket(fields),
    });
    return id;
  }

  /** Patches `doc` and returns its new version. */
  async patch<T extends StatsEntity>(
    table: T,
    doc: Doc<T>,
    patch: PatchValue<Doc<T>>,
  ): Promise<Doc<T>> {
    const def = entityDef(table);
    if ("workosOrgId" in patch || "_id" in patch || "_creationTime" in patch) {
      throw new Error("[write-layer] a patch cannot move a document or change its identity");
    }
    def.check(patch);
    const current = this.current(table, doc);
    // `undefined` in a patch removes the field; as a property it reads the same.
    const next: Doc<T> = { ...current, ...patch };
    await STORES[table].patch(this.db, current._id, patch);
    this.latest[table].set(current._id, next);
    this.recordExisting(table, current, def.bucket(next));
    return next;
  }

  /** Deletes `doc`. */
  async delete<T extends StatsEntity>(table: T, doc: Doc<T>): Promise<void> {
    const current = this.current(table, doc);
    await STORES[table].delete(this.db, current._id);
    this.latest[table].set(current._id, null);
    this.recordExisting(table, current, null);
  }

  /** Records that the existing document `current` now counts as `after`. */
  private recordExisting<T extends StatsEntity>(table: T, current: Doc<T>, after: Bucket | null) {
    this.stats.record({
      entity: table,
      id: current._id,
      workosOrgId: current.workosOrgId,
      creationTime: current._creationTime,
      before: entityDef(table).bucket(current),
      after,
    });
  }

  insertLoad = (fields: CountedFields<"loads">) => this.insert("loads", fields);
  patchLoad = (load: Doc<"loads">, patch: PatchOf<"loads">) => this.patch("loads", load, patch);
  deleteLoad = (load: Doc<"loads">) => this.delete("loads", load);
  insertInvoice = (fields: CountedFields<"invoices">) => this.insert("invoices", fields);
  patchInvoice = (invoice: Doc<"invoices">, patch: PatchOf<"invoices">) =>
    this.patch("invoices", invoice, patch);
  deleteInvoice = (invoice: Doc<"invoices">) => this.delete("invoices", invoice);

  private current<T extends StatsEntity>(table: T, doc: Doc<T>): Doc<T> {
    const known = this.latest[table].get(doc._id);
    if (known === null) {
      throw new Error(`[write-layer] document ${doc._id} was deleted earlier in this mutation`);
    }
    return known ?? doc;
  }
}
