/**
 * Weighted 2-D elliptical Gaussian fit to a stamp (sd_gauss_fit): amplitude, centre,
 * major/minor widths, angle and a constant background, by Levenberg-Marquardt.
 *
 * @module
 */
import { checkImage, type CoreVariant, getCore } from "./_module.ts";

/** Parameters of an elliptical Gaussian plus background. */
export interface GaussParams {
  /** Peak amplitude above the background. */
  amplitude: number;
  /** Centre, pixels (0-based, pixel centres at integers). */
  x: number;
  y: number;
  /** Gaussian sigma along the major axis, pixels (>= sigmaMinor). */
  sigmaMajor: number;
  /** Gaussian sigma along the minor axis, pixels. */
  sigmaMinor: number;
  /** Major-axis angle, radians counter-clockwise from +x, in (-pi/2, pi/2]. */
  theta: number;
  /** Constant background. */
  background: number;
}

/** Result of {@linkcode gaussFit}. */
export interface GaussFit extends GaussParams {
  /** 1-sigma errors from the inverse normal matrix (weights as inverse variances); NaN when singular. */
  errors: GaussParams;
  /** Sum of weight x residual^2 over the pixels used. */
  chi2: number;
  /** Pixels used - 7. */
  ndof: number;
  /** Levenberg-Marquardt steps tried. */
  iterations: number;
  /** True when chi^2 stopped decreasing (relative change < 1e-9) before maxIter. */
  converged: boolean;
}

/** Options of {@linkcode gaussFit}. */
export interface GaussFitOptions {
  /** Inverse-variance weights; pixels with weight <= 0 are not used. @default all 1 */
  weight?: Float32Array;
  /** Pixel flags; pixels with (flags & flagMask) != 0 are not used. @default none */
  flags?: Uint16Array;
  /** Flag bits that exclude a pixel. @default 0xFFFF */
  flagMask?: number;
  /** Starting point. @default estimated from the stamp (border median, peak, half-maximum area) */
  init?: GaussParams;
  /** Most Levenberg-Marquardt steps. @default 100 */
  maxIter?: number;
  /** Core build. @default "simd" */
  variant?: CoreVariant;
}

const ORDER = [
  "amplitude",
  "x",
  "y",
  "sigmaMajor",
  "sigmaMinor",
  "theta",
  "background",
] as const;

function toParams(v: Float64Array): GaussParams {
  const out = {} as Record<string, number>;
  ORDER.forEach((k, i) => (out[k] = v[i]));
  return out as unknown as GaussParams;
}

/**
 * Fits an elliptical Gaussian plus constant background to a width x height stamp
 * (see sd_gauss_fit in sd_core.h). Throws CoreError SD_ERR_EMPTY with fewer than 8
 * usable pixels.
 */
export function gaussFit(
  stamp: Float32Array,
  width: number,
  height: number,
  options: GaussFitOptions = {},
): GaussFit {
  checkImage("gaussFit", stamp, width, height);
  if (options.weight) checkImage("gaussFit weight", options.weight, width, height);
  if (options.flags) checkImage("gaussFit flags", options.flags, width, height);
  const core = getCore(options.variant);
  return core.scope((s) => {
    const img = s.copyIn(stamp);
    const w = s.copyIn(options.weight);
    const f = s.copyIn(options.flags);
    const init = options.init ? s.copyIn(Float64Array.from(ORDER, (k) => options.init![k])) : 0;
    const p = s.f64(7), e = s.f64(7), st = s.f64(4);
    core.call(
      "sd_gauss_fit",
      img,
      w,
      f,
      width,
      height,
      options.flagMask ?? 0xffff,
      init,
      options.maxIter ?? 100,
      p,
      e,
      st,
    );
    const stats = s.readF64(st, 4);
    return {
      ...toParams(s.readF64(p, 7)),
      errors: toParams(s.readF64(e, 7)),
      chi2: stats[0],
      ndof: stats[1],
      iterations: stats[2],
      converged: stats[3] === 1,
    };
  });
}
