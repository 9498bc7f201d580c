/**
 * The app's components. `recountPool` bounds how many recount pages (and
 * other background work) run at once; see `model/stats/recount/`.
 */
import { defineApp } from "convex/server";
import actionRetrier from "@convex-dev/action-retrier/convex.config";
import workpool from "@convex-dev/workpool/convex.config";

const app = defineApp();
app.use(workpool, { name: "statsWorkpool" });
// Retries of drift alert deliveries (`model/alerts/`), apart from the
// recount's pool so an unreachable alert endpoint never takes recount slots.
app.use(actionRetrier, { name: "alertRetrier" });
// FourKites syncs: long HTTP-bound actions kept apart from the recount pool.
app.use(workpool, { name: "fourKitesWorkpool" });

export default app;
