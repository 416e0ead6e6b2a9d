/**
 * Database errors as both adapters raise them: a {@linkcode DbError} carrying
 * the server's SQLSTATE `code`, constraint, table and detail, whichever adapter
 * (PGlite or postgres.js) produced it.
 *
 * ```ts
 * try {
 *   await db.query("INSERT INTO images ...", [...]);
 * } catch (err) {
 *   if (!isUniqueViolation(err)) throw err;
 *   // another worker inserted it first: load theirs
 * }
 * ```
 *
 * @module
 */

/** SQLSTATE codes the pipeline reacts to. */
export const SQLSTATE = {
  uniqueViolation: "23505",
  foreignKeyViolation: "23503",
  /** ON DELETE RESTRICT refused a delete of a referenced row (Postgres 18; 15 says 23503). */
  restrictViolation: "23001",
  notNullViolation: "23502",
  checkViolation: "23514",
  serializationFailure: "40001",
  deadlockDetected: "40P01",
  undefinedTable: "42P01",
  syntaxError: "42601",
} as const;

/** An error reported by the database server, normalised across adapters. */
export class DbError extends Error {
  /** The SQLSTATE, e.g. "23505" for a unique violation. */
  readonly code: string;
  /** The violated constraint's name, when the server names one. */
  readonly constraint?: string;
  /** The table concerned, when the server names one. */
  readonly table?: string;
  /** The column concerned, when the server names one. */
  readonly column?: string;
  /** The server's DETAIL line (e.g. "Key (id)=(...) already exists."). */
  readonly detail?: string;

  constructor(
    message: string,
    fields: { code: string; constraint?: string; table?: string; column?: string; detail?: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "DbError";
    this.code = fields.code;
    this.constraint = fields.constraint;
    this.table = fields.table;
    this.column = fields.column;
    this.detail = fields.detail;
  }
}

function field(err: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = err[name];
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

/**
 * Wraps a server error (anything with a 5-character SQLSTATE `code`) into a
 * {@linkcode DbError}, the original as its `cause`; returns other errors
 * (connection refused, bugs) unchanged.
 */
export function toDbError(err: unknown): unknown {
  if (err instanceof DbError || typeof err !== "object" || err === null) return err;
  const e = err as Record<string, unknown>;
  const code = e.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return err;
  return new DbError(String(e.message ?? code), {
    code,
    // postgres.js names them *_name, PGlite without the suffix
    constraint: field(e, "constraint_name", "constraint"),
    table: field(e, "table_name", "table"),
    column: field(e, "column_name", "column"),
    detail: field(e, "detail"),
  }, { cause: err });
}

/** The SQLSTATE of a database error, or undefined for any other error. */
export function sqlState(err: unknown): string | undefined {
  const wrapped = toDbError(err);
  return wrapped instanceof DbError ? wrapped.code : undefined;
}

/**
 * True when `err` is a unique-constraint violation (SQLSTATE 23505), optionally
 * of the named constraint: the signal that another worker inserted the row first.
 */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const wrapped = toDbError(err);
  return wrapped instanceof DbError && wrapped.code === SQLSTATE.uniqueViolation &&
    (constraint === undefined || wrapped.constraint === constraint);
}

/**
 * True when a foreign key refused the statement: a missing referenced row (23503)
 * or a delete of a still-referenced row under ON DELETE RESTRICT, which Postgres 15
 * reports as 23503 and Postgres 18 (PGlite) as 23001.
 */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = sqlState(err);
  return code === SQLSTATE.foreignKeyViolation || code === SQLSTATE.restrictViolation;
}

/** True for errors a retry of the whole transaction may cure (serialization failure, deadlock). */
export function isRetryable(err: unknown): boolean {
  const code = sqlState(err);
  return code === SQLSTATE.serializationFailure || code === SQLSTATE.deadlockDetected;
}
