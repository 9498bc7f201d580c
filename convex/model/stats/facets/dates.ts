/**
 * Days for the filtered counters: the day a timestamp falls on in the one
 * time zone a counted table declares (`dateField.timeZone`), the `YYYY-MM-DD`
 * dates a filtered query takes, and how a day range splits into years (the
 * facet documents hold one year of days each). Pure: no database.
 *
 * A day is a number `YYYYMMDD` (20240131), so ranges compare as numbers. Only
 * years 1000..9999 are days: a timestamp outside them is undated.
 */
import { appError } from "../../../lib/errors";

/** First and last year a day may fall in (4 digits, so periods sort as text). */
export const MIN_YEAR = 1000;
export const MAX_YEAR = 9999;

/** The longest range a filtered query takes: `endDate` before `startDate` plus this many years. */
export const MAX_RANGE_YEARS = 5;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The day formatter of `timeZone` (built once per zone). */
function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      calendar: "gregory",
      numberingSystem: "latn",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The day (`YYYYMMDD`) timestamp `ms` falls on in `timeZone`, or null when
 * `ms` is not a finite number or its year is outside `MIN_YEAR..MAX_YEAR`.
 * UTC is computed without `Intl`; other zones use `Intl.DateTimeFormat`.
 */
export function dayOf(ms: unknown, timeZone: string): number | null {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return null;
  let year: number;
  let month: number;
  let day: number;
  if (timeZone === "UTC") {
    year = date.getUTCFullYear();
    month = date.getUTCMonth() + 1;
    day = date.getUTCDate();
  } else {
    const parts = formatterOf(timeZone).formatToParts(date);
    const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    year = part("year");
    month = part("month");
    day = part("day");
    // Years before 1 come with an era; they are outside the range anyway.
    if (parts.some((p) => p.type === "era")) return null;
  }
  if (!Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) return null;
  return year * 10_000 + month * 100 + day;
}

/** The year of day `day`, as a facet document's period ("2024"). */
export function periodOf(day: number): string {
  return String(Math.floor(day / 10_000));
}

/** The day of year cell of day `day` in its year document ("0131"). */
export function cellOf(day: number): string {
  return String(day % 10_000).padStart(4, "0");
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The day of a `YYYY-MM-DD` argument.
 *
 * @throws `INVALID_ARGUMENT` naming `field` when `text` is not a calendar
 *   date of years `MIN_YEAR..MAX_YEAR` in that form.
 */
export function parseDate(text: string, field: string): number {
  const m = DATE.exec(text);
  const [year, month, day] = m === null ? [0, 0, 0] : [Number(m[1]), Number(m[2]), Number(m[3])];
  if (
    m === null ||
    year < MIN_YEAR ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month)
  ) {
    throw appError("INVALID_ARGUMENT", `${field} must be a calendar date as YYYY-MM-DD.`, {
      field,
      value: text.slice(0, 40),
    });
  }
  return year * 10_000 + month * 100 + day;
}

/** An inclusive range of days. */
export type DayRange = { start: number; end: number };

/**
 * The day range of a filtered query's `startDate` / `endDate`, or null when
 * neither is given.
 *
 * @throws `INVALID_ARGUMENT` when only one is given (an open range is not
 *   bounded), a date is malformed, `startDate` is after `endDate`, or the
 *   range is `MAX_RANGE_YEARS` calendar years or longer (`endDate` must be
 *   before `startDate` plus 5 years: 2020-03-01 takes up to 2025-02-28).
 */
export function dayRangeOf(startDate?: string, endDate?: string): DayRange | null {
  if (startDate === undefined && endDate === undefined) return null;
  if (startDate === undefined || endDate === undefined) {
    throw appError(
      "INVALID_ARGUMENT",
      "startDate and endDate go together: pass both (an inclusive range) or neither.",
      { field: startDate === undefined ? "startDate" : "endDate" },
    );
  }
  const start = parseDate(startDate, "startDate");
  const end = parseDate(endDate, "endDate");
  if (start > end) {
    throw appError("INVALID_ARGUMENT", "startDate must not be after endDate.", {
      field: "startDate",
      startDate,
      endDate,
    });
  }
  // The same month and day, MAX_RANGE_YEARS later: the first day past the range.
  if (end >= start + MAX_RANGE_YEARS * 10_000) {
    throw appError(
      "INVALID_ARGUMENT",
      `A date range must be shorter than ${MAX_RANGE_YEARS} years (endDate before startDate + ${MAX_RANGE_YEARS} years).`,
      { field: "endDate", startDate, endDate },
    );
  }
  return { start, end };
}

/** One year of a range: whole (every day of the year) or a span of its cells. */
export type YearSpan = { period: string; whole: boolean; from: string; to: string };

/** The years `range` touches, in order, each with the cells it covers (at most 6). */
export function yearsOf(range: DayRange): YearSpan[] {
  const first = Math.floor(range.start / 10_000);
  const last = Math.floor(range.end / 10_000);
  const out: YearSpan[] = [];
  for (let year = first; year <= last; year++) {
    const from = year === first ? cellOf(range.start) : "0101";
    const to = year === last ? cellOf(range.end) : "1231";
    out.push({ period: String(year), whole: from === "0101" && to === "1231", from, to });
  }
  return out;
}
