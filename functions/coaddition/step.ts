/**
 * coaddition: the inverse-variance weighted mean, with sigma clipping, of N
 * photometrically calibrated images of one place and filter.
 *
 * 1. output grid: `grid = "first"` (default) is the first input's WCS and size
 *    (the caller orders the inputs: the handler sorts them by MJD, then id);
 *    `grid = "tan"` is a north-up TAN grid at the first input's pixel scale,
 *    centred on the requested position (else the mean of the input centres),
 *    just large enough to hold the union of the inputs' footprints;
 * 2. background: each input's sky (the core's background mesh, `sky_box` px boxes,
 *    flagged pixels ignored) is subtracted, so epochs with different skies agree;
 * 3. alignment: each input is resampled onto the grid by Lanczos-3 through the map
 *    output pixel -> sky -> input pixel sampled on `map_nodes` x `map_nodes` nodes
 *    (the image, its weight as a variance and its flags; out-of-bounds flagged);
 *    an input whose WCS is the grid's is copied, not resampled;
 * 4. flux scale to the common zero point zp_out (`zero_point`, default the first
 *    input's): values x 10^(-0.4 (zp_i - zp_out)), weights / that squared;
 * 5. combination (sd_coadd_clipped): per pixel, values flagged with `flag_mask`
 *    or of weight 0 are not used; values farther than `kappa` sigma (each value's
 *    own noise, plus `frac` x the value in quadrature for PSF differences on
 *    bright sources) from the median, then from the weighted mean, are rejected;
 *    image = weighted mean of the rest, weight = the sum of their weights, flags =
 *    0, or the OR of the inputs' flags where no value remains (weight 0 there);
 * 6. header: the grid's WCS, MAGZP = zp_out, MJD-OBS (first start), MJD-END (last
 *    end), EXPTIME (sum), NCOMBINE (N), SKYSIGMA (median of 1/sqrt(weight)).
 *
 * @module
 */
import { z } from "zod";
import { background, coaddClipped, resampleLanczos3, samplePixelMap } from "../../core-wasm/mod.ts";
import { InputError } from "../_shared/errors.ts";
import { Header } from "../_shared/fits/header.ts";
import type { ImageData } from "../_shared/products/image_file.ts";
import { defineStep } from "../_shared/runtime/step.ts";
import {
  type HeaderLike,
  makeWcs,
  pixelScaleArcsec,
  type Wcs,
  wcsCorners,
  wcsFromHeader,
  wcsToCards,
} from "../_shared/wcs/mod.ts";

/** The step's parameters. */
export const CoadditionParams = z.object({
  method: z.enum(["weighted_mean"]).default("weighted_mean").describe(
    "combination: inverse-variance weighted mean with sigma clipping",
  ),
  grid: z.enum(["first", "tan"]).default("first").describe(
    "output grid: the first input's WCS and size, or a north-up TAN grid at the first input's " +
      "scale centred on the requested position covering the union of the inputs",
  ),
  zero_point: z.number().nullable().default(null).describe(
    "zero point of the coadd's pixel values; null: the first input's",
  ),
  kappa: z.number().positive().default(3.5).describe(
    "rejection threshold in units of each value's standard deviation",
  ),
  frac: z.number().min(0).default(1).describe(
    "fraction of the pixel value added in quadrature to the noise in the rejection " +
      "(seeing and registration differences on sources: 0.3 clips the PSF wings of epochs " +
      "whose seeing differs by 30% and biases fluxes by -0.3%; quality group coadd)",
  ),
  max_iter: z.number().int().min(0).default(3).describe(
    "clipping iterations around the weighted mean after the pass around the median",
  ),
  flag_mask: z.number().int().min(0).max(0xffff).default(0xffff).describe(
    "input pixels with any of these FLAGS bits (after resampling) are not used",
  ),
  subtract_background: z.boolean().default(true).describe(
    "subtract each input's background mesh before combining",
  ),
  sky_box: z.number().int().min(8).default(128).describe("background mesh box (px)"),
  map_nodes: z.number().int().min(2).default(33).describe(
    "nodes per side of the coarse grid on which the output -> input pixel map is evaluated",
  ),
  window_days: z.number().positive().default(7).describe(
    "a coadd asked for by position without a time range takes the images of this many days " +
      "before its end (default end: now)",
  ),
}).strict();

/** Parsed parameters. */
export type CoadditionParameters = z.infer<typeof CoadditionParams>;

/** One calibrated input image. */
export interface CoaddInput {
  /** Its zero point's id (the component's identity). */
  id: string;
  /** The image product (image, weight, flags). */
  image: ImageData;
  /** The astrocal WCS cards. */
  wcs: HeaderLike;
  /** Its photometric zero point (mag = -2.5 log10(flux) + zp). */
  zp: number;
  /** Exposure start (MJD). */
  mjd: number;
  /** Exposure time (s). */
  expTime: number;
}

/** What run() reads. */
export interface CoadditionInputs {
  inputs: CoaddInput[];
  /** The requested position (deg), centre of a "tan" grid. */
  center?: { ra: number; dec: number };
}

/** The coadd. */
export interface CoadditionOutputs {
  /** The coadded image with its header. */
  image: ImageData;
  /** The grid's WCS. */
  wcs: Wcs;
  zp: number;
  mjdStart: number;
  mjdEnd: number;
  expTime: number;
  nCombine: number;
  /** Pixels with no usable value. */
  nEmpty: number;
}

/** The flux scale bringing an image of zero point zp to zpOut: 10^(-0.4 (zp - zpOut)). */
export function fluxScale(zp: number, zpOut: number): number {
  return 10 ** (-0.4 * (zp - zpOut));
}

/**
 * A north-up TAN grid at scaleArcsec px, centred on centre, holding every footprint
 * (sky corners) given.
 */
export function tanGridCovering(
  centre: { ra: number; dec: number },
  scaleArcsec: number,
  footprints: Array<Array<{ ra: number; dec: number }>>,
): { wcs: Wcs; width: number; height: number } {
  const s = scaleArcsec / 3600;
  const probe = makeWcs({ crpix: [1, 1], crval: [centre.ra, centre.dec], cd: [[-s, 0], [0, s]] });
  let x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  for (const fp of footprints) {
    for (const c of fp) {
      const p = probe.skyToPix(c.ra, c.dec);
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      x0 = Math.min(x0, p.x), x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y), y1 = Math.max(y1, p.y);
    }
  }
  // symmetric about the centre so the centre is the middle pixel
  const hx = Math.ceil(Math.max(-x0, x1)), hy = Math.ceil(Math.max(-y0, y1));
  const width = 2 * hx + 1, height = 2 * hy + 1;
  const wcs = makeWcs({
    crpix: [hx + 1, hy + 1],
    crval: [centre.ra, centre.dec],
    cd: [[-s, 0], [0, s]],
  });
  return { wcs, width, height };
}

function median(v: number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

function sameWcs(a: Wcs, b: Wcs): boolean {
  const ca = wcsToCards(a), cb = wcsToCards(b);
  return ca.length === cb.length && ca.every((c, i) => c[0] === cb[i][0] && c[1] === cb[i][1]);
}

/** The step's declaration. */
export const coadditionStep = defineStep({
  process: "coaddition",
  codeVersion: "1.0.0",
  params: CoadditionParams,
  critical: [
    "method",
    "grid",
    "zero_point",
    "kappa",
    "frac",
    "max_iter",
    "flag_mask",
    "subtract_background",
    "sky_box",
    "map_nodes",
  ],
  inputs: ["image", "world_coordinates", "zero_point"],
  outputs: ["image"],
  run(inputs: CoadditionInputs, params: CoadditionParameters) {
    const list = inputs.inputs;
    if (list.length === 0) throw new InputError("coaddition: no input images", { field: "inputs" });
    const wcss = list.map((c) => wcsFromHeader(c.wcs));
    // 1: the grid
    let grid: { wcs: Wcs; width: number; height: number };
    if (params.grid === "first") {
      grid = { wcs: wcss[0], width: list[0].image.width, height: list[0].image.height };
    } else {
      const footprints = list.map((c, k) => wcsCorners(wcss[k], c.image.width, c.image.height));
      let centre = inputs.center;
      if (!centre) {
        const cs = list.map((c, k) =>
          wcss[k].pixToSky((c.image.width - 1) / 2, (c.image.height - 1) / 2)
        );
        // mean unit vector of the input centres
        let x = 0, y = 0, z3 = 0;
        for (const c of cs) {
          const r = c.ra * Math.PI / 180, d = c.dec * Math.PI / 180;
          x += Math.cos(d) * Math.cos(r), y += Math.cos(d) * Math.sin(r), z3 += Math.sin(d);
        }
        let ra = Math.atan2(y, x) * 180 / Math.PI;
        if (ra < 0) ra += 360;
        centre = { ra, dec: Math.atan2(z3, Math.hypot(x, y)) * 180 / Math.PI };
      }
      grid = tanGridCovering(centre, pixelScaleArcsec(wcss[0]), footprints);
    }
    const { width, height } = grid;
    const zpOut = params.zero_point ?? list[0].zp;
    // 2-4: background, alignment, scale
    const frames = list.map((c, k) => {
      const img = c.image;
      let data = img.image;
      if (params.subtract_background) {
        const bkg = background({ data, width: img.width, height: img.height }, {
          mask: img.flags,
          boxWidth: params.sky_box,
          boxHeight: params.sky_box,
        });
        data = new Float32Array(data.length);
        for (let i = 0; i < data.length; i++) data[i] = img.image[i] - bkg.backImage[i];
      }
      const scale = fluxScale(c.zp, zpOut);
      if (img.width === width && img.height === height && sameWcs(wcss[k], grid.wcs)) {
        return { data, weight: img.weight, flags: img.flags, scale };
      }
      const w = wcss[k];
      const map = samplePixelMap(width, height, (x, y) => {
        const sky = grid.wcs.pixToSky(x, y);
        const p = w.skyToPix(sky.ra, sky.dec);
        // a node off the input's invertible region: far outside, flagged out of bounds
        return Number.isFinite(p.x) && Number.isFinite(p.y) ? [p.x, p.y] : [-1e6, -1e6];
      }, params.map_nodes);
      const r = resampleLanczos3(
        { data, weight: img.weight, flags: img.flags, width: img.width, height: img.height },
        map,
        width,
        height,
        { fluxConserve: true },
      );
      return { data: r.data, weight: r.weight, flags: r.flags, scale };
    });
    // 5: combination
    const co = coaddClipped(frames, {
      flagMask: params.flag_mask,
      kappa: params.kappa,
      frac: params.frac,
      maxIter: params.max_iter,
    });
    let nEmpty = 0;
    const sig: number[] = [];
    const step = Math.max(1, Math.floor(co.weight.length / 20000));
    for (let i = 0; i < co.weight.length; i++) {
      if (co.nused[i] === 0) nEmpty++;
      if (i % step === 0 && co.weight[i] > 0) sig.push(1 / Math.sqrt(co.weight[i]));
    }
    // 6: header
    const mjdStart = Math.min(...list.map((c) => c.mjd));
    const mjdEnd = Math.max(...list.map((c) => c.mjd + c.expTime / 86400));
    const expTime = list.reduce((s, c) => s + c.expTime, 0);
    const header = new Header();
    for (const [k, v, cm] of wcsToCards(grid.wcs)) header.set(k, v, cm);
    header.set("MAGZP", zpOut, "zero point: mag = -2.5 log10(flux) + MAGZP");
    header.set("MJD-OBS", mjdStart, "start of the first exposure (MJD)");
    header.set("MJD-END", mjdEnd, "end of the last exposure (MJD)");
    header.set("EXPTIME", expTime, "sum of the exposure times (s)");
    header.set("NCOMBINE", list.length, "images combined");
    header.set("COADDMTH", params.method, "combination");
    const skySigma = median(sig);
    if (Number.isFinite(skySigma)) header.set("SKYSIGMA", skySigma, "median 1/sqrt(weight)");
    if (params.subtract_background) {
      header.set("SKYLEVEL", 0, "backgrounds subtracted before combining");
    }
    return {
      outputs: {
        image: { width, height, image: co.image, weight: co.weight, flags: co.flags, header },
        wcs: grid.wcs,
        zp: zpOut,
        mjdStart,
        mjdEnd,
        expTime,
        nCombine: list.length,
        nEmpty,
      },
      metrics: {
        n_inputs: list.length,
        n_empty: nEmpty,
        empty_fraction: nEmpty / (width * height),
        sky_sigma: skySigma,
      },
    };
  },
});
