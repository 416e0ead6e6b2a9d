/**
 * Per-source measurement: windowed centroid (adaptive Gaussian-weighted moments,
 * SExtractor XWIN/YWIN style), shape (a, b, theta), FWHM, peak, isophotal flux
 * (with a segmentation map), Kron radius and Kron flux, local annulus background.
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";
import { f64, imageIn, type NoisyImage } from "./photometry.ts";

/** Options of {@linkcode measureSources}. */
export interface MeasureOptions {
  /** Label map (width * height); the isophotal flux, peak and first moments use the source's segment. */
  seg?: Int32Array;
  /** Segment label of each source; without it source i has label i + 1. */
  ids?: Int32Array;
  /** e-/ADU for Poisson errors; 0 = none. @default 0 */
  gain?: number;
  /** Local background annulus inner radius (px). @default 0 */
  annulusIn?: number;
  /** Local background annulus outer radius (px); 0 = none (the image is background-subtracted). @default 0 */
  annulusOut?: number;
  /** Flag bits that mask a pixel. @default 0xFFFF */
  maskBits?: number;
  /** Radius (px) of the region for the peak and moments without a segment map. @default 8 */
  radius?: number;
  /** Initial window sigma (px) of the adaptive windowed moments. @default 1.5 */
  winSigma?: number;
  /** Kron aperture = kronFact * kronRadius (in units of a, b). @default 2.5 */
  kronFact?: number;
  /** Minimum Kron aperture, in units of a and b. @default 3.5 */
  kronMin?: number;
  /** Iterations of the windowed centroid. @default 20 */
  maxIter?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Measurements of n sources, one array per quantity (sd_core.h SD_MEAS_*). */
export interface Measurements {
  /** Windowed centroid (XWIN, YWIN), px. */
  x: Float64Array;
  y: Float64Array;
  /** Semi-axes (px, 1-sigma of the adaptive Gaussian moments) and angle (rad, from +x). */
  a: Float64Array;
  b: Float64Array;
  theta: Float64Array;
  /** Gaussian-equivalent FWHM (px) = 2.3548 sqrt(a b) (a Moffat beta 3 reads ~15% above its FWHM; psfFwhm gives the true one). */
  fwhm: Float64Array;
  /** Highest background-subtracted pixel of the region. */
  peak: Float64Array;
  /** Isophotal flux and error (NaN without a segment map) and segment pixel count. */
  fluxIso: Float64Array;
  fluxIsoErr: Float64Array;
  npixIso: Float64Array;
  /** Kron radius in units of a, b (NaN when undefined). */
  kronRadius: Float64Array;
  /** Flux in the ellipse max(kronFact kronRadius, kronMin) (a, b), and its error. */
  fluxKron: Float64Array;
  fluxKronErr: Float64Array;
  /** Local background per pixel (0 without an annulus). */
  bkg: Float64Array;
  /** PhotFlags bits. */
  flags: Int32Array;
  /** Unweighted first moments over the region. */
  xMom: Float64Array;
  yMom: Float64Array;
}

const NCOL = 17;
const COLUMNS = [
  "x",
  "y",
  "a",
  "b",
  "theta",
  "fwhm",
  "peak",
  "fluxIso",
  "fluxIsoErr",
  "npixIso",
  "kronRadius",
  "fluxKron",
  "fluxKronErr",
  "bkg",
  "flags",
  "xMom",
  "yMom",
] as const;

/** Measures sources starting from positions (x[i], y[i]) (see sd_measure in sd_core.h). */
export function measureSources(
  image: NoisyImage,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: MeasureOptions = {},
): Measurements {
  const n = x.length;
  if (options.seg && options.seg.length !== image.width * image.height) {
    throw new RangeError(`measureSources: seg has ${options.seg.length} values`);
  }
  if (options.ids && options.ids.length !== n) {
    throw new RangeError(`measureSources: ${options.ids.length} ids for ${n} sources`);
  }
  const opts = new Float64Array([
    options.gain ?? 0,
    options.annulusIn ?? 0,
    options.annulusOut ?? 0,
    options.maskBits ?? 0xffff,
    options.radius ?? 8,
    options.winSigma ?? 1.5,
    options.kronFact ?? 2.5,
    options.kronMin ?? 3.5,
    options.maxIter ?? 20,
  ]);
  const core = getCore(options.variant);
  const raw = core.scope((s) => {
    const [img, w, fl] = imageIn(s, "measureSources", image);
    const out = s.f64(Math.max(1, n) * NCOL);
    core.call(
      "sd_measure",
      img,
      w,
      fl,
      s.copyIn(options.seg),
      image.width,
      image.height,
      s.copyIn(f64("x", x, n)),
      s.copyIn(f64("y", y, n)),
      s.copyIn(options.ids),
      n,
      s.copyIn(opts),
      out,
    );
    return s.readF64(out, n * NCOL);
  });
  const result: Record<string, Float64Array | Int32Array> = {};
  COLUMNS.forEach((name, c) => {
    const col = name === "flags" ? new Int32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = raw[i * NCOL + c];
    result[name] = col;
  });
  return result as unknown as Measurements;
}
