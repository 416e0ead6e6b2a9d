/**
 * The database interface every step sees. Two adapters implement it:
 * PGlite (embedded, in-process) and postgres.js (a Postgres 15+ server).
 * SQL uses `$1, $2, ...` positional parameters on both.
 *
 * @module
 */

/** A row as returned by a query: column name to value. */
export type Row = Record<string, unknown>;

/** A connection (or a transaction) to Postgres-compatible storage. */
export interface Db {
  /** Which adapter this is, for logs and test output. */
  readonly kind: "pglite" | "postgres";
  /** Runs one statement with positional parameters and returns its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs several statements separated by semicolons, without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it
   * throws. Inside, use the `tx` it receives, not the outer Db.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Closes the connection (pool). Idempotent. */
  close(): Promise<void>;
}
