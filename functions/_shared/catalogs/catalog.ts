/**
 * Reference catalogs (Gaia-DR3-like): the row every source returns and the
 * {@linkcode CatalogSource} interface implemented by the HTTP excerpt source, the
 * file source and the simulated sky.
 *
 * @module
 */

/** Gaia DR3 reference epoch (Julian year) of positions. */
export const GAIA_EPOCH = 2016.0;

/** One reference star as Gaia DR3 reports it (positions at {@linkcode RefStar.epoch}). */
export interface RefStar {
  /** Source identifier (Gaia source_id as a decimal string, or the simulator's id). */
  id: string;
  /** Right ascension and declination (deg, ICRS) at `epoch`. */
  ra: number;
  dec: number;
  /** Position errors (mas); raErr is along ra x cos(dec). */
  raErr: number;
  decErr: number;
  /** Proper motion (mas/yr), pmra includes cos(dec); NaN when unknown. */
  pmra: number;
  pmdec: number;
  pmraErr: number;
  pmdecErr: number;
  /** Parallax and its error (mas); NaN when unknown. */
  parallax: number;
  parallaxErr: number;
  /** Gaia G, BP and RP magnitudes and their errors; NaN when unknown. */
  g: number;
  gErr: number;
  bp: number;
  bpErr: number;
  rp: number;
  rpErr: number;
  /** Epoch (Julian year) of ra, dec. @default 2016.0 */
  epoch: number;
}

/** A sky rectangle in degrees: ra from minRa to maxRa (maxRa < minRa wraps through 0). */
export interface SkyRect {
  minRa: number;
  maxRa: number;
  minDec: number;
  maxDec: number;
}

/** Where reference stars come from. */
export interface CatalogSource {
  /** A short name for logs and catalog_excerpts rows, e.g. "gaia_dr3_http", "simsky". */
  readonly name: string;
  /** Every star inside the rectangle (brighter than the source's own limit). */
  rect(rect: SkyRect): Promise<RefStar[]>;
}

/** True when (ra, dec) lies inside the rectangle (ra wrap handled). */
export function inRect(rect: SkyRect, ra: number, dec: number): boolean {
  if (dec < rect.minDec || dec > rect.maxDec) return false;
  const r = ((ra % 360) + 360) % 360;
  if (rect.minRa <= rect.maxRa) return r >= rect.minRa && r <= rect.maxRa;
  return r >= rect.minRa || r <= rect.maxRa;
}

/** Centre and radius (deg) of a cone containing the rectangle. */
export function rectCone(rect: SkyRect): { ra: number; dec: number; radius: number } {
  const width = rect.minRa <= rect.maxRa ? rect.maxRa - rect.minRa : rect.maxRa + 360 - rect.minRa;
  const ra = (rect.minRa + width / 2) % 360;
  const dec = (rect.minDec + rect.maxDec) / 2;
  const d2r = Math.PI / 180;
  // the farthest corner from the centre, measured on the sphere
  let radius = 0;
  for (const cd of [rect.minDec, rect.maxDec]) {
    for (const cr of [rect.minRa, rect.minRa + width]) {
      const cosd = Math.sin(dec * d2r) * Math.sin(cd * d2r) +
        Math.cos(dec * d2r) * Math.cos(cd * d2r) * Math.cos((cr - ra) * d2r);
      radius = Math.max(radius, Math.acos(Math.min(1, Math.max(-1, cosd))) / d2r);
    }
  }
  // the rectangle's edges of constant dec bulge past the corners toward the pole
  const bulge = Math.abs(rect.maxDec) > Math.abs(rect.minDec) ? rect.maxDec : rect.minDec;
  const mid = Math.sin(dec * d2r) * Math.sin(bulge * d2r) +
    Math.cos(dec * d2r) * Math.cos(bulge * d2r);
  radius = Math.max(radius, Math.acos(Math.min(1, mid)) / d2r);
  return { ra, dec, radius: radius * 1.0001 + 1e-9 };
}
