/**
 * Cached catalog excerpts: a rectangle of a reference catalog is fetched once,
 * stored as a FITS binary table in the object store and registered as a
 * `catalog_excerpts` row; later requests for any rectangle inside it (every CCD of
 * a field) read the stored object. Concurrent requests fetch once: in one process
 * they share the in-flight promise; across processes an advisory lock on the
 * excerpt's key makes the second wait and then find the first one's row.
 *
 * @module
 */
import type { Db } from "../db/db.ts";
import { CATALOG_ORIGIN, enumCode, FILE_FORMAT } from "../db/enums.ts";
import { lockedTransaction } from "../db/lock.ts";
import { Header } from "../fits/header.ts";
import { readFits } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";
import { ang2pixNest } from "../sky/mod.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { type CatalogSource, inRect, type RefStar, type SkyRect } from "./catalog.ts";
import { type Columns, refStarsFromColumns, refStarsToColumns } from "./columns.ts";

/** Options of {@linkcode CatalogExcerpts.get}. */
export interface ExcerptOptions {
  /** Brightest G kept. @default none */
  minMag?: number;
  /** Faintest G kept. @default 21 */
  maxMag?: number;
}

/** An excerpt and the stars asked for. */
export interface Excerpt {
  /** catalog_excerpts.id of the stored excerpt the stars come from. */
  id: string;
  filepath: string;
  /** Stars inside the requested rectangle and magnitude range. */
  stars: RefStar[];
  /** True when this call fetched from the source (false: read from the cache). */
  fetched: boolean;
}

/** The rectangle (deg) around a cone, for the excerpt of a whole field. */
export function fieldRect(ra: number, dec: number, radiusDeg: number): SkyRect {
  const minDec = Math.max(-90, dec - radiusDeg), maxDec = Math.min(90, dec + radiusDeg);
  const maxAbs = Math.max(Math.abs(minDec), Math.abs(maxDec));
  if (maxAbs >= 89.999) return { minRa: 0, maxRa: 360, minDec, maxDec };
  const half = radiusDeg / Math.cos((maxAbs * Math.PI) / 180);
  if (half >= 180) return { minRa: 0, maxRa: 360, minDec, maxDec };
  const norm = (a: number) => ((a % 360) + 360) % 360;
  return { minRa: norm(ra - half), maxRa: norm(ra + half), minDec, maxDec };
}

const f6 = (v: number) => v.toFixed(6);

/** The excerpt cache of one catalog source. */
export class CatalogExcerpts {
  readonly #inflight = new Map<string, Promise<Excerpt>>();

  /**
   * @param origin CATALOG_ORIGIN name of the rows: "gaia_dr3" or "simulated"
   */
  constructor(
    readonly db: Db,
    readonly store: ObjectStore,
    readonly source: CatalogSource,
    readonly origin: "gaia_dr3" | "simulated",
  ) {}

  /** Object key of an excerpt: origin, source, footprint and magnitude range. */
  key(rect: SkyRect, o: ExcerptOptions): string {
    const mags = `${o.minMag === undefined ? "x" : o.minMag.toFixed(2)}_${
      (o.maxMag ?? 21).toFixed(2)
    }`;
    return `catalogs/${this.origin}/${this.source.name.replace(/[^A-Za-z0-9_.-]/g, "_")}/` +
      `${f6(rect.minRa)}_${f6(rect.maxRa)}_${f6(rect.minDec)}_${f6(rect.maxDec)}_${mags}.fits`;
  }

  /** Stars of a rectangle, from a stored excerpt covering it or fetched and stored once. */
  get(rect: SkyRect, options: ExcerptOptions = {}): Promise<Excerpt> {
    const key = this.key(rect, options);
    const running = this.#inflight.get(key);
    if (running) return running.then((e) => ({ ...e, fetched: false }));
    const p = this.#get(rect, options, key).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #get(rect: SkyRect, o: ExcerptOptions, key: string): Promise<Excerpt> {
    const maxMag = o.maxMag ?? 21;
    const keep = (s: RefStar) =>
      inRect(rect, s.ra, s.dec) && !(s.g > maxMag) && !(o.minMag !== undefined && s.g < o.minMag);
    const covering = await this.#covering(this.db, rect, o);
    if (covering) {
      return { ...covering, stars: (await this.#load(covering)).filter(keep), fetched: false };
    }
    return await lockedTransaction(this.db, `catalog_excerpt:${key}`, async (tx) => {
      const rows = await tx.query(
        "SELECT id, filepath, md5 FROM catalog_excerpts WHERE filepath = $1",
        [key],
      );
      if (rows.length > 0) {
        const r = { id: String(rows[0].id), filepath: key, md5: String(rows[0].md5) };
        return { ...r, stars: (await this.#load(r)).filter(keep), fetched: false };
      }
      const stars = (await this.source.rect(rect)).filter(keep);
      const stored = await this.store.put(key, excerptFits(stars), {
        contentType: "application/fits",
      });
      const id = crypto.randomUUID();
      const cra = rect.minRa <= rect.maxRa
        ? (rect.minRa + rect.maxRa) / 2
        : ((rect.minRa + rect.maxRa + 360) / 2) % 360;
      const cdec = (rect.minDec + rect.maxDec) / 2;
      await tx.query(
        `INSERT INTO catalog_excerpts (id, origin, format, num_items, min_mag, max_mag, filters,
           ra, dec, healpix, ra_corner_00, ra_corner_01, ra_corner_10, ra_corner_11,
           dec_corner_00, dec_corner_01, dec_corner_10, dec_corner_11,
           minra, maxra, mindec, maxdec, info, filepath, md5)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $12, $13, $14, $13, $14,
           $11, $12, $13, $14, $15, $16, $17)`,
        [
          id,
          enumCode(CATALOG_ORIGIN, this.origin),
          enumCode(FILE_FORMAT, "fits"),
          stars.length,
          o.minMag ?? null,
          maxMag,
          ["G"],
          cra,
          cdec,
          ang2pixNest(12, cra, Math.max(-90, Math.min(90, cdec))),
          rect.minRa,
          rect.maxRa,
          rect.minDec,
          rect.maxDec,
          JSON.stringify({ source: this.source.name }),
          key,
          stored.md5,
        ],
      );
      return { id, filepath: key, stars, fetched: true };
    });
  }

  /** A stored excerpt of this origin and source whose footprint and magnitudes cover the request. */
  async #covering(db: Db, rect: SkyRect, o: ExcerptOptions) {
    if (rect.minRa > rect.maxRa) return null; // wrapping requests use their own key
    const rows = await db.query(
      `SELECT id, filepath, md5 FROM catalog_excerpts
        WHERE origin = $1 AND minra <= maxra AND minra <= $2 AND maxra >= $3
          AND mindec <= $4 AND maxdec >= $5 AND max_mag >= $6
          AND (min_mag IS NULL OR min_mag <= $7) AND filepath LIKE $8
        ORDER BY (maxra - minra) * (maxdec - mindec) LIMIT 1`,
      [
        enumCode(CATALOG_ORIGIN, this.origin),
        rect.minRa,
        rect.maxRa,
        rect.minDec,
        rect.maxDec,
        o.maxMag ?? 21,
        o.minMag ?? -100,
        `catalogs/${this.origin}/${this.source.name.replace(/[^A-Za-z0-9_.-]/g, "_")}/%`,
      ],
    );
    if (rows.length === 0) return null;
    return { id: String(rows[0].id), filepath: String(rows[0].filepath), md5: String(rows[0].md5) };
  }

  async #load(r: { filepath: string; md5: string }): Promise<RefStar[]> {
    return readExcerpt(await this.store.get(r.filepath, { md5: r.md5 }));
  }
}

/** An excerpt as a FITS file: one BINTABLE "EXCERPT" with our column names. */
export function excerptFits(stars: readonly RefStar[]): Uint8Array {
  const { id, numeric } = refStarsToColumns(stars);
  return writeFits([{
    type: "bintable",
    name: "EXCERPT",
    header: Header.from([["NSTARS", stars.length, "reference stars"]]),
    columns: [
      { name: "id", data: id, width: Math.max(1, ...id.map((s) => s.length)) },
      ...Object.entries(numeric).map(([name, data]) => ({ name, data })),
    ],
  }]);
}

/** Reads an excerpt file back. */
export async function readExcerpt(bytes: Uint8Array): Promise<RefStar[]> {
  const t = await (await readFits(bytes)).table("EXCERPT");
  const cols: Columns = {};
  for (const c of t.columns) cols[c.name] = c.data as ArrayLike<unknown>;
  return refStarsFromColumns(cols);
}
