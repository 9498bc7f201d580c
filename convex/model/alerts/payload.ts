/**
 * The JSON body POSTed for an alert: Slack-compatible `text` plus `alert`, the structured fields.
 * Built only from the alert row, its drift report and its org's name: nothing from the
 * environment (URL, keys, secrets) nor any other org's data can reach it.
 */
import type { WithoutSystemFields } from "convex/server";
import type { Doc, Id } from "../../_generated/dataModel";
import type { QueryCtx } from "../ctx";
import { getOrganization } from "../organizations/registry";

/** Buckets listed in `text`; the rest are counted ("and 3 more"). */
const TEXT_BUCKETS = 6;

function driftText(report: Doc<"statsDriftReports">, org: string): string {
  const { buckets, runId } = report;
  const listed = buckets.slice(0, TEXT_BUCKETS).map((b) => {
    const what = `${b.status} ${b.measure === "count" ? "count" : "amount (cents)"}`;
    const actual = b.actual === undefined ? "" : `, actual ${b.actual}`;
    return `${what}: stored ${b.stored}${actual} (${b.delta > 0 ? "+" : ""}${b.delta})`;
  });
  if (buckets.length > TEXT_BUCKETS) listed.push(`and ${buckets.length - TEXT_BUCKETS} more`);
  const run = runId === undefined ? "" : ` (run ${runId})`;
  const how =
    report.source === "recount"
      ? `the recount${run} repaired`
      : "a live write found a counter below zero in";
  const n = `${buckets.length} bucket${buckets.length === 1 ? "" : "s"}`;
  const f = report.facetDrift?.differing ?? 0; // filtered-counter documents repaired
  const what = `${n}${f > 0 ? ` and ${f} filtered-counter document(s)` : ""}: ${listed.join("; ")}. Report ${report._id}.`;
  return `Stats drift: ${how} the ${report.entity} counters of ${org}. ${what}`;
}

/**
 * The body to POST for `alert`, or null when its drift report is gone (or was
 * edited to another org: its data is never sent).
 */
export async function alertBody(
  ctx: Pick<QueryCtx, "db">,
  alertId: Id<"statsAlerts">,
  alert: WithoutSystemFields<Doc<"statsAlerts">>,
): Promise<string | null> {
  const report =
    alert.kind === "drift" && alert.reportId !== undefined
      ? await ctx.db.get("statsDriftReports", alert.reportId)
      : null;
  if (alert.kind === "drift" && report?.workosOrgId !== alert.workosOrgId) return null;
  const name = (await getOrganization(ctx, alert.workosOrgId))?.name ?? null;
  const org = name === null ? alert.workosOrgId : `${name} (${alert.workosOrgId})`;
  const what = alert.entity === undefined ? "counters" : `${alert.entity} counters`;
  const runFailedText =
    `Stats recount failed: the run ${alert.runId} of the ${what} of ${org} gave up` +
    `${alert.runError === undefined ? "" : `: ${alert.runError}`}. The next daily run retries it.`;
  return JSON.stringify({
    text: report === null ? runFailedText : driftText(report, org),
    alert: {
      type: report === null ? "stats.run_failed" : "stats.drift",
      alertId,
      workosOrgId: alert.workosOrgId,
      organizationName: name,
      entity: alert.entity ?? null,
      reportId: report?._id ?? null,
      source: report?.source ?? null,
      runId: alert.runId ?? null,
      at: new Date(report?.detectedAt ?? alert.createdAt).toISOString(),
      buckets: report?.buckets ?? [],
      error: alert.runError ?? null,
    },
  });
}
