/**
 * Typed wrappers of the simulator kernels of the C core (sd_core.h, section
 * "simulation"): Sersic galaxies convolved with a Moffat PSF, seeded noise, flat
 * fields, exposure, bleed trails, line deposits and amplifier readout.
 *
 * Image arguments are modified in place (the result is copied back into the
 * caller's array); no view into WASM memory escapes.
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";

/** Columns of one galaxy in {@linkcode simGalaxies}' params (sd_core.h SD_SIM_GAL_*). */
export const SIM_GAL_NCOL = 8;

/** One galaxy to render. */
export interface SimGalaxy {
  /** Centre (px, 0-based, pixel centres at integers). */
  x: number;
  y: number;
  /** Total flux of the rendered galaxy (image units). */
  flux: number;
  /** Sersic index, 0.2..10. */
  n: number;
  /** Half-light radius along the major axis (px). */
  re: number;
  /** Axis ratio b/a in (0, 1]. */
  q: number;
  /** Major-axis angle (radians, counter-clockwise from +x). */
  theta: number;
  /** FWHM (px) of the Moffat PSF at the galaxy. */
  fwhm: number;
}

/** Options of {@linkcode simGalaxies}. */
export interface SimGalaxyOptions {
  /** Moffat beta. @default 3 */
  beta?: number;
  /** PSF truncation radius in FWHM. @default 5 */
  psfRadius?: number;
  /** Sersic truncation radius in half-light radii. @default 5 */
  sersicRadius?: number;
  /** The PSF kernel stops where flux x psf falls below this (image units). @default 0.05 */
  wingLevel?: number;
  /** Core build. @default "simd" */
  variant?: CoreVariant;
}

function checkImage(img: Float32Array, nx: number, ny: number): void {
  if (!Number.isInteger(nx) || !Number.isInteger(ny) || nx <= 0 || ny <= 0) {
    throw new RangeError(`bad image size ${nx} x ${ny}`);
  }
  if (img.length !== nx * ny) {
    throw new RangeError(`image has ${img.length} values, expected ${nx} x ${ny}`);
  }
}

/** Adds Sersic galaxies convolved with a Moffat PSF to img (in place). */
export function simGalaxies(
  img: Float32Array,
  nx: number,
  ny: number,
  galaxies: readonly SimGalaxy[],
  options: SimGalaxyOptions = {},
): void {
  checkImage(img, nx, ny);
  if (galaxies.length === 0) return;
  const params = new Float64Array(galaxies.length * SIM_GAL_NCOL);
  galaxies.forEach((g, i) => {
    params.set([g.x, g.y, g.flux, g.n, g.re, g.q, g.theta, g.fwhm], i * SIM_GAL_NCOL);
  });
  const core = getCore(options.variant);
  core.scope((s) => {
    const pImg = s.copyIn(img);
    const pPar = s.copyIn(params);
    core.call(
      "sd_sim_galaxies",
      pImg,
      nx,
      ny,
      pPar,
      galaxies.length,
      options.beta ?? 3,
      options.psfRadius ?? 5,
      options.sersicRadius ?? 5,
      options.wingLevel ?? 0.05,
    );
    img.set(s.readF32(pImg, img.length));
  });
}

/** Replaces every value of img by a Poisson deviate of mean max(value, 0) (in place). */
export function simPoisson(
  img: Float32Array,
  seed: number,
  stream: number,
  variant?: CoreVariant,
): void {
  const core = getCore(variant);
  core.scope((s) => {
    const p = s.copyIn(img);
    core.call("sd_sim_poisson", p, img.length, seed >>> 0, stream >>> 0);
    img.set(s.readF32(p, img.length));
  });
}

/** Adds Gaussian noise of standard deviation sigma to img (in place). */
export function simGaussian(
  img: Float32Array,
  sigma: number,
  seed: number,
  stream: number,
  variant?: CoreVariant,
): void {
  const core = getCore(variant);
  core.scope((s) => {
    const p = s.copyIn(img);
    core.call("sd_sim_gaussian", p, img.length, sigma, seed >>> 0, stream >>> 0);
    img.set(s.readF32(p, img.length));
  });
}

/** Options of {@linkcode simFlat}. */
export interface SimFlatOptions {
  /**
   * Large-scale structure: coefficients of a spatial polynomial in the core's
   * normalised coordinates (1, u, u^2, .., v, uv, .., v^d). @default [1] (flat)
   */
  poly?: readonly number[];
  /** Pixel-to-pixel response rms (fraction). @default 0.01 */
  pixelRms?: number;
  /** Core build. @default "simd" */
  variant?: CoreVariant;
}

/** Degree of a spatial polynomial from its number of terms (d+1)(d+2)/2. */
export function polyDegree(terms: number): number {
  for (let d = 0; d <= 8; d++) if (((d + 1) * (d + 2)) / 2 === terms) return d;
  throw new RangeError(`${terms} is not the length of a 2-D polynomial of degree <= 8`);
}

/** A flat field: poly(u, v) x (1 + pixelRms N(0,1)), seeded by (seed, stream). */
export function simFlat(
  nx: number,
  ny: number,
  seed: number,
  stream: number,
  options: SimFlatOptions = {},
): Float32Array {
  const poly = options.poly ?? [1];
  const degree = polyDegree(poly.length);
  const core = getCore(options.variant);
  return core.scope((s) => {
    const p = s.f32(nx * ny);
    const pPoly = s.copyIn(Float64Array.from(poly));
    core.call(
      "sd_sim_flat",
      p,
      nx,
      ny,
      pPoly,
      degree,
      options.pixelRms ?? 0.01,
      seed >>> 0,
      stream >>> 0,
    );
    return s.readF32(p, nx * ny);
  });
}

/** img = (img + sky) x flat + dark, in place (flat null: 1). */
export function simExpose(
  img: Float32Array,
  flat: Float32Array | null,
  sky: number,
  dark: number,
  variant?: CoreVariant,
): void {
  if (flat && flat.length !== img.length) throw new RangeError("flat and image sizes differ");
  const core = getCore(variant);
  core.scope((s) => {
    const p = s.copyIn(img);
    core.call("sd_sim_expose", p, s.copyIn(flat), img.length, sky, dark);
    img.set(s.readF32(p, img.length));
  });
}

/**
 * Bleeds charge above fullWell along columns (in place). When flags is given, bit 4
 * (saturated) and 32 (bleed trail) are OR-ed into it.
 */
export function simBleed(
  img: Float32Array,
  nx: number,
  ny: number,
  fullWell: number,
  flags?: Uint16Array,
  variant?: CoreVariant,
): void {
  checkImage(img, nx, ny);
  if (flags && flags.length !== img.length) throw new RangeError("flags and image sizes differ");
  const core = getCore(variant);
  core.scope((s) => {
    const p = s.copyIn(img);
    const pf = s.copyIn(flags);
    core.call("sd_sim_bleed", p, nx, ny, fullWell, pf);
    img.set(s.readF32(p, img.length));
    if (flags) flags.set(core.read(Uint16Array, pf, flags.length));
  });
}

/** A line segment of charge (a cosmic-ray track or a satellite trail). */
export interface SimLine {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Charge per pixel of length. */
  flux: number;
  /** Gaussian width across the line (px, at most 10), 0 for a sharp track. */
  sigma: number;
}

/** Adds line segments to img (in place); flags, when given, get flagBits where touched. */
export function simAddLines(
  img: Float32Array,
  nx: number,
  ny: number,
  lines: readonly SimLine[],
  flags?: Uint16Array,
  flagBits = 0,
  variant?: CoreVariant,
): void {
  checkImage(img, nx, ny);
  if (lines.length === 0) return;
  const params = new Float64Array(lines.length * 6);
  lines.forEach((l, i) => params.set([l.x0, l.y0, l.x1, l.y1, l.flux, l.sigma], i * 6));
  const core = getCore(variant);
  core.scope((s) => {
    const p = s.copyIn(img);
    const pf = s.copyIn(flags);
    core.call("sd_sim_add_lines", p, nx, ny, s.copyIn(params), lines.length, pf, flagBits);
    img.set(s.readF32(p, img.length));
    if (flags) flags.set(core.read(Uint16Array, pf, flags.length));
  });
}

/** Where one amplifier's pixels go in the raw frame (0-based, half-open column ranges). */
export interface SimAmpGeometry {
  /** First column of this amplifier in the electron image. */
  srcX0: number;
  /** Its number of columns. */
  width: number;
  /** Raw columns [col0, col1) the amplifier writes (prescan, overscan and data). */
  col0: number;
  col1: number;
  /** Raw column of its first data column and raw row of the first image row. */
  dstX0: number;
  dstY0: number;
  /** Data columns written in reverse order. @default false */
  flipX?: boolean;
}

/** Electrical parameters of one amplifier's readout. */
export interface SimAmpReadout {
  /** Bias level (ADU). */
  biasLevel: number;
  /** Gain (e-/ADU). */
  gain: number;
  /** Read noise (e-). */
  readNoise: number;
  /** ADC maximum (ADU). @default 65535 */
  adcMax?: number;
  /** Additive bias per raw row (ADU), length rawNy. */
  biasRow?: Float32Array;
  /** Additive bias per raw column (ADU), length rawNx. */
  biasCol?: Float32Array;
}

/**
 * Reads one amplifier of an electron image out into raw (rawNx x rawNy, in place):
 * bias + read noise everywhere in its columns, plus electrons / gain in its data box.
 */
export function simReadout(
  electrons: Float32Array,
  nx: number,
  ny: number,
  raw: Float32Array,
  rawNx: number,
  rawNy: number,
  geom: SimAmpGeometry,
  amp: SimAmpReadout,
  seed: number,
  stream: number,
  variant?: CoreVariant,
): void {
  checkImage(electrons, nx, ny);
  checkImage(raw, rawNx, rawNy);
  if (amp.biasRow && amp.biasRow.length !== rawNy) throw new RangeError("biasRow length != rawNy");
  if (amp.biasCol && amp.biasCol.length !== rawNx) throw new RangeError("biasCol length != rawNx");
  const g = Int32Array.from([
    geom.srcX0,
    geom.width,
    geom.col0,
    geom.col1,
    geom.dstX0,
    geom.dstY0,
    geom.flipX ? 1 : 0,
  ]);
  const core = getCore(variant);
  core.scope((s) => {
    const pe = s.copyIn(electrons);
    const pr = s.copyIn(raw);
    core.call(
      "sd_sim_readout",
      pe,
      nx,
      ny,
      s.copyIn(g),
      pr,
      rawNx,
      rawNy,
      s.copyIn(amp.biasRow),
      s.copyIn(amp.biasCol),
      amp.biasLevel,
      amp.gain,
      amp.readNoise,
      amp.adcMax ?? 65535,
      seed >>> 0,
      stream >>> 0,
    );
    raw.set(s.readF32(pr, raw.length));
  });
}
