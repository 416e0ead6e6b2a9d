/**
 * Source detection as SExtractor/SEP do it: filtering with a small kernel,
 * thresholding in units of the noise, 8-connected labelling, minimum area and
 * multi-threshold deblending, with per-object isophotal measurements.
 *
 * @module
 */
import {
  checkImage,
  CoreError,
  type CoreVariant,
  type FloatImage,
  getCore,
  type Scope,
} from "./_module.ts";

/** Object flag bits (sd_core.h SD_OBJ_*). */
export const OBJ_FLAGS = {
  /** Split from a blend by deblending. */
  BLENDED: 1,
  /** Touches the image edge. */
  TRUNCATED: 2,
  /** Has a pixel >= saturate, or flagged with satBits. */
  SATURATED: 4,
  /** Has a masked pixel in or next to it. */
  MASKED: 8,
  /** Singular second moments (a, b, theta from a widened fit). */
  SINGULAR: 16,
} as const;

/** A small convolution kernel. */
export interface Kernel {
  /** width * height weights, row-major. */
  data: Float32Array;
  /** Odd width, at most 31. */
  width: number;
  /** Odd height, at most 31. */
  height: number;
}

/** SEP's (and SExtractor's default.conv) 3x3 detection filter. */
export const DEFAULT_KERNEL: Kernel = {
  data: new Float32Array([1, 2, 1, 2, 4, 2, 1, 2, 1]),
  width: 3,
  height: 3,
};

/** Options of {@linkcode detect}. */
export interface DetectOptions {
  /** Per-pixel noise rms (width * height); without it, noiseConst applies everywhere. */
  noise?: Float32Array;
  /** Noise rms when no noise map is given. @default 1 */
  noiseConst?: number;
  /** Flags per pixel; masked pixels ((mask & maskBits) != 0) are never detected. */
  mask?: Uint16Array;
  /** Mask bits that exclude a pixel. @default 0xFFFF */
  maskBits?: number;
  /** Mask bits that mark a pixel saturated (flag only). @default 0x0004 */
  satBits?: number;
  /** Pixel value at or above which a pixel is saturated; 0 for none. @default 0 */
  saturate?: number;
  /** Detection filter (normalised by its sum); null for none. @default DEFAULT_KERNEL */
  kernel?: Kernel | null;
  /** Threshold in units of the noise, applied to the filtered image. @default 1.5 */
  thresh?: number;
  /** Minimum number of pixels above threshold. @default 5 */
  minArea?: number;
  /** Number of deblending sub-thresholds (1..256). @default 32 */
  deblendNThresh?: number;
  /** Minimum flux fraction of a deblended branch; 1 disables deblending. @default 0.005 */
  deblendCont?: number;
  /** Also return the segmentation map. @default false */
  segmap?: boolean;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** One detected object; coordinates in pixels, (0, 0) the centre of the first pixel. */
export interface DetectedObject {
  /** Pixels above threshold. */
  npix: number;
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
  /** Barycentre weighted by the filtered values (a deblended child: of its own branch). */
  x: number;
  y: number;
  /** Second moments about the barycentre (pixel^2). */
  x2: number;
  y2: number;
  xy: number;
  /** Semi-major and semi-minor rms axes (pixels). */
  a: number;
  b: number;
  /** Position angle of a, radians from +x towards +y. */
  theta: number;
  /** Isophotal flux: sum of the unfiltered pixels. */
  flux: number;
  /** Sum of the filtered pixels. */
  cflux: number;
  /** Highest unfiltered pixel and its position. */
  peak: number;
  xpeak: number;
  ypeak: number;
  /** Highest filtered pixel. */
  cpeak: number;
  /** Detection threshold at the filtered peak. */
  thresh: number;
  /** OBJ_FLAGS bits. */
  flags: number;
  /** Index of the first object split from the same blend, or -1. */
  parent: number;
}

/** Result of {@linkcode detect}. */
export interface Detection {
  objects: DetectedObject[];
  /** 1 + object index per pixel, 0 for background (when options.segmap). */
  segmap?: Int32Array;
}

const COLUMNS = [
  "npix",
  "xmin",
  "xmax",
  "ymin",
  "ymax",
  "x",
  "y",
  "x2",
  "y2",
  "xy",
  "a",
  "b",
  "theta",
  "flux",
  "cflux",
  "peak",
  "xpeak",
  "ypeak",
  "cpeak",
  "thresh",
  "flags",
  "parent",
] as const satisfies readonly (keyof DetectedObject)[];
const NCOLS = COLUMNS.length;

function checkKernel(kernel: Kernel): void {
  const { width, height, data } = kernel;
  if (width % 2 !== 1 || height % 2 !== 1 || width > 31 || height > 31) {
    throw new RangeError(`kernel size ${width} x ${height}: must be odd and at most 31`);
  }
  if (data.length !== width * height) throw new RangeError("kernel: data does not match size");
}

/**
 * Detects objects on a background-subtracted image (see sd_detect in sd_core.h).
 * Objects come in raster order of their first pixel; children of a blend follow each other.
 */
export function detect(image: FloatImage, options: DetectOptions = {}): Detection {
  const { data, width, height } = image;
  checkImage("detect", data, width, height);
  const {
    noise,
    noiseConst = 1,
    mask,
    maskBits = 0xffff,
    satBits = 0x0004,
    saturate = 0,
    thresh = 1.5,
    minArea = 5,
    deblendNThresh = 32,
    deblendCont = 0.005,
  } = options;
  const kernel = options.kernel === undefined ? DEFAULT_KERNEL : options.kernel;
  if (noise) checkImage("detect noise", noise, width, height);
  if (mask) checkImage("detect mask", mask, width, height);
  if (kernel) checkKernel(kernel);
  const core = getCore(options.variant);
  return core.scope((s) => {
    const pImage = s.copyIn(data), pNoise = s.copyIn(noise), pMask = s.copyIn(mask);
    const pKernel = s.copyIn(kernel?.data);
    const pCount = s.i32(1);
    const pSeg = options.segmap ? s.i32(width * height) : 0;
    const run = (capacity: number, pObjects: number) =>
      core.call(
        "sd_detect",
        pImage,
        pNoise,
        pMask,
        width,
        height,
        noiseConst,
        maskBits,
        satBits,
        saturate,
        pKernel,
        kernel?.width ?? 0,
        kernel?.height ?? 0,
        thresh,
        minArea,
        deblendNThresh,
        deblendCont,
        capacity,
        pObjects,
        pSeg,
        pCount,
      );
    let capacity = 8192;
    let pObjects = s.f64(capacity * NCOLS);
    try {
      run(capacity, pObjects);
    } catch (err) {
      if (!(err instanceof CoreError && err.statusName === "SD_ERR_OVERFLOW")) throw err;
      capacity = s.readI32(pCount, 1)[0];
      pObjects = s.f64(capacity * NCOLS);
      run(capacity, pObjects);
    }
    const count = s.readI32(pCount, 1)[0];
    return {
      objects: readObjects(s, pObjects, count),
      segmap: options.segmap ? s.readI32(pSeg, width * height) : undefined,
    };
  });
}

function readObjects(s: Scope, ptr: number, count: number): DetectedObject[] {
  const table = s.readF64(ptr, count * NCOLS);
  const objects: DetectedObject[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const o = {} as Record<keyof DetectedObject, number>;
    for (let c = 0; c < NCOLS; c++) o[COLUMNS[c]] = table[i * NCOLS + c];
    objects[i] = o;
  }
  return objects;
}

/** Options of {@linkcode convolve}. */
export interface ConvolveOptions {
  /** Flags per pixel; masked pixels count as missing. */
  mask?: Uint16Array;
  /** Mask bits that exclude a pixel. @default 0xFFFF */
  maskBits?: number;
  /** Divide the kernel by its sum and renormalise over missing pixels. @default true */
  normalize?: boolean;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Convolves an image with a small kernel (see sd_convolve_small in sd_core.h). */
export function convolve(
  image: FloatImage,
  kernel: Kernel,
  options: ConvolveOptions = {},
): Float32Array {
  const { data, width, height } = image;
  checkImage("convolve", data, width, height);
  checkKernel(kernel);
  if (options.mask) checkImage("convolve mask", options.mask, width, height);
  const core = getCore(options.variant);
  return core.scope((s) => {
    const out = s.f32(width * height);
    core.call(
      "sd_convolve_small",
      s.copyIn(data),
      s.copyIn(options.mask),
      width,
      height,
      options.maskBits ?? 0xffff,
      s.copyIn(kernel.data),
      kernel.width,
      kernel.height,
      options.normalize === false ? 0 : 1,
      out,
    );
    return s.readF32(out, width * height);
  });
}
