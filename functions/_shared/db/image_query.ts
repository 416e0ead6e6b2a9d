/**
 * Image queries: the filters of SeeChange's `Image.query_images(...)` as a SQL
 * statement the caller can extend before running it.
 *
 * ```ts
 * const q = queryImages({ target: "field_034", sectionId: "N1", filter: "R", minMjd: 59000, maxMjd: 59007 });
 * const sharp = q.where("i.airmass < $1", [1.5]); // another filter, numbered locally
 * const images = await sharp.run(db); // ImageRecord[] (+ overlapFrac)
 * // or wrap it: `SELECT count(*) FROM (${q.sql}) q` with q.params
 * ```
 *
 * Sky position (`ra`, `dec`): images whose footprint contains the point. SQL
 * does both parts: a bounding-box prefilter on (mindec, maxdec, minra, maxra),
 * where `minra > maxra` means the box crosses RA = 0, then the exact test on the
 * FourCorners — the point is inside the spherical quadrilateral 00 -> 01 -> 11 -> 10
 * (edges are great circles) when the triple products P . (Vk x Vk+1) all have the
 * same sign (points on an edge count as inside). No projection, so neither the RA
 * wrap nor the poles need special cases in this test. The prefilter does: a
 * footprint that contains a celestial pole has no meaningful RA/Dec bounding box
 * (sql/0001's minra/maxra/mindec/maxdec) and is not found by position.
 *
 * Overlap (`overlap`): the fraction of the given box covered by an image's
 * bounding box, computed in SQL (column `overlap_frac`, filtered in SQL by
 * `minFraction`). RA is unwrapped about the box's centre, so boxes and images that
 * cross RA = 0 work. It is the bounding-box overlap: exact for images aligned with
 * RA/Dec, an upper bound for rotated ones. Areas are taken in (RA, Dec) degrees
 * (the cos(dec) factor cancels in the fraction for small boxes).
 *
 * @module
 */
import type { Db, Row } from "./db.ts";
import { enumCode, IMAGE_TYPE } from "./enums.ts";
import { type FourCorners, imageFromRow, type ImageRecord, raRange } from "./images.ts";

/** A box on the sky (deg); `minRa > maxRa` when it crosses RA = 0. */
export interface SkyBox {
  minRa: number;
  maxRa: number;
  minDec: number;
  maxDec: number;
}

/** What {@linkcode queryImages} filters on. Every field is optional: absent = no filter. */
export interface ImageQueryOptions {
  /** `images.target`. @default any */
  target?: string;
  /** `images.section_id` (CCD). @default any */
  sectionId?: string;
  /** One filter or any of several. @default any */
  filter?: string | readonly string[];
  /** One instrument or any of several. @default any */
  instrument?: string | readonly string[];
  /** Images starting at or after this MJD (`images.mjd`). @default none */
  minMjd?: number;
  /** Images starting at or before this MJD. @default none */
  maxMjd?: number;
  /** With `dec`: images whose footprint contains this point (deg). @default none */
  ra?: number;
  /** With `ra`. @default none */
  dec?: number;
  /**
   * Images whose bounding box covers at least `minFraction` of `box` (a SkyBox or
   * the FourCorners of a footprint, taken as their bounding box). @default none
   */
  overlap?: { box: SkyBox | FourCorners; minFraction?: number };
  /** Seeing limits on `fwhm_estimate` (arcsec), inclusive. @default none */
  minSeeing?: number;
  /** @default none */
  maxSeeing?: number;
  /** Limiting-magnitude limits on `lim_mag_estimate`, inclusive. @default none */
  minLimMag?: number;
  /** @default none */
  maxLimMag?: number;
  /** Only images whose provenance the tag holds (join on provenance_tags). @default any */
  provenanceTag?: string;
  /** Only images of these provenances. @default any */
  provenanceIds?: readonly string[];
  /**
   * "sci" (type 1), "coadd" (coadded science, type 2), "diff" (any difference,
   * types 3 and 4), or any IMAGE_TYPE name. @default any
   */
  type?: "sci" | "coadd" | "diff" | string;
  /** Leave out images marked bad (`_bitflag | _upstream_bitflag <> 0`). @default false */
  goodOnly?: boolean;
  /**
   * "earliest" / "latest" (mjd), "seeing" (best fwhm first), "depth" (deepest
   * lim_mag first), "overlap" (largest overlap first; needs `overlap`). Ties by id.
   * @default "earliest"
   */
  orderBy?: "earliest" | "latest" | "seeing" | "depth" | "overlap";
  /** At most this many rows. @default no limit */
  limit?: number;
  /** Skip this many rows. @default 0 */
  offset?: number;
}

/** An image row as {@linkcode ImageQuery.run} returns it. */
export type QueriedImage = ImageRecord & {
  /** Fraction of the query's box covered (only with `overlap`). */
  overlapFrac?: number;
};

const COLUMNS = [
  "id",
  "provenance_id",
  "exposure_id",
  "section_id",
  "type",
  "instrument",
  "telescope",
  "target",
  "filter",
  "mjd",
  "exp_time",
  "airmass",
  "width",
  "height",
  "ra",
  "dec",
  "healpix",
  "ra_corner_00",
  "ra_corner_01",
  "ra_corner_10",
  "ra_corner_11",
  "dec_corner_00",
  "dec_corner_01",
  "dec_corner_10",
  "dec_corner_11",
  "fwhm_estimate",
  "zero_point_estimate",
  "lim_mag_estimate",
  "bkg_mean_estimate",
  "bkg_rms_estimate",
  "preproc_bitflag",
  "header",
  "info",
  "_bitflag",
  "_upstream_bitflag",
  "filepath",
  "md5",
  "minra",
  "maxra",
  "mindec",
  "maxdec",
  "end_mjd",
  "created_at",
];

/** Renumbers `$1, $2, ...` of a fragment by `offset` (fragments number their own parameters). */
export function shiftParams(sql: string, offset: number): string {
  return sql.replace(/\$(\d+)/g, (_, n) => `$${Number(n) + offset}`);
}

/** `x - 360 floor((x + 180) / 360)`: an angle difference in [-180, 180). */
const wrap180 = (x: string) => `((${x}) - 360 * floor(((${x}) + 180) / 360))`;

/** The unit vector of a corner, as three SQL expressions. */
function cornerVec(c: string): [string, string, string] {
  const ra = `radians(i.ra_corner_${c})`, dec = `radians(i.dec_corner_${c})`;
  return [`cos(${dec}) * cos(${ra})`, `cos(${dec}) * sin(${ra})`, `sin(${dec})`];
}

/** P . (A x B) for corners a, b and the point's unit vector in parameters px, py, pz. */
function tripleProduct(a: string, b: string, p: [string, string, string]): string {
  const [ax, ay, az] = cornerVec(a), [bx, by, bz] = cornerVec(b);
  return `(${p[0]} * ((${ay}) * (${bz}) - (${az}) * (${by}))
    + ${p[1]} * ((${az}) * (${bx}) - (${ax}) * (${bz}))
    + ${p[2]} * ((${ax}) * (${by}) - (${ay}) * (${bx})))`;
}

function boxOf(box: SkyBox | FourCorners): SkyBox {
  if ("minRa" in box) return box;
  const r = raRange(box.ra);
  return {
    minRa: r.min,
    maxRa: r.max,
    minDec: Math.min(...box.dec),
    maxDec: Math.max(...box.dec),
  };
}

const finite = (name: string, v: number | undefined) => {
  if (v !== undefined && !Number.isFinite(v)) {
    throw new RangeError(`queryImages: ${name} must be a finite number`);
  }
};

/**
 * A SELECT on `images` (alias `i`): its SQL, its parameters, and ways to extend
 * and run it. Immutable: `where()` returns a new query.
 */
export class ImageQuery {
  constructor(
    /** FROM ... joins (fixed by the options). */
    readonly from: string,
    /** The conditions, ANDed; parameters numbered globally. */
    readonly conditions: readonly string[],
    readonly params: readonly unknown[],
    /** Extra selected expressions (e.g. `... AS overlap_frac`). */
    readonly extraColumns: readonly string[],
    readonly orderBy: string,
    readonly limit: number | undefined,
    readonly offset: number | undefined,
  ) {}

  /** The whole statement: `SELECT i.<columns>[, overlap_frac] FROM images i ... ORDER BY ... LIMIT ...`. */
  get sql(): string {
    const cols = [...COLUMNS.map((c) => `i.${c}`), ...this.extraColumns].join(", ");
    const where = this.conditions.length > 0 ? `\nWHERE ${this.conditions.join("\n  AND ")}` : "";
    const limit = this.limit !== undefined ? `\nLIMIT ${this.limit}` : "";
    const offset = this.offset ? `\nOFFSET ${this.offset}` : "";
    return `SELECT ${cols}\nFROM ${this.from}${where}\nORDER BY ${this.orderBy}${limit}${offset}`;
  }

  /**
   * Adds a condition on `i` (the images row; `pt` is provenance_tags when a tag
   * was given). Its parameters are numbered from $1 within `condition`.
   */
  where(condition: string, params: readonly unknown[] = []): ImageQuery {
    return new ImageQuery(
      this.from,
      [...this.conditions, `(${shiftParams(condition, this.params.length)})`],
      [...this.params, ...params],
      this.extraColumns,
      this.orderBy,
      this.limit,
      this.offset,
    );
  }

  /** The same query with another LIMIT / OFFSET. */
  page(limit: number | undefined, offset = 0): ImageQuery {
    return new ImageQuery(
      this.from,
      this.conditions,
      this.params,
      this.extraColumns,
      this.orderBy,
      limit,
      offset,
    );
  }

  /** Runs it and returns the raw rows (snake_case columns). */
  async rows(db: Db): Promise<Row[]> {
    return await db.query(this.sql, this.params);
  }

  /** Runs it and returns the images. */
  async run(db: Db): Promise<QueriedImage[]> {
    return (await this.rows(db)).map(queriedImageFromRow);
  }

  /** How many images match (ignoring LIMIT / OFFSET). */
  async count(db: Db): Promise<number> {
    const q = this.page(undefined, 0);
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (${q.sql}) q`,
      q.params,
    );
    return Number(row.n);
  }
}

/** Builds the image query of `options` (see the module doc for the geometry). */
export function queryImages(options: ImageQueryOptions = {}): ImageQuery {
  const o = options;
  const params: unknown[] = [];
  const conditions: string[] = [];
  const extra: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  /** A float parameter, typed (Postgres cannot infer `-$1` or `least($1, ...)`). */
  const pf = (v: number) => `${p(v)}::float8`;
  for (const k of ["minMjd", "maxMjd", "ra", "dec", "minSeeing", "maxSeeing"] as const) {
    finite(k, o[k]);
  }
  finite("minLimMag", o.minLimMag);
  finite("maxLimMag", o.maxLimMag);

  let from = "images i";
  if (o.provenanceTag !== undefined) {
    // a tag holds at most one provenance per process, so the join does not repeat images
    from += ` JOIN provenance_tags pt ON pt.provenance_id = i.provenance_id AND pt.tag = ${
      p(o.provenanceTag)
    }`;
  }
  if (o.target !== undefined) conditions.push(`i.target = ${p(o.target)}`);
  if (o.sectionId !== undefined) conditions.push(`i.section_id = ${p(o.sectionId)}`);
  const anyOf = (column: string, v: string | readonly string[] | undefined) => {
    if (v === undefined) return;
    if (typeof v === "string") conditions.push(`${column} = ${p(v)}`);
    else conditions.push(`${column} = ANY(${p([...v])}::text[])`);
  };
  anyOf("i.filter", o.filter);
  anyOf("i.instrument", o.instrument);
  if (o.provenanceIds !== undefined) {
    conditions.push(`i.provenance_id = ANY(${p([...o.provenanceIds])}::text[])`);
  }
  if (o.minMjd !== undefined) conditions.push(`i.mjd >= ${pf(o.minMjd)}`);
  if (o.maxMjd !== undefined) conditions.push(`i.mjd <= ${pf(o.maxMjd)}`);
  if (o.minSeeing !== undefined) conditions.push(`i.fwhm_estimate >= ${pf(o.minSeeing)}`);
  if (o.maxSeeing !== undefined) conditions.push(`i.fwhm_estimate <= ${pf(o.maxSeeing)}`);
  if (o.minLimMag !== undefined) conditions.push(`i.lim_mag_estimate >= ${pf(o.minLimMag)}`);
  if (o.maxLimMag !== undefined) conditions.push(`i.lim_mag_estimate <= ${pf(o.maxLimMag)}`);
  if (o.type !== undefined) {
    if (o.type === "sci") conditions.push("i.type = 1");
    else if (o.type === "coadd") conditions.push("i.is_coadd AND NOT i.is_sub");
    else if (o.type === "diff") conditions.push("i.is_sub");
    else conditions.push(`i.type = ${p(enumCode(IMAGE_TYPE, o.type))}`);
  }
  if (o.goodOnly) conditions.push("(i._bitflag | i._upstream_bitflag) = 0");

  if ((o.ra === undefined) !== (o.dec === undefined)) {
    throw new RangeError("queryImages: give both ra and dec, or neither");
  }
  if (o.ra !== undefined && o.dec !== undefined) {
    if (o.dec < -90 || o.dec > 90) throw new RangeError("queryImages: dec must be in [-90, 90]");
    const ra = ((o.ra % 360) + 360) % 360;
    const rap = pf(ra), decp = pf(o.dec);
    // bounding box: minra > maxra when the image crosses RA = 0
    conditions.push(`i.mindec <= ${decp} AND i.maxdec >= ${decp}`);
    conditions.push(
      `(CASE WHEN i.minra <= i.maxra THEN ${rap} BETWEEN i.minra AND i.maxra
         ELSE (${rap} >= i.minra OR ${rap} <= i.maxra) END)`,
    );
    const r = ra * Math.PI / 180, d = o.dec * Math.PI / 180;
    const vec: [string, string, string] = [
      pf(Math.cos(d) * Math.cos(r)),
      pf(Math.cos(d) * Math.sin(r)),
      pf(Math.sin(d)),
    ];
    const t = [["00", "01"], ["01", "11"], ["11", "10"], ["10", "00"]].map(([a, b]) =>
      tripleProduct(a, b, vec)
    );
    from += ` CROSS JOIN LATERAL (SELECT ${t.map((e, k) => `${e} AS t${k}`).join(", ")}) fc`;
    conditions.push(
      "(least(fc.t0, fc.t1, fc.t2, fc.t3) >= 0 OR greatest(fc.t0, fc.t1, fc.t2, fc.t3) <= 0)",
    );
  }

  if (o.overlap !== undefined) {
    const box = boxOf(o.overlap.box);
    for (const [k, v] of Object.entries(box)) finite(`overlap.box.${k}`, v);
    const width = ((box.maxRa - box.minRa) % 360 + 360) % 360;
    const height = box.maxDec - box.minDec;
    if (!(width > 0) || !(height > 0)) {
      throw new RangeError("queryImages: the overlap box must have a positive area");
    }
    const centre = (box.minRa + width / 2) % 360;
    const c = pf(centre), half = pf(width / 2), lo = pf(box.minDec), hi = pf(box.maxDec);
    // image RA limits unwrapped about the box centre
    const imLo = wrap180(`i.minra - ${c}`);
    const imHiRaw = wrap180(`i.maxra - ${c}`);
    const imHi = `(CASE WHEN ${imHiRaw} < ${imLo} THEN ${imHiRaw} + 360 ELSE ${imHiRaw} END)`;
    const dRa = `greatest(0, least(${imHi}, ${half}) - greatest(${imLo}, -${half}))`;
    const dDec = `greatest(0, least(i.maxdec, ${hi}) - greatest(i.mindec, ${lo}))`;
    from += ` CROSS JOIN LATERAL (SELECT (${dRa}) * (${dDec}) / ${pf(width * height)} AS frac) ov`;
    extra.push("ov.frac AS overlap_frac");
    // cheap prefilter on the Dec range (images_dec_range_idx), then the fraction
    conditions.push(`i.maxdec >= ${lo} AND i.mindec <= ${hi}`);
    const minFraction = o.overlap.minFraction ?? 0;
    conditions.push(minFraction > 0 ? `ov.frac >= ${pf(minFraction)}` : "ov.frac > 0");
  }

  const order = o.orderBy ?? "earliest";
  let orderBy: string;
  switch (order) {
    case "earliest":
      orderBy = "i.mjd ASC, i.id";
      break;
    case "latest":
      orderBy = "i.mjd DESC, i.id";
      break;
    case "seeing":
      orderBy = "i.fwhm_estimate ASC NULLS LAST, i.id";
      break;
    case "depth":
      orderBy = "i.lim_mag_estimate DESC NULLS LAST, i.id";
      break;
    case "overlap":
      if (o.overlap === undefined) {
        throw new RangeError('queryImages: orderBy "overlap" needs overlap');
      }
      orderBy = "ov.frac DESC, i.id";
      break;
    default:
      throw new RangeError(`queryImages: unknown orderBy "${order}"`);
  }
  for (const [k, v] of [["limit", o.limit], ["offset", o.offset]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
      throw new RangeError(`queryImages: ${k} must be a non-negative integer`);
    }
  }
  return new ImageQuery(from, conditions, params, extra, orderBy, o.limit, o.offset);
}

/** An images row (as selected by an {@linkcode ImageQuery}) in our names. */
export function queriedImageFromRow(r: Row): QueriedImage {
  const out: QueriedImage = imageFromRow(r);
  if (r.overlap_frac !== undefined) out.overlapFrac = Number(r.overlap_frac);
  return out;
}
