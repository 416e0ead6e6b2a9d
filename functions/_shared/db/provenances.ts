/**
 * Provenance rows: code versions, provenances with their upstream links, and
 * provenance tags (a named set: at most one provenance per process per tag,
 * except referencing, which may have several).
 *
 * @module
 */
import type { Process } from "../processes.ts";
import { majorMinor, provenanceId, type ProvenanceInput } from "../provenance.ts";
import type { Db } from "./db.ts";
import { enumCode, enumName, PROCESS } from "./enums.ts";
import { withAdvisoryLock } from "./lock.ts";

/** A stored provenance. */
export interface Provenance {
  id: string;
  process: Process;
  codeVersion: string;
  parameters: Record<string, unknown>;
  upstreams: string[];
  isBad: boolean;
}

/** Raised when a tag already holds another provenance of the same process. */
export class TagConflict extends Error {
  constructor(
    readonly tag: string,
    readonly process: Process,
    readonly existing: string,
    readonly wanted: string,
  ) {
    super(
      `provenance tag "${tag}" already holds ${process} provenance ${existing}; ` +
        `cannot add ${wanted} (one provenance per process per tag, except referencing)`,
    );
    this.name = "TagConflict";
  }
}

function parseSemver(version: string): [number, number, number] {
  majorMinor(version);
  const [major, minor, patch] = version.split(/[-+]/)[0].split(".").map(Number);
  return [major, minor, patch];
}

/** The id of the code_versions row for (process, version), created once. */
export async function ensureCodeVersion(
  tx: Db,
  process: Process,
  version: string,
): Promise<string> {
  const code = enumCode(PROCESS, process);
  const find = () =>
    tx.query<{ id: string }>(
      "SELECT id FROM code_versions WHERE process = $1 AND version = $2",
      [code, version],
    );
  const found = await find();
  if (found.length > 0) return found[0].id;
  await withAdvisoryLock(tx, `code_version:${process}:${version}`);
  const [major, minor, patch] = parseSemver(version);
  await tx.query(
    `INSERT INTO code_versions (id, process, version, version_major, version_minor, version_patch)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (process, version) DO NOTHING`,
    [crypto.randomUUID(), code, version, major, minor, patch],
  );
  return (await find())[0].id;
}

/**
 * Computes a provenance's id and makes sure its rows exist (provenance, upstream
 * links, code version). Safe when many workers do it at once.
 */
export async function ensureProvenance(
  db: Db,
  input: ProvenanceInput & { process: Process },
): Promise<Provenance> {
  const id = await provenanceId(input);
  const upstreams = [...new Set(input.upstreams)].sort();
  await db.transaction(async (tx) => {
    // every code version that ran is recorded, even a patch bump of a known provenance
    const codeVersionId = await ensureCodeVersion(tx, input.process, input.codeVersion);
    const exists = await tx.query("SELECT 1 FROM provenances WHERE id = $1", [id]);
    if (exists.length > 0) return;
    await tx.query(
      `INSERT INTO provenances (id, process, code_version_id, parameters)
       VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
      [id, enumCode(PROCESS, input.process), codeVersionId, input.parameters],
    );
    for (const upstream of upstreams) {
      await tx.query(
        `INSERT INTO provenance_upstreams (downstream_id, upstream_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING`,
        [id, upstream],
      );
    }
  });
  return {
    id,
    process: input.process,
    codeVersion: input.codeVersion,
    parameters: input.parameters,
    upstreams,
    isBad: false,
  };
}

/** Loads a provenance by id, or null. */
export async function getProvenance(db: Db, id: string): Promise<Provenance | null> {
  const rows = await db.query<{
    id: string;
    process: number;
    version: string;
    parameters: Record<string, unknown>;
    is_bad: boolean;
  }>(
    `SELECT p.id, p.process, c.version, p.parameters, p.is_bad
     FROM provenances p JOIN code_versions c ON c.id = p.code_version_id WHERE p.id = $1`,
    [id],
  );
  if (rows.length === 0) return null;
  const ups = await db.query<{ upstream_id: string }>(
    "SELECT upstream_id FROM provenance_upstreams WHERE downstream_id = $1 ORDER BY upstream_id",
    [id],
  );
  const row = rows[0];
  return {
    id: row.id,
    process: enumName(PROCESS, row.process),
    codeVersion: row.version,
    parameters: row.parameters,
    upstreams: ups.map((u) => u.upstream_id),
    isBad: row.is_bad,
  };
}

/**
 * Adds a provenance to a tag. Adding the same one twice is harmless; adding a
 * second provenance of the same process (other than referencing) is a
 * {@linkcode TagConflict}.
 */
export async function tagProvenance(
  db: Db,
  tag: string,
  provenance: Pick<Provenance, "id" | "process">,
): Promise<void> {
  const code = enumCode(PROCESS, provenance.process);
  await db.transaction(async (tx) => {
    await withAdvisoryLock(tx, `provenance_tag:${tag}:${provenance.process}`);
    const existing = await tx.query<{ provenance_id: string }>(
      "SELECT provenance_id FROM provenance_tags WHERE tag = $1 AND process = $2",
      [tag, code],
    );
    if (existing.some((row) => row.provenance_id === provenance.id)) return;
    if (existing.length > 0 && provenance.process !== "referencing") {
      throw new TagConflict(tag, provenance.process, existing[0].provenance_id, provenance.id);
    }
    await tx.query(
      "INSERT INTO provenance_tags (id, tag, provenance_id, process) VALUES ($1, $2, $3, $4)",
      [crypto.randomUUID(), tag, provenance.id, code],
    );
  });
}

/** The provenance ids a tag holds for a process (at most one except for referencing). */
export async function taggedProvenances(db: Db, tag: string, process: Process): Promise<string[]> {
  const rows = await db.query<{ provenance_id: string }>(
    "SELECT provenance_id FROM provenance_tags WHERE tag = $1 AND process = $2 ORDER BY created_at",
    [tag, enumCode(PROCESS, process)],
  );
  return rows.map((r) => r.provenance_id);
}
