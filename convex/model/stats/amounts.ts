/**
 * The amount rule of the counters: which stored amounts a counter adds, and
 * the bound that keeps every sum exact. Pure; shared by the write layer (it
 * refuses amounts outside the rule), the buckets and the recount's listing
 * of values written around the code.
 */

/**
 * The most any one amount may be, in cents: $1,000,000.00. The counters sum
 * amounts per org and status in plain numbers, exact only below 2^53 (about
 * 9.007e15). At the cap an org needs more than 2^53 / 1e8, about 90 million
 * documents, before a sum can leave that range, far beyond any realistic org
 * (10,000 loads a day for 20 years is 73 million). Convex validators have no
 * numeric bounds, so documents written around the code can still hold
 * larger or invalid values (see `countedCents`).
 */
export const MAX_AMOUNT_CENTS = 100_000_000;

/** Whether `value` is an amount the code writes: integer cents, 0..`MAX_AMOUNT_CENTS`. */
export function isValidAmountCents(value: unknown): value is number {
  return (
    typeof value === "number" &&
    Number.isSafeInteger(value) &&
    value >= 0 &&
    value <= MAX_AMOUNT_CENTS
  );
}

/**
 * What a stored amount adds to its status's amount counter: the amount when
 * it is one the code writes (`isValidAmountCents`), else 0. The document is
 * still counted in `counts`. This keeps every sum finite and exact (no NaN
 * poisoning, no rounding past 2^53, so adding and later subtracting a
 * document cancels exactly) while the histogram stays well defined for
 * whatever is stored; the recount lists the offending documents.
 */
export function countedCents(amountCents: unknown): number {
  // `+ 0` turns -0 into 0, so no counter is ever -0.
  return isValidAmountCents(amountCents) ? amountCents + 0 : 0;
}
