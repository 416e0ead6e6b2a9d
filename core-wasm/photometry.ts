/**
 * Aperture photometry: circular and elliptical apertures with exact pixel overlap
 * (as SEP's exact mode), a local annulus background (3-sigma-clipped median) and
 * errors from the weight map (1/variance) plus a Poisson term through the gain.
 *
 * @module
 */
import { type CoreVariant, getCore, type Scope } from "./_module.ts";

/** An image with its optional weight (1/variance) and flags planes. */
export interface NoisyImage {
  /** width * height pixel values, row-major. */
  data: Float32Array;
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** 1/variance per pixel; weight <= 0 masks a pixel. Without it errors have no pixel term. */
  weight?: Float32Array;
  /** Flag bits per pixel (DESIGN.md "Products"); a pixel with (flags & maskBits) != 0 is masked. */
  flags?: Uint16Array;
}

/** Bits of the per-source photometry flags (sd_core.h SD_PHOT_*). */
export const PhotFlags = {
  /** The aperture or fit region crosses the image edge. */
  TRUNCATED: 1,
  /** Masked pixels inside the aperture (flux corrected for the lost area). */
  MASKED: 2,
  /** The local annulus had too few pixels: background 0. */
  NOBKG: 4,
  /** Windowed centroid or fit did not converge. */
  NOCONVERGE: 8,
  /** Moments undefined (non-positive flux). */
  BADSHAPE: 16,
  /** No usable pixel: values are NaN. */
  EMPTY: 32,
} as const;

/** Options of {@linkcode sumCircle} and {@linkcode sumEllipse}. */
export interface ApertureOptions {
  /** e-/ADU for the Poisson term of the error; 0 = none. @default 0 */
  gain?: number;
  /** Inner radius (px) of the local-background annulus; 0 with annulusOut 0 = no annulus. @default 0 */
  annulusIn?: number;
  /** Outer radius (px) of the local-background annulus; 0 = no local background. @default 0 */
  annulusOut?: number;
  /** Flag bits that mask a pixel. @default 0xFFFF */
  maskBits?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Aperture sums of n sources. */
export interface ApertureResult {
  /** Background-subtracted flux, n * nRadii values, source-major ([i * nRadii + k]). */
  flux: Float64Array;
  /** Error of flux, same layout. */
  fluxErr: Float64Array;
  /** Local background per pixel per source (0 without an annulus). */
  bkg: Float64Array;
  /** PhotFlags bits per source. */
  flags: Int32Array;
  /** Radii per source (1 for ellipses). */
  nRadii: number;
}

/** Throws unless a plane holds width * height values (and both are positive integers). */
export function checkPlane(name: string, data: { length: number }, width: number, height: number) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${name}: bad size ${width} x ${height}`);
  }
  if (data.length !== width * height) {
    throw new RangeError(`${name}: ${data.length} values for ${width} x ${height} pixels`);
  }
}

/** Copies the image planes in; returns pointers (0 for absent planes). */
export function imageIn(s: Scope, fn: string, image: NoisyImage): [number, number, number] {
  checkPlane(fn, image.data, image.width, image.height);
  if (image.weight) checkPlane(`${fn} weight`, image.weight, image.width, image.height);
  if (image.flags) checkPlane(`${fn} flags`, image.flags, image.width, image.height);
  return [s.copyIn(image.data), s.copyIn(image.weight), s.copyIn(image.flags)];
}

/** Converts positions or per-source values to a Float64Array of length n. */
export function f64(name: string, v: ArrayLike<number>, n: number): Float64Array {
  if (v.length !== n) throw new RangeError(`${name}: ${v.length} values for ${n} sources`);
  return v instanceof Float64Array ? v : Float64Array.from(v);
}

function aperOpts(o: ApertureOptions): Float64Array {
  return new Float64Array([o.gain ?? 0, o.annulusIn ?? 0, o.annulusOut ?? 0, o.maskBits ?? 0xffff]);
}

/**
 * Circular aperture sums with exact pixel overlap for each source and each radius.
 * Masked pixels are left out and the flux scaled by total / unmasked area (flag MASKED).
 */
export function sumCircle(
  image: NoisyImage,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  radii: number | ArrayLike<number>,
  options: ApertureOptions = {},
): ApertureResult {
  const n = x.length;
  const r = typeof radii === "number" ? [radii] : Array.from(radii);
  const nr = r.length;
  const core = getCore(options.variant);
  return core.scope((s) => {
    const [img, w, fl] = imageIn(s, "sumCircle", image);
    const m = Math.max(1, n);
    const flux = s.f64(m * nr), err = s.f64(m * nr), bkg = s.f64(m), ofl = s.i32(m);
    core.call(
      "sd_sum_circle",
      img,
      w,
      fl,
      image.width,
      image.height,
      s.copyIn(f64("x", x, n)),
      s.copyIn(f64("y", y, n)),
      n,
      s.copyIn(new Float64Array(r)),
      nr,
      s.copyIn(aperOpts(options)),
      flux,
      err,
      bkg,
      ofl,
    );
    return {
      flux: s.readF64(flux, n * nr),
      fluxErr: s.readF64(err, n * nr),
      bkg: s.readF64(bkg, n),
      flags: s.readI32(ofl, n),
      nRadii: nr,
    };
  });
}

/**
 * Elliptical aperture sums with exact pixel overlap: semi-axes a[i] * r and b[i] * r,
 * position angle theta[i] (radians, counter-clockwise from +x).
 */
export function sumEllipse(
  image: NoisyImage,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  theta: ArrayLike<number>,
  r: number,
  options: ApertureOptions = {},
): ApertureResult {
  const n = x.length;
  const core = getCore(options.variant);
  return core.scope((s) => {
    const [img, w, fl] = imageIn(s, "sumEllipse", image);
    const m = Math.max(1, n);
    const flux = s.f64(m), err = s.f64(m), bkg = s.f64(m), ofl = s.i32(m);
    core.call(
      "sd_sum_ellipse",
      img,
      w,
      fl,
      image.width,
      image.height,
      s.copyIn(f64("x", x, n)),
      s.copyIn(f64("y", y, n)),
      s.copyIn(f64("a", a, n)),
      s.copyIn(f64("b", b, n)),
      s.copyIn(f64("theta", theta, n)),
      n,
      r,
      s.copyIn(aperOpts(options)),
      flux,
      err,
      bkg,
      ofl,
    );
    return {
      flux: s.readF64(flux, n),
      fluxErr: s.readF64(err, n),
      bkg: s.readF64(bkg, n),
      flags: s.readI32(ofl, n),
      nRadii: 1,
    };
  });
}
