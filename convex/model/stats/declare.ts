/**
 * Declaring counted tables: the one place an app says which of its tables
 * the counters keep, and how (org field, status field and values, display
 * names, amount field, the index the recount walks). Everything else in the
 * stats module (write layer, engine, recount, count queries, the stats
 * tables' validators) is written once over these declarations and names no
 * table of the app.
 *
 * ```ts
 * export const COUNTED = defineCountedTables({
 *   loadInformation: {
 *     orgField: "workosOrgId",
 *     statusField: "status",
 *     statuses: ["Open", "Assigned", "Completed", "Canceled", "Expired"],
 *     labels: { Completed: "Delivered" },
 *     orgIndex: "by_org",
 *   },
 * });
 * ```
 *
 * A table may also declare filtered counters (`docs/filtered-counts.md`):
 * `facets` (a badge filtered on one field's value, e.g. a lane) and
 * `dateField` (a badge filtered on a day range of a timestamp field). A
 * table without them pays nothing.
 *
 * Pure: no database, no imports of the app. A declaration file imports only
 * this file, so the schema can import it.
 */

/** One counted table. `S` is its status union. */
export type CountedTable<S extends string = string> = {
  /** The field holding the org id (a string); documents without one are not counted. */
  orgField: string;
  /** The field holding the status; documents whose status is not in `statuses` are not counted. */
  statusField: string;
  /** The statuses counted, in badge display order. */
  statuses: readonly S[];
  /**
   * Display names in the flat badge answer (`{ Completed: "Delivered" }`);
   * statuses not named show as themselves. Counters are stored by status.
   */
  labels?: { readonly [K in S]?: string };
  /** A field holding integer cents, summed per status (e.g. invoice amounts). */
  amountField?: string;
  /** Whether the flat badge answer carries `total`, the sum of its counts. */
  badgeTotal?: boolean;
  /**
   * An index on `[orgField]` alone: documents of one org in creation order,
   * which the recount walks (a status change does not move a document in it).
   */
  orgIndex: string;
  /**
   * Filtered counters by the value of a field: facet name (the filtered
   * query's argument) to the document field holding the value, e.g.
   * `{ laneId: "laneId" }`. A document counts under the field's value when it
   * is a string of 1..`MAX_FACET_VALUE_LENGTH` characters (ids are strings),
   * under no value of that facet otherwise. Counts only (not amounts).
   */
  facets?: { readonly [facet: string]: string };
  /**
   * Filtered counters by day: the field holding a timestamp (ms), and the one
   * IANA time zone its days are taken in (default `"UTC"`; changing it needs a
   * recount). Documents without a usable timestamp are undated: they count
   * in answers without a date range only.
   */
  dateField?: { field: string; timeZone?: string };
};

/** Longest facet value counted (longer values count under no value of their facet). */
export const MAX_FACET_VALUE_LENGTH = 256;

/** Argument names the filtered query takes besides the facets. */
export const FILTER_ARGS = ["workosOrgId", "startDate", "endDate"] as const;

/** The facet names of `D` (its filtered query's facet arguments). */
export type FacetName<D extends CountedTable> = D["facets"] extends infer F
  ? F extends { readonly [facet: string]: string }
    ? keyof F & string
    : never
  : never;

/** Whether `decl` keeps filtered counters (facets or a date field). */
export function isFiltered(decl: CountedTable): boolean {
  return Object.keys(decl.facets ?? {}).length > 0 || decl.dateField !== undefined;
}

/** Every counted table of an app, by table name. */
export type CountedTables = { readonly [table: string]: CountedTable };

/** The status union of a declaration. */
export type StatusOf<D extends CountedTable> = D["statuses"][number];

/** The flat answer's key for status `S` of `D`: its label, else itself. */
export type LabelOf<D extends CountedTable, S extends string> = D["labels"] extends infer L
  ? S extends keyof L
    ? L[S] extends string
      ? L[S]
      : S
    : S
  : S;

/** The keys of `D`'s flat badge answer (labels; `total` when declared). */
export type FlatKey<D extends CountedTable> =
  | { [S in StatusOf<D>]: LabelOf<D, S> }[StatusOf<D>]
  | (D["badgeTotal"] extends true ? "total" : never);

/** `D`'s flat badge answer: `{ Open: 3, Delivered: 7, ... }`. */
export type FlatCounts<D extends CountedTable> = { [K in FlatKey<D>]: number };

/** The label of `status` in the flat answer. */
export function labelOf(decl: CountedTable, status: string): string {
  const labels: Record<string, string | undefined> = decl.labels ?? {};
  return labels[status] ?? status;
}

/** The flat answer's keys of `decl`, in display order. */
export function flatKeys(decl: CountedTable): string[] {
  const keys = decl.statuses.map((s) => labelOf(decl, s));
  return decl.badgeTotal === true ? [...keys, "total"] : keys;
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Checks and returns the app's counted tables. Run once, at module load, so
 * a wrong declaration fails the deploy rather than a badge.
 *
 * @throws Error when a declaration is inconsistent: no statuses, repeated
 *   statuses, a label for an unknown status, two statuses with one label,
 *   `total` used as a label with `badgeTotal`, or a field name Convex would
 *   refuse.
 */
export function defineCountedTables<const T extends CountedTables>(tables: T): T {
  for (const [table, decl] of Object.entries(tables)) {
    const problem = declarationProblem(decl);
    if (problem !== null) throw new Error(`[stats.declare] ${table}: ${problem}`);
  }
  return tables;
}

function declarationProblem(decl: CountedTable): string | null {
  if (decl.statuses.length === 0) return "declares no status";
  if (new Set(decl.statuses).size !== decl.statuses.length) return "repeats a status";
  for (const status of decl.statuses) {
    if (!FIELD_NAME.test(status)) return `status "${status}" is not a valid field name`;
  }
  for (const status of Object.keys(decl.labels ?? {})) {
    if (!decl.statuses.includes(status)) return `labels unknown status "${status}"`;
  }
  const keys = flatKeys(decl);
  if (new Set(keys).size !== keys.length) return "two badge keys coincide (labels or total)";
  for (const key of keys) {
    if (!FIELD_NAME.test(key)) return `badge key "${key}" is not a valid field name`;
  }
  for (const field of [decl.orgField, decl.statusField, decl.amountField]) {
    if (field !== undefined && !FIELD_NAME.test(field)) return `"${field}" is not a field name`;
  }
  return filterProblem(decl);
}

/** What is wrong with `decl`'s facets or date field, or null. */
function filterProblem(decl: CountedTable): string | null {
  const facets = Object.entries(decl.facets ?? {});
  if (isFiltered(decl) && decl.amountField !== undefined) {
    return "filtered counters count documents only: facets or dateField with amountField";
  }
  for (const [facet, field] of facets) {
    if (!FIELD_NAME.test(facet)) return `facet "${facet}" is not a valid argument name`;
    if ((FILTER_ARGS as readonly string[]).includes(facet)) return `facet "${facet}" is reserved`;
    if (!FIELD_NAME.test(field)) return `facet field "${field}" is not a field name`;
  }
  if (new Set(facets.map(([, field]) => field)).size !== facets.length) {
    return "two facets read the same field";
  }
  const date = decl.dateField;
  if (date !== undefined) {
    if (!FIELD_NAME.test(date.field)) return `date field "${date.field}" is not a field name`;
    const zone = date.timeZone ?? "UTC";
    if (zone !== "UTC") {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
      } catch {
        return `time zone "${zone}" is not an IANA time zone this runtime knows`;
      }
    }
  }
  return null;
}
