/**
 * preprocessing: one section (CCD) of a raw exposure -> a calibrated Image
 * (IMAGE in electrons, WEIGHT = 1/variance, FLAGS) with first-look estimates.
 *
 * In order, per section:
 *
 * 1. the raw data are checked: an extension whose data are mostly NaN, or constant
 *    (an all-zero readout), is an {@linkcode AlgorithmError} and makes no product;
 * 2. per amplifier: overscan (per-row median) subtraction, trimming, master-bias
 *    ("zero", ADU) subtraction, gain (electrons) — the core's sd_overscan_trim;
 * 3. dark subtraction (master dark in e-/s, times the exposure time), when present;
 * 4. flat division (master flat in electrons, unit median), when present;
 * 5. flags: the instrument's standard bad pixels (bit 0), raw values at or above
 *    the amplifier's saturation (bit 2), gaps of up to `bleed_gap` px between
 *    saturated pixels of a column and `bleed_grow` px beyond each saturated run
 *    (bit 5, bleed trail), non-finite pixels (bit 0), zero weight (bit 1);
 * 6. sky and rms maps (the core's background mesh, `sky_box` px boxes, a
 *    `sky_filter` median filter, flagged pixels ignored);
 * 7. weight = 1 / (rms^2 + max(data - sky, 0) / gain) with gain 1 (the image is in
 *    electrons), 0 where flagged or rms <= 0 (as SeeChange);
 * 8. first-look FWHM: the mode of the Gaussian-equivalent FWHM of bright unflagged
 *    detections (selectPsfStars), reported in arcsec (a Moffat reads ~10-15% wide;
 *    extraction measures the PSF properly);
 * 9. centre, corners and HEALPix from the header WCS shifted to trimmed pixels (a
 *    first estimate; astrocal refines them).
 *
 * Linearity: no instrument in this build supplies a linearity table, so the bit is
 * never set. Calibrations are required, optional or skipped per kind by
 * the parameters `zero`, `dark` and `flat`; the handler turns a missing required one
 * into an InputError naming it.
 *
 * @module
 */
import { z } from "zod";
import {
  background,
  detect,
  measureSources,
  overscanTrim,
  selectPsfStars,
} from "../../core-wasm/mod.ts";
import { namesToBits, PREPROCESSING } from "../_shared/db/enums.ts";
import { AlgorithmError } from "../_shared/errors.ts";
import { Header } from "../_shared/fits/header.ts";
import { badPixelMask, type Box, type SectionLayout } from "../_shared/instruments/instrument.ts";
import type { ImageData } from "../_shared/products/image_file.ts";
import { defineStep } from "../_shared/runtime/step.ts";
import { makeWcs, pixelScaleArcsec, type WcsParams, wcsToCards } from "../_shared/wcs/mod.ts";

/** FLAGS bits (enums.ts PIXEL_FLAGS). */
export const FLAG = {
  BAD: 1,
  ZERO_WEIGHT: 2,
  SATURATED: 4,
  OUT_OF_BOUNDS: 8,
  COSMIC_RAY: 16,
  BLEED: 32,
} as const;

const need = z.enum(["required", "if_available", "skip"]);

/** The step's parameters. */
export const PreprocessingParams = z.object({
  overscan: z.enum(["median", "mean"]).default("median").describe(
    "per-row overscan level: median or mean of the row's overscan pixels",
  ),
  zero: need.default("required").describe(
    "master bias: required (missing is an error), if_available, or skip",
  ),
  dark: need.default("if_available").describe(
    "master dark (e-/s): required, if_available (SimCam and DECam have small dark current), or skip",
  ),
  flat: need.default("required").describe("master flat: required, if_available, or skip"),
  bleed_gap: z.int().min(0).max(50).default(5).describe(
    "saturated pixels of a column this close (px) are joined by a bleed-trail flag",
  ),
  bleed_grow: z.int().min(0).max(20).default(2).describe(
    "rows flagged as bleed trail beyond each end of a saturated run",
  ),
  sky_box: z.int().min(16).max(1024).default(256).describe(
    "box size (px) of the sky/rms mesh for the weight map (SeeChange: 256)",
  ),
  sky_filter: z.int().min(1).max(9).default(3).describe(
    "median filter (boxes) over the sky mesh (SeeChange: 3)",
  ),
  min_finite_fraction: z.number().min(0).max(1).default(0.5).describe(
    "below this fraction of finite raw pixels the section is NaN-filled: AlgorithmError",
  ),
  fwhm_threshold: z.number().positive().default(20).describe(
    "detection threshold (sigma) of the bright sources behind the first-look FWHM",
  ),
}).strict();

/** Parsed parameters. */
export type PreprocessingParameters = z.infer<typeof PreprocessingParams>;

/** What run() needs, loaded by the handler. */
export interface PreprocessingInputs {
  /** Raw pixels of the section's extension, rawNx x rawNy (ADU). */
  raw: ArrayLike<number>;
  layout: SectionLayout;
  /** The instrument's standard bad pixels, trimmed coordinates. */
  badPixels: Box[];
  /** Exposure time (s). */
  exptime: number;
  /** Master bias (ADU, trimmed) or null. */
  bias: Float32Array | null;
  /** Master dark (e-/s, trimmed) or null. */
  dark: Float32Array | null;
  /** Master flat (unit median, trimmed) or null. */
  flat: Float32Array | null;
  /** The extension's WCS (raw-frame pixels), or null when the header has none. */
  wcs: WcsParams | null;
  /** Cards copied into the image's header (exposure and section keywords). */
  cards: Array<[string, string | number | boolean, string]>;
}

/** First-look numbers stored in the images row. */
export interface ImageEstimates {
  /** Median sky (e-) and its rms (e-). */
  sky: number;
  rms: number;
  /** First-look FWHM (px and arcsec), null when too few bright stars. */
  fwhmPx: number | null;
  fwhmArcsec: number | null;
  /** Centre and corners (deg) from the header WCS; null without one. */
  centre: { ra: number; dec: number } | null;
  /** Corners 00, 01, 10, 11 ((x, y) = (0,0), (0,h-1), (w-1,0), (w-1,h-1)). */
  corners: { ra: number[]; dec: number[] } | null;
  /** Saturated / bad / bleed pixels. */
  nSaturated: number;
  nBad: number;
  nBleed: number;
}

/** What run() returns. */
export interface PreprocessingOutputs {
  image: ImageData;
  estimates: ImageEstimates;
  /** PREPROCESSING bits of the corrections applied. */
  preprocBitflag: number;
}

/** The WCS of the trimmed image: the raw-frame WCS moved to where the trimmed pixel (0, 0) sits. */
export function trimmedWcs(raw: WcsParams, layout: SectionLayout): WcsParams {
  const origin = layout.amps.find((a) => a.trim.x0 === 0 && a.trim.y0 === 0) ?? layout.amps[0];
  const sx = origin.flipX ? -1 : 1, sy = origin.flipY ? -1 : 1;
  const ax = origin.flipX ? origin.data.x1 - 1 : origin.data.x0 - origin.trim.x0;
  const ay = origin.flipY ? origin.data.y1 - 1 : origin.data.y0 - origin.trim.y0;
  // raw = a + s t; raw - (crpix - 1) = s (t - s (crpix - 1 - a))
  return {
    ...raw,
    crpix: [sx * (raw.crpix[0] - 1 - ax) + 1, sy * (raw.crpix[1] - 1 - ay) + 1],
    cd: [[raw.cd[0][0] * sx, raw.cd[0][1] * sy], [raw.cd[1][0] * sx, raw.cd[1][1] * sy]],
  };
}

/** Flags saturation (bit 2) from the raw frame and bleed trails (bit 5) along columns. */
function flagSaturation(
  raw: ArrayLike<number>,
  layout: SectionLayout,
  flags: Uint16Array,
  gap: number,
  grow: number,
): { nSaturated: number; nBleed: number } {
  const { nx, ny, rawNx } = layout;
  let nSaturated = 0, nBleed = 0;
  for (const a of layout.amps) {
    const { data, trim } = a;
    for (let ry = data.y0; ry < data.y1; ry++) {
      const ty = trim.y0 + (a.flipY ? data.y1 - 1 - ry : ry - data.y0);
      const row = ry * rawNx;
      for (let rx = data.x0; rx < data.x1; rx++) {
        if (raw[row + rx] >= a.saturation) {
          const tx = trim.x0 + (a.flipX ? data.x1 - 1 - rx : rx - data.x0);
          flags[ty * nx + tx] |= FLAG.SATURATED;
          nSaturated++;
        }
      }
    }
  }
  if (nSaturated === 0 || (gap === 0 && grow === 0)) return { nSaturated, nBleed };
  for (let x = 0; x < nx; x++) {
    let last = -1; // last saturated row of this column
    for (let y = 0; y < ny; y++) {
      if ((flags[y * nx + x] & FLAG.SATURATED) === 0) continue;
      if (last >= 0 && y - last > 1 && y - last <= gap + 1) {
        for (let k = last + 1; k < y; k++) flags[k * nx + x] |= FLAG.BLEED;
      } else if (last < 0 || y - last > 1) {
        for (let k = Math.max(0, y - grow); k < y; k++) flags[k * nx + x] |= FLAG.BLEED;
        if (last >= 0) {
          for (let k = last + 1; k <= Math.min(ny - 1, last + grow); k++) {
            flags[k * nx + x] |= FLAG.BLEED;
          }
        }
      }
      last = y;
    }
    if (last >= 0) {
      for (let k = last + 1; k <= Math.min(ny - 1, last + grow); k++) {
        flags[k * nx + x] |= FLAG.BLEED;
      }
    }
  }
  for (let i = 0; i < flags.length; i++) {
    if ((flags[i] & (FLAG.BLEED | FLAG.SATURATED)) === FLAG.BLEED) nBleed++;
  }
  return { nSaturated, nBleed };
}

/** Fraction of finite values and whether the data region is constant. */
function checkRaw(raw: ArrayLike<number>, layout: SectionLayout) {
  let finite = 0, total = 0, lo = Infinity, hi = -Infinity;
  for (const a of layout.amps) {
    for (let y = a.data.y0; y < a.data.y1; y++) {
      const row = y * layout.rawNx;
      for (let x = a.data.x0; x < a.data.x1; x++) {
        const v = raw[row + x];
        total++;
        if (Number.isFinite(v)) {
          finite++;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
  }
  return { finiteFraction: total ? finite / total : 0, constant: !(hi > lo), value: lo };
}

/** The step's declaration. */
export const preprocessingStep = defineStep({
  process: "preprocessing",
  codeVersion: "1.0.0",
  params: PreprocessingParams,
  critical: [
    "overscan",
    "zero",
    "dark",
    "flat",
    "bleed_gap",
    "bleed_grow",
    "sky_box",
    "sky_filter",
    "min_finite_fraction",
  ],
  inputs: ["exposure", "calibrators"],
  outputs: ["image"],
  run(inputs: PreprocessingInputs, params: PreprocessingParameters) {
    const { layout } = inputs;
    const { nx, ny, rawNx, rawNy } = layout;
    const npix = nx * ny;
    if (inputs.raw.length !== rawNx * rawNy) {
      throw new RangeError(`raw frame has ${inputs.raw.length} pixels, layout ${rawNx}x${rawNy}`);
    }
    const check = checkRaw(inputs.raw, layout);
    if (check.finiteFraction < params.min_finite_fraction) {
      throw new AlgorithmError(
        `section ${layout.id}: only ${(100 * check.finiteFraction).toFixed(1)}% of the raw ` +
          `pixels are finite (NaN-filled image)`,
        undefined,
        { section: layout.id, finite_fraction: check.finiteFraction },
      );
    }
    if (check.constant) {
      throw new AlgorithmError(
        `section ${layout.id}: every raw pixel is ${check.value} (empty readout)`,
        undefined,
        { section: layout.id, value: check.value },
      );
    }
    const rawF32 = inputs.raw instanceof Float32Array ? inputs.raw : Float32Array.from(inputs.raw);
    const done = ["overscan"];
    if (inputs.bias) done.push("zero");
    // 1-2: overscan, trim, bias, gain -> electrons
    const { image, levels } = overscanTrim(
      rawF32,
      rawNx,
      rawNy,
      layout.amps.map((a) => ({
        data: a.data,
        bias: { x0: a.bias.x0, x1: a.bias.x1 },
        trim: { x0: a.trim.x0, y0: a.trim.y0 },
        flipX: a.flipX,
        flipY: a.flipY,
        gain: a.gain,
      })),
      nx,
      ny,
      { method: params.overscan, bias: inputs.bias ?? undefined },
    );
    // 3: dark
    if (inputs.dark) {
      const t = inputs.exptime;
      for (let i = 0; i < npix; i++) image[i] -= inputs.dark[i] * t;
      done.push("dark");
    }
    // 4: flat
    const flags = badPixelMask(inputs.badPixels, nx, ny, FLAG.BAD);
    if (inputs.flat) {
      const flat = inputs.flat;
      for (let i = 0; i < npix; i++) {
        const f = flat[i];
        if (f > 0 && Number.isFinite(f)) image[i] /= f;
        else flags[i] |= FLAG.BAD;
      }
      done.push("flat");
    }
    // 5: flags
    for (let i = 0; i < npix; i++) {
      if (!Number.isFinite(image[i])) {
        image[i] = 0;
        flags[i] |= FLAG.BAD;
      }
    }
    const sat = flagSaturation(inputs.raw, layout, flags, params.bleed_gap, params.bleed_grow);
    // 6: sky and rms
    const bkg = background({ data: image, width: nx, height: ny }, {
      mask: flags,
      boxWidth: params.sky_box,
      boxHeight: params.sky_box,
      filterWidth: params.sky_filter,
      filterHeight: params.sky_filter,
    });
    // 7: weight (gain 1: electrons)
    const weight = new Float32Array(npix);
    let nBad = 0;
    for (let i = 0; i < npix; i++) {
      const rms = bkg.rmsImage[i];
      if (flags[i] !== 0 || !(rms > 0)) {
        flags[i] |= FLAG.ZERO_WEIGHT;
        nBad++;
        continue;
      }
      weight[i] = 1 / (rms * rms + Math.max(image[i] - bkg.backImage[i], 0));
    }
    // 8: first-look FWHM from bright detections
    const sub = new Float32Array(npix);
    for (let i = 0; i < npix; i++) sub[i] = image[i] - bkg.backImage[i];
    const det = detect({ data: sub, width: nx, height: ny }, {
      noise: bkg.rmsImage,
      mask: flags,
      maskBits: FLAG.BAD | FLAG.ZERO_WEIGHT | FLAG.OUT_OF_BOUNDS,
      satBits: FLAG.SATURATED | FLAG.BLEED,
      thresh: params.fwhm_threshold,
      minArea: 10,
      deblendCont: 1,
    });
    let fwhmPx: number | null = null;
    if (det.objects.length >= 5) {
      const objs = det.objects;
      const m = measureSources(
        { data: sub, width: nx, height: ny, weight, flags },
        objs.map((o) => o.x),
        objs.map((o) => o.y),
        { radius: 8 },
      );
      const snr = objs.map((o) => o.flux / Math.sqrt(o.npix) / bkg.globalRms);
      const sel = selectPsfStars(
        snr,
        m.fwhm,
        null,
        Int32Array.from(objs, (o, i) => o.flags | m.flags[i]),
        { snrMin: 20 },
      );
      if (sel.selected.reduce((s, v) => s + v, 0) >= 3 && sel.fwhmMode > 0) {
        fwhmPx = sel.fwhmMode;
      }
    }
    // 9: sky position from the header WCS
    const header = new Header();
    for (const [k, v, c] of inputs.cards) header.set(k, v, c);
    let centre: ImageEstimates["centre"] = null;
    let corners: ImageEstimates["corners"] = null;
    let scale: number | null = null;
    if (inputs.wcs) {
      const params2 = trimmedWcs(inputs.wcs, layout);
      const wcs = makeWcs(params2);
      scale = pixelScaleArcsec(params2);
      centre = wcs.pixToSky((nx - 1) / 2, (ny - 1) / 2);
      const cs = [[0, 0], [0, ny - 1], [nx - 1, 0], [nx - 1, ny - 1]].map(([x, y]) =>
        wcs.pixToSky(x, y)
      );
      corners = { ra: cs.map((c) => c.ra), dec: cs.map((c) => c.dec) };
      for (const [k, v, c] of wcsToCards({ ...params2, type: wcs.type })) header.set(k, v, c);
    }
    const preprocBitflag = Number(namesToBits(PREPROCESSING, done));
    const satE = Math.min(
      ...layout.amps.map((a, k) => (a.saturation - levels[k]) * a.gain),
    );
    header.set("BUNIT", "electron", "pixel unit");
    header.set("GAIN", 1, "e-/unit: the image is in electrons");
    header.set("SATURATE", Math.round(satE), "lowest saturation level (e-, before the flat)");
    header.set(
      "RDNOISE",
      layout.amps.reduce((s, a) => s + a.readNoise, 0) / layout.amps.length,
      "mean read noise (e-)",
    );
    header.set("SKYLEVEL", bkg.global, "median sky (e-)");
    header.set("SKYSIGMA", bkg.globalRms, "median sky rms (e-)");
    if (fwhmPx !== null) header.set("FWHMEST", fwhmPx, "first-look FWHM (px)");
    header.set("PREPROC", preprocBitflag, `corrections done: ${done.join(",")}`);
    levels.forEach((l, k) =>
      header.set(
        `OVSCN${layout.amps[k].name}`,
        l,
        `mean overscan, amplifier ${layout.amps[k].name}`,
      )
    );
    const estimates: ImageEstimates = {
      sky: bkg.global,
      rms: bkg.globalRms,
      fwhmPx,
      fwhmArcsec: fwhmPx !== null && scale !== null ? fwhmPx * scale : null,
      centre,
      corners,
      nSaturated: sat.nSaturated,
      nBad,
      nBleed: sat.nBleed,
    };
    return {
      outputs: {
        image: { width: nx, height: ny, image, weight, flags, header },
        estimates,
        preprocBitflag,
      },
      metrics: {
        sky: bkg.global,
        rms: bkg.globalRms,
        fwhm_px: fwhmPx ?? NaN,
        saturated: sat.nSaturated,
        zero_weight: nBad,
      },
    };
  },
});
