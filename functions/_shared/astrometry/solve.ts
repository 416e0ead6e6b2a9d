/**
 * Astrometric calibration of one image: detected sources (pixels, fluxes)
 * against reference stars (sky, magnitudes), starting from nothing but an
 * approximate WCS (the header's pointing, orientation and scale).
 *
 * 1. The reference stars are projected to pixels through the approximate WCS;
 *    the brightest sources and the brightest stars of the search area (the image
 *    grown by the search radius) are matched by triangle patterns
 *    ({@linkcode matchPatterns}): this finds offsets of arcminutes, rotations of
 *    degrees and scale errors of percents.
 * 2. A TAN WCS is fitted to the verified pairs; then, for the brightest
 *    `tries[k]` sources in turn (SeeChange: 2000, 1000, 500, 200), sources and
 *    stars are paired within a shrinking radius and a TAN-SIP WCS of `order` is
 *    fitted with sigma clipping (wcs module), until the success criteria hold.
 *
 * @module
 */
import { angularSeparationDeg } from "../sky/angles.ts";
import { fitTanSip, type Match, type Wcs } from "../wcs/mod.ts";
import { pixelScaleArcsec } from "../wcs/wcs.ts";
import {
  applySimilarity,
  matchPatterns,
  pairWithin,
  type Point,
  PointGrid,
  type Similarity,
  similarityRotationDeg,
  similarityScale,
} from "./pattern.ts";

/** A detected source: 0-based pixel position and flux (any unit; only the order matters). */
export interface SourcePoint {
  x: number;
  y: number;
  flux: number;
}

/** A reference star at the image's epoch. */
export interface RefPoint {
  ra: number;
  dec: number;
  mag: number;
}

/** Options of {@linkcode solveAstrometry}. */
export interface SolveOptions {
  /** Largest pointing error searched (arcmin): the reference area is the image grown by it. @default 5 */
  searchRadiusArcmin?: number;
  /** Largest rotation error (deg). @default 5 */
  maxRotationDeg?: number;
  /** Largest scale error (fraction). @default 0.03 */
  scaleTolerance?: number;
  /** Brightest sources used for the triangles, tried in turn. @default [30, 50, 80] */
  patternSources?: number[];
  /** Most reference stars used for the triangles. @default 250 */
  patternMaxRefs?: number;
  /** Side-ratio tolerance of the triangles. @default 0.01 */
  patternTolerance?: number;
  /** Fewest verified pattern pairs to accept a pattern match. @default 8 */
  patternMinPairs?: number;
  /** Brightest sources used in the fit, tried in turn until success. @default [2000, 1000, 500, 200] */
  tries?: number[];
  /** Final matching radius (arcsec). @default 1 */
  matchRadiusArcsec?: number;
  /** TAN-SIP polynomial order. @default 3 */
  order?: number;
  /** Sigma-clipping threshold of the fit. @default 3 */
  clip?: number;
  /** Success: more matches than this. @default 10 */
  minMatches?: number;
  /** Success: more than this fraction of min(sources used, stars on the image) matched. @default 0.1 */
  minFraction?: number;
  /** Success: mean residual at most this (arcsec). @default 0.15 */
  maxMeanResidualArcsec?: number;
}

/** A successful solution. */
export interface AstrometrySolution {
  wcs: Wcs;
  /** Pairs used by the final fit (after clipping). */
  nMatched: number;
  /** nMatched / min(sources used, reference stars on the image). */
  fraction: number;
  /** RMS and mean of the fit's residuals (arcsec). */
  rmsArcsec: number;
  meanResidualArcsec: number;
  /** Brightest sources used by the successful try. */
  nSourcesUsed: number;
  /** The pattern match: its pairs, and the correction it found to the approximate WCS. */
  pattern: { pairs: number; votes: number; rotationDeg: number; scale: number; offsetPx: number };
  /** Final pairs: source index -> reference index (into the caller's arrays). */
  matches: Array<[number, number]>;
}

/** Astrometry failed; `reason` is the BADNESS name to set. */
export class AstrometryFailure extends Error {
  constructor(message: string, readonly reason: "xmatch_failed" | "big_residuals") {
    super(message);
    this.name = "AstrometryFailure";
  }
}

/** Indices of `values` sorted by `key` descending (NaN last). */
function rankDesc(n: number, key: (i: number) => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i).filter((i) => Number.isFinite(key(i)));
  return idx.sort((a, b) => key(b) - key(a));
}

/**
 * Solves the WCS of a `width` x `height` image. `guess` is the approximate WCS;
 * throws {@linkcode AstrometryFailure} when no solution meets the criteria.
 */
export function solveAstrometry(
  sources: SourcePoint[],
  refs: RefPoint[],
  guess: Wcs,
  width: number,
  height: number,
  options: SolveOptions = {},
): AstrometrySolution {
  const o = {
    searchRadiusArcmin: options.searchRadiusArcmin ?? 5,
    maxRotationDeg: options.maxRotationDeg ?? 5,
    scaleTolerance: options.scaleTolerance ?? 0.03,
    patternSources: options.patternSources ?? [30, 50, 80],
    patternMaxRefs: options.patternMaxRefs ?? 250,
    patternTolerance: options.patternTolerance ?? 0.01,
    patternMinPairs: options.patternMinPairs ?? 8,
    tries: options.tries ?? [2000, 1000, 500, 200],
    matchRadiusArcsec: options.matchRadiusArcsec ?? 1,
    order: options.order ?? 3,
    clip: options.clip ?? 3,
    minMatches: options.minMatches ?? 10,
    minFraction: options.minFraction ?? 0.1,
    maxMeanResidualArcsec: options.maxMeanResidualArcsec ?? 0.15,
  };
  const scale = pixelScaleArcsec(guess);
  const pad = (o.searchRadiusArcmin * 60) / scale;

  // sources, brightest first
  const srcOrder = rankDesc(
    sources.length,
    (i) =>
      Number.isFinite(sources[i].x) && Number.isFinite(sources[i].y) && sources[i].flux > 0
        ? sources[i].flux
        : NaN,
  );
  // reference stars in the search area, through the approximate WCS, brightest first
  const refPix = refs.map((r) => guess.skyToPix(r.ra, r.dec));
  const inArea = (p: Point, m: number) =>
    p.x > -0.5 - m && p.y > -0.5 - m && p.x < width - 0.5 + m && p.y < height - 0.5 + m;
  const refOrder = rankDesc(refs.length, (i) => (inArea(refPix[i], pad) ? -refs[i].mag : NaN));
  if (srcOrder.length < 3 || refOrder.length < 3) {
    throw new AstrometryFailure(
      `too few usable sources (${srcOrder.length}) or reference stars (${refOrder.length})`,
      "xmatch_failed",
    );
  }

  // 1. pattern match: source pixels -> approximate-WCS pixels
  const areaRatio = ((width + 2 * pad) * (height + 2 * pad)) / (width * height);
  const verifyFrom = srcOrder.slice(0, 300).map((i) => sources[i]);
  const verifyTo = refOrder.slice(0, Math.ceil(300 * areaRatio)).map((i) => refPix[i]);
  let pattern: ReturnType<typeof matchPatterns> = null;
  // enough pairs, and far more than a random transform would find
  const significant = (m: NonNullable<typeof pattern>) =>
    m.pairs.length >= Math.max(
      o.patternMinPairs,
      2 * m.expectedRandom + 5 * Math.sqrt(m.expectedRandom),
    );
  for (const n of o.patternSources) {
    const from = srcOrder.slice(0, n).map((i) => sources[i]);
    const nRef = Math.min(o.patternMaxRefs, Math.ceil(n * areaRatio * 1.5));
    const to = refOrder.slice(0, nRef).map((i) => refPix[i]);
    const m = matchPatterns(
      from,
      to,
      {
        tolerance: o.patternTolerance,
        scaleTolerance: o.scaleTolerance,
        maxRotationDeg: o.maxRotationDeg,
        maxSide: 0.8 * Math.min(width, height) + 2,
        minSide: Math.max(10, 0.02 * Math.min(width, height)),
        verifyRadius: Math.max(2, 1.5 / scale),
      },
      verifyFrom,
      verifyTo,
    );
    if (m && (!pattern || m.pairs.length > pattern.pairs.length)) pattern = m;
    if (pattern && significant(pattern) && pattern.pairs.length >= 0.2 * n) break;
    if (srcOrder.length <= n) break;
  }
  if (!pattern || !significant(pattern)) {
    throw new AstrometryFailure(
      `no pattern match: best had ${pattern?.pairs.length ?? 0} verified pairs, ` +
        `${o.patternMinPairs} and well above the ${
          (pattern?.expectedRandom ?? 0).toFixed(1)
        } a random match gives needed`,
      "xmatch_failed",
    );
  }
  const t: Similarity = pattern.transform;
  const patternInfo = {
    pairs: pattern.pairs.length,
    votes: pattern.votes,
    rotationDeg: similarityRotationDeg(t),
    scale: similarityScale(t),
    offsetPx: Math.hypot(
      ...applySimilarity(t, width / 2, height / 2).map((v, k) =>
        v - (k === 0 ? width / 2 : height / 2)
      ) as [number, number],
    ),
  };

  // 2. a first TAN fit on the verified pattern pairs
  const verifyRefIdx = refOrder.slice(0, verifyTo.length);
  const firstMatches: Match[] = pattern.pairs.map(([i, j]) => ({
    x: verifyFrom[i].x,
    y: verifyFrom[i].y,
    ra: refs[verifyRefIdx[j]].ra,
    dec: refs[verifyRefIdx[j]].dec,
  }));
  let start: Wcs;
  try {
    start = fitTanSip(firstMatches, { order: 1, clip: o.clip }).wcs;
  } catch (err) {
    throw new AstrometryFailure(`first TAN fit failed: ${(err as Error).message}`, "xmatch_failed");
  }

  // 3. refinement: match within a shrinking radius, fit TAN-SIP with clipping
  const radii = [4, 2, 1].map((f) => f * o.matchRadiusArcsec);
  let lastFailure = "";
  let lastReason: AstrometryFailure["reason"] = "xmatch_failed";
  const tries = [...new Set(o.tries.map((n) => Math.min(n, srcOrder.length)))];
  for (const nTry of tries) {
    const used = srcOrder.slice(0, nTry);
    const from = used.map((i) => sources[i]);
    let wcs = start;
    let fit: ReturnType<typeof fitTanSip> | null = null;
    let pairs: Array<[number, number]> = [];
    let onImage: number[] = [];
    try {
      for (const radius of radii) {
        // stars on the image through the current WCS
        const proj = refs.map((r) => wcs.skyToPix(r.ra, r.dec));
        onImage = refs.map((_, j) => j).filter((j) => inArea(proj[j], 0));
        const grid = new PointGrid(onImage.map((j) => proj[j]), 8);
        const rPx = radius / pixelScaleArcsec(wcs);
        pairs = pairWithin(from, (x, y) => [x, y], grid, rPx);
        const matches: Match[] = pairs.map(([i, k]) => ({
          x: from[i].x,
          y: from[i].y,
          ra: refs[onImage[k]].ra,
          dec: refs[onImage[k]].dec,
        }));
        // the order the matches can carry: (order+1)(order+2)/2 terms + 3
        let order = o.order;
        while (order > 1 && matches.length < ((order + 1) * (order + 2)) / 2 + 3 + 5) order--;
        fit = fitTanSip(matches, {
          order,
          clip: o.clip,
          crpix: [width / 2 + 0.5, height / 2 + 0.5],
        });
        wcs = fit.wcs;
      }
    } catch (err) {
      lastFailure = `${nTry} sources: ${(err as Error).message}`;
      continue;
    }
    if (!fit) continue;
    const kept = pairs.filter((_, k) => fit!.used[k]);
    const residuals = kept.map(([i, k]) => {
      const p = fit!.wcs.pixToSky(from[i].x, from[i].y);
      const r = refs[onImage[k]];
      return angularSeparationDeg(p.ra, p.dec, r.ra, r.dec) * 3600;
    });
    const mean = residuals.reduce((s, v) => s + v, 0) / Math.max(1, residuals.length);
    const nMatched = kept.length;
    const fraction = nMatched / Math.max(1, Math.min(from.length, onImage.length));
    if (nMatched <= o.minMatches || fraction <= o.minFraction) {
      lastFailure = `${nTry} sources: ${nMatched} matched (${(100 * fraction).toFixed(1)}%), ` +
        `needs > ${o.minMatches} and > ${(100 * o.minFraction).toFixed(1)}%`;
      lastReason = "xmatch_failed";
      continue;
    }
    if (!(mean <= o.maxMeanResidualArcsec)) {
      lastFailure = `${nTry} sources: mean residual ${
        mean.toFixed(3)
      }" > ${o.maxMeanResidualArcsec}"`;
      lastReason = "big_residuals";
      continue;
    }
    return {
      wcs: fit.wcs,
      nMatched,
      fraction,
      rmsArcsec: fit.rmsArcsec,
      meanResidualArcsec: mean,
      nSourcesUsed: from.length,
      pattern: patternInfo,
      matches: kept.map(([i, k]) => [used[i], onImage[k]]),
    };
  }
  throw new AstrometryFailure(`astrometric fit failed: ${lastFailure}`, lastReason);
}
