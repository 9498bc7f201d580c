/**
 * The entity table: what is counted, declared once per counted table.
 *
 * Each declaration says which statuses a table is counted by, what one
 * document adds (its bucket), which measures its stats row stores, how its
 * counter fields look (the validators the schema builds the stats row and the
 * recount shadow from), which index the recount walks, and what a write must
 * satisfy. The engine (`engine.ts`), the write layer (`writer.ts`), the read
 * side (`read.ts`), the recount (`recount/`) and the migration's dry run are
 * written once over these declarations; none of them names a table.
 *
 * Adding a counted table: `docs/adding-a-counted-table.md`.
 */
import type { OrderedQuery, NamedTableInfo, WithoutSystemFields } from "convex/server";
import type { DataModel, Doc, Id } from "../../_generated/dataModel";
import type { DatabaseReader } from "../../_generated/server";
import { appError } from "../../lib/errors";
import { INVOICE_STATUSES, LOAD_STATUSES, type StatsEntity } from "../enums";
import { isValidAmountCents, MAX_AMOUNT_CENTS } from "../validate";
import type { InvalidDocument } from "./tables";
import {
  countsOf,
  emptyTally,
  vInvoiceCounts,
  vLoadCounts,
  type Bucket,
  type Measure,
  type Tally,
} from "./counters";

/**
 * The counter fields of each entity's stats row (and recount shadow), as
 * validators. The schema spreads these into `organizationStats`.
 */
export const ENTITY_COUNTERS = {
  loads: { counts: vLoadCounts },
  invoices: { counts: vInvoiceCounts, amountCents: vInvoiceCounts },
} as const;

/** A patch of a document `D`, as `db.patch` takes it. */
export type PatchValue<D> = { [P in keyof D]?: undefined extends D[P] ? D[P] | undefined : D[P] };

/** The fields of a counted document as written (no system fields). */
export type CountedFields<T extends StatsEntity> = WithoutSystemFields<Doc<T>>;

/** A stats row of `T`. */
export type StatsRowOf<T extends StatsEntity> = Extract<Doc<"organizationStats">, { entity: T }>;

/** A stats row of `T` without its system fields, as inserted or replaced. */
export type StatsRowFieldsOf<T extends StatsEntity> = Extract<
  WithoutSystemFields<Doc<"organizationStats">>,
  { entity: T }
>;

/** The fields every stats row has, whatever it counts. */
export type StatsRowCommon = Pick<
  StatsRowOf<StatsEntity>,
  "workosOrgId" | "exact" | "seeded" | "orgDeleted" | "lastRecount" | "recounting" | "updatedAt"
>;

/** The counter fields of `T`'s stats row: `counts` (and `amountCents` where measured). */
export type CountersOf<T extends StatsEntity> = {
  [K in keyof (typeof ENTITY_COUNTERS)[T]]: StatsRowOf<T>[K & keyof StatsRowOf<T>];
};

/** Everything the counters need to know about one counted table. */
export type EntityDef<T extends StatsEntity> = {
  table: T;
  /** The statuses counted, in display order. */
  statuses: readonly string[];
  /** What the stats row stores per status (`count` always). */
  measures: readonly Measure[];
  /**
   * What one document adds to its org's counters. The live path (write
   * layer) and the recount both count through this, so they agree on any
   * stored value, also one written around the code (see `countedCents`).
   */
  bucket: (doc: Doc<T> | CountedFields<T>) => Bucket;
  /**
   * The fields of `doc` holding values the code never writes (written
   * around it: a dashboard edit, an import), for the recount's drift report.
   */
  invalidFields: (doc: Doc<T>) => InvalidDocument[];
  /** A tally as the row's typed counter fields (statuses missing from it count 0). */
  counters: (t: Tally) => CountersOf<T>;
  /**
   * The org's documents after `cursor` (a `_creationTime`; null = from the
   * start) in `_creationTime` order: the index the recount walks.
   */
  documentsAfter: (
    db: DatabaseReader,
    workosOrgId: string,
    cursor: number | null,
  ) => OrderedQuery<NamedTableInfo<DataModel, T>>;
  /** The first documents of orgs after `previous` in the same index (a skip scan of orgs). */
  orgsAfter: (
    db: DatabaseReader,
    previous: string | null,
  ) => OrderedQuery<NamedTableInfo<DataModel, T>>;
  /** `db.get` on this table. */
  get: (db: DatabaseReader, id: Id<T>) => Promise<Doc<T> | null>;
  /** Refuses (with a `ConvexError`) fields that cannot be counted. */
  check: (fields: object) => void;
  /** A stats row of this table with `common` fields and zero counters. */
  emptyRow: (common: StatsRowCommon) => StatsRowFieldsOf<T>;
};

/**
 * What an invoice's `amountCents` adds to its status's amount counter: the
 * amount when it is one the code writes (`isValidAmountCents`: an integer
 * 0..`MAX_AMOUNT_CENTS`), else 0. The invoice is still counted in `counts`.
 * This keeps every sum finite and exact (no NaN poisoning, no rounding past
 * 2^53, so adding and later subtracting a document cancels exactly) while
 * the histogram stays well defined for whatever is stored; the recount lists
 * the offending documents (`invalidFields`) so an operator can fix them.
 */
export function countedCents(amountCents: unknown): number {
  // `+ 0` turns -0 into 0, so no counter is ever -0.
  return isValidAmountCents(amountCents) ? amountCents + 0 : 0;
}

/** The JavaScript `String()` of a stored value, keeping -0 apart from 0. */
function valueString(value: unknown): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

function assertCents(fields: object): void {
  if (!("amountCents" in fields) || fields.amountCents === undefined) return;
  const amountCents = typeof fields.amountCents === "number" ? fields.amountCents : NaN;
  if (!isValidAmountCents(amountCents)) {
    throw appError(
      "INVALID_ARGUMENT",
      `amountCents must be a non-negative integer number of cents, at most ${MAX_AMOUNT_CENTS}.`,
      { amountCents },
    );
  }
}

/**
 * The recount's walk over a counted table, through its `by_org` index
 * (`["workosOrgId", "_creationTime"]`; every counted table declares it, and
 * `tests/schema.test.ts` checks that). Written once for all of them.
 */
function byOrgWalk<T extends StatsEntity>(
  table: T,
): Pick<EntityDef<T>, "documentsAfter" | "orgsAfter"> {
  // Convex resolves index names only for a concrete table, not a type
  // parameter; over the union of counted tables `by_org` is the shared index,
  // and every query below reads `table` only, so the narrowing casts hold.
  type Walk = OrderedQuery<NamedTableInfo<DataModel, T>>;
  const counted: StatsEntity = table;
  return {
    documentsAfter: (db, workosOrgId, cursor) =>
      db
        .query(counted)
        .withIndex("by_org", (q) =>
          cursor === null
            ? q.eq("workosOrgId", workosOrgId)
            : q.eq("workosOrgId", workosOrgId).gt("_creationTime", cursor),
        ) as unknown as Walk,
    orgsAfter: (db, previous) =>
      db
        .query(counted)
        .withIndex("by_org", (q) =>
          previous === null ? q : q.gt("workosOrgId", previous),
        ) as unknown as Walk,
  };
}

/** Loads: counted by status, no amount. */
const loads: EntityDef<"loads"> = {
  table: "loads",
  statuses: LOAD_STATUSES,
  measures: ["count"],
  bucket: (doc) => ({ status: doc.status, amountCents: 0 }),
  // Only the status is counted, and the schema allows only known statuses.
  invalidFields: () => [],
  counters: (t) => ({ counts: countsOf(LOAD_STATUSES, t, "count") }),
  ...byOrgWalk("loads"),
  get: (db, id) => db.get("loads", id),
  check: () => {},
  emptyRow: (common) => ({ ...common, entity: "loads", ...loads.counters(emptyTally()) }),
};

/** Invoices: counted by status, with their amount in cents. */
const invoices: EntityDef<"invoices"> = {
  table: "invoices",
  statuses: INVOICE_STATUSES,
  measures: ["count", "amountCents"],
  bucket: (doc) => ({ status: doc.status, amountCents: countedCents(doc.amountCents) }),
  invalidFields: (doc) =>
    isValidAmountCents(doc.amountCents)
      ? []
      : [{ id: doc._id, field: "amountCents", value: valueString(doc.amountCents) }],
  counters: (t) => ({
    counts: countsOf(INVOICE_STATUSES, t, "count"),
    amountCents: countsOf(INVOICE_STATUSES, t, "amountCents"),
  }),
  ...byOrgWalk("invoices"),
  get: (db, id) => db.get("invoices", id),
  check: assertCents,
  emptyRow: (common) => ({ ...common, entity: "invoices", ...invoices.counters(emptyTally()) }),
};

/** Every counted table's declaration, by table name. */
export const ENTITIES: { [T in StatsEntity]: EntityDef<T> } = { loads, invoices };

/** The declaration of `entity`. */
export function entityDef<T extends StatsEntity>(entity: T): EntityDef<T> {
  return ENTITIES[entity];
}
