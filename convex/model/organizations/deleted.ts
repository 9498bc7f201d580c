/**
 * The one "is this org deleted" check. An org is deleted when the registry
 * (`organizations`) holds it as `deleted`, or when one of its stats rows
 * carries the `orgDeleted` mark the deletion sets (the stats engine reads
 * only its own row, so the mark is how it learns without a registry read).
 * An org the registry does not know is not deleted: the registry may not
 * have been synced yet.
 */
import type { Doc } from "../../_generated/dataModel";

/** What either record says about deletion: a registry document or a stats row. */
export type DeletionMark =
  Pick<Doc<"organizations">, "status"> | Pick<Doc<"organizationStats">, "orgDeleted">;

/**
 * Whether `record` (a registry document or a stats row, or nothing) says the
 * org was deleted. `null`/`undefined` (no record) is not deleted.
 */
export function isOrgDeleted(record: DeletionMark | null | undefined): boolean {
  if (record === null || record === undefined) return false;
  return "status" in record ? record.status === "deleted" : record.orgDeleted === true;
}
