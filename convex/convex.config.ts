/**
 * The app's components. `statsWorkpool` bounds how many recount pages (and
 * other background work: drift alert deliveries, `model/alerts/`) run at
 * once; see `model/stats/recount/`.
 */
import { defineApp } from "convex/server";
import workpool from "@convex-dev/workpool/convex.config";

const app = defineApp();
app.use(workpool, { name: "statsWorkpool" });
// FourKites syncs: long HTTP-bound actions kept apart from the recount pool.
app.use(workpool, { name: "fourKitesWorkpool" });

export default app;
