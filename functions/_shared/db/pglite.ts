/**
 * The embedded {@linkcode Db}: PGlite (Postgres compiled to WASM, in-process),
 * in memory or in a data directory. One connection: statements and
 * transactions run one at a time (PGlite queues them), so concurrent callers
 * are serialised, never interleaved.
 *
 * @module
 */

import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { Db, Row } from "./db.ts";
import { toDbError } from "./errors.ts";
import { withSavepoint } from "./_savepoint.ts";
import { refuseInside, runInside } from "./_scope.ts";
import { markTransaction, normaliseParams, normaliseRows } from "./_values.ts";

/** Options of {@linkcode openPglite}. */
export interface PgliteOptions {
  /**
   * Directory holding the database files (created when missing). Omit for an
   * in-memory database that vanishes on close.
   * @default undefined (in memory)
   */
  dataDir?: string;
}

type Queryable = Pick<PGlite, "query" | "exec"> | Transaction;

async function run<T extends Row>(
  target: Queryable,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<T[]> {
  try {
    const result = await target.query<Row>(sql, normaliseParams(params));
    return normaliseRows<T>(
      result.rows,
      result.fields.map((f) => ({ name: f.name, oid: f.dataTypeID })),
    );
  } catch (err) {
    throw toDbError(err);
  }
}

async function execute(target: Queryable, sql: string): Promise<void> {
  try {
    await target.exec(sql);
  } catch (err) {
    throw toDbError(err);
  }
}

/** The first statement error of a transaction scope (Postgres aborts the scope on it). */
interface Scope {
  error?: unknown;
}

class PgliteTx implements Db {
  readonly kind = "pglite" as const;
  constructor(
    private readonly tx: Transaction,
    private readonly depth: number,
    readonly scope: Scope,
  ) {
    markTransaction(this);
  }
  async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    try {
      return await run<T>(this.tx, sql, params);
    } catch (err) {
      this.scope.error ??= err;
      throw err;
    }
  }
  async exec(sql: string): Promise<void> {
    try {
      await execute(this.tx, sql);
    } catch (err) {
      this.scope.error ??= err;
      throw err;
    }
  }
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const inner = new PgliteTx(this.tx, this.depth + 1, {});
    return withSavepoint(this, this.depth + 1, () => settle(inner, fn));
  }
  close(): Promise<void> {
    return Promise.reject(new Error("close() the Db, not a transaction"));
  }
}

/**
 * Runs fn in a scope; a statement error that fn caught still fails the scope, as
 * postgres.js does (and as Postgres would: the transaction is aborted).
 */
async function settle<T>(tx: PgliteTx, fn: (tx: Db) => Promise<T>): Promise<T> {
  const result = await fn(tx);
  if (tx.scope.error !== undefined) throw tx.scope.error;
  return result;
}

/** The PGlite adapter; see {@linkcode openPglite}. */
export class PgliteDb implements Db {
  readonly kind = "pglite" as const;
  /** "memory" or the data directory, for logs and test names. */
  readonly location: string;
  #closed = false;

  constructor(private readonly pg: PGlite, location: string) {
    this.location = location;
  }

  /** The underlying PGlite instance (for tools that need it; steps use the Db API). */
  get pglite(): PGlite {
    return this.pg;
  }

  async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    refuseInside(this, "query()");
    return await run<T>(this.pg, sql, params);
  }

  async exec(sql: string): Promise<void> {
    refuseInside(this, "exec()");
    await execute(this.pg, sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    refuseInside(this, "transaction()");
    try {
      return await this.pg.transaction((tx) =>
        runInside(this, () => settle(new PgliteTx(tx, 0, {}), fn))
      );
    } catch (err) {
      throw toDbError(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pg.close();
  }
}

/** Opens (creating when needed) an embedded PGlite database. */
export async function openPglite(options: PgliteOptions = {}): Promise<PgliteDb> {
  const { dataDir } = options;
  if (dataDir !== undefined) await Deno.mkdir(dataDir, { recursive: true });
  const pg = dataDir === undefined ? await PGlite.create() : await PGlite.create(dataDir);
  return new PgliteDb(pg, dataDir ?? "memory");
}
