/**
 * Fitting a TAN-SIP WCS to matched pixel and sky positions, with sigma clipping.
 *
 * Model: the matched sky positions are projected on the tangent plane about
 * CRVAL, and the intermediate coordinates (xi, eta) are fitted as full 2-D
 * polynomials of the pixel offsets (u, v) from CRPIX, of the chosen order. The
 * constant terms move CRVAL (the fit is repeated until they vanish), the linear
 * terms are the CD matrix, and the higher terms map through CD^-1 into the SIP
 * A and B coefficients. The reverse AP/BP polynomials are fitted afterwards on
 * a grid over the matched area. Order 1 gives a plain TAN WCS.
 *
 * @module
 */
import { angularSeparationDeg } from "../sky/angles.ts";
import { leastSquares, monomials } from "./linalg.ts";
import {
  evalPoly,
  makeWcs,
  type SipPolynomials,
  tanDeproject,
  tanProject,
  type Wcs,
} from "./wcs.ts";

/** A matched star: 0-based pixel position and catalog sky position (degrees). */
export interface Match {
  x: number;
  y: number;
  ra: number;
  dec: number;
}

/** Options of {@linkcode fitTanSip}. */
export interface FitTanSipOptions {
  /** Polynomial order (1 = TAN without distortion; SIP needs 2 or more). @default 3 */
  order?: number;
  /** Sigma-clipping threshold in units of the robust residual scatter; 0 disables clipping. @default 3 */
  clip?: number;
  /** Maximum clipping rounds. @default 10 */
  maxIterations?: number;
  /** Reference pixel, FITS 1-based. @default the centre of the matches' bounding box */
  crpix?: [number, number];
  /** Order of the reverse AP/BP polynomials. @default order + 1 */
  inverseOrder?: number;
}

/** The result of {@linkcode fitTanSip}. */
export interface TanSipFit {
  /** The fitted WCS (type TAN-SIP, or TAN for order 1). */
  wcs: Wcs;
  /** RMS of the sky residuals of the matches used, in arcsec. */
  rmsArcsec: number;
  /** Per match: kept by the clipping. */
  used: boolean[];
  /** Number of matches used. */
  nUsed: number;
  /** Clipping rounds run. */
  iterations: number;
}

function meanSky(ms: Match[], used: boolean[]): [number, number] {
  let x = 0, y = 0, z = 0;
  ms.forEach((m, i) => {
    if (!used[i]) return;
    const r = (m.ra * Math.PI) / 180, d = (m.dec * Math.PI) / 180;
    x += Math.cos(d) * Math.cos(r);
    y += Math.cos(d) * Math.sin(r);
    z += Math.sin(d);
  });
  let ra = (Math.atan2(y, x) * 180) / Math.PI;
  if (ra < 0) ra += 360;
  return [ra, (Math.atan2(z, Math.hypot(x, y)) * 180) / Math.PI];
}

/**
 * Fits a TAN-SIP (or, with order 1, TAN) WCS to matches. Throws when fewer
 * matches survive than the polynomial has terms (plus a margin of 3).
 */
export function fitTanSip(matches: Match[], options: FitTanSipOptions = {}): TanSipFit {
  const order = options.order ?? 3;
  if (!Number.isInteger(order) || order < 1 || order > 9) {
    throw new RangeError(`fitTanSip: order ${order} not in 1..9`);
  }
  const clip = options.clip ?? 3;
  const maxIt = options.maxIterations ?? 10;
  const terms = monomials(order);
  const nTerms = terms.length;
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const m of matches) {
    xmin = Math.min(xmin, m.x);
    xmax = Math.max(xmax, m.x);
    ymin = Math.min(ymin, m.y);
    ymax = Math.max(ymax, m.y);
  }
  const crpix: [number, number] = options.crpix ?? [(xmin + xmax) / 2 + 1, (ymin + ymax) / 2 + 1];
  // scale offsets to about [-1, 1] for conditioning
  const s = 1 / Math.max(1, (xmax - xmin) / 2, (ymax - ymin) / 2);
  let used = matches.map((m) => [m.x, m.y, m.ra, m.dec].every(Number.isFinite));
  let crval = meanSky(matches, used);
  let wcs: Wcs | undefined;
  let rms = NaN;
  let iterations = 0;
  for (; iterations < Math.max(1, maxIt); iterations++) {
    const idx = used.flatMap((u, i) => (u ? [i] : []));
    if (idx.length < nTerms + 3) {
      throw new Error(
        `fitTanSip: ${idx.length} usable matches, order ${order} needs at least ${nTerms + 3}`,
      );
    }
    const a = new Float64Array(idx.length * nTerms);
    idx.forEach((i, r) => {
      const u = (matches[i].x + 1 - crpix[0]) * s, v = (matches[i].y + 1 - crpix[1]) * s;
      terms.forEach(([p, q], k) => (a[r * nTerms + k] = u ** p * v ** q));
    });
    let cx: Float64Array = new Float64Array(0), cy: Float64Array = new Float64Array(0);
    for (let t = 0; t < 20; t++) {
      const bx = new Float64Array(idx.length), by = new Float64Array(idx.length);
      idx.forEach((i, r) => {
        [bx[r], by[r]] = tanProject(crval, matches[i].ra, matches[i].dec);
      });
      [cx, cy] = leastSquares(a, idx.length, nTerms, [bx, by]);
      // constant terms: the sky position of CRPIX is off the tangent point; move it
      const moved = tanDeproject(crval, cx[0], cy[0]);
      crval = [moved.ra, moved.dec];
      if (Math.hypot(cx[0], cy[0]) < 1e-13) break;
    }
    const cd: [[number, number], [number, number]] = [[cx[1] * s, cx[2] * s], [
      cy[1] * s,
      cy[2] * s,
    ]];
    const det = cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0];
    const inv = [[cd[1][1] / det, -cd[0][1] / det], [-cd[1][0] / det, cd[0][0] / det]];
    let sip: SipPolynomials | undefined;
    if (order >= 2) {
      const A: number[][] = [], B: number[][] = [];
      for (let p = 0; p <= order; p++) {
        A.push(new Array(order + 1 - p).fill(0));
        B.push(new Array(order + 1 - p).fill(0));
      }
      terms.forEach(([p, q], k) => {
        if (p + q < 2) return;
        const f = s ** (p + q);
        A[p][q] = (inv[0][0] * cx[k] + inv[0][1] * cy[k]) * f;
        B[p][q] = (inv[1][0] * cx[k] + inv[1][1] * cy[k]) * f;
      });
      sip = { order, a: A, b: B };
    }
    wcs = makeWcs({ crpix, crval, cd, sip });
    // residuals
    const res = matches.map((m) => {
      const p = wcs!.pixToSky(m.x, m.y);
      return angularSeparationDeg(p.ra, p.dec, m.ra, m.dec) * 3600;
    });
    const usedRes = idx.map((i) => res[i]);
    rms = Math.sqrt(usedRes.reduce((t, r) => t + r * r, 0) / usedRes.length);
    if (!(clip > 0)) {
      iterations++;
      break;
    }
    const sorted = [...usedRes].sort((x, y) => x - y);
    // residuals are 2-D distances: for Gaussian errors of sigma per axis the
    // median distance is sigma * sqrt(2 ln 2)
    const sigma = Math.max(sorted[sorted.length >> 1] / Math.sqrt(2 * Math.LN2), 1e-9);
    const next = matches.map((m, i) =>
      [m.x, m.y, m.ra, m.dec].every(Number.isFinite) && res[i] <= clip * sigma
    );
    const changed = next.some((u, i) => u !== used[i]);
    used = next;
    if (!changed) {
      iterations++;
      break;
    }
  }
  if (wcs!.sip) {
    wcs = makeWcs({
      ...wcs!,
      sip: fitSipInverse(
        wcs!.sip!,
        crpix,
        [xmin, xmax, ymin, ymax],
        options.inverseOrder ?? order + 1,
      ),
    });
  }
  return { wcs: wcs!, rmsArcsec: rms, used, nUsed: used.filter(Boolean).length, iterations };
}

/**
 * Fits the reverse SIP polynomials AP/BP of `inverseOrder` on a 41 x 41 grid
 * over `box` = [xmin, xmax, ymin, ymax] (0-based pixels); returns `sip` with them.
 */
export function fitSipInverse(
  sip: SipPolynomials,
  crpix: [number, number],
  box: [number, number, number, number],
  inverseOrder: number,
): SipPolynomials {
  const terms = monomials(inverseOrder);
  const n = 40;
  const rows: number[][] = [];
  const du: number[] = [], dv: number[] = [];
  const s = 1 / Math.max(1, (box[1] - box[0]) / 2, (box[3] - box[2]) / 2);
  for (let i = 0; i <= n; i++) {
    for (let j = 0; j <= n; j++) {
      const u = box[0] + ((box[1] - box[0]) * i) / n + 1 - crpix[0];
      const v = box[2] + ((box[3] - box[2]) * j) / n + 1 - crpix[1];
      const U = u + evalPoly(sip.a, u, v), V = v + evalPoly(sip.b, u, v);
      rows.push(terms.map(([p, q]) => (U * s) ** p * (V * s) ** q));
      du.push(u - U);
      dv.push(v - V);
    }
  }
  const a = Float64Array.from(rows.flat());
  const [cu, cv] = leastSquares(a, rows.length, terms.length, [
    Float64Array.from(du),
    Float64Array.from(dv),
  ]);
  const ap: number[][] = [], bp: number[][] = [];
  for (let p = 0; p <= inverseOrder; p++) {
    ap.push(new Array(inverseOrder + 1 - p).fill(0));
    bp.push(new Array(inverseOrder + 1 - p).fill(0));
  }
  terms.forEach(([p, q], k) => {
    ap[p][q] = cu[k] * s ** (p + q);
    bp[p][q] = cv[k] * s ** (p + q);
  });
  return { ...sip, inverseOrder, ap, bp };
}
