/**
 * Rehearsal (c), docs/adopting.md step 10: the frontend's call sites as the
 * app has them, checked against the example's generated api by
 * `npm run typecheck`. Nothing here changed for the adoption: the badge
 * queries keep their names, arguments and flat results. The
 * `@ts-expect-error` lines show the types are precise (a line that compiled
 * would fail the typecheck).
 */
import { useMutation, useQuery } from "convex/react";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";

/** The sum of a flat badge's numbers, as the dashboard's header shows it. */
function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** The load and invoice badges; render while the queries load (`undefined`). */
export function Badges({ workosOrgId }: { workosOrgId: string }) {
  const loadCounts = useQuery(api.loads.countLoadsByStatus, { workosOrgId });
  const counts = useQuery(api.invoices.countInvoicesByStatus, { workosOrgId });
  const totalLoads = loadCounts ? sum(loadCounts) : 0;
  const allLoads = loadCounts === undefined ? [] : Object.values(loadCounts);
  const delivered: number = loadCounts?.Delivered ?? 0;
  // @ts-expect-error loads stored as `Completed` show as `Delivered`
  const completed = loadCounts?.Completed;
  // @ts-expect-error the invoice badge has no `CANCELED` status
  const canceled = counts?.CANCELED;
  return (
    <ul data-total={totalLoads} data-all={allLoads.length} data-old={[completed, canceled].length}>
      <li>Open {loadCounts?.Open ?? 0}</li>
      <li>Assigned {loadCounts?.Assigned ?? 0}</li>
      <li>Delivered {delivered}</li>
      <li>Canceled {loadCounts?.Canceled ?? 0}</li>
      <li>Expired {loadCounts?.Expired ?? 0}</li>
      <li>Missing data {counts?.MISSING_DATA ?? 0}</li>
      <li>Draft {counts?.DRAFT ?? 0}</li>
      <li>Billed {counts?.BILLED ?? 0}</li>
      <li>Pending payment {counts?.PENDING_PAYMENT ?? 0}</li>
      <li>Paid {counts?.PAID ?? 0}</li>
      <li>Void {counts?.VOID ?? 0}</li>
      <li>All invoices {counts?.total ?? 0}</li>
    </ul>
  );
}

/** The status and billing actions, as the load and invoice pages call them. */
export function useActions(workosOrgId: string, userId: string) {
  const updateLoadStatus = useMutation(api.loads.updateLoadStatus);
  const deleteLoad = useMutation(api.loads.deleteLoad);
  const bulkUpdateStatus = useMutation(api.invoices.bulkUpdateStatus);
  const bulkVoidInvoices = useMutation(api.invoices.bulkVoidInvoices);
  return {
    cancel: (loadId: Id<"loadInformation">, reason: string) =>
      updateLoadStatus({ loadId, status: "Canceled", cancellationReason: reason }),
    // @ts-expect-error statuses are checked at compile time: `Delivered` is a badge label
    deliver: (loadId: Id<"loadInformation">) => updateLoadStatus({ loadId, status: "Delivered" }),
    remove: (loadId: Id<"loadInformation">) => deleteLoad({ loadId }),
    bill: (invoiceIds: Id<"loadInvoices">[]) =>
      bulkUpdateStatus({ invoiceIds, workosOrgId, newStatus: "BILLED", updatedBy: userId }),
    void: (invoiceIds: Id<"loadInvoices">[], reason?: string) =>
      bulkVoidInvoices({ invoiceIds, workosOrgId, reason, updatedBy: userId }),
  };
}
