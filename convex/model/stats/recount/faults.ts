/**
 * Test-only fault injection for recount pages (issue 11: "show it by
 * injecting failures"). A test sets a fault with `injectPageFault`; the
 * registered page (`stats:recountPage`) calls `throwIfFaulted` first, and a
 * fault that returns a message makes the page throw, as a page hitting a
 * limit or a deploy would.
 *
 * Not reachable in production: no registered function sets a fault, and the
 * module state lives in the isolate, so only code importing this module in
 * the same process (a convex-test test) can. With no fault set the check is
 * one comparison.
 */

/** What a fault sees of the page about to run. */
export type PageFaultInput = {
  workosOrgId: string;
  entity: string;
  runId: string;
  maxDocs: number | undefined;
};

/** Returns an error message to fail the page, or null to let it run. */
export type PageFault = (page: PageFaultInput) => string | null;

let fault: PageFault | null = null;

/** Sets (or with null clears) the fault every recount page checks. Tests only. */
export function injectPageFault(next: PageFault | null): void {
  fault = next;
}

/** Throws when a test injected a fault that fails this page. */
export function throwIfFaulted(page: PageFaultInput): void {
  if (fault === null) return;
  const message = fault(page);
  if (message !== null) throw new Error(`[stats.recount] injected page fault: ${message}`);
}
