/**
 * The migrator: applies the forward-only SQL files `sql/NNNN_name.sql` that the
 * database has not seen yet, in order, each in its own transaction, and records
 * each in `schema_migrations` with the SHA-256 of its text.
 *
 * Safe to run from many workers at once: every step holds the advisory lock
 * "skydiff:migrate" and re-reads `schema_migrations` under it, so each file is
 * applied exactly once. Refuses to run (before applying anything) when a file
 * already applied has changed: migrations are never edited, a new file is added.
 * A migration file must not contain BEGIN/COMMIT (the migrator owns the transaction).
 *
 * @module
 */

import type { Db } from "./db.ts";
import { withAdvisoryLock } from "./lock.ts";

/** The repository's sql/ directory. */
export const SQL_DIR: URL = new URL("../../../sql/", import.meta.url);

/** The advisory-lock key the migrator holds. */
export const MIGRATE_LOCK_KEY = "skydiff:migrate";

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** A migration file. */
export interface Migration {
  /** "0001" */
  version: string;
  /** "schema" (the file name between the number and ".sql") */
  name: string;
  /** The file name. */
  file: string;
  /** The SQL text. */
  sql: string;
  /** Hex SHA-256 of the text with CRLF line ends turned into LF. */
  checksum: string;
}

/** Options of {@linkcode migrate}. */
export interface MigrateOptions {
  /** The directory of NNNN_*.sql files. @default SQL_DIR (the repository's sql/) */
  dir?: string | URL;
  /** Called with one line per file applied. @default no logging */
  log?: (line: string) => void;
}

/** What {@linkcode migrate} did. */
export interface MigrateResult {
  /** Versions applied by this call, in order. */
  applied: string[];
  /** Versions that were already applied. */
  alreadyApplied: string[];
  /** Versions recorded in the database but absent from the directory (newer code ran). */
  unknown: string[];
}

/** A migration problem: a changed file, a malformed name, a duplicate version. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MigrationError";
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function dirPath(dir: string | URL): string {
  if (dir instanceof URL) return decodeURIComponent(dir.pathname);
  return dir;
}

/**
 * The migration files of `dir`, sorted by version. Throws {@linkcode MigrationError}
 * on a .sql file whose name is not NNNN_name.sql or on two files with one version.
 */
export async function listMigrations(dir: string | URL = SQL_DIR): Promise<Migration[]> {
  const path = dirPath(dir);
  const out: Migration[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const m = FILE_PATTERN.exec(entry.name);
    if (!m) {
      throw new MigrationError(
        `migration file ${entry.name} in ${path}: the name must be NNNN_lowercase_name.sql`,
      );
    }
    const sql = await Deno.readTextFile(`${path.replace(/\/$/, "")}/${entry.name}`);
    out.push({
      version: m[1],
      name: m[2],
      file: entry.name,
      sql,
      checksum: await sha256Hex(sql.replaceAll("\r\n", "\n")),
    });
  }
  out.sort((a, b) => a.version.localeCompare(b.version));
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version) {
      throw new MigrationError(
        `migrations ${out[i - 1].file} and ${out[i].file} share version ${out[i].version}`,
      );
    }
  }
  return out;
}

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     text PRIMARY KEY,
  name        text NOT NULL,
  checksum    text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  duration_ms double precision NOT NULL
)`;

interface AppliedRow {
  version: string;
  name: string;
  checksum: string;
  [k: string]: unknown;
}

function changedError(m: Migration, applied: AppliedRow): MigrationError {
  return new MigrationError(
    `migration ${m.file} was changed after it was applied (database checksum ${applied.checksum}, ` +
      `file ${m.checksum}): migrations are forward-only, add a new NNNN_*.sql file instead`,
  );
}

/** The rows of `schema_migrations` (empty when the table does not exist yet). */
export async function appliedMigrations(db: Db): Promise<AppliedRow[]> {
  const [exists] = await db.query<{ t: string | null }>(
    "SELECT to_regclass('schema_migrations')::text AS t",
  );
  if (!exists.t) return [];
  return await db.query<AppliedRow>(
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
  );
}

/**
 * Applies every migration of `dir` not yet recorded in `schema_migrations`.
 * Idempotent; concurrent callers (other workers) wait for each other.
 */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await listMigrations(options.dir ?? SQL_DIR);
  await db.transaction(async (tx) => {
    await withAdvisoryLock(tx, MIGRATE_LOCK_KEY);
    await tx.exec(CREATE_TABLE);
  });

  // refuse before touching anything when an applied file changed
  const before = new Map((await appliedMigrations(db)).map((r) => [r.version, r]));
  const changed = migrations.filter((m) => before.has(m.version))
    .filter((m) => before.get(m.version)!.checksum !== m.checksum);
  if (changed.length > 0) throw changedError(changed[0], before.get(changed[0].version)!);
  const known = new Set(migrations.map((m) => m.version));

  const result: MigrateResult = {
    applied: [],
    alreadyApplied: [],
    unknown: [...before.keys()].filter((v) => !known.has(v)),
  };
  for (const m of migrations) {
    const applied = await db.transaction(async (tx) => {
      await withAdvisoryLock(tx, MIGRATE_LOCK_KEY);
      const [row] = await tx.query<AppliedRow>(
        "SELECT version, name, checksum FROM schema_migrations WHERE version = $1",
        [m.version],
      );
      if (row) {
        if (row.checksum !== m.checksum) throw changedError(m, row);
        return false;
      }
      const t0 = performance.now();
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new MigrationError(
          `migration ${m.file} failed (rolled back): ${(err as Error).message}`,
          { cause: err },
        );
      }
      await tx.query(
        "INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
        [m.version, m.name, m.checksum, performance.now() - t0],
      );
      return true;
    });
    (applied ? result.applied : result.alreadyApplied).push(m.version);
    if (applied) options.log?.(`migrate: applied ${m.file}`);
  }
  return result;
}
