/**
 * Lanczos-3 resampling of an image, its weight and its flags through a pixel -> pixel map
 * evaluated by the caller on a coarse grid (e.g. WCS(ref)^-1 o WCS(new)).
 *
 * @module
 */
import { checkImage, type CoreVariant, getCore } from "./_module.ts";

/** Flag bit set on output pixels that fall outside the input image (sd_core.h). */
export const FLAG_OUT_OF_BOUNDS = 8;

/** A map from output pixels to input pixels, sampled on a gridWidth x gridHeight grid. */
export interface PixelMap {
  /** Input x of each node, row-major; node (i, j) is output pixel
   * (i (width-1)/(gridWidth-1), j (height-1)/(gridHeight-1)). */
  gridX: Float64Array;
  /** Input y of each node. */
  gridY: Float64Array;
  gridWidth: number;
  gridHeight: number;
}

/**
 * Samples fn (output pixel -> input pixel) on an n x n grid over an output image of
 * width x height, as {@linkcode resampleLanczos3} expects.
 *
 * @param n Nodes per side (>= 2). @default 33
 */
export function samplePixelMap(
  width: number,
  height: number,
  fn: (x: number, y: number) => [number, number],
  n = 33,
): PixelMap {
  const gridX = new Float64Array(n * n), gridY = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const [X, Y] = fn((i * (width - 1)) / (n - 1), (j * (height - 1)) / (n - 1));
      gridX[j * n + i] = X;
      gridY[j * n + i] = Y;
    }
  }
  return { gridX, gridY, gridWidth: n, gridHeight: n };
}

/** Input of {@linkcode resampleLanczos3}. */
export interface ResampleInput {
  data: Float32Array;
  /** Inverse-variance weights; pixels with weight 0 are not used. */
  weight?: Float32Array;
  /** Flags per pixel, carried by OR over the 2 x 2 pixels around each sample point. */
  flags?: Uint16Array;
  width: number;
  height: number;
}

/** Options of {@linkcode resampleLanczos3}. */
export interface ResampleOptions {
  /** Multiply values by the Jacobian of the map (surface brightness -> flux per pixel). @default false */
  fluxConserve?: boolean;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** A resampled image. */
export interface Resampled {
  data: Float32Array;
  /** Resampled weights (0 out of bounds). */
  weight: Float32Array;
  /** Carried flags, plus {@linkcode FLAG_OUT_OF_BOUNDS}. */
  flags: Uint16Array;
  width: number;
  height: number;
}

/** Resamples input onto a width x height grid through map (see sd_resample_lanczos3). */
export function resampleLanczos3(
  input: ResampleInput,
  map: PixelMap,
  width: number,
  height: number,
  options: ResampleOptions = {},
): Resampled {
  checkImage("resampleLanczos3", input.data, input.width, input.height);
  if (input.weight) checkImage("resampleLanczos3 weight", input.weight, input.width, input.height);
  if (input.flags) checkImage("resampleLanczos3 flags", input.flags, input.width, input.height);
  checkImage("resampleLanczos3 grid", map.gridX, map.gridWidth, map.gridHeight);
  checkImage("resampleLanczos3 grid", map.gridY, map.gridWidth, map.gridHeight);
  checkImage("resampleLanczos3 output", { length: width * height }, width, height);
  const core = getCore(options.variant);
  const n = width * height;
  return core.scope((s) => {
    const out = s.f32(n), ow = s.f32(n), of = s.alloc(2 * n);
    core.call(
      "sd_resample_lanczos3",
      s.copyIn(input.data),
      s.copyIn(input.weight),
      s.copyIn(input.flags),
      input.width,
      input.height,
      s.copyIn(map.gridX),
      s.copyIn(map.gridY),
      map.gridWidth,
      map.gridHeight,
      width,
      height,
      options.fluxConserve ? 1 : 0,
      out,
      ow,
      of,
    );
    return {
      data: s.readF32(out, n),
      weight: s.readF32(ow, n),
      flags: core.read(Uint16Array, of, n),
      width,
      height,
    };
  });
}
