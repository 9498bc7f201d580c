/**
 * What the app checks of a filtered load badge's facet value
 * (`loads:countLoadsByStatusFiltered`), before the stats module reads its
 * counters: a lane must exist and belong to the caller's org; a customer id
 * has no table in this app, so only its form is checked (another org's
 * customer simply has no loads in this org: the counters are per org).
 */
import type { Id } from "../../_generated/dataModel";
import { appError } from "../../lib/errors";
import type { QueryCtx } from "../ctx";
import { isValidStoredText, MAX_ID_LENGTH } from "../validate";

/**
 * Checks the facet value of a filtered load badge.
 *
 * @throws `NOT_FOUND` for a lane id that is malformed, unknown or of another
 *   org (one read); `INVALID_ARGUMENT` for a customer id that is not trimmed
 *   text of 1..`MAX_ID_LENGTH` characters (no read).
 */
export async function checkLoadFacet(
  ctx: Pick<QueryCtx, "db">,
  workosOrgId: string,
  facet: string,
  value: string,
): Promise<void> {
  if (facet === "laneId") {
    const id: Id<"lanes"> | null = ctx.db.normalizeId("lanes", value);
    const lane = id === null ? null : await ctx.db.get("lanes", id);
    if (lane === null || lane.workosOrgId !== workosOrgId) {
      throw appError("NOT_FOUND", "No such lane in this organization.", { field: "laneId" });
    }
    return;
  }
  if (facet === "customerId") {
    if (!isValidStoredText(value, MAX_ID_LENGTH)) {
      throw appError(
        "INVALID_ARGUMENT",
        `customerId must be trimmed text of 1 to ${MAX_ID_LENGTH} characters.`,
        { field: "customerId" },
      );
    }
    return;
  }
  throw new Error(`[loads.filters] unknown facet ${facet}`);
}
