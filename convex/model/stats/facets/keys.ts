/**
 * The filtered counters' arithmetic, pure: where a document counts (its
 * "place": day and facet values), which facet documents that touches, the
 * delta of a set of changes per facet document, applying a delta to a
 * stored document, and comparing two documents cell by cell (the recount's
 * merge). Layout and reasons: `docs/filtered-counts.md`.
 *
 * A facet document is keyed by (facet, value, period):
 * - facet `""` (the org as a whole, value `""`), period `YYYY`: the day
 *   counts of that year (`days: { MMDD: number[] }`), dated documents only;
 * - a declared facet and a value, period `YYYY`: the same for that value;
 * - a declared facet and a value, period `"all"`: all-time counts of that
 *   value, undated documents included (`counts: number[]`), and per-year
 *   totals of its dated documents (`years: { YYYY: number[] }`), so a range
 *   covering whole years reads them here, not in the year documents.
 * Arrays are indexed by the table's declared status order.
 */
import { compareValues, type GenericId } from "convex/values";
import type { GenericDocument } from "convex/server";
import { MAX_FACET_VALUE_LENGTH, type CountedTable } from "../declare";
import { cellOf, dayOf, periodOf } from "./dates";

/** The facet of the org as a whole (value `""`). */
export const ORG_FACET = "";
/** The period of a facet value's all-time document. */
export const ALL_PERIOD = "all";

/** What the engine knows of a table's filtered counters. */
export type FacetSpec = {
  /** Declared facet names, in declaration order. */
  names: readonly string[];
  /** The document field of each facet (same order). */
  fields: readonly string[];
  /** The timestamp field, or null when the table declares none. */
  dateField: string | null;
  timeZone: string;
};

/** Where a document counts in the facet documents: its day (null: undated) and facet values. */
export type FacetPlace = { day: number | null; values: readonly (string | null)[] };

/** The facet spec of `decl`, or null when it declares no filtered counters. */
export function facetSpecOf(decl: CountedTable): FacetSpec | null {
  const facets = Object.entries(decl.facets ?? {});
  if (facets.length === 0 && decl.dateField === undefined) return null;
  return {
    names: facets.map(([name]) => name),
    fields: facets.map(([, field]) => field),
    dateField: decl.dateField?.field ?? null,
    timeZone: decl.dateField?.timeZone ?? "UTC",
  };
}

/** The facet value a stored field holds: a string of 1..MAX_FACET_VALUE_LENGTH characters, else none. */
export function facetValueOf(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_FACET_VALUE_LENGTH
    ? value
    : null;
}

/** Where `doc` counts in the facet documents of `spec`. */
export function placeOf(spec: FacetSpec, doc: GenericDocument): FacetPlace {
  return {
    day: spec.dateField === null ? null : dayOf(doc[spec.dateField], spec.timeZone),
    values: spec.fields.map((field) => facetValueOf(doc[field])),
  };
}

/** Whether two places count in the same facet cells. */
export function samePlace(a: FacetPlace | undefined, b: FacetPlace | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.day === b.day && a.values.every((v, i) => v === b.values[i]);
}

/** A facet document's key. */
export type FacetKey = { facet: string; value: string; period: string };

/** The order of the facet documents' index within one (org, table): facet, value, period. */
export function compareKeys(a: FacetKey, b: FacetKey): number {
  return (
    compareValues(a.facet, b.facet) ||
    compareValues(a.value, b.value) ||
    compareValues(a.period, b.period)
  );
}

/** A map key for a facet key. */
export function keyId(k: FacetKey): string {
  return JSON.stringify([k.facet, k.value, k.period]);
}

/** The key fields of a stored facet document. */
export function keyOf(doc: FacetKey): FacetKey {
  return { facet: doc.facet, value: doc.value, period: doc.period };
}

/** What a facet document holds besides its key, decoded: cells by day or year, a number per status. */
export type FacetContent = {
  days?: Record<string, number[]>;
  counts?: number[];
  years?: Record<string, number[]>;
};

/**
 * What a facet document stores besides its key (validators: `tables.ts`):
 * the cells packed into one string (`encodeCells`), a fifth of the size of
 * one array per day, so a dense year document is a few KiB. Every write and
 * recount page reads and writes whole documents, so their size is what
 * filtered counters cost in bytes.
 */
export type StoredFacetContent = { days?: string; counts?: number[]; years?: string };

/**
 * Cells as stored: `cell=n0,n1,...;cell=...` in cell order, each row's
 * trailing zeros left out and other zeros written empty (`0603=,1` is one
 * document in the second status). Integers only (counts).
 */
export function encodeCells(cells: Record<string, number[]>): string {
  return Object.keys(cells)
    .sort()
    .map((cell) => {
      const row = [...cells[cell]];
      while (row.length > 0 && row[row.length - 1] === 0) row.pop();
      return `${cell}=${row.map((x) => (x === 0 ? "" : String(x))).join(",")}`;
    })
    .join(";");
}

/** The cells of `encodeCells`'s text (rows as stored: shorter than the status list when it ended in zeros). */
export function decodeCells(text: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (text === "") return out;
  for (const entry of text.split(";")) {
    const eq = entry.indexOf("=");
    const values = entry.slice(eq + 1);
    out[entry.slice(0, eq)] =
      values === "" ? [] : values.split(",").map((x) => (x === "" ? 0 : Number(x)));
  }
  return out;
}

/** Content with its packed fields (`days`, `years`) mapped by `f`; `counts` is kept. */
function mapPacked<A, B>(
  content: { days?: A; counts?: number[]; years?: A },
  f: (packed: A) => B,
): { days?: B; counts?: number[]; years?: B } {
  const out: { days?: B; counts?: number[]; years?: B } = {};
  if (content.days !== undefined) out.days = f(content.days);
  if (content.counts !== undefined) out.counts = content.counts;
  if (content.years !== undefined) out.years = f(content.years);
  return out;
}

/** A stored facet document's cells, decoded. */
export function contentOf(doc: StoredFacetContent | null): FacetContent | null {
  return doc === null ? null : mapPacked(doc, decodeCells);
}

/** Cells as stored (null: nothing left, the document can go). */
export function storedOf(content: FacetContent | null): StoredFacetContent | null {
  return content === null ? null : mapPacked(content, encodeCells);
}

/** Changes to the cells of one facet document (or a whole document, folded from scratch). */
export type FacetDocDelta = FacetKey & {
  days: Map<string, number[]>;
  counts: number[] | null;
  years: Map<string, number[]>;
};

/** Changes per facet document, by `keyId`. */
export type FacetDelta = Map<string, FacetDocDelta>;

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}

function bump(cells: Map<string, number[]>, cell: string, n: number, status: number, by: number) {
  let row = cells.get(cell);
  if (row === undefined) {
    row = zeros(n);
    cells.set(cell, row);
  }
  row[status] += by;
}

function entryOf(delta: FacetDelta, key: FacetKey): FacetDocDelta {
  const id = keyId(key);
  let entry = delta.get(id);
  if (entry === undefined) {
    entry = { ...key, days: new Map(), counts: null, years: new Map() };
    delta.set(id, entry);
  }
  return entry;
}

/**
 * Adds (`sign` 1) or removes (-1) one document counting in status number
 * `status` (of `n`) at `place` to `delta`: the year document of its day for
 * the org and for each facet value it has, and each value's all-time
 * document (with its year's total when dated).
 */
export function addPlace(
  delta: FacetDelta,
  spec: FacetSpec,
  n: number,
  status: number,
  place: FacetPlace,
  sign: 1 | -1,
): void {
  const period = place.day === null ? null : periodOf(place.day);
  const cell = place.day === null ? null : cellOf(place.day);
  if (period !== null && cell !== null) {
    const org = entryOf(delta, { facet: ORG_FACET, value: "", period });
    bump(org.days, cell, n, status, sign);
  }
  spec.names.forEach((facet, i) => {
    const value = place.values[i];
    if (value === null) return;
    if (period !== null && cell !== null) {
      bump(entryOf(delta, { facet, value, period }).days, cell, n, status, sign);
    }
    const all = entryOf(delta, { facet, value, period: ALL_PERIOD });
    all.counts ??= zeros(n);
    all.counts[status] += sign;
    if (period !== null) bump(all.years, period, n, status, sign);
  });
}

function isZeroRow(row: readonly number[]): boolean {
  return row.every((x) => x === 0);
}

/** A stored row of cells, read as `n` numbers (missing entries are 0). */
function rowOf(stored: readonly number[] | undefined, n: number): number[] {
  const out = zeros(n);
  for (let i = 0; i < n; i++) out[i] = stored?.[i] ?? 0;
  return out;
}

function plusCells(
  stored: Record<string, number[]> | undefined,
  delta: Map<string, number[]>,
  n: number,
): Record<string, number[]> | undefined {
  const out: Record<string, number[]> = {};
  for (const [cell, row] of Object.entries(stored ?? {})) out[cell] = rowOf(row, n);
  for (const [cell, row] of delta) {
    // A decoded row may be shorter than `n` (its trailing zeros are not stored).
    const next = rowOf(out[cell], n).map((x, i) => x + (row[i] ?? 0));
    out[cell] = next;
  }
  for (const [cell, row] of Object.entries(out)) if (isZeroRow(row)) delete out[cell];
  return Object.keys(out).length === 0 ? undefined : sortedCells(out);
}

/** Cells in key order, so equal contents are stored alike. */
function sortedCells(cells: Record<string, number[]>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(cells).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * `stored` plus `delta` for a table of `n` statuses, or null when nothing is
 * left (every cell 0: the document can go). Never clamps: a cell may go
 * below zero (a write around the counters; the recount repairs it).
 */
export function applyDelta(
  stored: FacetContent | null,
  delta: Pick<FacetDocDelta, "days" | "counts" | "years">,
  n: number,
): FacetContent | null {
  // (`stored` and the result are decoded cells; `storedOf` packs them.)
  const days = plusCells(stored?.days, delta.days, n);
  const years = plusCells(stored?.years, delta.years, n);
  const base = stored?.counts === undefined ? undefined : rowOf(stored.counts, n);
  const counts =
    delta.counts === null ? base : rowOf(base, n).map((x, i) => x + (delta.counts?.[i] ?? 0));
  const out: FacetContent = {};
  if (days !== undefined) out.days = days;
  if (years !== undefined) out.years = years;
  if (counts !== undefined && !isZeroRow(counts)) out.counts = counts;
  return Object.keys(out).length === 0 ? null : out;
}

/** Whether any cell of `content` is below zero. */
export function hasNegativeCell(content: FacetContent | null): boolean {
  if (content === null) return false;
  const rows = [
    ...Object.values(content.days ?? {}),
    ...Object.values(content.years ?? {}),
    content.counts ?? [],
  ];
  return rows.some((row) => row.some((x) => x < 0));
}

/** One cell where a stored facet document differs from the count. */
export type FacetCellDiff = FacetKey & {
  /** `MMDD` (a year document's day), `YYYY` (a year's total) or `total` (all time). */
  cell: string;
  status: string;
  stored: number;
  actual: number;
};

/** Every cell where `stored` and `actual` differ (null: an absent document, all zeros). */
export function cellDiffs(
  key: FacetKey,
  stored: FacetContent | null,
  actual: FacetContent | null,
  statuses: readonly string[],
): FacetCellDiff[] {
  const out: FacetCellDiff[] = [];
  const compareRows = (cell: string, a: number[] | undefined, b: number[] | undefined) => {
    // Entries past the declared statuses (a status list that shrank) differ from 0 too.
    const length = Math.max(statuses.length, a?.length ?? 0, b?.length ?? 0);
    for (let i = 0; i < length; i++) {
      const [x, y] = [a?.[i] ?? 0, i < statuses.length ? (b?.[i] ?? 0) : 0];
      const status = statuses[i] ?? `#${i}`;
      if (x !== y) out.push({ ...keyOf(key), cell, status, stored: x, actual: y });
    }
  };
  const cells = (
    s: Record<string, number[]> | undefined,
    t: Record<string, number[]> | undefined,
  ) => [...new Set([...Object.keys(s ?? {}), ...Object.keys(t ?? {})])].sort();
  for (const cell of cells(stored?.days, actual?.days)) {
    compareRows(cell, stored?.days?.[cell], actual?.days?.[cell]);
  }
  for (const cell of cells(stored?.years, actual?.years)) {
    compareRows(cell, stored?.years?.[cell], actual?.years?.[cell]);
  }
  if (stored?.counts !== undefined || actual?.counts !== undefined) {
    compareRows("total", stored?.counts, actual?.counts);
  }
  return out;
}

/** A stored facet document as the module's code reads it. */
export type StoredFacetDoc = FacetKey &
  StoredFacetContent & { _id: GenericId<string>; _creationTime: number };

/** A decoded content as a delta (to add one stored delta to a running sum). */
export function deltaOfContent(
  content: FacetContent | null,
): Pick<FacetDocDelta, "days" | "counts" | "years"> {
  return {
    days: new Map(Object.entries(content?.days ?? {})),
    counts: content?.counts ?? null,
    years: new Map(Object.entries(content?.years ?? {})),
  };
}
