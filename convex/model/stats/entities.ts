/**
 * What the engine knows of one counted table, built from its declaration
 * (`declare.ts`): the bucket a document counts in, the values it holds that
 * the code never writes, its counters as a row stores them, and the recount's
 * walk over its org index. The engine (`engine.ts`), the write layer
 * (`write/`), the read side (`read.ts`) and the recount (`recount/`) are
 * written once over these; none of them names an app table.
 */
import type { GenericDocument } from "convex/server";
import type { AnyReader as StatsAnyReader } from "./ctx";
import type { GenericId } from "convex/values";
import { appError } from "../../lib/errors";
import { countedCents, isValidAmountCents, MAX_AMOUNT_CENTS } from "./amounts";
import { addBucket, countsOf, emptyTally, type Bucket, type Tally } from "./counters";
import type { CountedTable, CountedTables } from "./declare";
import { facetSpecOf, placeOf, type FacetPlace, type FacetSpec } from "./facets/keys";
import { MEASURES, type InvalidDocument, type Measure, type StatsRowFields } from "./tables";

/** A stored document of a counted table, as the engine reads it. */
export type CountedDoc = GenericDocument & { _id: GenericId<string>; _creationTime: number };

/**
 * Where a document counts: its org and bucket, and for a table with filtered
 * counters its place in the facet documents (day and facet values).
 */
export type Side = { workosOrgId: string; bucket: Bucket; place?: FacetPlace };

/** A query over a counted table, in index order (what the walk iterates). */
export type CountedQuery = {
  take(n: number): Promise<CountedDoc[]>;
  first(): Promise<CountedDoc | null>;
  [Symbol.asyncIterator](): AsyncIterator<CountedDoc>;
};

/** Any database reader: the engine reads app tables by their declared names. */
type AnyReader = StatsAnyReader;

/**
 * An index range builder over a declared field. Convex types index fields per
 * concrete table only; the declaration names them at run time.
 */
type RangeBuilder = {
  eq(field: string, value: string): RangeBuilder;
  gt(field: string, value: string | number): RangeBuilder;
};

/** The fields every stats row has besides its counters. */
export type StatsRowCommon = Omit<StatsRowFields, "entity" | "counts" | "amountCents">;

/** Everything the counters need to know about one counted table. */
export type EntityDef = {
  table: string;
  decl: CountedTable;
  /** The statuses counted, in display order. */
  statuses: readonly string[];
  /** What the stats row stores per status (`count` always). */
  measures: readonly Measure[];
  /** The table's filtered counters (facets, date field), or null when it declares none. */
  facets: FacetSpec | null;
  /**
   * Where `doc` counts, or null when it does not count (no org id, or a
   * status the declaration does not list). The live path (write layer) and
   * the recount both count through this, so they agree on any stored value.
   */
  sideOf: (doc: GenericDocument) => Side | null;
  /** The fields of `doc` holding values the code never writes, for the recount's report. */
  invalidFields: (doc: CountedDoc) => InvalidDocument[];
  /** A tally as the row's counter fields (statuses missing from it count 0). */
  counters: (t: Tally) => { counts: Record<string, number>; amountCents?: Record<string, number> };
  /** The org's documents after `cursor` (a `_creationTime`; null = from the start), in creation order. */
  documentsAfter: (db: AnyReader, workosOrgId: string, cursor: number | null) => CountedQuery;
  /** The first documents of orgs after `previous` in the same index (a skip scan of orgs). */
  orgsAfter: (db: AnyReader, previous: string | null) => CountedQuery;
  /** The org of a document of this table (as stored; may be anything). */
  orgOf: (doc: GenericDocument) => unknown;
  /**
   * Refuses (`INVALID_ARGUMENT`, before anything is written) fields a write
   * sets that cannot be counted exactly: an amount outside the amount rule.
   */
  check: (fields: GenericDocument) => void;
  /** A stats row of this table with `common` fields and zero counters. */
  emptyRow: (common: StatsRowCommon) => StatsRowFields;
};

/** The JavaScript `String()` of a stored value, keeping -0 apart from 0. */
function valueString(value: unknown): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

/** The engine's view of declared table `table`. */
export function entityOf(table: string, decl: CountedTable): EntityDef {
  const measures: Measure[] = decl.amountField === undefined ? ["count"] : [...MEASURES];
  const statuses = decl.statuses;
  const known = new Set<string>(statuses);
  const amountOf = (doc: GenericDocument): unknown =>
    decl.amountField === undefined ? 0 : doc[decl.amountField];
  const counters = (t: Tally) =>
    decl.amountField === undefined
      ? { counts: countsOf(statuses, t, "count") }
      : {
          counts: countsOf(statuses, t, "count"),
          amountCents: countsOf(statuses, t, "amountCents"),
        };
  const query = (db: AnyReader) => db.query(table);
  const facets = facetSpecOf(decl);
  return {
    table,
    decl,
    statuses,
    measures,
    facets,
    sideOf: (doc) => {
      const workosOrgId = doc[decl.orgField];
      const status = doc[decl.statusField];
      if (typeof workosOrgId !== "string" || workosOrgId === "") return null;
      if (typeof status !== "string" || !known.has(status)) return null;
      const bucket = { status, amountCents: countedCents(amountOf(doc)) };
      return facets === null
        ? { workosOrgId, bucket }
        : { workosOrgId, bucket, place: placeOf(facets, doc) };
    },
    invalidFields: (doc) => {
      const out: InvalidDocument[] = [];
      const id = doc._id;
      const org = doc[decl.orgField];
      if (typeof org !== "string" || org === "") {
        out.push({ id, field: decl.orgField, value: valueString(org) });
      }
      const status = doc[decl.statusField];
      if (typeof status !== "string" || !known.has(status)) {
        out.push({ id, field: decl.statusField, value: valueString(status) });
      }
      if (decl.amountField !== undefined && !isValidAmountCents(doc[decl.amountField])) {
        out.push({ id, field: decl.amountField, value: valueString(doc[decl.amountField]) });
      }
      return out;
    },
    counters,
    // The walk's index is declared per table; Convex types index names per
    // concrete table only, so the range builder is typed loosely here.
    documentsAfter: (db, workosOrgId, cursor) =>
      query(db).withIndex(decl.orgIndex, (q) => {
        const org = (q as unknown as RangeBuilder).eq(decl.orgField, workosOrgId);
        return (cursor === null ? org : org.gt("_creationTime", cursor)) as unknown as typeof q;
      }) as unknown as CountedQuery,
    orgsAfter: (db, previous) =>
      query(db).withIndex(decl.orgIndex, (q) =>
        previous === null
          ? q
          : ((q as unknown as RangeBuilder).gt(decl.orgField, previous) as unknown as typeof q),
      ) as unknown as CountedQuery,
    orgOf: (doc) => doc[decl.orgField],
    check: (fields) => {
      if (decl.amountField === undefined) return;
      const amount = fields[decl.amountField];
      if (amount === undefined || isValidAmountCents(amount)) return;
      throw appError(
        "INVALID_ARGUMENT",
        `${decl.amountField} must be a non-negative integer number of cents, at most ${MAX_AMOUNT_CENTS}.`,
        { [decl.amountField]: typeof amount === "number" ? amount : String(amount) },
      );
    },
    emptyRow: (common) => ({ ...common, entity: table, ...counters(emptyTally()) }),
  };
}

/** The engine's view of every declared table, by name. */
export type Entities = ReadonlyMap<string, EntityDef>;

/** Builds the engine's view of `tables` (once per app, at module load). */
export function entitiesOf(tables: CountedTables): Entities {
  return new Map(Object.entries(tables).map(([table, decl]) => [table, entityOf(table, decl)]));
}

/** The definition of `entity`; throws for a table that is not counted. */
export function entityIn(entities: Entities, entity: string): EntityDef {
  const def = entities.get(entity);
  if (def === undefined) throw new Error(`[stats] ${entity} is not a counted table`);
  return def;
}

/** Adds `doc` to `t` when it counts (the recount's per-document step). */
export function addDocument(def: EntityDef, t: Tally, doc: GenericDocument): void {
  const side = def.sideOf(doc);
  if (side !== null) addBucket(t, side.bucket, 1);
}

export { emptyTally };
