/** Contract lanes: the rate a new load's first invoice is priced at. */
import { v } from "convex/values";
import { mutation } from "./functions";
import { requireCaller } from "./lib/auth";
import { appError } from "./lib/errors";

/** Adds a lane (HCR, trip, rate in dollars) for the caller's org. */
export const createLane = mutation({
  args: { hcr: v.string(), tripNumber: v.string(), rate: v.number() },
  returns: v.id("contractLanes"),
  handler: async (ctx, args) => {
    const caller = await requireCaller(ctx);
    if (!Number.isFinite(args.rate) || args.rate < 0) {
      throw appError("INVALID_ARGUMENT", "rate must be a non-negative number of dollars.");
    }
    return await ctx.db.insert("contractLanes", { ...args, workosOrgId: caller.workosOrgId });
  },
});
