/**
 * NESTED HEALPix pixel ranges covering a cone, for database cone searches:
 * `WHERE hp BETWEEN lo AND hi - 1 OR ...` followed by an exact distance filter.
 *
 * The covering is conservative: every pixel that intersects the disc is inside
 * one of the ranges; a few pixels near the edge that do not intersect it may
 * be included too. It is found top-down: a base pixel is dropped when its
 * centre is farther than radius + (its maximal radius), emitted whole when its
 * centre is closer than radius - (its maximal radius), and split into its four
 * children otherwise. Splitting stops at the requested order or when the
 * boundary cells of one level would exceed `maxCells`; the cells still undecided
 * at that level are then emitted whole (still conservative, just coarser).
 *
 * @module
 */
import { angularSeparationDeg } from "./angles.ts";
import { MAX_NUMBER_ORDER, MAX_ORDER, maxPixelRadiusDeg, pix2angNest } from "./healpix.ts";

/** Options of {@linkcode coneRanges}. */
export interface ConeOptions {
  /**
   * Largest number of undecided boundary cells examined at one level; bounds the
   * work and roughly the number of ranges returned.
   * @default 4096
   */
  maxCells?: number;
}

/**
 * Cells (level, pixel) wholly or possibly inside the cone. Pixels are numbers up
 * to level 24 and bigints above (only reached when order > 24).
 */
function coverCells(
  order: number,
  raDeg: number,
  decDeg: number,
  radiusDeg: number,
  maxCells: number,
): Array<[number, number | bigint]> {
  if (!Number.isFinite(radiusDeg) || radiusDeg < 0) {
    throw new RangeError(`cone radius ${radiusDeg} must be a finite number >= 0`);
  }
  if (!Number.isFinite(raDeg) || !Number.isFinite(decDeg) || Math.abs(decDeg) > 90) {
    throw new RangeError(`invalid cone centre ra=${raDeg} dec=${decDeg}`);
  }
  const out: Array<[number, number | bigint]> = [];
  if (radiusDeg >= 180) {
    for (let p = 0; p < 12; p++) out.push([0, p]);
    return out;
  }
  let candidates: Array<number | bigint> = Array.from({ length: 12 }, (_, i) => i);
  for (let level = 0;; level++) {
    const rad = maxPixelRadiusDeg(level);
    const undecided: Array<number | bigint> = [];
    for (const p of candidates) {
      const c = pix2angNest(level, p);
      const d = angularSeparationDeg(raDeg, decDeg, c.ra, c.dec);
      if (d > radiusDeg + rad) continue;
      if (d + rad <= radiusDeg) out.push([level, p]);
      else undecided.push(p);
    }
    if (level >= order || undecided.length * 4 > maxCells) {
      for (const p of undecided) out.push([level, p]);
      return out;
    }
    candidates = [];
    if (level + 1 <= MAX_NUMBER_ORDER) {
      for (const p of undecided as number[]) {
        candidates.push(4 * p, 4 * p + 1, 4 * p + 2, 4 * p + 3);
      }
    } else {
      for (const p of undecided) {
        const b = BigInt(p) << 2n;
        candidates.push(b, b + 1n, b + 2n, b + 3n);
      }
    }
  }
}

function mergeSorted<T extends number | bigint>(ranges: Array<[T, T]>): Array<[T, T]> {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: Array<[T, T]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) {
      if (r[1] > last[1]) last[1] = r[1];
    } else {
      merged.push([r[0], r[1]]);
    }
  }
  return merged;
}

/**
 * Sorted, disjoint, half-open ranges [lo, hi) of NESTED pixel indices at
 * `order` (0..24) whose union contains every pixel intersecting the cone of
 * `radiusDeg` around (raDeg, decDeg). Use {@linkcode coneRangesBig} for orders
 * 25..29.
 */
export function coneRanges(
  order: number,
  raDeg: number,
  decDeg: number,
  radiusDeg: number,
  options: ConeOptions = {},
): Array<[number, number]> {
  if (!Number.isInteger(order) || order < 0 || order > MAX_NUMBER_ORDER) {
    throw new RangeError(`coneRanges order ${order} out of 0..24 (use coneRangesBig)`);
  }
  const cells = coverCells(order, raDeg, decDeg, radiusDeg, options.maxCells ?? 4096);
  const ranges = cells.map(([level, p]): [number, number] => {
    const f = 4 ** (order - level);
    return [Number(p) * f, (Number(p) + 1) * f];
  });
  return mergeSorted(ranges);
}

/** As {@linkcode coneRanges}, for any order 0..29, with bigint bounds. */
export function coneRangesBig(
  order: number,
  raDeg: number,
  decDeg: number,
  radiusDeg: number,
  options: ConeOptions = {},
): Array<[bigint, bigint]> {
  if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
    throw new RangeError(`coneRangesBig order ${order} out of 0..29`);
  }
  const cells = coverCells(order, raDeg, decDeg, radiusDeg, options.maxCells ?? 4096);
  const ranges = cells.map(([level, p]): [bigint, bigint] => {
    const shift = BigInt(2 * (order - level));
    return [BigInt(p) << shift, (BigInt(p) + 1n) << shift];
  });
  return mergeSorted(ranges);
}
