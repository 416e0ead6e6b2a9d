/**
 * Test helpers for code that needs a database: a scratch Postgres database per
 * test (created on the server of the integration tier, dropped on close) and a
 * migrated in-memory PGlite.
 *
 * @module
 */

import type { PGlite } from "@electric-sql/pglite";
import { migrate } from "./migrate.ts";
import { openPglite, PgliteDb } from "./pglite.ts";
import { openPostgres, type PostgresDb, type PostgresOptions } from "./postgres.ts";

/** A scratch database: its URL and how to drop it. */
export interface ScratchDatabase {
  /** postgres:// URL of the new database. */
  url: string;
  /** Drops the database (closing other sessions on it first). Idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database `skydiff_t_<random>` on the server of `serverUrl`
 * (any database of it; the role needs CREATEDB).
 */
export async function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  const name = `skydiff_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = openPostgres({ url: serverUrl, poolSize: 1 });
  try {
    await admin.exec(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const a = openPostgres({ url: serverUrl, poolSize: 1 });
      try {
        await a.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.close();
      }
    },
  };
}

/**
 * A postgres.js Db on a fresh scratch database of `serverUrl`; closing it also
 * drops the database.
 */
export async function openScratchPostgres(
  serverUrl: string,
  options: Omit<PostgresOptions, "url"> = {},
): Promise<PostgresDb> {
  const scratch = await createScratchDatabase(serverUrl);
  const db = openPostgres({ ...options, url: scratch.url });
  const close = db.close.bind(db);
  db.close = async () => {
    await close();
    await scratch.drop();
  };
  return db;
}

let template: Promise<PgliteDb> | undefined;

/**
 * An in-memory PGlite with every migration of sql/ applied, of its own (closing
 * it frees it). Cloned from a template migrated once per process, which is
 * faster than starting and migrating a new instance each time.
 */
export async function openMigratedPglite(): Promise<PgliteDb> {
  template ??= (async () => {
    const db = await openPglite();
    await migrate(db);
    return db;
  })();
  const clone = await (await template).pglite.clone();
  return new PgliteDb(clone as PGlite, "memory");
}
