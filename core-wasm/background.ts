/**
 * Sky background as SExtractor/SEP estimate it: clipped mode estimates in boxes,
 * a median filter over boxes, and a bicubic spline to full resolution.
 *
 * @module
 */
import { checkImage, type CoreVariant, type FloatImage, getCore } from "./_module.ts";

/** Options of {@linkcode backgroundMesh} and {@linkcode background}. */
export interface BackgroundOptions {
  /** Flags per pixel; a pixel is ignored when (mask & maskBits) != 0. */
  mask?: Uint16Array;
  /** Mask bits that exclude a pixel. @default 0xFFFF */
  maskBits?: number;
  /** Box width in pixels. @default 64 */
  boxWidth?: number;
  /** Box height in pixels. @default 64 */
  boxHeight?: number;
  /** Median filter width in boxes. @default 3 */
  filterWidth?: number;
  /** Median filter height in boxes. @default 3 */
  filterHeight?: number;
  /** A box takes the filtered value only when it differs by at least this. @default 0 */
  filterThreshold?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Background estimates per box (row-major, nbx * nby) and global values. */
export interface BackgroundMesh {
  /** Image size the mesh describes. */
  width: number;
  height: number;
  boxWidth: number;
  boxHeight: number;
  /** Boxes along x: ceil(width / boxWidth). */
  nbx: number;
  /** Boxes along y: ceil(height / boxHeight). */
  nby: number;
  /** Background per box, after median filtering. */
  back: Float32Array;
  /** Rms per box, after median filtering. */
  rms: Float32Array;
  /** Median of the box backgrounds. */
  global: number;
  /** Median of the (positive) box rms. */
  globalRms: number;
  /** Boxes with too few usable pixels, filled from their nearest good boxes. */
  nBad: number;
}

/** A background mesh with its full-resolution background and rms images. */
export interface Background extends BackgroundMesh {
  /** Background image, width * height. */
  backImage: Float32Array;
  /** Rms image, width * height. */
  rmsImage: Float32Array;
}

/** Estimates the background mesh of an image (see sd_background_mesh in sd_core.h). */
export function backgroundMesh(image: FloatImage, options: BackgroundOptions = {}): BackgroundMesh {
  const { data, width, height } = image;
  checkImage("backgroundMesh", data, width, height);
  const {
    mask,
    maskBits = 0xffff,
    boxWidth = 64,
    boxHeight = 64,
    filterWidth = 3,
    filterHeight = 3,
    filterThreshold = 0,
  } = options;
  if (mask) checkImage("backgroundMesh mask", mask, width, height);
  const nbx = Math.ceil(width / boxWidth), nby = Math.ceil(height / boxHeight);
  const core = getCore(options.variant);
  return core.scope((s) => {
    const back = s.f32(nbx * nby), rms = s.f32(nbx * nby), out = s.f64(3);
    core.call(
      "sd_background_mesh",
      s.copyIn(data),
      s.copyIn(mask),
      width,
      height,
      maskBits,
      boxWidth,
      boxHeight,
      filterWidth,
      filterHeight,
      filterThreshold,
      back,
      rms,
      out,
    );
    const g = s.readF64(out, 3);
    return {
      width,
      height,
      boxWidth,
      boxHeight,
      nbx,
      nby,
      back: s.readF32(back, nbx * nby),
      rms: s.readF32(rms, nbx * nby),
      global: g[0],
      globalRms: g[1],
      nBad: g[2],
    };
  });
}

/** Renders mesh values (mesh.back or mesh.rms) to a full-resolution image with a bicubic spline. */
export function renderMesh(
  mesh: BackgroundMesh,
  values: Float32Array,
  variant?: CoreVariant,
): Float32Array {
  if (values.length !== mesh.nbx * mesh.nby) {
    throw new RangeError(`renderMesh: ${values.length} values for ${mesh.nbx} x ${mesh.nby} boxes`);
  }
  const core = getCore(variant);
  const n = mesh.width * mesh.height;
  return core.scope((s) => {
    const out = s.f32(n);
    core.call(
      "sd_background_render",
      s.copyIn(values),
      mesh.nbx,
      mesh.nby,
      mesh.boxWidth,
      mesh.boxHeight,
      mesh.width,
      mesh.height,
      out,
    );
    return s.readF32(out, n);
  });
}

/** Background mesh plus its full-resolution background and rms images. */
export function background(image: FloatImage, options: BackgroundOptions = {}): Background {
  const mesh = backgroundMesh(image, options);
  return {
    ...mesh,
    backImage: renderMesh(mesh, mesh.back, options.variant),
    rmsImage: renderMesh(mesh, mesh.rms, options.variant),
  };
}
