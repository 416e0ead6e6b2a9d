/**
 * Private to the adapters: catches the outer Db being used inside its own
 * `transaction()` callback. On PGlite (one connection) that statement would wait
 * for the transaction that waits for it — a deadlock; on a pool it would run
 * outside the transaction — a silent bug. Both adapters refuse it alike.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

const inside = new AsyncLocalStorage<ReadonlySet<object>>();

/** Runs `fn` marked as inside a transaction of `db`. */
export function runInside<T>(db: object, fn: () => Promise<T>): Promise<T> {
  const outer = inside.getStore();
  const set = new Set(outer ?? []);
  set.add(db);
  return inside.run(set, fn);
}

/** Throws when called inside a transaction callback of `db` itself. */
export function refuseInside(db: object, what: string): void {
  if (inside.getStore()?.has(db)) {
    throw new Error(
      `${what} on the Db inside its own transaction(): use the tx the callback receives ` +
        `(PGlite would deadlock, a pool would run it outside the transaction)`,
    );
  }
}
