/**
 * Facts about the v1 schema (sql/0001_schema.sql) that code relies on, and a
 * snapshot of a live schema for comparing databases.
 *
 * @module
 */

import type { Db } from "./db.ts";

/**
 * HEALPix order of every `healpix` column (NESTED scheme, nside = 2^12 = 4096,
 * pixels of ~0.86 arcmin). The schema's CHECKs pin it: 0 <= healpix < 12 * 4^12.
 */
export const HEALPIX_ORDER = 12;

/** The tables the migrations in sql/ create (plus `schema_migrations`, made by the migrator). */
export const TABLES: readonly string[] = Object.freeze([
  "code_versions",
  "provenances",
  "provenance_upstreams",
  "provenance_tags",
  "known_exposures",
  "exposures",
  "images",
  "source_lists",
  "backgrounds",
  "psfs",
  "world_coordinates",
  "zero_points",
  "image_coadd_components",
  "refs",
  "refsets",
  "refset_provenances",
  "image_subtraction_components",
  "cutouts",
  "objects",
  "measurement_sets",
  "measurements",
  "deepscore_sets",
  "deepscores",
  "fake_sets",
  "fake_analyses",
  "catalog_excerpts",
  "calibrator_files",
  "reports",
  "queue_messages",
  "header_summaries",
  "jobs",
  "schema_migrations",
]);

/** The structure of the public schema, in a form that compares across servers. */
export interface SchemaSnapshot {
  /** "table.column type nullable default generated" lines, by table then position. */
  columns: string[];
  /** "table constraint type definition" lines. */
  constraints: string[];
  /** Index definitions. */
  indexes: string[];
  /** "table trigger timing event function" lines. */
  triggers: string[];
  /** Functions defined in the schema: "name(args) returns type language". */
  functions: string[];
}

/**
 * Reads the tables, columns, constraints, indexes, triggers and functions of the
 * `public` schema (information_schema and pg_catalog), sorted, so that two
 * databases migrated from the same files can be compared with one deepEquals.
 */
export async function schemaSnapshot(db: Db): Promise<SchemaSnapshot> {
  const columns = await db.query<{ line: string }>(`
    SELECT table_name || '.' || column_name || ' ' || udt_name
      || coalesce('(' || character_maximum_length || ')', '')
      || CASE WHEN is_nullable = 'YES' THEN ' null' ELSE ' not null' END
      || coalesce(' default ' || column_default, '')
      || CASE WHEN is_generated = 'ALWAYS' THEN ' generated ' || generation_expression ELSE '' END
      AS line
    FROM information_schema.columns
    WHERE table_schema = 'public'
    ORDER BY table_name, ordinal_position`);
  const constraints = await db.query<{ line: string }>(`
    SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || c.contype::text || ' '
      || pg_get_constraintdef(c.oid) AS line
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    -- Postgres 18 (PGlite) also lists NOT NULL as constraints ('n'); the columns carry it
    WHERE n.nspname = 'public' AND c.contype <> 'n'
    ORDER BY 1`);
  const indexes = await db.query<{ line: string }>(`
    SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`);
  const triggers = await db.query<{ line: string }>(`
    SELECT event_object_table || ' ' || trigger_name || ' ' || action_timing || ' '
      || event_manipulation || ' ' || action_statement AS line
    FROM information_schema.triggers WHERE trigger_schema = 'public' ORDER BY 1`);
  const functions = await db.query<{ line: string }>(`
    SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ') returns '
      || pg_get_function_result(p.oid) || ' ' || l.lanname AS line
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      JOIN pg_language l ON l.oid = p.prolang
    WHERE n.nspname = 'public' ORDER BY 1`);
  const lines = (rows: { line: string }[]) => rows.map((r) => r.line);
  return {
    columns: lines(columns),
    constraints: lines(constraints),
    indexes: lines(indexes),
    triggers: lines(triggers),
    functions: lines(functions),
  };
}
