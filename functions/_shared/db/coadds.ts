/**
 * Repository of coadds: the natural key of a coadd (sha256 of its sorted
 * component zero-point ids, `images.components_hash`), the coadd of a key under
 * a provenance, `image_coadd_components` rows, and the calibration chain of a
 * zero point (zero point -> WCS -> source list -> image) a coadd reads.
 *
 * @module
 */
import type { Db } from "./db.ts";
import { enumCode, PROCESS } from "./enums.ts";
import { getImage, type ImageRecord } from "./images.ts";

/** sha256 hex of the sorted, de-duplicated zero-point ids joined by "\n". */
export async function componentsHash(zpIds: readonly string[]): Promise<string> {
  const text = [...new Set(zpIds.map((s) => s.toLowerCase()))].sort().join("\n");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A deterministic image id for a coadd (a UUID made of the first 128 bits of
 * sha256(componentsHash + provenance id), version nibble 8 as RFC 9562 custom
 * UUIDs): a rerun derives the same id and the same object key.
 */
export async function coaddImageId(hash: string, provenanceId: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${hash}/${provenanceId}`)),
  );
  const b = digest.slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** The coadd image of a components hash under a provenance, or null. */
export async function findCoadd(
  db: Db,
  hash: string,
  provenanceId: string,
): Promise<ImageRecord | null> {
  const rows = await db.query<{ id: string }>(
    "SELECT id FROM images WHERE components_hash = $1 AND provenance_id = $2",
    [hash, provenanceId],
  );
  return rows.length === 0 ? null : await getImage(db, String(rows[0].id));
}

/** Sets a coadd image's components hash (in the caller's transaction, after insertImage). */
export async function setComponentsHash(db: Db, imageId: string, hash: string): Promise<void> {
  await db.query("UPDATE images SET components_hash = $2 WHERE id = $1", [imageId, hash]);
}

/** Inserts the image_coadd_components rows of a coadd (in the caller's transaction). */
export async function insertCoaddComponents(
  db: Db,
  coaddImageId: string,
  zpIds: readonly string[],
): Promise<void> {
  for (const zpId of [...new Set(zpIds)].sort()) {
    await db.query(
      "INSERT INTO image_coadd_components (coadd_image_id, zp_id) VALUES ($1, $2)",
      [coaddImageId, zpId],
    );
  }
}

/** The component zero-point ids of a coadd, sorted. */
export async function coaddComponents(db: Db, coaddImageId: string): Promise<string[]> {
  const rows = await db.query<{ zp_id: string }>(
    "SELECT zp_id FROM image_coadd_components WHERE coadd_image_id = $1 ORDER BY zp_id",
    [coaddImageId],
  );
  return rows.map((r) => String(r.zp_id));
}

/** A zero point with what a coadd needs of its chain. */
export interface ZeroPointChain {
  zpId: string;
  zp: number;
  /** The photocal provenance. */
  zpProvenanceId: string;
  /** The astrocal WCS cards. */
  wcsHeader: Record<string, string | number>;
  /** Badness of the zero point and everything upstream of it (OR). */
  bitflag: number;
  image: ImageRecord;
}

/** The calibration chains of zero points, in the order given; throws naming a missing one. */
export async function zeroPointChains(
  db: Db,
  zpIds: readonly string[],
): Promise<ZeroPointChain[]> {
  const out: ZeroPointChain[] = [];
  for (const zpId of zpIds) {
    const rows = await db.query<Record<string, unknown>>(
      `SELECT z.id, z.zp, z.provenance_id, w.header, s.image_id,
              z._bitflag | z._upstream_bitflag AS bad
         FROM zero_points z
         JOIN world_coordinates w ON w.id = z.wcs_id
         JOIN source_lists s ON s.id = w.sources_id
        WHERE z.id = $1`,
      [zpId],
    );
    if (rows.length === 0) throw new RangeError(`zero point ${zpId} does not exist`);
    const r = rows[0];
    const image = await getImage(db, String(r.image_id));
    if (!image) throw new RangeError(`zero point ${zpId}: its image is gone`);
    const header = typeof r.header === "string" ? JSON.parse(r.header) : r.header;
    out.push({
      zpId: String(r.id),
      zp: Number(r.zp),
      zpProvenanceId: String(r.provenance_id),
      wcsHeader: header as Record<string, string | number>,
      bitflag: Number(r.bad) | image.bitflag | image.upstreamBitflag,
      image,
    });
  }
  return out;
}

/**
 * The zero points, under the photocal provenance a tag holds, of images: image id ->
 * zero-point id (images without one are absent).
 */
export async function taggedZeroPointsOfImages(
  db: Db,
  imageIds: readonly string[],
  tag: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (imageIds.length === 0) return out;
  const rows = await db.query<{ image_id: string; zp_id: string }>(
    `SELECT s.image_id, z.id AS zp_id
       FROM zero_points z
       JOIN provenance_tags t ON t.provenance_id = z.provenance_id AND t.tag = $2
                              AND t.process = $3
       JOIN world_coordinates w ON w.id = z.wcs_id
       JOIN source_lists s ON s.id = w.sources_id
      WHERE s.image_id = ANY($1::uuid[])
      ORDER BY z.id`,
    [imageIds, tag, enumCode(PROCESS, "photocal")],
  );
  for (const r of rows) {
    const id = String(r.image_id);
    if (!out.has(id)) out.set(id, String(r.zp_id));
  }
  return out;
}
