/**
 * The `[stored.invalid]` warnings a test's calls log (`reportStoredProblems`
 * in `convex/model/validate.ts`): what the hardening tests assert on when a
 * stored document holds a value the code would never write.
 */
import { beforeEach, vi } from "vitest";

/** One warning: the document, its bad fields and what the caller did (`action`). */
export type StoredReport = {
  table: string;
  id: string;
  problems: { field: string }[];
  action: string;
};

/**
 * Collects the warnings of each test into the returned array (emptied before
 * each test). Spies on `console.warn`; the file restores mocks after each test.
 */
export function captureStoredReports(): StoredReport[] {
  const reports: StoredReport[] = [];
  beforeEach(() => {
    reports.length = 0;
    vi.spyOn(console, "warn").mockImplementation((tag: unknown, data: unknown) => {
      if (tag === "[stored.invalid]") reports.push(data as StoredReport);
    });
  });
  return reports;
}
