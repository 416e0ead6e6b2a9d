/**
 * The simulator's world coordinates: a TAN projection with a TPV distortion
 * polynomial (third order, as DECam's headers carry it), with the header cards
 * that describe it. The renderer places every source with
 * {@linkcode tpvSkyToPix}, so the cards written by {@linkcode tpvCards} are
 * exactly the mapping used to draw the image (checked against astropy in
 * tests/crossval/sim.ts).
 *
 * Pixel coordinates here are 0-based (the centre of the first pixel is 0), as
 * everywhere in skydiff; the cards use FITS's 1-based CRPIX.
 *
 * @module
 */

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

/** A TAN + TPV mapping. */
export interface TpvWcs {
  /** Tangent point (deg). */
  crval: [number, number];
  /** Reference pixel, FITS 1-based. */
  crpix: [number, number];
  /** CD matrix (deg/px): [[CD1_1, CD1_2], [CD2_1, CD2_2]]. */
  cd: [[number, number], [number, number]];
  /** PV1_0..PV1_11 (missing = 0, except PV1_1 = 1 when absent). */
  pv1: number[];
  /** PV2_0..PV2_11 (missing = 0, except PV2_1 = 1 when absent). */
  pv2: number[];
}

/** TPV terms 0..11 of (x, y): 1, x, y, r, x^2, xy, y^2, x^3, x^2y, xy^2, y^3, r^3. */
function terms(x: number, y: number): number[] {
  const r = Math.hypot(x, y);
  return [1, x, y, r, x * x, x * y, y * y, x * x * x, x * x * y, x * y * y, y * y * y, r * r * r];
}

function coeff(pv: number[], i: number): number {
  const v = pv[i];
  return v === undefined ? (i === 1 ? 1 : 0) : v;
}

/** The TPV polynomial: intermediate (xi, eta) -> distorted (xi', eta'), degrees. */
export function tpvDistort(w: TpvWcs, xi: number, eta: number): [number, number] {
  const t1 = terms(xi, eta), t2 = terms(eta, xi);
  let a = 0, b = 0;
  for (let i = 0; i < 12; i++) {
    a += coeff(w.pv1, i) * t1[i];
    b += coeff(w.pv2, i) * t2[i];
  }
  return [a, b];
}

/** Sky position (deg) of a 0-based pixel. */
export function tpvPixToSky(w: TpvWcs, x: number, y: number): { ra: number; dec: number } {
  const dx = x + 1 - w.crpix[0], dy = y + 1 - w.crpix[1];
  const xi = w.cd[0][0] * dx + w.cd[0][1] * dy;
  const eta = w.cd[1][0] * dx + w.cd[1][1] * dy;
  const [u, v] = tpvDistort(w, xi, eta);
  const X = u * D2R, Y = v * D2R;
  const d0 = w.crval[1] * D2R;
  const den = Math.cos(d0) - Y * Math.sin(d0);
  let ra = w.crval[0] + Math.atan2(X, den) * R2D;
  ra = ((ra % 360) + 360) % 360;
  const dec = Math.atan2(Math.sin(d0) + Y * Math.cos(d0), Math.hypot(X, den)) * R2D;
  return { ra, dec };
}

/**
 * 0-based pixel of a sky position (NaN when the position is more than 90 degrees
 * from the tangent point). The TPV polynomial is inverted by Newton's method to
 * 1e-12 degrees.
 */
export function tpvSkyToPix(w: TpvWcs, ra: number, dec: number): { x: number; y: number } {
  const a0 = w.crval[0] * D2R, d0 = w.crval[1] * D2R;
  const a = ra * D2R, d = dec * D2R;
  const cosc = Math.sin(d0) * Math.sin(d) + Math.cos(d0) * Math.cos(d) * Math.cos(a - a0);
  if (!(cosc > 0)) return { x: NaN, y: NaN };
  const u = (Math.cos(d) * Math.sin(a - a0)) / cosc * R2D;
  const v = (Math.cos(d0) * Math.sin(d) - Math.sin(d0) * Math.cos(d) * Math.cos(a - a0)) / cosc *
    R2D;
  let xi = u, eta = v;
  for (let it = 0; it < 30; it++) {
    const [fu, fv] = tpvDistort(w, xi, eta);
    const ru = fu - u, rv = fv - v;
    if (Math.abs(ru) < 1e-13 && Math.abs(rv) < 1e-13) break;
    const h = 1e-7;
    const [au, av] = tpvDistort(w, xi + h, eta);
    const [bu, bv] = tpvDistort(w, xi, eta + h);
    const j11 = (au - fu) / h, j21 = (av - fv) / h, j12 = (bu - fu) / h, j22 = (bv - fv) / h;
    const det = j11 * j22 - j12 * j21;
    xi -= (j22 * ru - j12 * rv) / det;
    eta -= (-j21 * ru + j11 * rv) / det;
  }
  const [[c11, c12], [c21, c22]] = w.cd;
  const det = c11 * c22 - c12 * c21;
  const dx = (c22 * xi - c12 * eta) / det, dy = (-c21 * xi + c11 * eta) / det;
  return { x: dx + w.crpix[0] - 1, y: dy + w.crpix[1] - 1 };
}

/** FITS cards describing the mapping (CTYPE RA---TPV / DEC--TPV, CRVAL, CRPIX, CD, PV). */
export function tpvCards(w: TpvWcs): Array<[string, string | number, string]> {
  const cards: Array<[string, string | number, string]> = [
    ["WCSAXES", 2, "number of WCS axes"],
    ["CTYPE1", "RA---TPV", "TAN projection with TPV distortion"],
    ["CTYPE2", "DEC--TPV", "TAN projection with TPV distortion"],
    ["CUNIT1", "deg", ""],
    ["CUNIT2", "deg", ""],
    ["CRVAL1", w.crval[0], "tangent point RA (deg)"],
    ["CRVAL2", w.crval[1], "tangent point Dec (deg)"],
    ["CRPIX1", w.crpix[0], "reference pixel (1-based)"],
    ["CRPIX2", w.crpix[1], "reference pixel (1-based)"],
    ["CD1_1", w.cd[0][0], "deg/px"],
    ["CD1_2", w.cd[0][1], "deg/px"],
    ["CD2_1", w.cd[1][0], "deg/px"],
    ["CD2_2", w.cd[1][1], "deg/px"],
  ];
  for (const [axis, pv] of [[1, w.pv1], [2, w.pv2]] as const) {
    for (let i = 0; i < 12; i++) {
      const c = coeff(pv, i);
      if (c !== 0 || i === 1) cards.push([`PV${axis}_${i}`, c, "TPV distortion"]);
    }
  }
  return cards;
}
