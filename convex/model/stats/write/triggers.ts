/**
 * Counting through convex-helpers `Triggers`, for an app that already wraps
 * its mutation builders with them (the ecosystem's write-hook idiom):
 *
 * ```ts
 * countWithTriggers(triggers, STATS);
 * export const mutation = customMutation(rawMutation, customCtx(triggers.wrapDB));
 * ```
 *
 * Each write's trigger applies its delta to the stats row at once (Triggers
 * has no end-of-mutation hook to fold on), so it costs more than
 * `countedWrites`: Triggers reads the document before and after the write,
 * and each write reads and rewrites its stats row (see the README for the
 * figures measured in `examples/existing-app/tests/triggers.test.ts` and
 * `docs/adopting.md`). Counters stay exact either way. A write to a deleted
 * org's counters is kept exact, not refused (a trigger cannot tell a public
 * mutation from maintenance).
 */
import type { GenericDataModel, GenericMutationCtx } from "convex/server";
import type { Triggers } from "convex-helpers/server/triggers";
import type { StatsConfig } from "../config";
import { StatsAccumulator } from "../engine";

/** Registers a trigger per counted table of `config` on `triggers`. */
export function countWithTriggers<DM extends GenericDataModel>(
  triggers: Triggers<DM>,
  config: StatsConfig,
): void {
  for (const def of config.entities.values()) {
    triggers.register(def.table, async (ctx: GenericMutationCtx<DM>, change) => {
      if (change.newDoc !== null) def.check(change.newDoc);
      const stats = new StatsAccumulator(config, { refuseDeletedOrgs: false });
      stats.record({
        entity: def.table,
        id: change.id,
        creationTime:
          ((change.oldDoc ?? change.newDoc)?._creationTime as number | undefined) ?? null,
        before: change.oldDoc === null ? null : def.sideOf(change.oldDoc),
        after: change.newDoc === null ? null : def.sideOf(change.newDoc),
      });
      await stats.flush(ctx);
    });
  }
}
