/**
 * PSF modelling in the manner of PSFEx: star selection on the stellar locus, a
 * pixel-basis PSF varying over the CCD as a polynomial of (x, y), evaluation at any
 * position with a sub-pixel shift, FWHM of the model, and PSF photometry (fixed
 * positions, or positions fitted by Gauss-Newton) with errors from the weight map.
 *
 * The model is a plain Float32Array (sd_core.h, "PSF model layout"): a 16-value
 * header then `nterms` basis images of size x size, so it can be written to FITS as is.
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";
import { f64, imageIn, type NoisyImage } from "./photometry.ts";

/** Length of the model header (sd_core.h SD_PSF_HEADER). */
export const PSF_HEADER = 16;

/** A fitted PSF model. */
export interface PsfModel {
  /** The serialised model: header + basis images (see the module doc). */
  data: Float32Array;
  /** Side of the basis images, grid pixels (odd). */
  size: number;
  /** Grid pixels per image pixel. */
  oversample: number;
  /** Degree of the spatial polynomial actually fitted (lowered when stars are few). */
  degree: number;
  /** Number of basis images, (degree + 1)(degree + 2) / 2. */
  nterms: number;
  /** FWHM (image px) at the image centre. */
  fwhm: number;
  /** Stars kept in the fit. */
  nUsed: number;
  /** Which of the given stars were kept (1) or rejected / unusable (0). */
  used: Uint8Array;
}

/** Options of {@linkcode selectPsfStars}. */
export interface PsfSelectOptions {
  /** Minimum S/N. @default 20 */
  snrMin?: number;
  /** Keep |fwhm / mode - 1| <= fwhmTol. @default 0.2 */
  fwhmTol?: number;
  /** Ignore sources with FWHM below this (px; cosmic rays). @default 1 */
  fwhmMin?: number;
  /** Peak at or above this is saturated; 0 = no limit. @default 0 */
  saturation?: number;
  /** Keep at most this many stars, highest S/N first; 0 = all. @default 0 */
  maxStars?: number;
  /**
   * Reject a star with a neighbour brighter than isolationFrac x its flux within this radius
   * (px); needs `positions`. Neighbours inside the PSF stamp bias the model's wings, so about
   * half the PSF size plus 2 FWHM is a good value. 0 = off. @default 0
   */
  isolation?: number;
  /** Flux fraction above which a neighbour counts. @default 0.01 */
  isolationFrac?: number;
  /** Positions and fluxes of all the sources (same order as snr), for isolation. */
  positions?: { x: ArrayLike<number>; y: ArrayLike<number>; flux: ArrayLike<number> };
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/**
 * Selects PSF stars: S/N, no flags (blended, truncated, saturated, masked sources must be
 * flagged), peak below saturation, FWHM near the mode of the candidates' FWHM, and
 * optionally isolated from brighter-than-isolationFrac neighbours.
 */
export function selectPsfStars(
  snr: ArrayLike<number>,
  fwhm: ArrayLike<number>,
  peak: ArrayLike<number> | null,
  flags: Int32Array | null,
  options: PsfSelectOptions = {},
): { selected: Uint8Array; fwhmMode: number } {
  const n = snr.length;
  if (flags && flags.length !== n) throw new RangeError(`selectPsfStars: ${flags.length} flags`);
  const opts = new Float64Array([
    options.snrMin ?? 20,
    options.fwhmTol ?? 0.2,
    options.fwhmMin ?? 1,
    options.saturation ?? 0,
    options.maxStars ?? 0,
    options.isolation ?? 0,
    options.isolationFrac ?? 0.01,
  ]);
  const pos = options.positions;
  const core = getCore(options.variant);
  return core.scope((s) => {
    const sel = s.alloc(Math.max(1, n)), mode = s.f64(1);
    core.call(
      "sd_psf_select",
      s.copyIn(f64("snr", snr, n)),
      s.copyIn(f64("fwhm", fwhm, n)),
      s.copyIn(peak ? f64("peak", peak, n) : null),
      s.copyIn(flags),
      s.copyIn(pos ? f64("x", pos.x, n) : null),
      s.copyIn(pos ? f64("y", pos.y, n) : null),
      s.copyIn(pos ? f64("flux", pos.flux, n) : null),
      n,
      s.copyIn(opts),
      sel,
      mode,
    );
    return { selected: core.read(Uint8Array, sel, n), fwhmMode: s.readF64(mode, 1)[0] };
  });
}

/** Options of {@linkcode fitPsf}. */
export interface PsfFitOptions {
  /** Side of the basis images (grid px, odd); "auto" = 5 x fwhm x oversample, odd, >= 11. @default 25 */
  size?: number | "auto";
  /** Grid pixels per image pixel. @default 1 */
  oversample?: number;
  /** Degree of the spatial polynomial. @default 2 */
  degree?: number;
  /** Stellar FWHM (px), used for size "auto". @default 3 */
  fwhm?: number;
  /** Stars whose residual exceeds median + k * 1.4826 MAD are rejected. @default 4 */
  rejectSigma?: number;
  /** Fit / reject cycles. @default 3 */
  iterations?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Reads the header of a serialised model. */
export function psfModelFromData(data: Float32Array, used?: Uint8Array): PsfModel {
  if (data.length < PSF_HEADER || data[0] !== 1) throw new RangeError("not a PSF model (version)");
  return {
    data,
    size: data[1],
    oversample: data[2],
    degree: data[3],
    nterms: data[4],
    fwhm: data[9],
    nUsed: data[10],
    used: used ?? new Uint8Array(0),
  };
}

/**
 * Fits a PSF model from stars at (x[i], y[i]) (good centroids, e.g. windowed). Stars near the
 * edge or with masked pixels in their stamp are not used.
 */
export function fitPsf(
  image: NoisyImage,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: PsfFitOptions = {},
): PsfModel {
  const n = x.length;
  const fwhm = options.fwhm ?? 3;
  const os = options.oversample ?? 1;
  const degree = options.degree ?? 2;
  let size = options.size === "auto" ? Math.ceil(5 * fwhm * os) : options.size ?? 25;
  if (options.size === "auto") {
    if (size % 2 === 0) size++;
    size = Math.max(size, 11);
  }
  const opts = new Float64Array([
    size,
    os,
    degree === 0 ? -1 : degree,
    fwhm,
    options.rejectSigma ?? 4,
    options.iterations ?? 3,
  ]);
  const core = getCore(options.variant);
  return core.scope((s) => {
    const lenPtr = s.i32(1);
    core.call("sd_psf_model_length", size, degree, lenPtr);
    const len = s.readI32(lenPtr, 1)[0];
    const [img, w, fl] = imageIn(s, "fitPsf", image);
    const model = s.f32(len), used = s.alloc(Math.max(1, n));
    core.call(
      "sd_psf_fit",
      img,
      w,
      fl,
      image.width,
      image.height,
      s.copyIn(f64("x", x, n)),
      s.copyIn(f64("y", y, n)),
      n,
      s.copyIn(opts),
      model,
      len,
      used,
    );
    const data = s.readF32(model, len);
    const nterms = data[4];
    return psfModelFromData(
      data.slice(0, PSF_HEADER + nterms * size * size),
      core.read(Uint8Array, used, n),
    );
  });
}

/**
 * The PSF at image position (x, y) on a side x side stamp (odd) centred on pixel
 * (round(x), round(y)); normalised so the whole PSF sums to 1.
 */
export function psfRender(
  model: PsfModel,
  x: number,
  y: number,
  side: number,
  variant?: CoreVariant,
): Float32Array {
  const core = getCore(variant);
  return core.scope((s) => {
    const out = s.f32(side * side);
    core.call("sd_psf_render", s.copyIn(model.data), model.data.length, x, y, side, out);
    return s.readF32(out, side * side);
  });
}

/** FWHM (image px) of the PSF at (x, y). */
export function psfFwhm(model: PsfModel, x: number, y: number, variant?: CoreVariant): number {
  const core = getCore(variant);
  return core.scope((s) => {
    const out = s.f64(1);
    core.call("sd_psf_fwhm", s.copyIn(model.data), model.data.length, x, y, out);
    return s.readF64(out, 1)[0];
  });
}

/** Options of {@linkcode psfPhotometry}. */
export interface PsfPhotOptions {
  /** Pixels within this radius (px) of the source enter the fit. @default max(3, 1.5 * model FWHM) */
  fitRadius?: number;
  /** Fit x, y too (Gauss-Newton) instead of fixed positions. @default false */
  fitPosition?: boolean;
  /** Fit a constant local background. @default true */
  fitBackground?: boolean;
  /** e-/ADU for the Poisson term of the weights; 0 = none. @default 0 */
  gain?: number;
  /** Flag bits that mask a pixel. @default 0xFFFF */
  maskBits?: number;
  /** Gauss-Newton iterations. @default 20 */
  maxIter?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** PSF photometry of n sources (sd_core.h SD_PSFPHOT_*). */
export interface PsfPhotometry {
  flux: Float64Array;
  fluxErr: Float64Array;
  /** Fitted background per pixel (0 when not fitted). */
  bkg: Float64Array;
  /** Position used (fitted or given). */
  x: Float64Array;
  y: Float64Array;
  /** Position errors (NaN for fixed positions). */
  xErr: Float64Array;
  yErr: Float64Array;
  /** Reduced chi^2 of the fit. */
  chi2: Float64Array;
  /** Pixels in the fit. */
  npix: Float64Array;
  /** PhotFlags bits. */
  flags: Int32Array;
}

const PHOT_COLUMNS = [
  "flux",
  "fluxErr",
  "bkg",
  "x",
  "y",
  "xErr",
  "yErr",
  "chi2",
  "npix",
  "flags",
] as const;

/**
 * PSF photometry: weighted linear least squares of flux (and background) at fixed positions,
 * or Gauss-Newton on x, y, flux (and background). Weights from image.weight (uniform when
 * absent: errors then scaled by the reduced chi^2) plus the Poisson term flux * psf / gain.
 */
export function psfPhotometry(
  image: NoisyImage,
  model: PsfModel,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: PsfPhotOptions = {},
): PsfPhotometry {
  const n = x.length;
  const ncol = PHOT_COLUMNS.length;
  const opts = new Float64Array([
    options.fitRadius ?? 0,
    options.fitPosition ? 1 : 0,
    options.fitBackground === false ? -1 : 1,
    options.gain ?? 0,
    options.maskBits ?? 0xffff,
    options.maxIter ?? 20,
  ]);
  const core = getCore(options.variant);
  const raw = core.scope((s) => {
    const [img, w, fl] = imageIn(s, "psfPhotometry", image);
    const out = s.f64(Math.max(1, n) * ncol);
    core.call(
      "sd_psf_phot",
      img,
      w,
      fl,
      image.width,
      image.height,
      s.copyIn(model.data),
      model.data.length,
      s.copyIn(f64("x", x, n)),
      s.copyIn(f64("y", y, n)),
      n,
      s.copyIn(opts),
      out,
    );
    return s.readF64(out, n * ncol);
  });
  const result: Record<string, Float64Array | Int32Array> = {};
  PHOT_COLUMNS.forEach((name, c) => {
    const col = name === "flags" ? new Int32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = raw[i * ncol + c];
    result[name] = col;
  });
  return result as unknown as PsfPhotometry;
}
