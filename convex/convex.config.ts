/**
 * The app's components. `recountPool` bounds how many recount pages (and
 * other background work) run at once; see `model/stats/recount/`.
 */
import { defineApp } from "convex/server";
import workpool from "@convex-dev/workpool/convex.config";

const app = defineApp();
app.use(workpool, { name: "statsWorkpool" });

export default app;
