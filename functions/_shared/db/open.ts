/**
 * Picks the {@linkcode Db} adapter from configuration.
 *
 * @module
 */

import type { Db } from "./db.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";

/** Where the database is. */
export interface DbConfig {
  /**
   * A `postgres://` or `postgresql://` URL selects the postgres.js adapter.
   * Anything else (or nothing) selects embedded PGlite.
   * @default undefined
   */
  url?: string;
  /** PGlite data directory (ignored with a postgres URL). @default undefined */
  dataDir?: string;
  /** PGlite in memory even when `dataDir` is set. @default false */
  memory?: boolean;
  /** postgres.js pool size. @default 10 */
  poolSize?: number;
}

/** True when `url` names a Postgres server. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens the configured database: postgres.js for a `postgres://` URL, else
 * PGlite in `dataDir` (or in memory when `memory` is set or no `dataDir` is given).
 */
export async function openDb(config: DbConfig = {}): Promise<Db> {
  if (isPostgresUrl(config.url)) {
    return openPostgres({ url: config.url, poolSize: config.poolSize });
  }
  if (config.url !== undefined && config.url !== "") {
    throw new Error(`database url "${config.url}" is not postgres://...; omit it for PGlite`);
  }
  return await openPglite({ dataDir: config.memory ? undefined : config.dataDir });
}

/**
 * A one-line description of where `db` points and what server it is, e.g.
 * "postgres 15.20 @127.0.0.1:55432/skydiff_test" or "pglite 0.5.16 (postgres 18.6) @memory".
 */
export async function describeDb(db: Db): Promise<string> {
  const [row] = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  const version = row.v.split(" ")[0]; // Debian appends " (Debian 15.20-0+deb12u1)"
  const location = (db as { location?: string }).location ?? "?";
  if (db.kind === "pglite") {
    const [r] = await db.query<{ version: string }>("SELECT version()");
    const m = /PGlite ([0-9.]+)/.exec(r.version);
    return `pglite ${m ? m[1] : "?"} (postgres ${version}) @${location}`;
  }
  return `postgres ${version} @${location}`;
}
