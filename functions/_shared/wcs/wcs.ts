/**
 * Celestial WCS of the gnomonic (TAN) family: plain TAN, TAN-SIP (Shupe et al.
 * 2005: A/B forward and optional AP/BP reverse polynomials in pixel space) and
 * TPV (the SCAMP/DECam polynomial PV1_k, PV2_k applied to intermediate world
 * coordinates before the TAN projection).
 *
 * Pixel convention: every TypeScript API takes and returns 0-based pixel
 * centres (the first pixel's centre is (0, 0)); FITS CRPIX is 1-based, so
 * CRPIX = x + 1 at the boundary (wcsFromHeader / wcsToCards do the conversion,
 * `crpix` on a Wcs is kept in the FITS 1-based convention).
 *
 * Sky to pixel: TAN inverts in closed form; SIP and TPV solve for the pixel with
 * Newton iterations on the forward model (AP/BP, when present, only give the
 * starting point), so skyToPix(pixToSky(p)) returns p to ~1e-9 pixel.
 *
 * @module
 */

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

/** SIP distortion: coefficients indexed [p][q] for u^p v^q (zero where absent). */
export interface SipPolynomials {
  /** A_ORDER / B_ORDER. */
  order: number;
  /** A_p_q. */
  a: number[][];
  /** B_p_q. */
  b: number[][];
  /** AP_ORDER / BP_ORDER (reverse), if given. */
  inverseOrder?: number;
  /** AP_p_q, if given. */
  ap?: number[][];
  /** BP_p_q, if given. */
  bp?: number[][];
}

/** TPV distortion: PV1_0..PV1_39 and PV2_0..PV2_39 (missing terms 0, except PVi_1 = 1 when absent). */
export interface TpvPolynomials {
  pv1: number[];
  pv2: number[];
}

/** Parameters of a TAN-family WCS. */
export interface WcsParams {
  /** Reference pixel, FITS 1-based (CRPIX1, CRPIX2). */
  crpix: [number, number];
  /** Reference sky position in degrees (CRVAL1 = ra, CRVAL2 = dec). */
  crval: [number, number];
  /** CD matrix in degrees per pixel: [[CD1_1, CD1_2], [CD2_1, CD2_2]]. */
  cd: [[number, number], [number, number]];
  /** SIP polynomials (type TAN-SIP). */
  sip?: SipPolynomials;
  /** TPV polynomials (type TPV). */
  tpv?: TpvPolynomials;
}

/** A world coordinate system: pixel (0-based centres) <-> sky (degrees). */
export interface Wcs extends WcsParams {
  /** Projection and distortion. */
  readonly type: "TAN" | "TAN-SIP" | "TPV";
  /** Sky position of a 0-based pixel position. */
  pixToSky(x: number, y: number): { ra: number; dec: number };
  /**
   * 0-based pixel position of a sky position; NaN when the position is behind the
   * tangent plane or (SIP, TPV) when no pixel maps to it to 1e-6 pixel (far outside
   * the region where the distortion polynomial is invertible).
   */
  skyToPix(ra: number, dec: number): { x: number; y: number };
  /** pixToSky over arrays. */
  pixToSkyMany(x: Float64Array, y: Float64Array): { ra: Float64Array; dec: Float64Array };
  /** skyToPix over arrays. */
  skyToPixMany(ra: Float64Array, dec: Float64Array): { x: Float64Array; y: Float64Array };
}

/** Evaluates sum c[p][q] u^p v^q. */
export function evalPoly(c: number[][], u: number, v: number): number {
  let s = 0;
  let up = 1;
  for (let p = 0; p < c.length; p++) {
    const row = c[p];
    if (row) {
      let vq = 1;
      for (let q = 0; q < row.length; q++) {
        if (row[q]) s += row[q] * up * vq;
        vq *= v;
      }
    }
    up *= u;
  }
  return s;
}

const XP = new Float64Array(8);
const YP = new Float64Array(8);

/**
 * The 40 TPV terms at (x, y), r = hypot(x, y), in the TPV order: 1, x, y, r,
 * then for each degree d = 2..7 the monomials x^d, x^(d-1) y, ..., y^d, followed
 * by r^d when d is odd.
 */
function tpvTerms(x: number, y: number, out: Float64Array): void {
  const r = Math.hypot(x, y);
  XP[0] = 1;
  YP[0] = 1;
  for (let d = 1; d <= 7; d++) {
    XP[d] = XP[d - 1] * x;
    YP[d] = YP[d - 1] * y;
  }
  out[0] = 1;
  out[1] = x;
  out[2] = y;
  out[3] = r;
  let k = 4;
  for (let d = 2; d <= 7; d++) {
    for (let j = 0; j <= d; j++) out[k++] = XP[d - j] * YP[j];
    if (d % 2 === 1) out[k++] = r ** d;
  }
}

/** Applies a TPV polynomial: returns [xi', eta'] for intermediate (xi, eta) in degrees. */
function applyTpv(t: TpvPolynomials, xi: number, eta: number, buf: Float64Array): [number, number] {
  tpvTerms(xi, eta, buf);
  let a = 0;
  for (let k = 0; k < t.pv1.length; k++) if (t.pv1[k]) a += t.pv1[k] * buf[k];
  tpvTerms(eta, xi, buf);
  let b = 0;
  for (let k = 0; k < t.pv2.length; k++) if (t.pv2[k]) b += t.pv2[k] * buf[k];
  return [a, b];
}

/** Gnomonic deprojection of intermediate world coordinates (degrees) about crval. */
export function tanDeproject(
  crval: [number, number],
  xi: number,
  eta: number,
): { ra: number; dec: number } {
  const x = xi * D2R, y = eta * D2R;
  const d0 = crval[1] * D2R;
  const sd0 = Math.sin(d0), cd0 = Math.cos(d0);
  const den = cd0 - y * sd0;
  let ra = crval[0] + Math.atan2(x, den) * R2D;
  const dec = Math.atan2(sd0 + y * cd0, Math.hypot(x, den)) * R2D;
  ra %= 360;
  if (ra < 0) ra += 360;
  return { ra, dec };
}

/** Gnomonic projection (degrees) of a sky position about crval; NaN behind the tangent plane. */
export function tanProject(crval: [number, number], ra: number, dec: number): [number, number] {
  const d0 = crval[1] * D2R;
  const da = (ra - crval[0]) * D2R;
  const d = dec * D2R;
  const sd = Math.sin(d), cd = Math.cos(d), sd0 = Math.sin(d0), cd0 = Math.cos(d0);
  const cda = Math.cos(da);
  const den = sd * sd0 + cd * cd0 * cda;
  if (!(den > 0)) return [NaN, NaN];
  return [(cd * Math.sin(da)) / den * R2D, (sd * cd0 - cd * sd0 * cda) / den * R2D];
}

/** A TAN, TAN-SIP or TPV WCS. Construct with {@linkcode makeWcs} or wcsFromHeader. */
class TanFamilyWcs implements Wcs {
  readonly type: "TAN" | "TAN-SIP" | "TPV";
  readonly crpix: [number, number];
  readonly crval: [number, number];
  readonly cd: [[number, number], [number, number]];
  readonly sip?: SipPolynomials;
  readonly tpv?: TpvPolynomials;
  readonly #inv: [[number, number], [number, number]];
  readonly #buf = new Float64Array(40);
  /** Pixel scale in degrees (sqrt |det CD|). */
  readonly #scaleDeg: number;

  constructor(p: WcsParams) {
    this.crpix = [p.crpix[0], p.crpix[1]];
    this.crval = [p.crval[0], p.crval[1]];
    this.cd = [[p.cd[0][0], p.cd[0][1]], [p.cd[1][0], p.cd[1][1]]];
    if (p.sip && p.tpv) throw new Error("a WCS cannot have both SIP and TPV distortion");
    this.sip = p.sip;
    this.tpv = p.tpv;
    this.type = p.sip ? "TAN-SIP" : p.tpv ? "TPV" : "TAN";
    const det = this.cd[0][0] * this.cd[1][1] - this.cd[0][1] * this.cd[1][0];
    if (!(Math.abs(det) > 0) || !Number.isFinite(det)) throw new Error("singular CD matrix");
    this.#scaleDeg = Math.sqrt(Math.abs(det));
    this.#inv = [[this.cd[1][1] / det, -this.cd[0][1] / det], [
      -this.cd[1][0] / det,
      this.cd[0][0] / det,
    ]];
  }

  /** Intermediate world coordinates (degrees, after distortion) of pixel offsets u, v from CRPIX. */
  #intermediate(u: number, v: number): [number, number] {
    if (this.sip) {
      const du = evalPoly(this.sip.a, u, v), dv = evalPoly(this.sip.b, u, v);
      u += du;
      v += dv;
    }
    const xi = this.cd[0][0] * u + this.cd[0][1] * v;
    const eta = this.cd[1][0] * u + this.cd[1][1] * v;
    if (this.tpv) return applyTpv(this.tpv, xi, eta, this.#buf);
    return [xi, eta];
  }

  pixToSky(x: number, y: number): { ra: number; dec: number } {
    const [xi, eta] = this.#intermediate(x + 1 - this.crpix[0], y + 1 - this.crpix[1]);
    return tanDeproject(this.crval, xi, eta);
  }

  skyToPix(ra: number, dec: number): { x: number; y: number } {
    const [xi, eta] = tanProject(this.crval, ra, dec);
    if (!Number.isFinite(xi)) return { x: NaN, y: NaN };
    const inv = this.#inv;
    // linear start (exact for TAN)
    let u = inv[0][0] * xi + inv[0][1] * eta;
    let v = inv[1][0] * xi + inv[1][1] * eta;
    if (this.type === "TAN") return { x: u + this.crpix[0] - 1, y: v + this.crpix[1] - 1 };
    if (this.sip?.ap && this.sip.bp) {
      const du = evalPoly(this.sip.ap, u, v), dv = evalPoly(this.sip.bp, u, v);
      u += du;
      v += dv;
    }
    // Newton on the forward model, Jacobian by central differences
    const h = 0.5;
    for (let it = 0; it < 50; it++) {
      const [fx, fy] = this.#intermediate(u, v);
      const rx = fx - xi, ry = fy - eta;
      const [ax, ay] = this.#intermediate(u + h, v);
      const [bx, by] = this.#intermediate(u - h, v);
      const [cx, cy] = this.#intermediate(u, v + h);
      const [dx, dy] = this.#intermediate(u, v - h);
      const j11 = (ax - bx) / (2 * h), j21 = (ay - by) / (2 * h);
      const j12 = (cx - dx) / (2 * h), j22 = (cy - dy) / (2 * h);
      const det = j11 * j22 - j12 * j21;
      const su = (j22 * rx - j12 * ry) / det;
      const sv = (-j21 * rx + j11 * ry) / det;
      u -= su;
      v -= sv;
      if (!Number.isFinite(u) || !Number.isFinite(v)) return { x: NaN, y: NaN };
      if (Math.abs(su) < 1e-11 && Math.abs(sv) < 1e-11) break;
    }
    // accept the solution only if the forward model reaches the target to 1e-6 pixel
    const [fx, fy] = this.#intermediate(u, v);
    if (Math.hypot(fx - xi, fy - eta) > 1e-6 * this.#scaleDeg) return { x: NaN, y: NaN };
    return { x: u + this.crpix[0] - 1, y: v + this.crpix[1] - 1 };
  }

  pixToSkyMany(x: Float64Array, y: Float64Array): { ra: Float64Array; dec: Float64Array } {
    const n = x.length;
    const ra = new Float64Array(n), dec = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = this.pixToSky(x[i], y[i]);
      ra[i] = s.ra;
      dec[i] = s.dec;
    }
    return { ra, dec };
  }

  skyToPixMany(ra: Float64Array, dec: Float64Array): { x: Float64Array; y: Float64Array } {
    const n = ra.length;
    const x = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = this.skyToPix(ra[i], dec[i]);
      x[i] = p.x;
      y[i] = p.y;
    }
    return { x, y };
  }
}

/** Builds a WCS from its parameters (type from the distortion given). */
export function makeWcs(params: WcsParams): Wcs {
  return new TanFamilyWcs(params);
}

/** Pixel scale at the reference pixel, in arcsec per pixel (sqrt |det CD|). */
export function pixelScaleArcsec(wcs: WcsParams): number {
  const det = wcs.cd[0][0] * wcs.cd[1][1] - wcs.cd[0][1] * wcs.cd[1][0];
  return Math.sqrt(Math.abs(det)) * 3600;
}

/**
 * Sky positions (degrees) of the four outer corners of an image of width x height
 * pixels — the pixel edges at (-0.5, -0.5), (w - 0.5, -0.5), (w - 0.5, h - 0.5),
 * (-0.5, h - 0.5) in 0-based centre coordinates — in that order.
 */
export function wcsCorners(
  wcs: Wcs,
  width: number,
  height: number,
): Array<{ ra: number; dec: number }> {
  return [
    wcs.pixToSky(-0.5, -0.5),
    wcs.pixToSky(width - 0.5, -0.5),
    wcs.pixToSky(width - 0.5, height - 0.5),
    wcs.pixToSky(-0.5, height - 0.5),
  ];
}
