/**
 * The app's components: the rate limiter it already had, and the two the
 * stats adoption adds (docs/adopting.md, step 5): `statsWorkpool` (the
 * module's recount pages run in it; the module finds it by this name) and
 * `migrations` (moves the old stats documents, `migrations/legacyStats.ts`).
 */
import { defineApp } from "convex/server";
import migrations from "@convex-dev/migrations/convex.config";
import rateLimiter from "@convex-dev/rate-limiter/convex.config";
import workpool from "@convex-dev/workpool/convex.config";

const app = defineApp();
app.use(rateLimiter);
app.use(workpool, { name: "statsWorkpool" });
app.use(migrations);

export default app;
