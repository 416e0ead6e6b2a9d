/**
 * Spherical angles on the celestial sphere, in degrees.
 *
 * @module
 */

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

/**
 * Angular separation of two sky positions, in degrees. Uses the Vincenty
 * formula (atan2 of the cross and dot products), which is accurate at every
 * separation, from sub-milliarcsecond to antipodal.
 */
export function angularSeparationDeg(
  ra1: number,
  dec1: number,
  ra2: number,
  dec2: number,
): number {
  const dra = (ra2 - ra1) * D2R;
  const d1 = dec1 * D2R;
  const d2 = dec2 * D2R;
  const sd1 = Math.sin(d1), cd1 = Math.cos(d1);
  const sd2 = Math.sin(d2), cd2 = Math.cos(d2);
  const sdra = Math.sin(dra), cdra = Math.cos(dra);
  const a = cd2 * sdra;
  const b = cd1 * sd2 - sd1 * cd2 * cdra;
  const num = Math.sqrt(a * a + b * b);
  const den = sd1 * sd2 + cd1 * cd2 * cdra;
  return Math.atan2(num, den) * R2D;
}

/**
 * Position angle of (ra2, dec2) seen from (ra1, dec1), in degrees east of north,
 * in [0, 360). Zero when the two positions coincide.
 */
export function positionAngleDeg(
  ra1: number,
  dec1: number,
  ra2: number,
  dec2: number,
): number {
  const dra = (ra2 - ra1) * D2R;
  const d1 = dec1 * D2R;
  const d2 = dec2 * D2R;
  const y = Math.sin(dra) * Math.cos(d2);
  const x = Math.cos(d1) * Math.sin(d2) - Math.sin(d1) * Math.cos(d2) * Math.cos(dra);
  if (x === 0 && y === 0) return 0;
  const pa = Math.atan2(y, x) * R2D;
  return pa < 0 ? pa + 360 : pa;
}

/** Unit vector of a sky position given in degrees. */
export function radecToVec(raDeg: number, decDeg: number): [number, number, number] {
  const ra = raDeg * D2R, dec = decDeg * D2R;
  const c = Math.cos(dec);
  return [c * Math.cos(ra), c * Math.sin(ra), Math.sin(dec)];
}

/** Sky position in degrees (ra in [0, 360)) of a (not necessarily unit) vector. */
export function vecToRadec(x: number, y: number, z: number): { ra: number; dec: number } {
  let ra = Math.atan2(y, x) * R2D;
  if (ra < 0) ra += 360;
  if (ra >= 360) ra -= 360;
  const dec = Math.atan2(z, Math.hypot(x, y)) * R2D;
  return { ra, dec };
}
