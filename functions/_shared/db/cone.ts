/**
 * Cone searches on any table with `ra`, `dec` (degrees) and `healpix` (NESTED,
 * order {@linkcode HEALPIX_ORDER}) columns: a join on the HEALPix pixel ranges
 * covering the cone (btree range scans on the healpix index) followed by the
 * exact great-circle distance. No extension needed (no q3c, no PostGIS).
 *
 * ```ts
 * const near = await coneSearch(db, "objects", 150.1, 2.2, 1 / 3600);
 * ```
 *
 * @module
 */

import type { Db, Row } from "./db.ts";
import { HEALPIX_ORDER } from "./schema.ts";
import { coneRanges } from "../sky/cone.ts";

/** Options of {@linkcode coneSql} and {@linkcode coneSearch}. */
export interface ConeSearchOptions {
  /** Extra condition on the table (alias `t`), e.g. "t.is_test = false". @default none */
  where?: string;
  /** Parameters of `where`, numbered after the cone's own five ($6, $7, ...). @default [] */
  params?: readonly unknown[];
  /** At most this many rows, nearest first. @default no limit */
  limit?: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * The SQL and parameters of a cone search on `table`: rows `t.*` plus
 * `separation_deg`, nearest first. Parameters $1..$5 are the cone's.
 */
export function coneSql(
  table: string,
  raDeg: number,
  decDeg: number,
  radiusDeg: number,
  options: ConeSearchOptions = {},
): { sql: string; params: unknown[] } {
  if (!IDENTIFIER.test(table)) throw new Error(`cone search: bad table name "${table}"`);
  const ranges = coneRanges(HEALPIX_ORDER, raDeg, decDeg, radiusDeg);
  // haversine: exact for small angles, as the pipeline's angular distances
  const separation = `degrees(2 * asin(least(1, sqrt(
      power(sin(radians(t.dec - $4) / 2), 2)
      + cos(radians(t.dec)) * cos(radians($4)) * power(sin(radians(t.ra - $3) / 2), 2)))))`;
  const sql = `SELECT t.*, ${separation} AS separation_deg
    FROM unnest($1::bigint[], $2::bigint[]) AS r(lo, hi)
    JOIN ${table} t ON t.healpix >= r.lo AND t.healpix < r.hi
    WHERE ${separation} <= $5${options.where ? ` AND (${options.where})` : ""}
    ORDER BY separation_deg${
    options.limit !== undefined ? ` LIMIT ${Math.floor(options.limit)}` : ""
  }`;
  return {
    sql,
    params: [
      ranges.map((r) => r[0]),
      ranges.map((r) => r[1]),
      raDeg,
      decDeg,
      radiusDeg,
      ...(options.params ?? []),
    ],
  };
}

/** Rows of `table` within `radiusDeg` of (raDeg, decDeg), nearest first, with `separation_deg`. */
export async function coneSearch<T extends Row = Row>(
  db: Db,
  table: string,
  raDeg: number,
  decDeg: number,
  radiusDeg: number,
  options: ConeSearchOptions = {},
): Promise<(T & { separation_deg: number })[]> {
  const { sql, params } = coneSql(table, raDeg, decDeg, radiusDeg, options);
  return await db.query<T & { separation_deg: number }>(sql, params);
}
