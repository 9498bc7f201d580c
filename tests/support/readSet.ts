/**
 * What a query reads, as Convex's invalidation sees it: a database reader
 * that logs each index range it reads (the table and the values it pins) and
 * each document it gets. A query re-runs when a write touches what it read,
 * so a badge's log is its read set. Part of the shared test kit (the filtered
 * badges' invalidation test, the bench's org day).
 */

/**
 * A database reader that logs what it reads: for each index lookup the table
 * and the values it pins (`statsFacets|org|loads|laneId|…|2024`), for each
 * `get` the table and id. Convex re-runs a query when a write touches what
 * it read, so this is the badge's read set.
 */
export function loggingReader<DB extends object>(db: DB, log: Set<string>): DB {
  return new Proxy(db, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop === "get") {
        return async (table: string, id: string) => {
          log.add(`${table}|${id}`);
          return await (value as (t: string, i: string) => Promise<unknown>).call(
            target,
            table,
            id,
          );
        };
      }
      if (prop !== "query" || typeof value !== "function") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (table: string) => {
        const query = (value as (t: string) => object).call(target, table);
        return new Proxy(query, {
          get(q, p, r) {
            const inner: unknown = Reflect.get(q, p, r);
            if (p !== "withIndex" || typeof inner !== "function") {
              return typeof inner === "function" ? inner.bind(q) : inner;
            }
            return (index: string, range: (b: unknown) => unknown) => {
              const pinned: unknown[] = [];
              const recorder = {
                eq: (_: string, v: unknown) => (pinned.push(v), recorder),
                gt: () => recorder,
                lt: () => recorder,
              };
              range(recorder);
              log.add(`${table}|${pinned.join("|")}`);
              return inner.call(q, index, range);
            };
          },
        });
      };
    },
  });
}
