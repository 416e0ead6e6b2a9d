/**
 * Star rendering: adds point sources with a Moffat or Gaussian profile (optionally
 * elliptical, FWHM optionally varying over the image as a polynomial of x, y),
 * integrated over pixels, each normalised to its flux within a truncation radius.
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";
import { checkPlane, f64, type NoisyImage } from "./photometry.ts";

/** Options of {@linkcode renderStars}. */
export interface RenderOptions {
  /** Radial profile. @default "moffat" */
  profile?: "moffat" | "gaussian";
  /** Moffat beta. @default 3 */
  beta?: number;
  /** FWHM (px) along the major axis, when no fwhmPoly is given. @default 3 */
  fwhm?: number;
  /**
   * FWHM(x, y) as a polynomial in u = (x - (w - 1) / 2) / (w / 2), v likewise, terms
   * u^i v^j ordered j = 0..d, i = 0..d-j (1, u, .., v, u v, ..); its length sets the degree.
   */
  fwhmPoly?: ArrayLike<number>;
  /** Minor / major axis ratio in (0, 1]. @default 1 */
  axisRatio?: number;
  /** Major-axis angle (radians, counter-clockwise from +x). @default 0 */
  theta?: number;
  /** Truncation radius (px): the pixels within it sum to the flux. @default 5 * fwhm */
  radius?: number;
  /** Sub-samples per pixel side near the core. @default 5 */
  oversample?: number;
  /** Pixels whose centre is within this radius (px) are sub-sampled. @default 2 * fwhm */
  coreRadius?: number;
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/** Degree of a 2-D polynomial with this many terms, or -1. */
export function polyDegree(nterms: number): number {
  for (let d = 0; d <= 8; d++) if ((d + 1) * (d + 2) / 2 === nterms) return d;
  return -1;
}

/** Adds stars (x[i], y[i], flux[i]) to image.data in place (pixels outside the image are dropped). */
export function renderStars(
  image: NoisyImage,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  flux: ArrayLike<number>,
  options: RenderOptions = {},
): void {
  checkPlane("renderStars", image.data, image.width, image.height);
  const n = x.length;
  const poly = options.fwhmPoly ? Float64Array.from(options.fwhmPoly) : null;
  const degree = poly ? polyDegree(poly.length) : 0;
  if (poly && degree < 0) throw new RangeError(`renderStars: ${poly.length} polynomial terms`);
  const opts = new Float64Array([
    options.profile === "gaussian" ? 1 : 0,
    options.beta ?? 3,
    options.fwhm ?? 3,
    options.axisRatio ?? 1,
    options.theta ?? 0,
    options.radius ?? 0,
    options.oversample ?? 5,
    options.coreRadius ?? 0,
  ]);
  const core = getCore(options.variant);
  const out = core.scope((s) => {
    const img = s.copyIn(image.data);
    core.call(
      "sd_render_stars",
      img,
      image.width,
      image.height,
      s.copyIn(f64("x", x, n)),
      s.copyIn(f64("y", y, n)),
      s.copyIn(f64("flux", flux, n)),
      n,
      s.copyIn(opts),
      s.copyIn(poly),
      degree,
    );
    return s.readF32(img, image.data.length);
  });
  image.data.set(out);
}
