/**
 * Repository of `images` rows (science images from preprocessing; coadds and
 * differences use the same table): insert, find by (exposure, section,
 * provenance) or by provenance tag, and read one by id.
 *
 * @module
 */
import type { Db } from "./db.ts";
import { enumCode, IMAGE_TYPE, PROCESS } from "./enums.ts";

/** The four corners of an image on the sky (deg): 00 = (x0, y0), 01 = (x0, y1), 10, 11. */
export interface FourCorners {
  ra: [number, number, number, number];
  dec: [number, number, number, number];
}

/** An images row, in our names. */
export interface ImageRecord {
  id: string;
  provenanceId: string;
  exposureId: string | null;
  sectionId: string | null;
  /** IMAGE_TYPE name ("sci", "comsci", "diff", ...). */
  type: string;
  instrument: string;
  telescope: string;
  target: string | null;
  filter: string | null;
  mjd: number;
  expTime: number;
  airmass: number | null;
  width: number;
  height: number;
  /** Centre of the image (deg). */
  ra: number;
  dec: number;
  /** HEALPix (nested, order HEALPIX_ORDER) of the centre. */
  healpix: number;
  /** Corners in the order 00, 01, 10, 11 (x first: 01 is (x = 0, y = height - 1)). */
  corners: FourCorners;
  /** FWHM estimate (arcsec). */
  fwhmEstimate: number | null;
  zeroPointEstimate: number | null;
  limMagEstimate: number | null;
  bkgMeanEstimate: number | null;
  bkgRmsEstimate: number | null;
  /** PREPROCESSING bits of the corrections applied. */
  preprocBitflag: number;
  header: Record<string, unknown>;
  info: Record<string, unknown>;
  bitflag: number;
  upstreamBitflag: number;
  filepath: string;
  md5: string;
}

const COLUMNS = `id, provenance_id, exposure_id, section_id, type, instrument, telescope, target,
  filter, mjd, exp_time, airmass, width, height, ra, dec, healpix, ra_corner_00, ra_corner_01,
  ra_corner_10, ra_corner_11, dec_corner_00, dec_corner_01, dec_corner_10, dec_corner_11,
  fwhm_estimate, zero_point_estimate, lim_mag_estimate, bkg_mean_estimate, bkg_rms_estimate,
  preproc_bitflag, header, info, _bitflag, _upstream_bitflag, filepath, md5`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** An images row in our names. */
export function imageFromRow(r: Record<string, unknown>): ImageRecord {
  const json = (v: unknown) =>
    (typeof v === "string" ? JSON.parse(v) : v ?? {}) as Record<string, unknown>;
  return {
    id: String(r.id),
    provenanceId: String(r.provenance_id),
    exposureId: r.exposure_id === null ? null : String(r.exposure_id),
    sectionId: r.section_id === null ? null : String(r.section_id),
    type: IMAGE_TYPE[Number(r.type)] ?? String(r.type),
    instrument: String(r.instrument),
    telescope: String(r.telescope),
    target: r.target === null ? null : String(r.target),
    filter: r.filter === null ? null : String(r.filter),
    mjd: Number(r.mjd),
    expTime: Number(r.exp_time),
    airmass: num(r.airmass),
    width: Number(r.width),
    height: Number(r.height),
    ra: Number(r.ra),
    dec: Number(r.dec),
    healpix: Number(r.healpix),
    corners: {
      ra: [r.ra_corner_00, r.ra_corner_01, r.ra_corner_10, r.ra_corner_11].map(Number) as [
        number,
        number,
        number,
        number,
      ],
      dec: [r.dec_corner_00, r.dec_corner_01, r.dec_corner_10, r.dec_corner_11].map(Number) as [
        number,
        number,
        number,
        number,
      ],
    },
    fwhmEstimate: num(r.fwhm_estimate),
    zeroPointEstimate: num(r.zero_point_estimate),
    limMagEstimate: num(r.lim_mag_estimate),
    bkgMeanEstimate: num(r.bkg_mean_estimate),
    bkgRmsEstimate: num(r.bkg_rms_estimate),
    preprocBitflag: Number(r.preproc_bitflag),
    header: json(r.header),
    info: json(r.info),
    bitflag: Number(r._bitflag),
    upstreamBitflag: Number(r._upstream_bitflag),
    filepath: String(r.filepath),
    md5: String(r.md5),
  };
}

/** Smallest and largest RA of corners, handling the 0/360 wrap (min > max when it wraps). */
export function raRange(ras: readonly number[]): { min: number; max: number } {
  const wrap = (r: number) => (r >= 0 && r < 360 ? r : ((r % 360) + 360) % 360);
  const sorted = [...ras].map(wrap).sort((a, b) => a - b);
  // the largest gap between consecutive RAs (cyclically) is outside the image
  let gap = 360 - sorted[sorted.length - 1] + sorted[0], at = sorted.length - 1;
  for (let i = 0; i < sorted.length - 1; i++) {
    const g = sorted[i + 1] - sorted[i];
    if (g > gap) {
      gap = g;
      at = i;
    }
  }
  return { min: sorted[(at + 1) % sorted.length], max: sorted[at] };
}

/** Inserts an images row (in the caller's transaction); returns its id. */
export async function insertImage(
  db: Db,
  rec: Omit<ImageRecord, "id"> & { id?: string },
): Promise<string> {
  const id = rec.id ?? crypto.randomUUID();
  const ra = raRange(rec.corners.ra);
  await db.query(
    `INSERT INTO images (${COLUMNS}, minra, maxra, mindec, maxdec)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
             $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36,
             $37, $38, $39, $40, $41)`,
    [
      id,
      rec.provenanceId,
      rec.exposureId,
      rec.sectionId,
      enumCode(IMAGE_TYPE, rec.type),
      rec.instrument,
      rec.telescope,
      rec.target,
      rec.filter,
      rec.mjd,
      rec.expTime,
      rec.airmass,
      rec.width,
      rec.height,
      rec.ra,
      rec.dec,
      rec.healpix,
      ...rec.corners.ra,
      ...rec.corners.dec,
      rec.fwhmEstimate,
      rec.zeroPointEstimate,
      rec.limMagEstimate,
      rec.bkgMeanEstimate,
      rec.bkgRmsEstimate,
      rec.preprocBitflag,
      rec.header,
      rec.info,
      rec.bitflag,
      rec.upstreamBitflag,
      rec.filepath,
      rec.md5,
      ra.min,
      ra.max,
      Math.min(...rec.corners.dec),
      Math.max(...rec.corners.dec),
    ],
  );
  return id;
}

/** The image made from (exposure, section) under a provenance, or null. */
export async function findImage(
  db: Db,
  exposureId: string,
  sectionId: string,
  provenanceId: string,
): Promise<ImageRecord | null> {
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM images
      WHERE exposure_id = $1 AND section_id = $2 AND provenance_id = $3`,
    [exposureId, sectionId, provenanceId],
  );
  return rows.length === 0 ? null : imageFromRow(rows[0]);
}

/** The image made from (exposure, section) by the preprocessing provenance a tag holds, or null. */
export async function findTaggedImage(
  db: Db,
  exposureId: string,
  sectionId: string,
  tag: string,
): Promise<ImageRecord | null> {
  const rows = await db.query(
    `SELECT ${COLUMNS.split(",").map((c) => `i.${c.trim()}`).join(", ")}
       FROM images i JOIN provenance_tags t ON t.provenance_id = i.provenance_id
      WHERE i.exposure_id = $1 AND i.section_id = $2 AND t.tag = $3 AND t.process = $4`,
    [exposureId, sectionId, tag, enumCode(PROCESS, "preprocessing")],
  );
  return rows.length === 0 ? null : imageFromRow(rows[0]);
}

/** The image of an id, or null. */
export async function getImage(db: Db, id: string): Promise<ImageRecord | null> {
  const rows = await db.query(`SELECT ${COLUMNS} FROM images WHERE id = $1`, [id]);
  return rows.length === 0 ? null : imageFromRow(rows[0]);
}

/**
 * Replaces an image's sky position — centre, HEALPix, corners and their RA/Dec
 * ranges — e.g. when astrocal has fitted its WCS (preprocessing's come from the
 * header). Returns false when there is no such image.
 */
export async function updateImageSky(
  db: Db,
  id: string,
  sky: { ra: number; dec: number; healpix: number; corners: FourCorners },
): Promise<boolean> {
  const ra = raRange(sky.corners.ra);
  const rows = await db.query(
    `UPDATE images SET ra = $2, dec = $3, healpix = $4, ra_corner_00 = $5, ra_corner_01 = $6,
            ra_corner_10 = $7, ra_corner_11 = $8, dec_corner_00 = $9, dec_corner_01 = $10,
            dec_corner_10 = $11, dec_corner_11 = $12, minra = $13, maxra = $14, mindec = $15,
            maxdec = $16, modified_at = now()
      WHERE id = $1 RETURNING id`,
    [
      id,
      sky.ra,
      sky.dec,
      sky.healpix,
      ...sky.corners.ra,
      ...sky.corners.dec,
      ra.min,
      ra.max,
      Math.min(...sky.corners.dec),
      Math.max(...sky.corners.dec),
    ],
  );
  return rows.length === 1;
}
