/** The operator's view of alert deliveries (`alerts:alertStatus`, also in `stats:recountStatus`). */
import { v, type Infer } from "convex/values";
import type { Doc } from "../../_generated/dataModel";
import type { QueryCtx } from "../ctx";
import { requireInteger } from "../validate";
import { alertEndpoint } from "./deliver";
import { ALERT_STATES, statsAlertFields } from "./fields";

/** Alerts listed per state at most, and rows counted per state at most. */
export const MAX_STATUS_LIST = 100;
const COUNT_CAP = 1_000;

const vAlertRow = v.object({ alertId: v.id("statsAlerts"), ...statsAlertFields });
const row = ({ _id, _creationTime, ...a }: Doc<"statsAlerts">) => ({ alertId: _id, ...a });

export const vAlertStatus = v.object({
  /** Whether `STATS_ALERT_WEBHOOK_URL` is usable (never the URL itself). */
  endpoint: v.union(v.literal("unset"), v.literal("invalid"), v.literal("ok")),
  /** Rows per state, counted up to 1,000 (`1000` means "1,000 or more"). */
  counts: v.object({ pending: v.number(), delivered: v.number(), failed: v.number() }),
  /** Oldest pending and newest failed alerts, up to `limit` each. */
  pending: v.array(vAlertRow),
  failed: v.array(vAlertRow),
});
export type AlertStatus = Infer<typeof vAlertStatus>;

/**
 * Delivery state at a glance. Reads at most 3 × 1,000 + 2 × `limit` rows.
 *
 * @throws `INVALID_ARGUMENT` unless `limit` is an integer from 0 to 100.
 */
export async function alertStatus(ctx: Pick<QueryCtx, "db">, limit: number): Promise<AlertStatus> {
  requireInteger(limit, "limit", { min: 0, max: MAX_STATUS_LIST });
  const byState = (state: (typeof ALERT_STATES)[number]) =>
    ctx.db.query("statsAlerts").withIndex("by_state", (q) => q.eq("state", state));
  const counts = { pending: 0, delivered: 0, failed: 0 };
  for (const state of ALERT_STATES) counts[state] = (await byState(state).take(COUNT_CAP)).length;
  const list = async (state: "pending" | "failed", order: "asc" | "desc") =>
    (await byState(state).order(order).take(limit)).map(row);
  const pending = await list("pending", "asc");
  return { endpoint: alertEndpoint().kind, counts, pending, failed: await list("failed", "desc") };
}
