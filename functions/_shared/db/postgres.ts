/**
 * The server {@linkcode Db}: postgres.js against Postgres 15+ (plain or managed),
 * with a connection pool. Rows come back exactly as from the PGlite adapter
 * (see mod.ts for the type mapping).
 *
 * @module
 */

import postgres from "postgres";
import type { Db, Row } from "./db.ts";
import { toDbError } from "./errors.ts";
import { ARRAY_ELEMENT_PARSERS, parsePgArray, pgArrayLiteral } from "./_pgarray.ts";
import { refuseInside, runInside } from "./_scope.ts";
import { markTransaction, normaliseParams, normaliseRows } from "./_values.ts";

/** Options of {@linkcode openPostgres}. */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database?...` */
  url: string;
  /** Maximum connections in the pool. @default 10 */
  poolSize?: number;
  /** Close connections idle this many seconds. @default 30 */
  idleTimeoutSeconds?: number;
  /** Give up connecting after this many seconds. @default 30 */
  connectTimeoutSeconds?: number;
  /**
   * Use named prepared statements (faster repeated queries). Turn off behind a
   * transaction-mode pooler (PgBouncer, RDS Proxy pinning).
   * @default true
   */
  prepare?: boolean;
}

// deno-lint-ignore no-explicit-any
type Sql = postgres.Sql<any>;
// deno-lint-ignore no-explicit-any
type TxSql = postgres.TransactionSql<any>;

// json/jsonb: a string parameter is JSON text (as PGlite takes it), anything else is
// serialised; int8 stays text here and is converted by normaliseRows.
const JSON_OIDS = [114, 3802];
// deno-lint-ignore no-explicit-any
const types: Record<string, any> = {
  skydiff_json: {
    to: 114,
    from: JSON_OIDS,
    serialize: (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x)),
    parse: (x: string) => JSON.parse(x),
  },
  skydiff_jsonb: {
    to: 3802,
    from: JSON_OIDS,
    serialize: (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x)),
    parse: (x: string) => JSON.parse(x),
  },
};
// arrays: our own literal parser (NULL elements) and serialiser, for every array type
// the schema uses; postgres.js keeps its own for the others
for (const [oid, element] of Object.entries(ARRAY_ELEMENT_PARSERS)) {
  types[`skydiff_array_${oid}`] = {
    to: Number(oid),
    from: [Number(oid)],
    serialize: pgArrayLiteral,
    parse: (x: string) => parsePgArray(x, element),
  };
}

interface Column {
  name: string;
  type: number;
}

async function run<T extends Row>(
  sql: Sql | TxSql,
  prepare: boolean,
  text: string,
  params: readonly unknown[] | undefined,
): Promise<T[]> {
  try {
    // Every parameter goes as type 0 ("unknown"): the server types it from the SQL and
    // postgres.js serialises it for that type, as PGlite does. (Left to itself postgres.js
    // types an array by its first element, so [true] would be sent as a boolean.)
    const typed = normaliseParams(params).map((
      p,
    ) => (p === null ? null : sql.typed(p as never, 0)));
    // simple: false keeps one statement per query even without parameters (as PGlite)
    // deno-lint-ignore no-explicit-any
    const result = await sql.unsafe(text, typed as any[], {
      prepare,
      simple: false, // honoured by postgres.js 3.4, absent from its types
    } as postgres.UnsafeQueryOptions);
    const columns = ((result as unknown as { columns?: Column[] }).columns ?? []).map((c) => ({
      name: c.name,
      oid: c.type,
    }));
    // a plain array of plain rows (postgres.js adds count/command/columns to its result)
    return normaliseRows<T>(Array.from(result as unknown as Row[]), columns);
  } catch (err) {
    throw toDbError(err);
  }
}

async function execute(sql: Sql | TxSql, text: string): Promise<void> {
  try {
    await sql.unsafe(text).simple();
  } catch (err) {
    throw toDbError(err);
  }
}

class PostgresTx implements Db {
  readonly kind = "postgres" as const;
  constructor(private readonly sql: TxSql, private readonly prepare: boolean) {
    markTransaction(this);
  }
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
    return run<T>(this.sql, this.prepare, text, params);
  }
  exec(text: string): Promise<void> {
    return execute(this.sql, text);
  }
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    // postgres.js scopes: a statement that fails inside rolls back to the savepoint and
    // rethrows even when fn caught it (as the PGlite adapter does)
    try {
      return await this.sql.savepoint((inner) => fn(new PostgresTx(inner, this.prepare))) as T;
    } catch (err) {
      throw toDbError(err);
    }
  }
  close(): Promise<void> {
    return Promise.reject(new Error("close() the Db, not a transaction"));
  }
}

/** The postgres.js adapter; see {@linkcode openPostgres}. */
export class PostgresDb implements Db {
  readonly kind = "postgres" as const;
  /** host:port/database, for logs and test names (no credentials). */
  readonly location: string;
  #closed = false;

  constructor(private readonly sql: Sql, location: string, private readonly prepare: boolean) {
    this.location = location;
  }

  async query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
    refuseInside(this, "query()");
    return await run<T>(this.sql, this.prepare, text, params);
  }

  async exec(text: string): Promise<void> {
    refuseInside(this, "exec()");
    await execute(this.sql, text);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    refuseInside(this, "transaction()");
    try {
      // postgres.js rethrows at the end a statement error that fn caught: the transaction
      // is aborted server-side anyway, so it must not look committed
      return await this.sql.begin((tx) =>
        runInside(this, () => fn(new PostgresTx(tx, this.prepare)))
      ) as T;
    } catch (err) {
      throw toDbError(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.sql.end({ timeout: 5 });
  }
}

/** host:port/database of a postgres URL, without credentials. */
export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

/**
 * Opens a pool to a Postgres server. Connects lazily: the first query reports
 * an unreachable server.
 */
export function openPostgres(options: PostgresOptions): PostgresDb {
  const prepare = options.prepare ?? true;
  const sql = postgres(options.url, {
    max: options.poolSize ?? 10,
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    connect_timeout: options.connectTimeoutSeconds ?? 30,
    prepare,
    types,
    // "relation already exists, skipping" and friends are not worth a console line
    onnotice: () => {},
  });
  return new PostgresDb(sql, describeUrl(options.url), prepare);
}
