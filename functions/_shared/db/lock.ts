/**
 * Transaction-scoped advisory locks, for rows that must be created exactly once
 * (code versions, provenance tags, refsets, objects) and for the migrator.
 *
 * The key is a string hashed by the server (`hashtextextended(key, 0)`, 64 bits),
 * so the same key locks the same thing on every worker. The lock is released
 * when the transaction ends (commit or rollback); there is no unlock.
 *
 * ```ts
 * await db.transaction(async (tx) => {
 *   await withAdvisoryLock(tx, `object:${healpix}`);
 *   // look for the object; create it if absent: no other worker does the same meanwhile
 * });
 * ```
 *
 * @module
 */

import type { Db } from "./db.ts";
import { isTransaction } from "./_values.ts";

function requireTransaction(tx: Db, what: string): void {
  if (!isTransaction(tx)) {
    throw new Error(
      `${what} needs the tx of db.transaction(): outside a transaction the lock would be released at once`,
    );
  }
}

/**
 * Waits until this transaction holds the advisory lock `key`
 * (`pg_advisory_xact_lock`). Other transactions locking the same key wait until
 * this one ends. On PGlite (one connection) transactions are already serial and
 * the lock is granted at once.
 */
export async function withAdvisoryLock(tx: Db, key: string): Promise<void> {
  requireTransaction(tx, "withAdvisoryLock");
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))::text AS locked", [
    key,
  ]);
}

/** Takes the advisory lock `key` when free and returns true; returns false at once when held elsewhere. */
export async function tryAdvisoryLock(tx: Db, key: string): Promise<boolean> {
  requireTransaction(tx, "tryAdvisoryLock");
  const [row] = await tx.query<{ locked: boolean }>(
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 0)) AS locked",
    [key],
  );
  return row.locked;
}

/** Runs `fn` in a transaction that first takes the advisory lock `key`. */
export function lockedTransaction<T>(
  db: Db,
  key: string,
  fn: (tx: Db) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await withAdvisoryLock(tx, key);
    return await fn(tx);
  });
}
