/**
 * Measuring calls against Convex's per-transaction limits: one call (query or
 * mutation, committed or rolled back) with `ctx.meta.getTransactionMetrics()`
 * even when it breaks a limit, sums and maxima over a series of
 * transactions, and the number formats the bench and the demo print.
 *
 * Part of the shared test kit: the suite, `bench/` and `demo/` import it.
 */
import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";
import type { DatabaseReader } from "../../convex/_generated/server";
import { type Accessor, type Io, ioDelta } from "./setup";

export type { Io };

/** The outcome of measuring one call. */
export type Measurement<R> = { ok: true; io: Io; result: R } | { ok: false; io: Io; error: string };

/** Convex's per-transaction limits (the defaults convex-test enforces). */
export const CONVEX_LIMITS: Io = {
  documentsRead: 32_000,
  bytesRead: 16 * 1024 * 1024,
  documentsWritten: 16_000,
  bytesWritten: 16 * 1024 * 1024,
  databaseQueries: 4_096,
};

/** Every figure of `Io`, for loops over them. */
export const IO_KEYS = [
  "documentsRead",
  "bytesRead",
  "documentsWritten",
  "bytesWritten",
  "databaseQueries",
] as const satisfies readonly (keyof Io)[];

/** True when every figure of `io` is at most half of Convex's limit. */
export function withinHalfOfLimits(io: Io): boolean {
  return IO_KEYS.every((k) => io[k] <= CONVEX_LIMITS[k] / 2);
}

/** Nothing used: the start of a sum (copy it, `{ ...ZERO_IO }`). */
export const ZERO_IO: Readonly<Io> = {
  documentsRead: 0,
  bytesRead: 0,
  documentsWritten: 0,
  bytesWritten: 0,
  databaseQueries: 0,
};

/** Whether `e` is one of Convex's transaction-limit errors. */
export function isLimitError(e: unknown): e is Error {
  return e instanceof Error && /This is a Convex limit/.test(e.message);
}

/**
 * A short name for the limit a limit error names, e.g. "16 MiB read limit";
 * the message itself when it is not one of the database limits.
 */
export function limitName(error: string): string {
  const known: [RegExp, string][] = [
    [/^Read too much data/, `${fmtBytes(CONVEX_LIMITS.bytesRead)} read limit`],
    [/^Scanned too many documents/, `${fmtInt(CONVEX_LIMITS.documentsRead)}-document read limit`],
    [/^Too many index ranges/, `${fmtInt(CONVEX_LIMITS.databaseQueries)}-index-range limit`],
    [/^Wrote too much data/, `${fmtBytes(CONVEX_LIMITS.bytesWritten)} write limit`],
    [/^Wrote too many documents/, `${fmtInt(CONVEX_LIMITS.documentsWritten)}-document write limit`],
  ];
  return known.find(([pattern]) => pattern.test(error))?.[1] ?? error;
}

function limitMessage(e: Error): string {
  return e.message.replace(/\s*This is a Convex limit:.*$/, "");
}

/**
 * Runs `call` between two metric readings of the enclosing transaction. A
 * Convex limit error becomes a failed measurement with what the call had read
 * when it failed; any other error is thrown.
 */
async function measureCall<R>(
  ctx: { meta: { getTransactionMetrics: () => Promise<Parameters<typeof ioDelta>[0]> } },
  call: () => Promise<R>,
): Promise<Measurement<R>> {
  const before = await ctx.meta.getTransactionMetrics();
  try {
    const result = await call();
    const after = await ctx.meta.getTransactionMetrics();
    return { ok: true as const, io: ioDelta(before, after), result };
  } catch (e) {
    if (!isLimitError(e)) throw e;
    const after = await ctx.meta.getTransactionMetrics();
    return { ok: false as const, io: ioDelta(before, after), error: limitMessage(e) };
  }
}

/**
 * Measures one query call. A Convex limit error is returned as a failed
 * measurement with what the call had read when it failed; any other error is
 * thrown.
 */
export async function measureQueryToLimit<
  Q extends FunctionReference<"query", "public" | "internal">,
>(t: Accessor, ref: Q, args: FunctionArgs<Q>): Promise<Measurement<FunctionReturnType<Q>>> {
  return await t.query(
    async (ctx) => await measureCall(ctx, async () => await ctx.runQuery(ref, args)),
  );
}

/**
 * Measures one mutation call like `measureQueryToLimit`; its writes are
 * committed.
 */
export async function measureMutationToLimit<
  M extends FunctionReference<"mutation", "public" | "internal">,
>(t: Accessor, ref: M, args: FunctionArgs<M>): Promise<Measurement<FunctionReturnType<M>>> {
  return await t.mutation(
    async (ctx) => await measureCall(ctx, async () => await ctx.runMutation(ref, args)),
  );
}

/**
 * Measures a read written inline (`read(ctx.db)`) in its own query
 * transaction, like `measureQueryToLimit` measures a registered query: a
 * limit error comes back as a failed measurement.
 */
export async function measureReadToLimit<R>(
  t: Accessor,
  read: (db: DatabaseReader) => Promise<R>,
): Promise<Measurement<R>> {
  return await t.query(async (ctx) => {
    const before = await ctx.meta.getTransactionMetrics();
    try {
      const result = await read(ctx.db);
      return {
        ok: true as const,
        io: ioDelta(before, await ctx.meta.getTransactionMetrics()),
        result,
      };
    } catch (e) {
      if (!isLimitError(e)) throw e;
      const after = await ctx.meta.getTransactionMetrics();
      return { ok: false as const, io: ioDelta(before, after), error: limitMessage(e) };
    }
  });
}

/** Thrown to roll a measuring transaction back on purpose. */
class RollBack extends Error {}

/**
 * Measures one mutation call and then undoes its writes, so a comparison
 * (e.g. the aggregate's raw writes, which the counters do not see) leaves the
 * shared backend exactly as it was. The call's return value is dropped: it
 * could name writes that no longer exist.
 */
export async function measureMutationRolledBack<
  M extends FunctionReference<"mutation", "public" | "internal">,
>(t: Accessor, ref: M, args: FunctionArgs<M>): Promise<Measurement<null>> {
  // Filled inside the transaction, read after it rolled back.
  const box: { measured?: Measurement<null> } = {};
  try {
    await t.mutation(async (ctx) => {
      const before = await ctx.meta.getTransactionMetrics();
      try {
        await ctx.runMutation(ref, args);
        box.measured = {
          ok: true,
          io: ioDelta(before, await ctx.meta.getTransactionMetrics()),
          result: null,
        };
      } catch (e) {
        if (!isLimitError(e)) throw e;
        const io = ioDelta(before, await ctx.meta.getTransactionMetrics());
        box.measured = { ok: false, io, error: limitMessage(e) };
      }
      throw new RollBack("measured; rolling back");
    });
  } catch (e) {
    if (!(e instanceof RollBack) || box.measured === undefined) throw e;
    return box.measured;
  }
  throw new Error("unreachable: the measuring transaction always rolls back");
}

/** Sum of a series of per-transaction figures. */
export function sumIo(series: readonly Io[]): Io {
  const total = { ...ZERO_IO };
  for (const io of series) for (const k of IO_KEYS) total[k] += io[k];
  return total;
}

/** Largest value of each figure over a series of transactions. */
export function maxIo(series: readonly Io[]): Io {
  const max = { ...ZERO_IO };
  for (const io of series) {
    for (const k of IO_KEYS) max[k] = Math.max(max[k], io[k]);
  }
  return max;
}

/**
 * The console's `log` as it was when this module loaded: what the bench's
 * progress and the demo's narrative print through, so that muting the
 * functions' logs (`quietLogs`) does not silence them.
 */
const consoleLog: (line: string) => void = console.log.bind(console);

/** Prints one line of output (progress, narrative). */
export function print(line: string): void {
  consoleLog(line);
}

/** `1,234` */
export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

/** `512 B`, `9.6 KiB`, `16 MiB` (no decimals when whole) */
export function fmtBytes(n: number): string {
  const unit = (value: number, name: string) =>
    `${Number.isInteger(value) ? value : value.toFixed(1)} ${name}`;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return unit(n / 1024, "KiB");
  return unit(n / 1024 / 1024, "MiB");
}
