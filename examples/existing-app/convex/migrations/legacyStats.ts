/**
 * Moves the old per-org stats documents into the stats module's rows, online
 * (docs/adopting.md, step 7), with `@convex-dev/migrations`:
 *
 * ```sh
 * npx convex run migrations/legacyStats:moveLegacyStats               # start (batches run in the background)
 * npx convex run --component migrations lib:getStatus --watch        # progress
 * ```
 *
 * For each old document: the org's module rows that do not exist yet are
 * created from its counters (marked `carried`, answered as `approximate`, and
 * a recount is scheduled to make them exact), then the old document is
 * deleted. An org a counted write already gave rows keeps them (they started
 * from the same counters). Idempotent; the module's rows are left alone.
 */
import { Migrations } from "@convex-dev/migrations";
import { ensureEmptyOrgStats } from "../../../../convex/model/stats/engine";
import type { DataModel } from "../_generated/dataModel";
import { internalMutation } from "../functions";
import { components } from "../lib/components";
import { isLegacyStatsDoc, type LegacyStatsFields } from "../model/legacyStats";
import { STATS } from "../model/statsConfig";

export const migrations = new Migrations<DataModel>(components.migrations, { internalMutation });

export const moveLegacyStats = migrations.define({
  table: "organizationStats",
  migrateOne: async (ctx, doc) => {
    if (!isLegacyStatsDoc(doc)) return;
    const { workosOrgId } = doc as unknown as LegacyStatsFields;
    const created = await ensureEmptyOrgStats(ctx, STATS, workosOrgId);
    await ctx.db.delete("organizationStats", doc._id);
    console.log("[migrations.legacyStats] moved", { workosOrgId, rowsCreated: created });
  },
});

/** Runs any migration of this file by name: `'{"fn": "migrations/legacyStats:moveLegacyStats"}'`. */
export const run = migrations.runner();
