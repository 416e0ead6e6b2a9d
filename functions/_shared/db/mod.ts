/**
 * The database layer: the {@linkcode Db} interface, its PGlite and postgres.js
 * adapters, the migrator, advisory locks, errors and the schema's enums.
 *
 * Values are the same from both adapters:
 *
 * | Postgres | JS (rows) | JS (parameters) |
 * |---|---|---|
 * | uuid, text, varchar | string | string |
 * | smallint, integer, real, double precision | number | number |
 * | bigint | number when a safe integer (\|x\| < 2^53), else bigint | number, bigint or decimal string |
 * | numeric | string (exact) | string or number |
 * | boolean | boolean | boolean |
 * | timestamptz | Date | Date (sent as ISO 8601) or string |
 * | json, jsonb | parsed value | plain object or array (serialised), or a string of JSON text (taken as is) |
 * | bytea | Uint8Array | Uint8Array |
 * | T[] (text[], double precision[], bigint[]) | array of the element mapping | array |
 * | NULL | null | null or undefined |
 *
 * @module
 */

export type { Db, Row } from "./db.ts";
export { type DbConfig, describeDb, isPostgresUrl, openDb } from "./open.ts";
export { openPglite, PgliteDb, type PgliteOptions } from "./pglite.ts";
export { describeUrl, openPostgres, PostgresDb, type PostgresOptions } from "./postgres.ts";
export {
  DbError,
  isForeignKeyViolation,
  isRetryable,
  isUniqueViolation,
  SQLSTATE,
  sqlState,
  toDbError,
} from "./errors.ts";
export { lockedTransaction, tryAdvisoryLock, withAdvisoryLock } from "./lock.ts";
export {
  appliedMigrations,
  listMigrations,
  migrate,
  MIGRATE_LOCK_KEY,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  MigrationError,
  SQL_DIR,
} from "./migrate.ts";
export { HEALPIX_ORDER, type SchemaSnapshot, schemaSnapshot, TABLES } from "./schema.ts";
export { coneSearch, type ConeSearchOptions, coneSql } from "./cone.ts";
export * from "./enums.ts";
