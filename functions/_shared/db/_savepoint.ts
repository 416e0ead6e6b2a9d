/**
 * Private: nested transactions as savepoints, the same way for both adapters.
 *
 * @module
 */

import type { Db } from "./db.ts";

/**
 * Runs `fn(tx)` inside `SAVEPOINT`: released when it resolves, rolled back to
 * (and the error rethrown) when it throws, leaving the outer transaction usable.
 */
export async function withSavepoint<T>(
  tx: Db,
  depth: number,
  fn: (tx: Db) => Promise<T>,
): Promise<T> {
  const name = `skydiff_sp_${depth}`;
  await tx.exec(`SAVEPOINT ${name}`);
  let result: T;
  try {
    result = await fn(tx);
  } catch (err) {
    await tx.exec(`ROLLBACK TO SAVEPOINT ${name}`);
    await tx.exec(`RELEASE SAVEPOINT ${name}`);
    throw err;
  }
  await tx.exec(`RELEASE SAVEPOINT ${name}`);
  return result;
}
