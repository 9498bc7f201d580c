/**
 * The recount's listing of counted documents whose values the code never
 * writes (written around it: a dashboard edit, an import): the first
 * `MAX_INVALID_LISTED` in scan order, the total, and a digest of all of them,
 * carried page to page in the recount state. The digest lets the next run
 * tell "same documents, same values" from a change without storing the list.
 */
import type { RecountState } from "./shadow";
import type { InvalidDocument } from "./tables";

/** Documents a drift report lists by id; the rest are only counted (`invalidTotal`). */
export const MAX_INVALID_LISTED = 100;

/** The digest of no document. */
export const EMPTY_DIGEST = "";

/** What a run has found so far. */
export type InvalidListing = {
  invalidDocuments: InvalidDocument[];
  invalidTotal: number;
  invalidDigest: string;
};

/** The listing a recount state carries (absent fields: nothing found). */
export function listingOf(
  state: Partial<Pick<RecountState, keyof InvalidListing>>,
): InvalidListing {
  return {
    invalidDocuments: state.invalidDocuments ?? [],
    invalidTotal: state.invalidTotal ?? 0,
    invalidDigest: state.invalidDigest ?? EMPTY_DIGEST,
  };
}

/**
 * Two 32-bit FNV-style lanes over the entry's text, chained on the previous
 * digest. Not cryptographic: it only has to notice a changed listing.
 */
function extendDigest(digest: string, entry: InvalidDocument): string {
  const lanes = digest === EMPTY_DIGEST ? [] : digest.split(".").map((h) => parseInt(h, 16));
  let a = lanes[0] ?? 0x811c9dc5;
  let b = lanes[1] ?? 0x9e3779b9;
  const text = `${entry.id}\u0000${entry.field}\u0000${entry.value}\u0001`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return `${hex(a)}.${hex(b)}`;
}

/** `listing` with `found` (documents of the next page, in scan order) added. */
export function addInvalid(listing: InvalidListing, found: InvalidDocument[]): InvalidListing {
  if (found.length === 0) return listing;
  let digest = listing.invalidDigest;
  for (const entry of found) digest = extendDigest(digest, entry);
  const room = Math.max(0, MAX_INVALID_LISTED - listing.invalidDocuments.length);
  return {
    invalidDocuments: [...listing.invalidDocuments, ...found.slice(0, room)],
    invalidTotal: listing.invalidTotal + found.length,
    invalidDigest: digest,
  };
}
