/**
 * The schema: the app's tables and the stats module's (docs/adopting.md,
 * step 4). While the old per-org stats documents are migrated,
 * `organizationStats` also accepts them (`legacyStatsRow`, step 6); drop the
 * option once they are gone (step 8), and the deploy checks that none is left.
 */
import { defineSchema } from "convex/server";
import { statsTables } from "../../../convex/model/stats/tables";
import { COUNTED } from "./model/counted";
import { vLegacyStatsDoc } from "./model/legacyStats";
import { appTables } from "./model/tables";

export default defineSchema({
  ...appTables,
  ...statsTables(COUNTED, { legacyStatsRow: vLegacyStatsDoc }),
});
