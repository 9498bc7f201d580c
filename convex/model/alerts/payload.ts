/**
 * The JSON body POSTed to `STATS_ALERT_WEBHOOK_URL`. Pure: built only from
 * the alert row, its drift report and the org's name, so nothing from the
 * environment (the URL, API keys, webhook secrets) can reach it.
 *
 * Shape: Slack-compatible (`text`, a one-paragraph summary a dashboard or a
 * channel can show as is) plus `alert`, the structured fields.
 */
import type { Doc } from "../../_generated/dataModel";

/** Buckets listed in `text`; the rest are counted ("and 3 more"). */
const TEXT_BUCKETS = 6;

/** The structured part of an alert body. */
export type AlertSummary = {
  type: "stats.drift" | "stats.run_failed";
  alertId: string;
  workosOrgId: string;
  organizationName: string | null;
  entity: string | null;
  reportId: string | null;
  source: string | null;
  runId: string | null;
  /** ISO time the drift was detected or the run failed. */
  at: string;
  buckets: Doc<"statsDriftReports">["buckets"];
  error: string | null;
};

/** What is POSTed. */
export type AlertBody = { text: string; alert: AlertSummary };

function signed(n: number): string {
  return n > 0 ? `+${n}` : `${n}`;
}

function describeBucket(b: Doc<"statsDriftReports">["buckets"][number]): string {
  const what = b.measure === "count" ? `${b.status} count` : `${b.status} amount (cents)`;
  const actual = b.actual === undefined ? "" : `, actual ${b.actual}`;
  return `${what}: stored ${b.stored}${actual} (${signed(b.delta)})`;
}

function orgLabel(workosOrgId: string, name: string | null): string {
  return name === null ? workosOrgId : `${name} (${workosOrgId})`;
}

/** The body for a drift report. */
export function driftAlertBody(
  alert: Doc<"statsAlerts">,
  report: Doc<"statsDriftReports">,
  organizationName: string | null,
): AlertBody {
  const listed = report.buckets.slice(0, TEXT_BUCKETS).map(describeBucket).join("; ");
  const more = report.buckets.length - TEXT_BUCKETS;
  const how =
    report.source === "recount"
      ? `the recount${report.runId === undefined ? "" : ` (run ${report.runId})`} repaired`
      : "a live write found a counter below zero in";
  const text =
    `Stats drift: ${how} the ${report.entity} counters of ${orgLabel(report.workosOrgId, organizationName)}. ` +
    `${report.buckets.length} bucket${report.buckets.length === 1 ? "" : "s"}: ${listed}` +
    `${more > 0 ? `; and ${more} more` : ""}. Report ${report._id}.`;
  return {
    text,
    alert: {
      type: "stats.drift",
      alertId: alert._id,
      workosOrgId: report.workosOrgId,
      organizationName,
      entity: report.entity,
      reportId: report._id,
      source: report.source,
      runId: report.runId ?? null,
      at: new Date(report.detectedAt).toISOString(),
      buckets: report.buckets,
      error: null,
    },
  };
}

/** The body for a failed recount run. */
export function runFailedAlertBody(
  alert: Doc<"statsAlerts">,
  organizationName: string | null,
): AlertBody {
  const what = alert.entity === undefined ? "counters" : `${alert.entity} counters`;
  const text =
    `Stats recount failed: the run ${alert.runId ?? "(unknown)"} of the ${what} of ` +
    `${orgLabel(alert.workosOrgId, organizationName)} gave up` +
    `${alert.runError === undefined ? "" : `: ${alert.runError}`}. The next daily run retries it.`;
  return {
    text,
    alert: {
      type: "stats.run_failed",
      alertId: alert._id,
      workosOrgId: alert.workosOrgId,
      organizationName,
      entity: alert.entity ?? null,
      reportId: null,
      source: null,
      runId: alert.runId ?? null,
      at: new Date(alert.createdAt).toISOString(),
      buckets: [],
      error: alert.runError ?? null,
    },
  };
}
