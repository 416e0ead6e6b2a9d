/**
 * Private to the adapters: how parameters go in and rows come out, identical for
 * PGlite and postgres.js (see mod.ts for the documented mapping).
 *
 * @module
 */

import type { Row } from "./db.ts";

const INT8 = 20;
const INT8_ARRAY = 1016;
const BYTEA = 17;
const BYTEA_ARRAY = 1001;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function normaliseElement(x: unknown): unknown {
  if (x === undefined) return null;
  if (typeof x === "bigint") return x.toString();
  if (x instanceof Date) return x.toISOString();
  if (Array.isArray(x)) return x.map(normaliseElement);
  return x;
}

/**
 * One parameter as both adapters send it: undefined -> null, bigint -> decimal
 * text, Date -> ISO 8601 text, plain object -> JSON text (for json/jsonb),
 * arrays element-wise (bigint and Date elements as text; objects stay objects,
 * serialised by the adapter as JSON for a jsonb parameter or as jsonb[]
 * elements); strings, numbers, booleans and Uint8Array (bytea) unchanged. The
 * server types each parameter from the SQL.
 */
export function normaliseParam(x: unknown): unknown {
  if (isPlainObject(x)) return JSON.stringify(x);
  return normaliseElement(x);
}

/** All parameters of a query. */
export function normaliseParams(params: readonly unknown[] | undefined): unknown[] {
  return params ? params.map(normaliseParam) : [];
}

/** int8 as a number when it is a safe integer, else as a bigint (lossless). */
export function toInt8(x: unknown): unknown {
  if (x === null || x === undefined) return x;
  if (typeof x === "number") return x;
  const big = typeof x === "bigint" ? x : BigInt(String(x));
  const asNumber = Number(big);
  return Number.isSafeInteger(asNumber) && BigInt(asNumber) === big ? asNumber : big;
}

function toBytes(x: unknown): unknown {
  if (x instanceof Uint8Array && x.constructor !== Uint8Array) return new Uint8Array(x);
  return x;
}

function deep(fn: (x: unknown) => unknown): (x: unknown) => unknown {
  const walk = (x: unknown): unknown => Array.isArray(x) ? x.map(walk) : fn(x);
  return walk;
}

const INT8_DEEP = deep(toInt8);
const BYTES_DEEP = deep(toBytes);

/** A column of a result: its name and type oid. */
export interface ColumnType {
  name: string;
  oid: number;
}

/**
 * Rows as the Db interface returns them, from either adapter: int8 via
 * {@linkcode toInt8}, bytea as a plain Uint8Array; every other type as the
 * adapters already agree (see mod.ts).
 */
export function normaliseRows<T extends Row>(rows: Row[], columns: readonly ColumnType[]): T[] {
  const fixes: [string, (x: unknown) => unknown][] = [];
  for (const c of columns) {
    if (c.oid === INT8) fixes.push([c.name, toInt8]);
    else if (c.oid === INT8_ARRAY) fixes.push([c.name, INT8_DEEP]);
    else if (c.oid === BYTEA) fixes.push([c.name, toBytes]);
    else if (c.oid === BYTEA_ARRAY) fixes.push([c.name, BYTES_DEEP]);
  }
  if (fixes.length === 0) return rows as T[];
  for (const row of rows) {
    for (const [name, fix] of fixes) row[name] = fix(row[name]);
  }
  return rows as T[];
}

const transactions = new WeakSet<object>();

/** Marks a Db handle as a transaction (adapters call it on the `tx` they hand out). */
export function markTransaction<T extends object>(tx: T): T {
  transactions.add(tx);
  return tx;
}

/** True when `db` is a transaction handle given out by an adapter. */
export function isTransaction(db: object): boolean {
  return transactions.has(db);
}
