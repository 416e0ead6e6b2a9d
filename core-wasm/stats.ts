/**
 * Robust statistics: sigma-clipped mean, median, standard deviation, MAD and mode.
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";

/** Options of {@linkcode sigmaClippedStats}. */
export interface ClipOptions {
  /** Flags per value; a value is ignored when (mask & maskBits) != 0. */
  mask?: Uint16Array;
  /** Mask bits that exclude a value. @default 0xFFFF */
  maskBits?: number;
  /** Lower clipping limit, in standard deviations below the median. @default 3 */
  kappaLow?: number;
  /** Upper clipping limit, in standard deviations above the median. @default 3 */
  kappaHigh?: number;
  /** Maximum clipping iterations (0: none). @default 5 */
  maxIter?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Result of {@linkcode sigmaClippedStats}. */
export interface ClippedStats {
  mean: number;
  median: number;
  /** Population standard deviation of the kept values. */
  std: number;
  /** Median absolute deviation from the median (unscaled; x 1.4826 estimates sigma). */
  mad: number;
  /** 2.5 median - 1.5 mean where |mean - median| < 0.3 std, else the median (SExtractor). */
  mode: number;
  /** Values kept after clipping. */
  nUsed: number;
  /** Clipping iterations done. */
  nIter: number;
}

/**
 * Sigma-clipped statistics of the finite, unmasked values: each iteration keeps
 * the values within [median - kappaLow std, median + kappaHigh std].
 * Throws CoreError SD_ERR_EMPTY when no value is usable.
 */
export function sigmaClippedStats(data: Float32Array, options: ClipOptions = {}): ClippedStats {
  const { mask, maskBits = 0xffff, kappaLow = 3, kappaHigh = 3, maxIter = 5 } = options;
  if (mask && mask.length !== data.length) {
    throw new RangeError(`sigmaClippedStats: mask has ${mask.length} values, data ${data.length}`);
  }
  const core = getCore(options.variant);
  const r = core.scope((s) => {
    const out = s.f64(7);
    core.call(
      "sd_stats_clipped",
      s.copyIn(data),
      s.copyIn(mask),
      data.length,
      maskBits,
      kappaLow,
      kappaHigh,
      maxIter,
      out,
    );
    return s.readF64(out, 7);
  });
  return {
    mean: r[0],
    median: r[1],
    std: r[2],
    mad: r[3],
    mode: r[4],
    nUsed: r[5],
    nIter: r[6],
  };
}
