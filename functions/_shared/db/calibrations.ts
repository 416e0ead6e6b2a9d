/**
 * Repository of the calibration rows: `world_coordinates` (astrocal) and
 * `zero_points` (photocal), one per (input, provenance). (The image's sky
 * footprint, which astrocal rewrites, is images.ts's updateImageSky.)
 *
 * @module
 */
import type { Db } from "./db.ts";
import { enumCode, PROCESS, WCS_PROJECTION } from "./enums.ts";

/** A world_coordinates row. */
export interface WorldCoordinatesRecord {
  id: string;
  sourcesId: string;
  provenanceId: string;
  /** WCS_PROJECTION name: "tan", "tan_sip" or "tpv". */
  projection: string;
  /** The FITS WCS cards, keyword -> value. */
  header: Record<string, string | number>;
  nMatched: number | null;
  rmsArcsec: number | null;
  info: Record<string, unknown>;
  bitflag: number;
  upstreamBitflag: number;
}

/** A zero_points row. */
export interface ZeroPointRecord {
  id: string;
  wcsId: string;
  provenanceId: string;
  /** mag = -2.5 log10(flux) + zp, flux in the image's unit. */
  zp: number;
  dzp: number;
  /** Aperture radii (px) and the magnitude added to each aperture's magnitude. */
  aperCorRadii: number[];
  aperCors: number[];
  limMag: number | null;
  nStars: number | null;
  info: Record<string, unknown>;
  bitflag: number;
  upstreamBitflag: number;
}

const json = (v: unknown) =>
  (typeof v === "string" ? JSON.parse(v) : v ?? {}) as Record<string, unknown>;
const maybe = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.map(Number) : []);

const WCS_COLUMNS =
  "id, sources_id, provenance_id, projection, header, n_matched, rms_arcsec, info, _bitflag, _upstream_bitflag";

function wcsFromRow(r: Record<string, unknown>): WorldCoordinatesRecord {
  return {
    id: String(r.id),
    sourcesId: String(r.sources_id),
    provenanceId: String(r.provenance_id),
    projection: WCS_PROJECTION[Number(r.projection)] ?? String(r.projection),
    header: json(r.header) as Record<string, string | number>,
    nMatched: maybe(r.n_matched),
    rmsArcsec: maybe(r.rms_arcsec),
    info: json(r.info),
    bitflag: Number(r._bitflag),
    upstreamBitflag: Number(r._upstream_bitflag),
  };
}

/** Inserts a world_coordinates row (in the caller's transaction). */
export async function insertWorldCoordinates(db: Db, r: WorldCoordinatesRecord): Promise<void> {
  await db.query(
    `INSERT INTO world_coordinates (${WCS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      r.id,
      r.sourcesId,
      r.provenanceId,
      enumCode(WCS_PROJECTION, r.projection),
      r.header,
      r.nMatched,
      r.rmsArcsec,
      r.info,
      r.bitflag,
      r.upstreamBitflag,
    ],
  );
}

/** The world coordinates of a source list under a provenance, or null. */
export async function findWorldCoordinates(
  db: Db,
  sourcesId: string,
  provenanceId: string,
): Promise<WorldCoordinatesRecord | null> {
  const rows = await db.query(
    `SELECT ${WCS_COLUMNS} FROM world_coordinates WHERE sources_id = $1 AND provenance_id = $2`,
    [sourcesId, provenanceId],
  );
  return rows.length === 0 ? null : wcsFromRow(rows[0]);
}

/** The world coordinates of a source list made by the astrocal provenance a tag holds, or null. */
export async function findTaggedWorldCoordinates(
  db: Db,
  sourcesId: string,
  tag: string,
): Promise<WorldCoordinatesRecord | null> {
  const rows = await db.query(
    `SELECT ${WCS_COLUMNS.split(",").map((c) => `w.${c.trim()}`).join(", ")}
       FROM world_coordinates w JOIN provenance_tags t ON t.provenance_id = w.provenance_id
      WHERE w.sources_id = $1 AND t.tag = $2 AND t.process = $3`,
    [sourcesId, tag, enumCode(PROCESS, "astrocal")],
  );
  return rows.length === 0 ? null : wcsFromRow(rows[0]);
}

const ZP_COLUMNS =
  "id, wcs_id, provenance_id, zp, dzp, aper_cor_radii, aper_cors, lim_mag, n_stars, info, _bitflag, _upstream_bitflag";

function zpFromRow(r: Record<string, unknown>): ZeroPointRecord {
  return {
    id: String(r.id),
    wcsId: String(r.wcs_id),
    provenanceId: String(r.provenance_id),
    zp: Number(r.zp),
    dzp: Number(r.dzp),
    aperCorRadii: numbers(r.aper_cor_radii),
    aperCors: numbers(r.aper_cors),
    limMag: maybe(r.lim_mag),
    nStars: maybe(r.n_stars),
    info: json(r.info),
    bitflag: Number(r._bitflag),
    upstreamBitflag: Number(r._upstream_bitflag),
  };
}

/** Inserts a zero_points row (in the caller's transaction). */
export async function insertZeroPoint(db: Db, r: ZeroPointRecord): Promise<void> {
  await db.query(
    `INSERT INTO zero_points (${ZP_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      r.id,
      r.wcsId,
      r.provenanceId,
      r.zp,
      r.dzp,
      r.aperCorRadii,
      r.aperCors,
      r.limMag,
      r.nStars,
      r.info,
      r.bitflag,
      r.upstreamBitflag,
    ],
  );
}

/** The zero point of a WCS under a provenance, or null. */
export async function findZeroPoint(
  db: Db,
  wcsId: string,
  provenanceId: string,
): Promise<ZeroPointRecord | null> {
  const rows = await db.query(
    `SELECT ${ZP_COLUMNS} FROM zero_points WHERE wcs_id = $1 AND provenance_id = $2`,
    [wcsId, provenanceId],
  );
  return rows.length === 0 ? null : zpFromRow(rows[0]);
}

/** The zero point of a WCS made by the photocal provenance a tag holds, or null. */
export async function findTaggedZeroPoint(
  db: Db,
  wcsId: string,
  tag: string,
): Promise<ZeroPointRecord | null> {
  const rows = await db.query(
    `SELECT ${ZP_COLUMNS.split(",").map((c) => `z.${c.trim()}`).join(", ")}
       FROM zero_points z JOIN provenance_tags t ON t.provenance_id = z.provenance_id
      WHERE z.wcs_id = $1 AND t.tag = $2 AND t.process = $3`,
    [wcsId, tag, enumCode(PROCESS, "photocal")],
  );
  return rows.length === 0 ? null : zpFromRow(rows[0]);
}
