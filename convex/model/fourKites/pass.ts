/**
 * When a pass through the FourKites listing may say "completed".
 *
 * The listing is offset-paged (`?page=N&perPage=100`) and changes while a
 * pass reads it: a shipment removed (or moved to the end by an update) before
 * the pass's position makes the next one slide onto a page already read; a
 * server may serve fewer shipments per page than asked for. So a pass:
 *
 * - **follows the server's page size**: the number page 1 held when it is
 *   short of `perPage` and the listing goes on (`totalCount` says more, or
 *   page 2 is not empty), else `perPage`; pages are numbered by it, and the
 *   end is the page that reaches `totalCount`, else the first page shorter
 *   than it (or empty);
 * - **checks every page boundary**: after reading page N+1 it reads page N
 *   again and compares the shipment ids with N's first read
 *   (`pageFingerprint`). Equal reads on both sides of N+1's read mean no
 *   shipment crossed the boundary in between (shipments move in the listing
 *   only when added, removed or updated; an updated one is picked up by the
 *   next pass anyway, its update time being after this pass's start). A
 *   different re-read is imported too (a shipment that slid back is on it);
 * - **adds up**: with a `totalCount`, the pages must hold exactly that many;
 *   no shipment may be listed on two pages.
 *
 * Anything else is a doubt (`vDoubt`): the pass ends `unverified`, the
 * watermark stays where it was, and the next pass covers the same window
 * again, so a shipment missed now is imported then. Cost per pass of L pages:
 * 2L − 1 page requests (L first reads, L − 1 re-reads); a listing shorter
 * than one page without a `totalCount` costs 3 (page 2 confirms the end).
 */
import { MAX_ID_LENGTH } from "../validate";
import { FOURKITES_PAGE_SIZE } from "./client";
import type { Doubt, PageRead, PassCheckpoint } from "./fields";

/** Doubts a pass keeps (the first ones; one is enough to be unverified). */
export const MAX_DOUBTS = 10;

/** The shipment id a raw shipment claims (cut to `MAX_ID_LENGTH`), or null. */
export function shipmentIdOf(raw: unknown): string | null {
  if (typeof raw !== "object" || raw === null || !("id" in raw)) return null;
  const id = raw.id;
  return typeof id === "string" || typeof id === "number"
    ? String(id).slice(0, MAX_ID_LENGTH)
    : null;
}

/** What identifies a listed shipment on a page: its id, else its whole text. */
function listingKey(raw: unknown): string {
  const id = shipmentIdOf(raw);
  return id === null ? `~${JSON.stringify(raw) ?? ""}` : `#${id}`;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * SHA-256 (base64) of a page's shipment ids in order: two reads of a page
 * with the same fingerprint listed the same shipments in the same order.
 */
export async function pageFingerprint(shipments: readonly unknown[]): Promise<string> {
  const text = JSON.stringify(shipments.map(listingKey));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return toBase64(new Uint8Array(digest));
}

/** One page as the pass sees it. */
export type PageObservation = {
  page: number;
  count: number;
  /** `totalCount` of the response, or null. */
  total: number | null;
};

/** What reading one page tells the pass. */
export type PageStep = {
  /** The server's page size, once known. */
  pageSize: number | undefined;
  /** This page is the last of the listing. */
  last: boolean;
  doubts: Doubt[];
};

/**
 * Page size and end of the listing after page `got` (its first read), given
 * what the pass knew before it: `pageSize` (undefined until page 1 or 2 tells
 * it) and `previous` (the first read of the page before). Pure.
 */
export function stepPage(
  state: Pick<PassCheckpoint, "pageSize" | "previous">,
  got: PageObservation,
  asked: number = FOURKITES_PAGE_SIZE,
): PageStep {
  const { page, count, total } = got;
  const doubts: Doubt[] = [];
  let pageSize = state.pageSize;
  // Shipments before this page, once its size is known.
  let before: number;
  if (pageSize === undefined) {
    if (page === 1) {
      before = 0;
      if (count >= asked) pageSize = count;
      else if (count > 0 && total !== null && total > count) pageSize = count;
      else if (count > 0 && total === null) {
        // Short and no total: the end, or a server serving fewer per page. Page 2 tells.
        return { pageSize: undefined, last: false, doubts };
      }
    } else {
      // Page 1 was short without a total (only page 2 gets here): its size, unless this page is empty.
      const first = state.previous?.count ?? 0;
      before = first * (page - 1);
      if (count > 0) pageSize = first;
    }
  } else {
    before = pageSize * (page - 1);
  }
  let last: boolean;
  if (count === 0) last = true;
  else if (pageSize === undefined) last = true;
  else if (count > pageSize) {
    doubts.push({
      kind: "page_size_changed",
      page,
      message: `page ${page} held ${count} shipments, more than the server's page size ${pageSize}`,
    });
    last = total !== null && before + count >= total;
  } else {
    last = count < pageSize || (total !== null && before + count >= total);
  }
  if (last && total !== null && before + count !== total) {
    doubts.push({
      kind: "count_mismatch",
      page,
      message: `the pages held ${before + count} shipments; the server said ${total}`,
    });
  }
  return { pageSize, last, doubts };
}

/**
 * The doubt when the re-read of `previous.page` (after reading the page after
 * it) differs from its first read, else null.
 */
export function boundaryDoubt(previous: PageRead, rereadFingerprint: string): Doubt | null {
  if (rereadFingerprint === previous.fingerprint) return null;
  return {
    kind: "listing_shifted",
    page: previous.page,
    message: `page ${previous.page} changed while page ${previous.page + 1} was read; shipments may have moved across it`,
  };
}

/** `doubts` with `more` appended, keeping the first `MAX_DOUBTS`. */
export function addDoubts(doubts: readonly Doubt[], more: readonly Doubt[]): Doubt[] {
  return [...doubts, ...more].slice(0, MAX_DOUBTS);
}
