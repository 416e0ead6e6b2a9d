/**
 * HEALPix in the NESTED scheme (Górski et al. 2005): sky position <-> pixel
 * index at any order 0..29 (nside = 2^order, 12 * 4^order pixels).
 *
 * Integer precision: a pixel index at order o is below 12 * 4^o, which is
 * exactly representable as a JavaScript number up to order 24 (12 * 2^48 <
 * 2^53). {@linkcode ang2pixNest} and {@linkcode pix2angNest} with a number work
 * for orders 0..24 and throw a RangeError above; {@linkcode ang2pixNestBig}
 * and the bigint form of {@linkcode pix2angNest} work for every order 0..29.
 * Inside, the face-local coordinates (ix, iy < 2^29) stay plain numbers and
 * the bit interleaving is done in two 16-bit halves, so no precision is lost.
 *
 * @module
 */

/** Highest HEALPix order supported (nside = 2^29). */
export const MAX_ORDER = 29;
/** Highest order whose pixel indices are exact JavaScript numbers. */
export const MAX_NUMBER_ORDER = 24;

const HALF_PI = Math.PI / 2;
const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;
const SQRT6 = Math.sqrt(6);
const TWO32 = 4294967296;

// Face layout: ring index (in units of nside) of each base pixel's southmost
// corner-adjacent row, and its longitude index (in units of pi/4).
const JRLL = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
const JPLL = [1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];

/** Spreads the 16 low bits of v to the even bits of a 32-bit unsigned number. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** Gathers the even bits of a 32-bit number into 16 bits (inverse of spread16). */
function compact16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

function checkOrder(order: number, max: number): void {
  if (!Number.isInteger(order) || order < 0 || order > max) {
    throw new RangeError(
      `HEALPix order ${order} out of range 0..${max}` +
        (max === MAX_NUMBER_ORDER && order <= MAX_ORDER ? " (use the bigint functions)" : ""),
    );
  }
}

interface FaceXY {
  face: number;
  ix: number;
  iy: number;
}

/** Face number and face-local (ix, iy) of a sky position at nside = 2^order. */
function locate(order: number, raDeg: number, decDeg: number): FaceXY {
  if (!Number.isFinite(raDeg) || !Number.isFinite(decDeg) || decDeg < -90 || decDeg > 90) {
    throw new RangeError(`invalid sky position ra=${raDeg} dec=${decDeg}`);
  }
  const nside = 2 ** order;
  let ra = raDeg % 360;
  if (ra < 0) ra += 360;
  const tt = ra / 90; // in [0, 4)
  const z = Math.sin(decDeg * D2R);
  if (Math.abs(z) <= 2 / 3) {
    // equatorial belt: the two diagonal line indices locate the pixel
    const t1 = nside * (0.5 + tt);
    const t2 = nside * z * 0.75;
    const jp = Math.floor(t1 - t2);
    const jm = Math.floor(t1 + t2);
    const ifp = Math.floor(jp / nside);
    const ifm = Math.floor(jm / nside);
    let face: number;
    if (ifp === ifm) face = (ifp % 4) + 4;
    else if (ifp < ifm) face = ifp % 4;
    else face = (ifm % 4) + 8;
    const ix = jm - ifm * nside;
    const iy = nside - (jp - ifp * nside) - 1;
    return { face, ix, iy };
  }
  // polar caps: distance from the pole via the colatitude from the nearest pole,
  // nside * sqrt(3 (1 - |z|)) = nside * sqrt(6) * sin(colat / 2), precise near the pole
  const ntt = Math.min(Math.floor(tt), 3);
  const tp = tt - ntt;
  const colat = (90 - Math.abs(decDeg)) * D2R;
  const tmp = nside * SQRT6 * Math.sin(colat / 2);
  const jp = Math.min(Math.floor(tp * tmp), nside - 1);
  const jm = Math.min(Math.floor((1 - tp) * tmp), nside - 1);
  if (decDeg > 0) return { face: ntt, ix: nside - jm - 1, iy: nside - jp - 1 };
  return { face: ntt + 8, ix: jp, iy: jm };
}

/** Interleaved (x even bits, y odd bits) index as [hi, lo] 32-bit halves. */
function interleave(ix: number, iy: number): [number, number] {
  const lo = (spread16(ix) | (spread16(iy) << 1)) >>> 0;
  const hi = (spread16(Math.floor(ix / 65536)) | (spread16(Math.floor(iy / 65536)) << 1)) >>> 0;
  return [hi, lo];
}

function deinterleave(hi: number, lo: number): { ix: number; iy: number } {
  const ix = compact16(lo) + compact16(hi) * 65536;
  const iy = compact16(lo >>> 1) + compact16(hi >>> 1) * 65536;
  return { ix, iy };
}

/**
 * NESTED pixel index of a sky position at the given order (0..24; the result
 * is an exact integer number). Throws a RangeError for orders above 24: use
 * {@linkcode ang2pixNestBig} there.
 */
export function ang2pixNest(order: number, raDeg: number, decDeg: number): number {
  checkOrder(order, MAX_NUMBER_ORDER);
  const { face, ix, iy } = locate(order, raDeg, decDeg);
  const [hi, lo] = interleave(ix, iy);
  return face * 4 ** order + hi * TWO32 + lo;
}

/** NESTED pixel index of a sky position at any order 0..29, as a bigint. */
export function ang2pixNestBig(order: number, raDeg: number, decDeg: number): bigint {
  checkOrder(order, MAX_ORDER);
  const { face, ix, iy } = locate(order, raDeg, decDeg);
  const [hi, lo] = interleave(ix, iy);
  return (BigInt(face) << BigInt(2 * order)) | (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Centre of a NESTED pixel, in degrees (ra in [0, 360)). `ipix` may be a
 * number (orders 0..24) or a bigint (orders 0..29).
 */
export function pix2angNest(order: number, ipix: number | bigint): { ra: number; dec: number } {
  let face: number, hi: number, lo: number;
  if (typeof ipix === "bigint") {
    checkOrder(order, MAX_ORDER);
    const npix = 12n << BigInt(2 * order);
    if (ipix < 0n || ipix >= npix) {
      throw new RangeError(`pixel ${ipix} out of range at order ${order}`);
    }
    face = Number(ipix >> BigInt(2 * order));
    const r = ipix & ((1n << BigInt(2 * order)) - 1n);
    hi = Number(r >> 32n);
    lo = Number(r & 0xffffffffn);
  } else {
    checkOrder(order, MAX_NUMBER_ORDER);
    const npface = 4 ** order;
    if (!Number.isInteger(ipix) || ipix < 0 || ipix >= 12 * npface) {
      throw new RangeError(`pixel ${ipix} out of range at order ${order}`);
    }
    face = Math.floor(ipix / npface);
    const r = ipix - face * npface;
    hi = Math.floor(r / TWO32);
    lo = r - hi * TWO32;
  }
  const { ix, iy } = deinterleave(hi, lo);
  return faceXyToAng(order, face, ix, iy);
}

/** Centre of the pixel (face, ix, iy) at nside = 2^order. */
function faceXyToAng(order: number, face: number, ix: number, iy: number) {
  const nside = 2 ** order;
  const jr = JRLL[face] * nside - ix - iy - 1; // ring number, 1..4 nside - 1
  let nr: number, kshift: number, dec: number;
  if (jr < nside) {
    nr = jr;
    kshift = 0;
    // 1 - z = nr^2 / (3 nside^2); colat = 2 asin(sqrt((1 - z) / 2))
    dec = 90 - 2 * Math.asin(nr / (SQRT6 * nside)) * R2D;
  } else if (jr > 3 * nside) {
    nr = 4 * nside - jr;
    kshift = 0;
    dec = -90 + 2 * Math.asin(nr / (SQRT6 * nside)) * R2D;
  } else {
    nr = nside;
    kshift = (jr - nside) & 1;
    const z = ((2 * nside - jr) * 2) / (3 * nside);
    dec = Math.asin(z) * R2D;
  }
  let jp = (JPLL[face] * nr + ix - iy + 1 + kshift) / 2; // integer: the sum is even
  if (jp > 4 * nside) jp -= 4 * nside;
  if (jp < 1) jp += 4 * nside;
  let ra = ((jp - (kshift + 1) * 0.5) * (HALF_PI / nr)) * R2D;
  if (ra >= 360) ra -= 360;
  if (ra < 0) ra += 360;
  return { ra, dec };
}

/** Number of pixels at an order (exact number up to order 24; use `12n << 2n*order` above). */
export function npixAtOrder(order: number): number {
  checkOrder(order, MAX_NUMBER_ORDER);
  return 12 * 4 ** order;
}

/**
 * An upper bound, in degrees, on the angular distance from any pixel centre to
 * any point of that pixel at the given order. The largest such distance occurs
 * for pixels touching the polar-cap boundary (z = 2/3): from the centre at
 * (z = 2/3, phi = pi/(4 nside)) to the corner next to the pole row, at
 * (z = 1 - (1 - 1/nside)^2 / 3, phi = 0). A 0.1% margin is added.
 */
export function maxPixelRadiusDeg(order: number): number {
  checkOrder(order, MAX_ORDER);
  const nside = 2 ** order;
  const za = 2 / 3;
  const phia = Math.PI / (4 * nside);
  const t = 1 - 1 / nside;
  const zb = 1 - (t * t) / 3;
  const sa = Math.sqrt((1 - za) * (1 + za));
  const sb = Math.sqrt((1 - zb) * (1 + zb));
  const ax = sa * Math.cos(phia), ay = sa * Math.sin(phia);
  const bx = sb, by = 0;
  const cx = ay * zb - za * by, cy = za * bx - ax * zb, cz = ax * by - ay * bx;
  const ang = Math.atan2(Math.hypot(cx, cy, cz), ax * bx + ay * by + za * zb);
  return ang * R2D * 1.001 + 1e-12;
}
