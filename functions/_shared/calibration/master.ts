/**
 * Master calibration frames from raw calibration exposures of one section:
 *
 * - master bias ("zero"): each bias frame is overscan-subtracted (per amplifier,
 *   per row) and trimmed, in ADU; the frames are combined per pixel by a
 *   sigma-clipped mean. It holds what the overscan does not remove (the fixed
 *   2-D bias pattern), so preprocessing subtracts it from overscan-subtracted
 *   frames, in ADU, before applying the gain.
 * - master flat: each flat frame is overscan-subtracted, trimmed, bias-subtracted
 *   and multiplied by each amplifier's gain (electrons, so amplifiers with
 *   different gains join without a step), divided by its own sigma-clipped median
 *   and combined by a sigma-clipped mean; the result is normalised to median 1.
 *
 * All pixel work runs in the C core (sd_overscan_trim, sd_combine_clipped,
 * sd_stats_clipped).
 *
 * @module
 */
import { combineClipped, overscanTrim, sigmaClippedStats } from "../../../core-wasm/mod.ts";
import type { SectionLayout } from "../instruments/instrument.ts";

/** One raw calibration frame of a section: its pixels (rawNx x rawNy) and layout. */
export interface RawFrame {
  raw: ArrayLike<number>;
  layout: SectionLayout;
}

/** A combined frame. */
export interface MasterFrame {
  /** Trimmed image (nx x ny): ADU for a bias, unit median for a flat. */
  image: Float32Array;
  /** Standard error of each pixel's combined value (same units). */
  error: Float32Array;
  nx: number;
  ny: number;
  /** Number of input frames. */
  nFrames: number;
  /** Clipped median and standard deviation of the image. */
  median: number;
  std: number;
}

/** Options of {@linkcode masterBias} and {@linkcode masterFlat}. */
export interface CombineFramesOptions {
  /** Rejection threshold (sigma, from the MAD). @default 3 */
  kappa?: number;
  /** Clipping iterations. @default 3 */
  maxIter?: number;
  /** Per-row overscan level: "median" or "mean" of the overscan columns. @default "median" */
  overscan?: "median" | "mean";
}

/**
 * Overscan-subtracts and trims one raw frame with its layout, subtracts a master
 * bias (ADU) when given: ADU, or electrons when `electrons` (each amplifier's gain
 * applied after the bias).
 */
export function trimFrame(
  frame: RawFrame,
  electrons: boolean,
  overscan: "median" | "mean" = "median",
  bias?: Float32Array,
): { image: Float32Array; levels: number[] } {
  const lay = frame.layout;
  return overscanTrim(
    frame.raw,
    lay.rawNx,
    lay.rawNy,
    lay.amps.map((a) => ({
      data: a.data,
      bias: { x0: a.bias.x0, x1: a.bias.x1 },
      trim: { x0: a.trim.x0, y0: a.trim.y0 },
      flipX: a.flipX,
      flipY: a.flipY,
      gain: electrons ? a.gain : 1,
    })),
    lay.nx,
    lay.ny,
    { method: overscan, bias },
  );
}

function checkFrames(frames: readonly RawFrame[], what: string): SectionLayout {
  if (frames.length < 2) {
    throw new RangeError(`${what} needs at least 2 frames, got ${frames.length}`);
  }
  const lay = frames[0].layout;
  for (const f of frames) {
    if (f.layout.id !== lay.id || f.layout.nx !== lay.nx || f.layout.ny !== lay.ny) {
      throw new RangeError(`${what}: frames of different sections or sizes`);
    }
  }
  return lay;
}

function finish(
  r: { image: Float32Array; error: Float32Array },
  lay: SectionLayout,
  n: number,
): MasterFrame {
  const s = sigmaClippedStats(r.image);
  return { ...r, nx: lay.nx, ny: lay.ny, nFrames: n, median: s.median, std: s.std };
}

/** Combines bias frames of one section into a master bias (ADU, overscan subtracted). */
export function masterBias(
  frames: readonly RawFrame[],
  options: CombineFramesOptions = {},
): MasterFrame {
  const lay = checkFrames(frames, "masterBias");
  const trimmed = frames.map((f) => trimFrame(f, false, options.overscan).image);
  const r = combineClipped(trimmed, { kappa: options.kappa, maxIter: options.maxIter });
  return finish(r, lay, frames.length);
}

/**
 * Combines flat frames of one section into a master flat of median 1, after
 * subtracting a master bias (ADU; null to skip) and applying the gains.
 */
export function masterFlat(
  frames: readonly RawFrame[],
  bias: MasterFrame | null,
  options: CombineFramesOptions = {},
): MasterFrame {
  const lay = checkFrames(frames, "masterFlat");
  if (bias && (bias.nx !== lay.nx || bias.ny !== lay.ny)) {
    throw new RangeError("masterFlat: the master bias has another size");
  }
  const scales: number[] = [];
  const trimmed = frames.map((f) => {
    const e = trimFrame(f, true, options.overscan, bias?.image).image;
    scales.push(sigmaClippedStats(e).median);
    return e;
  });
  if (scales.some((s) => !(s > 0))) throw new RangeError("masterFlat: a flat has no signal");
  const r = combineClipped(trimmed, { scales, kappa: options.kappa, maxIter: options.maxIter });
  const med = sigmaClippedStats(r.image).median;
  // one more pass through the combiner: a single frame of weight 1 scaled by the median
  const image = combineClipped([r.image], { scales: [med] }).image;
  const error = combineClipped([r.error], { scales: [med] }).image;
  return finish({ image, error }, lay, frames.length);
}
