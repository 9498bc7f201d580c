/**
 * The stats module configured for this app (docs/adopting.md, step 3): its
 * counted tables, its organizations as the registry the daily recount walks
 * first, and, while the old stats documents are migrated, their counters as
 * the starting point of orgs the module has no row for yet.
 */
import { defineStatsConfig } from "../../../../convex/model/stats/config";
import { COUNTED } from "./counted";
import { carryOver } from "./legacyStats";

/** The stats module, configured for this app. */
export const STATS = defineStatsConfig({
  tables: COUNTED,
  registry: {
    // Organizations not linked to WorkOS yet have no counters to walk.
    page: async (db, cursor, numItems) => {
      const page = await db.query("organizations").paginate({ numItems, cursor });
      const orgs = [];
      for (const org of page.page) {
        const workosOrgId: unknown = org.workosOrgId;
        if (typeof workosOrgId === "string" && workosOrgId !== "") {
          orgs.push({ workosOrgId, deleted: false });
        }
      }
      return { orgs, continueCursor: page.continueCursor, isDone: page.isDone };
    },
    lookup: async (db, workosOrgId) => {
      const found = await db
        .query("organizations")
        .withIndex("by_workos_org", (q) => q.eq("workosOrgId", workosOrgId))
        .take(1);
      return found.length === 0 ? null : { workosOrgId, deleted: false };
    },
  },
  // Remove with `model/legacyStats.ts` once the migration has run (step 8).
  carryOver,
});
