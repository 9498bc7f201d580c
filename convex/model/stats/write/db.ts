/**
 * The write layer: a `ctx.db` whose plain `insert`, `patch`, `replace` and
 * `delete` on a counted table record the document's old and new bucket with
 * the mutation's stats accumulator. Everything else passes through.
 *
 * It adds no read when the handler has read the document it writes (the
 * usual "get, check, patch"): every counted document the handler reads, by
 * `get` or by a query, is remembered for the rest of the mutation, and every
 * write updates what is remembered. A write to a counted document the handler
 * never read costs one `get` more.
 */
import type { GenericDocument } from "convex/server";
import type { GenericId } from "convex/values";
import type { StatsMutationCtx } from "../ctx";
import type { StatsAccumulator } from "../engine";
import { type CountedDoc, type EntityDef, type Entities } from "../entities";

/** What the mutation knows of a counted document: its latest version, or null once deleted. */
type Known = { doc: GenericDocument; creationTime: number | null } | null;

const QUERY_BUILDERS = new Set<PropertyKey>([
  "withIndex",
  "withSearchIndex",
  "order",
  "filter",
  "fullTableScan",
]);
const QUERY_RESULTS = new Set<PropertyKey>(["collect", "take", "first", "unique"]);

/** `doc` with `patch` applied as `db.patch` does (an `undefined` value removes the field). */
function applyPatch(doc: GenericDocument, patch: GenericDocument): GenericDocument {
  const next: GenericDocument = { ...doc };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) delete next[field];
    else next[field] = value;
  }
  return next;
}

/**
 * The counted view of one mutation's database. `db` is what handlers get as
 * `ctx.db`; `forget()` drops what was remembered (after a nested
 * `ctx.runMutation`, whose writes this layer did not see).
 */
export class CountedDb<DB extends StatsMutationCtx["db"]> {
  private readonly known = new Map<string, Known>();
  readonly db: DB;

  constructor(
    private readonly raw: DB,
    private readonly entities: Entities,
    private readonly stats: StatsAccumulator,
  ) {
    this.db = this.wrap();
  }

  /** Drops every remembered document. */
  forget(): void {
    this.known.clear();
  }

  /** The counted table an id belongs to, or null. */
  private tableOfId(id: unknown): EntityDef | null {
    if (typeof id !== "string") return null;
    for (const def of this.entities.values()) {
      if (this.raw.normalizeId(def.table, id) !== null) return def;
    }
    return null;
  }

  /** `(table, id, ...rest)` or the legacy `(id, ...rest)`: the table's definition, the id, the rest. */
  private resolve(args: unknown[]): { def: EntityDef | null; id: unknown; rest: unknown[] } {
    const [first, second, ...more] = args;
    if (typeof first === "string" && this.entities.has(first) && typeof second === "string") {
      return { def: this.entities.get(first) ?? null, id: second, rest: more };
    }
    if (typeof first === "string" && typeof second !== "string") {
      return { def: this.tableOfId(first), id: first, rest: args.slice(1) };
    }
    return { def: null, id: second, rest: more };
  }

  private remember(def: EntityDef, value: unknown): void {
    if (typeof value !== "object" || value === null || !("_id" in value)) return;
    const doc = value as CountedDoc;
    this.known.set(doc._id, { doc, creationTime: doc._creationTime });
  }

  private rememberAll(def: EntityDef, result: unknown): void {
    if (Array.isArray(result)) for (const doc of result) this.remember(def, doc);
    else if (typeof result === "object" && result !== null && "page" in result) {
      const page = (result as { page: unknown }).page;
      if (Array.isArray(page)) for (const doc of page) this.remember(def, doc);
    } else this.remember(def, result);
  }

  /** The document as it is now (remembered, else read: one `get`). */
  private async current(def: EntityDef, id: string): Promise<Known | undefined> {
    const known = this.known.get(id);
    if (known !== undefined) return known;
    const doc = await this.raw.get(def.table, id as GenericId<string>);
    return doc === null ? undefined : { doc, creationTime: doc._creationTime as number };
  }

  private record(
    def: EntityDef,
    id: string,
    before: Known | undefined,
    after: GenericDocument | null,
  ) {
    this.stats.record({
      entity: def.table,
      id,
      creationTime: before?.creationTime ?? null,
      before: before ? def.sideOf(before.doc) : null,
      after: after === null ? null : def.sideOf(after),
    });
    this.known.set(
      id,
      after === null ? null : { doc: after, creationTime: before?.creationTime ?? null },
    );
  }

  private wrapQuery(def: EntityDef, query: object): object {
    return new Proxy(query, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (QUERY_BUILDERS.has(prop)) {
          return (...args: unknown[]) => this.wrapQuery(def, Reflect.apply(value, target, args));
        }
        if (QUERY_RESULTS.has(prop) || prop === "paginate") {
          return async (...args: unknown[]) => {
            const result: unknown = await Reflect.apply(value, target, args);
            this.rememberAll(def, result);
            return result;
          };
        }
        if (prop === Symbol.asyncIterator) {
          return () => {
            const inner = Reflect.apply(value, target, []) as AsyncIterator<unknown>;
            return {
              next: async () => {
                const step = await inner.next();
                if (step.done !== true) this.remember(def, step.value);
                return step;
              },
              [Symbol.asyncIterator]() {
                return this;
              },
            };
          };
        }
        return value.bind(target);
      },
    });
  }

  /**
   * `patch`, `replace` or `delete` (table named, or the legacy id-only
   * overload): on a counted document, reads what it was (unless remembered),
   * writes, and records the change to `next(before, value)`.
   */
  private writeExisting(
    method: "patch" | "replace" | "delete",
    next: (before: GenericDocument, value: GenericDocument) => GenericDocument | null,
  ) {
    return async (...args: unknown[]) => {
      const write = () => Reflect.apply(this.raw[method], this.raw, args) as Promise<void>;
      const { def, id, rest } = this.resolve(args);
      if (def === null || typeof id !== "string") return await write();
      const value = (rest[0] ?? {}) as GenericDocument;
      def.check(value);
      const before = await this.current(def, id);
      await write();
      // Convex refused a write to a missing document above: nothing to record.
      if (before === undefined || before === null) return;
      this.record(def, id, before, next(before.doc, value));
    };
  }

  private wrap(): DB {
    const raw = this.raw;
    const methods: Record<string, (...args: unknown[]) => unknown> = {
      get: async (...args) => {
        const { def } = this.resolve(args);
        const doc: unknown = await Reflect.apply(raw.get, raw, args);
        if (def !== null) this.remember(def, doc);
        return doc;
      },
      query: (table) => {
        const query = raw.query(table as string);
        const def = this.entities.get(table as string);
        return def === undefined ? query : this.wrapQuery(def, query);
      },
      insert: async (table, value) => {
        const def = this.entities.get(table as string);
        if (def === undefined) return await raw.insert(table as string, value as GenericDocument);
        def.check(value as GenericDocument);
        const id = await raw.insert(def.table, value as GenericDocument);
        this.record(def, id, undefined, value as GenericDocument);
        return id;
      },
      patch: this.writeExisting("patch", applyPatch),
      replace: this.writeExisting("replace", (doc, value) => ({
        ...value,
        _id: doc._id,
        _creationTime: doc._creationTime,
      })),
      delete: this.writeExisting("delete", () => null),
    };
    return new Proxy(raw, {
      get: (target, prop, receiver) => {
        if (typeof prop === "string" && prop in methods) return methods[prop];
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }
}
