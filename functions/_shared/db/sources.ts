/**
 * Repository of the extraction products' rows: `source_lists`, `backgrounds` and
 * `psfs` (one of each per image and extraction provenance, made together).
 *
 * @module
 */
import type { Db } from "./db.ts";
import { BACKGROUND_FORMAT, BACKGROUND_METHOD, enumCode, PROCESS, PSF_FORMAT } from "./enums.ts";

/** A source_lists row. */
export interface SourceListRecord {
  id: string;
  imageId: string;
  provenanceId: string;
  numSources: number;
  /** Aperture radii (px). */
  aperRads: number[];
  /** Index of the largest ("infinite") aperture, and of the best (highest S/N) one. */
  infAperNum: number | null;
  bestAperNum: number | null;
  info: Record<string, unknown>;
  bitflag: number;
  upstreamBitflag: number;
  filepath: string;
  md5: string;
}

/** A backgrounds row. */
export interface BackgroundRecord {
  id: string;
  sourcesId: string;
  imageId: string;
  provenanceId: string;
  /** BACKGROUND_FORMAT name. @default "mesh" */
  format: string;
  /** BACKGROUND_METHOD name. @default "skydiff" */
  method: string;
  value: number;
  noise: number;
  info: Record<string, unknown>;
  bitflag: number;
  upstreamBitflag: number;
  filepath: string | null;
  md5: string | null;
}

/** A psfs row. */
export interface PsfRecord {
  id: string;
  sourcesId: string;
  imageId: string;
  provenanceId: string;
  /** PSF_FORMAT name. @default "skydiff" */
  format: string;
  fwhmPixels: number;
  stampSize: number;
  info: Record<string, unknown>;
  bitflag: number;
  upstreamBitflag: number;
  filepath: string;
  md5: string;
}

const json = (v: unknown) =>
  (typeof v === "string" ? JSON.parse(v) : v ?? {}) as Record<string, unknown>;
const maybe = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Inserts a source_lists row. */
export async function insertSourceList(db: Db, r: SourceListRecord): Promise<void> {
  await db.query(
    `INSERT INTO source_lists (id, image_id, provenance_id, format, num_sources, aper_rads,
       inf_aper_num, best_aper_num, info, _bitflag, _upstream_bitflag, filepath, md5)
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      r.id,
      r.imageId,
      r.provenanceId,
      r.numSources,
      r.aperRads,
      r.infAperNum,
      r.bestAperNum,
      r.info,
      r.bitflag,
      r.upstreamBitflag,
      r.filepath,
      r.md5,
    ],
  );
}

/** Inserts a backgrounds row. */
export async function insertBackground(db: Db, r: BackgroundRecord): Promise<void> {
  await db.query(
    `INSERT INTO backgrounds (id, sources_id, image_id, provenance_id, format, method, value,
       noise, info, _bitflag, _upstream_bitflag, filepath, md5)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      r.id,
      r.sourcesId,
      r.imageId,
      r.provenanceId,
      enumCode(BACKGROUND_FORMAT, r.format),
      enumCode(BACKGROUND_METHOD, r.method),
      r.value,
      r.noise,
      r.info,
      r.bitflag,
      r.upstreamBitflag,
      r.filepath,
      r.md5,
    ],
  );
}

/** Inserts a psfs row. */
export async function insertPsf(db: Db, r: PsfRecord): Promise<void> {
  await db.query(
    `INSERT INTO psfs (id, sources_id, image_id, provenance_id, format, fwhm_pixels, stamp_size,
       info, _bitflag, _upstream_bitflag, filepath, md5)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      r.id,
      r.sourcesId,
      r.imageId,
      r.provenanceId,
      enumCode(PSF_FORMAT, r.format),
      r.fwhmPixels,
      r.stampSize,
      r.info,
      r.bitflag,
      r.upstreamBitflag,
      r.filepath,
      r.md5,
    ],
  );
}

function sourceListFromRow(r: Record<string, unknown>): SourceListRecord {
  return {
    id: String(r.id),
    imageId: String(r.image_id),
    provenanceId: String(r.provenance_id),
    numSources: Number(r.num_sources),
    aperRads: ((r.aper_rads as unknown[] | null) ?? []).map(Number),
    infAperNum: maybe(r.inf_aper_num),
    bestAperNum: maybe(r.best_aper_num),
    info: json(r.info),
    bitflag: Number(r._bitflag),
    upstreamBitflag: Number(r._upstream_bitflag),
    filepath: String(r.filepath),
    md5: String(r.md5),
  };
}

const SL_COLUMNS = `id, image_id, provenance_id, num_sources, aper_rads, inf_aper_num,
  best_aper_num, info, _bitflag, _upstream_bitflag, filepath, md5`;

/** The source list of an image under a provenance, or null. */
export async function findSourceList(
  db: Db,
  imageId: string,
  provenanceId: string,
): Promise<SourceListRecord | null> {
  const rows = await db.query(
    `SELECT ${SL_COLUMNS} FROM source_lists WHERE image_id = $1 AND provenance_id = $2`,
    [imageId, provenanceId],
  );
  return rows.length === 0 ? null : sourceListFromRow(rows[0]);
}

/** The source list of an image made by the extraction provenance a tag holds, or null. */
export async function findTaggedSourceList(
  db: Db,
  imageId: string,
  tag: string,
): Promise<SourceListRecord | null> {
  const rows = await db.query(
    `SELECT ${SL_COLUMNS.split(",").map((c) => `s.${c.trim()}`).join(", ")}
       FROM source_lists s JOIN provenance_tags t ON t.provenance_id = s.provenance_id
      WHERE s.image_id = $1 AND t.tag = $2 AND t.process = $3`,
    [imageId, tag, enumCode(PROCESS, "extraction")],
  );
  return rows.length === 0 ? null : sourceListFromRow(rows[0]);
}

/** The background made with a source list, or null. */
export async function findBackground(db: Db, sourcesId: string): Promise<BackgroundRecord | null> {
  const rows = await db.query(
    `SELECT id, sources_id, image_id, provenance_id, format, method, value, noise, info, _bitflag,
            _upstream_bitflag, filepath, md5 FROM backgrounds WHERE sources_id = $1`,
    [sourcesId],
  );
  if (rows.length === 0) return null;
  const r = rows[0];
  return {
    id: String(r.id),
    sourcesId: String(r.sources_id),
    imageId: String(r.image_id),
    provenanceId: String(r.provenance_id),
    format: BACKGROUND_FORMAT[Number(r.format)],
    method: BACKGROUND_METHOD[Number(r.method)],
    value: Number(r.value),
    noise: Number(r.noise),
    info: json(r.info),
    bitflag: Number(r._bitflag),
    upstreamBitflag: Number(r._upstream_bitflag),
    filepath: r.filepath === null ? null : String(r.filepath),
    md5: r.md5 === null ? null : String(r.md5),
  };
}

/** The PSF made with a source list, or null. */
export async function findPsf(db: Db, sourcesId: string): Promise<PsfRecord | null> {
  const rows = await db.query(
    `SELECT id, sources_id, image_id, provenance_id, format, fwhm_pixels, stamp_size, info,
            _bitflag, _upstream_bitflag, filepath, md5 FROM psfs WHERE sources_id = $1`,
    [sourcesId],
  );
  if (rows.length === 0) return null;
  const r = rows[0];
  return {
    id: String(r.id),
    sourcesId: String(r.sources_id),
    imageId: String(r.image_id),
    provenanceId: String(r.provenance_id),
    format: PSF_FORMAT[Number(r.format)],
    fwhmPixels: Number(r.fwhm_pixels),
    stampSize: Number(r.stamp_size),
    info: json(r.info),
    bitflag: Number(r._bitflag),
    upstreamBitflag: Number(r._upstream_bitflag),
    filepath: String(r.filepath),
    md5: String(r.md5),
  };
}
