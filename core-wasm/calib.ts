/**
 * Typed wrappers of the calibration-frame kernels of the C core (sd_core.h, section
 * "calibration frames"): per-amplifier overscan subtraction and trimming, and the
 * per-pixel sigma-clipped combination of a stack of frames.
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";

/** One amplifier for {@linkcode overscanTrim}: 0-based half-open boxes in the raw frame. */
export interface OverscanAmp {
  /** Data box in the raw frame. */
  data: { x0: number; x1: number; y0: number; y1: number };
  /** Overscan columns (read on the data's rows). */
  bias: { x0: number; x1: number };
  /** Where the data's first pixel goes in the trimmed image. */
  trim: { x0: number; y0: number };
  /** Data land reversed along x / y. @default false */
  flipX?: boolean;
  flipY?: boolean;
  /** Gain applied after subtraction (e-/ADU). @default 1 (ADU) */
  gain?: number;
}

/** Options of {@linkcode overscanTrim}. */
export interface OverscanOptions {
  /** Per-row overscan level: median or mean of the row's overscan pixels. @default "median" */
  method?: "median" | "mean";
  /** A trimmed nx x ny bias image (ADU) subtracted before the gain. @default none */
  bias?: Float32Array;
  /** Core build. @default "simd" */
  variant?: CoreVariant;
}

/**
 * Subtracts each amplifier's per-row overscan level (and a bias image), applies its
 * gain and trims: (raw - overscan - bias) x gain; returns the nx x ny image and each
 * amplifier's mean overscan level.
 */
export function overscanTrim(
  raw: ArrayLike<number>,
  rawNx: number,
  rawNy: number,
  amps: readonly OverscanAmp[],
  nx: number,
  ny: number,
  options: OverscanOptions = {},
): { image: Float32Array; levels: number[] } {
  if (raw.length !== rawNx * rawNy) throw new RangeError("raw size does not match rawNx x rawNy");
  const geom = new Int32Array(amps.length * 10);
  amps.forEach((a, i) =>
    geom.set([
      a.data.x0,
      a.data.x1,
      a.data.y0,
      a.data.y1,
      a.bias.x0,
      a.bias.x1,
      a.trim.x0,
      a.trim.y0,
      a.flipX ? 1 : 0,
      a.flipY ? 1 : 0,
    ], i * 10)
  );
  const gains = Float64Array.from(amps, (a) => a.gain ?? 1);
  if (options.bias && options.bias.length !== nx * ny) throw new RangeError("bias is not nx x ny");
  const core = getCore(options.variant);
  return core.scope((s) => {
    const pRaw = s.copyIn(raw instanceof Float32Array ? raw : Float32Array.from(raw));
    const pOut = s.f32(nx * ny);
    const pLev = s.f64(amps.length);
    core.call(
      "sd_overscan_trim",
      pRaw,
      rawNx,
      rawNy,
      s.copyIn(geom),
      s.copyIn(gains),
      s.copyIn(options.bias),
      amps.length,
      options.method === "mean" ? 1 : 0,
      pOut,
      nx,
      ny,
      pLev,
    );
    return { image: s.readF32(pOut, nx * ny), levels: Array.from(s.readF64(pLev, amps.length)) };
  });
}

/** Options of {@linkcode combineClipped}. */
export interface CombineOptions {
  /** Each frame is divided by its scale first. @default all 1 */
  scales?: readonly number[];
  /** Rejection threshold in units of 1.4826 MAD. @default 3 */
  kappa?: number;
  /** Clipping iterations. @default 3 */
  maxIter?: number;
  /** Core build. @default "simd" */
  variant?: CoreVariant;
}

/** Per-pixel sigma-clipped mean of equally sized frames, its standard error and count. */
export function combineClipped(
  frames: readonly Float32Array[],
  options: CombineOptions = {},
): { image: Float32Array; error: Float32Array; nused: Uint16Array } {
  const n = frames.length;
  if (n === 0) throw new RangeError("combineClipped: no frames");
  const npix = frames[0].length;
  if (frames.some((f) => f.length !== npix)) throw new RangeError("frames differ in size");
  if (options.scales && options.scales.length !== n) throw new RangeError("one scale per frame");
  const core = getCore(options.variant);
  return core.scope((s) => {
    const cube = s.f32(n * npix);
    frames.forEach((f, k) => core.write(cube + 4 * k * npix, f));
    const out = s.f32(npix), err = s.f32(npix), used = s.alloc(2 * npix);
    core.call(
      "sd_combine_clipped",
      cube,
      n,
      npix,
      s.copyIn(options.scales ? Float32Array.from(options.scales) : null),
      options.kappa ?? 3,
      options.maxIter ?? 3,
      out,
      err,
      used,
    );
    return {
      image: s.readF32(out, npix),
      error: s.readF32(err, npix),
      nused: core.read(Uint16Array, used, npix),
    };
  });
}
