/**
 * Driving and observing the `statsWorkpool` component in convex-test.
 *
 * `drainPool` runs everything scheduled (app and components) one timer at a
 * time with fake timers, and after every step calls `probe`, which can read
 * the pool's own tables. `poolInFlight` measures the work in flight from the
 * component's state: the work items its loop has started and not yet seen
 * complete (`internalState.running`), and, independently, the page
 * executions the component's scheduler holds pending or in progress.
 */
import { vi } from "vitest";
import type { Backend } from "./setup";

type ComponentCtx = {
  db: {
    query: (table: string) => { collect: () => Promise<Record<string, unknown>[]> };
    system: { query: (table: string) => AsyncIterable<Record<string, unknown>> };
  };
};

/** convex-test's `runInComponent` (present at runtime, not in its types). */
function runInComponent<R>(
  t: Backend,
  component: string,
  body: (ctx: ComponentCtx) => Promise<R>,
): Promise<R> {
  const withComponent = t as unknown as {
    runInComponent: (path: string, fn: (ctx: ComponentCtx) => Promise<R>) => Promise<R>;
  };
  return withComponent.runInComponent(component, body);
}

export type InFlight = {
  /** Work items the pool's loop started and has not yet seen complete. */
  running: number;
  /** Executions of work items (`worker:runMutationWrapper`) pending or in progress in the scheduler. */
  executing: number;
  /** Work items enqueued and not finished (pending, running or awaiting completion). */
  work: number;
};

/** What is in flight in the stats pool right now. */
export async function poolInFlight(t: Backend, withScheduler = true): Promise<InFlight> {
  return await runInComponent(t, "statsWorkpool", async (ctx) => {
    const [state] = await ctx.db.query("internalState").collect();
    const running = Array.isArray(state?.running) ? state.running.length : 0;
    const work = (await ctx.db.query("work").collect()).length;
    let executing = 0;
    if (withScheduler) {
      for await (const job of ctx.db.system.query("_scheduled_functions")) {
        const kind = (job.state as { kind: string }).kind;
        if (
          job.name === "worker:runMutationWrapper" &&
          (kind === "pending" || kind === "inProgress")
        ) {
          executing++;
        }
      }
    }
    return { running, executing, work };
  });
}

/**
 * Runs scheduled functions one timer at a time until none is left (or
 * `maxSteps`), calling `probe` (if given) after each step. Needs `vi.useFakeTimers()`.
 * Returns the number of steps.
 */
export async function drainPool(
  t: Backend,
  probe: (step: number) => Promise<void> = async () => {},
  maxSteps = 200_000,
): Promise<number> {
  let step = 0;
  for (; step < maxSteps; step++) {
    await t.finishInProgressScheduledFunctions();
    if (vi.getTimerCount() === 0) return step;
    vi.advanceTimersToNextTimer();
    await t.finishInProgressScheduledFunctions();
    await probe(step);
  }
  throw new Error(`drainPool: more than ${maxSteps} steps`);
}
