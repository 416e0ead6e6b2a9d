/**
 * extraction: a calibrated Image -> its Background, PSF and SourceList.
 *
 * 1. background and rms maps: clipped-mode mesh (`back_box` px), median filter,
 *    bicubic spline (the core's sd_background_*), flagged pixels ignored;
 * 2. first detection pass on the background-subtracted image at
 *    `psf_threshold` sigma with the 3x3 filter; windowed measurements;
 * 3. PSF stars: S/N >= `psf_snr_min`, unflagged, isolated, FWHM near the
 *    stellar-locus mode (selectPsfStars); PSF model: pixel basis varying as a
 *    polynomial of degree `psf_degree` over the image, stamp `psf_size_fwhm` x the
 *    measured FWHM (odd, >= 15) (fitPsf);
 * 4. second pass with the PSF at the image centre as the matched filter; the
 *    threshold `threshold` sigma is scaled by sqrt(sum psf^2) (the noise of the
 *    filtered image, PSF normalised to sum 1), as SeeChange does;
 * 5. measurement of every source: windowed centroid, shape, isophotal and Kron
 *    fluxes; circular apertures of `apertures` x FWHM (the model's FWHM at the
 *    image centre); PSF photometry at the windowed centroids (fixed positions,
 *    local constant background fitted, Poisson term from the image's gain);
 * 6. star/galaxy indicator CLASS_STAR (see {@linkcode classStar}).
 *
 * Source FLAGS: bits 0-4 detection (blended, truncated, saturated, masked,
 * singular moments: core OBJ_FLAGS), bits 5-10 measurement (PhotFlags << 5 of the
 * windowed measurement OR the PSF fit: truncated, masked, no background, no
 * convergence, bad shape, empty).
 *
 * @module
 */
import { z } from "zod";
import {
  type Background,
  background,
  detect,
  fitPsf,
  measureSources,
  type PsfModel,
  psfPhotometry,
  psfRender,
  selectPsfStars,
  sumCircle,
} from "../../core-wasm/mod.ts";
import { AlgorithmError } from "../_shared/errors.ts";
import type { BackgroundData } from "../_shared/products/background_file.ts";
import type { ImageData } from "../_shared/products/image_file.ts";
import { emptySourceList, type SourceList } from "../_shared/products/source_list_file.ts";
import { defineStep } from "../_shared/runtime/step.ts";

/** Pixel FLAGS bits that exclude a pixel from detection and photometry. */
export const MASK_BITS = 1 | 2 | 8; // bad pixel, zero weight, out of bounds
/** Pixel FLAGS bits that mark saturation (flag only). */
export const SAT_BITS = 4 | 32; // saturated, bleed trail

/** The step's parameters. */
export const ExtractionParams = z.object({
  back_box: z.int().min(8).max(1024).default(128).describe(
    "background mesh box size (px)",
  ),
  back_filter: z.int().min(1).max(9).default(3).describe(
    "median filter over the background mesh (boxes)",
  ),
  threshold: z.number().positive().default(3).describe(
    "detection threshold of the second (matched-filter) pass, sigma (SeeChange: 3)",
  ),
  psf_threshold: z.number().positive().default(5).describe(
    "detection threshold of the first pass (3x3 filter), whose sources give the PSF stars",
  ),
  min_area: z.int().min(1).default(5).describe("minimum pixels above threshold"),
  deblend_nthresh: z.int().min(1).max(256).default(32).describe(
    "deblending sub-thresholds (SExtractor DEBLEND_NTHRESH)",
  ),
  deblend_cont: z.number().min(0).max(1).default(0.005).describe(
    "deblending minimum contrast (SExtractor DEBLEND_MINCONT)",
  ),
  apertures: z.array(z.number().positive()).min(1).default([1, 2, 3, 5]).describe(
    "circular aperture radii in units of the PSF FWHM (SeeChange: [1, 2, 3, 5])",
  ),
  psf_snr_min: z.number().positive().default(20).describe("minimum S/N of a PSF star"),
  psf_max_stars: z.int().min(0).default(500).describe(
    "at most this many PSF stars, highest S/N first (0 = all)",
  ),
  psf_degree: z.int().min(0).max(4).default(2).describe(
    "degree of the PSF's spatial polynomial (lowered to keep >= 10 PSF stars per term)",
  ),
  psf_size_fwhm: z.number().positive().default(5).describe(
    "PSF stamp side in units of the measured FWHM (odd, at least 15 px; SeeChange: 5)",
  ),
  psf_oversample: z.int().min(1).max(4).default(1).describe("PSF grid pixels per image pixel"),
  psf_min_stars: z.int().min(3).default(10).describe(
    "fewer PSF stars than this is an AlgorithmError (psf_fit_failed)",
  ),
  class_star_width: z.number().positive().default(0.03).describe(
    "intrinsic width of the point-source locus in the PSF/aperture flux ratio (CLASS_STAR)",
  ),
}).strict();

/** Parsed parameters. */
export type ExtractionParameters = z.infer<typeof ExtractionParams>;

/** What run() needs: the image (IMAGE, WEIGHT, FLAGS, header). */
export interface ExtractionInputs {
  image: ImageData;
}

/** What run() returns. */
export interface ExtractionOutputs {
  sources: SourceList;
  background: BackgroundData;
  psf: PsfModel;
  /** Index of the aperture with the best median S/N for stars; the largest one. */
  bestAperture: number;
  infAperture: number;
  /** Numbers for the rows' info. */
  info: Record<string, number>;
}

/**
 * CLASS_STAR, a spread-model-like indicator from the PSF-to-aperture flux ratio:
 * r = FLUX_PSF / FLUX_APER(k) normalised by the median ratio r* of the PSF stars;
 * s = 1 - r / r* is ~0 for a point source and grows for extended ones (their PSF
 * flux falls short of the aperture flux). With sigma^2 = err(s)^2 + width^2
 * (measurement error from both fluxes plus the locus width),
 * CLASS_STAR = exp(-max(s, 0)^2 / (2 sigma^2)): 1 on the stellar locus, towards 0
 * for resolved sources, and ~1 for faint sources whose s is noise (as SExtractor's
 * CLASS_STAR, which goes to 0.5 there: use it with an S/N cut).
 */
export function classStar(
  fluxPsf: number,
  errPsf: number,
  fluxAper: number,
  errAper: number,
  starRatio: number,
  width: number,
): number {
  if (!(fluxAper > 0) || !(fluxPsf > 0) || !(starRatio > 0)) return 0;
  const r = fluxPsf / fluxAper / starRatio;
  const s = 1 - r;
  const err = r * Math.hypot(errPsf / fluxPsf, errAper / fluxAper);
  const sigma2 = err * err + width * width;
  const sp = Math.max(s, 0);
  return Math.exp(-(sp * sp) / (2 * sigma2));
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function toBackgroundData(b: Background, p: ExtractionParameters): BackgroundData {
  return {
    width: b.width,
    height: b.height,
    boxWidth: b.boxWidth,
    boxHeight: b.boxHeight,
    filterWidth: p.back_filter,
    filterHeight: p.back_filter,
    nbx: b.nbx,
    nby: b.nby,
    back: b.back,
    rms: b.rms,
    global: b.global,
    globalRms: b.globalRms,
    nBad: b.nBad,
  };
}

/** The step's declaration. */
export const extractionStep = defineStep({
  process: "extraction",
  codeVersion: "1.0.0",
  params: ExtractionParams,
  critical: [
    "back_box",
    "back_filter",
    "threshold",
    "psf_threshold",
    "min_area",
    "deblend_nthresh",
    "deblend_cont",
    "apertures",
    "psf_snr_min",
    "psf_max_stars",
    "psf_degree",
    "psf_size_fwhm",
    "psf_oversample",
    "psf_min_stars",
    "class_star_width",
  ],
  inputs: ["image"],
  outputs: ["sources", "background", "psf"],
  run(inputs: ExtractionInputs, p: ExtractionParameters) {
    const { width, height, image, weight, flags } = inputs.image;
    const npix = width * height;
    const gain = inputs.image.header.getNumber("GAIN") ?? 1;
    let usable = 0;
    for (let i = 0; i < npix; i++) if (weight[i] > 0 && (flags[i] & MASK_BITS) === 0) usable++;
    if (usable < 0.1 * npix) {
      throw new AlgorithmError(
        `only ${usable} of ${npix} pixels have weight: nothing to extract`,
        "bad_background",
      );
    }
    // 1. background
    const bkg = background({ data: image, width, height }, {
      mask: flags,
      maskBits: MASK_BITS | SAT_BITS,
      boxWidth: p.back_box,
      boxHeight: p.back_box,
      filterWidth: p.back_filter,
      filterHeight: p.back_filter,
    });
    if (!(bkg.globalRms > 0)) {
      throw new AlgorithmError("background rms is zero: a constant image", "bad_background");
    }
    const sub = new Float32Array(npix);
    for (let i = 0; i < npix; i++) sub[i] = image[i] - bkg.backImage[i];
    const noisy = { data: sub, width, height, weight, flags };
    const detectBase = {
      noise: bkg.rmsImage,
      mask: flags,
      maskBits: MASK_BITS,
      satBits: SAT_BITS,
      minArea: p.min_area,
      deblendNThresh: p.deblend_nthresh,
      deblendCont: p.deblend_cont,
      segmap: true,
    };
    // 2. first pass
    const first = detect({ data: sub, width, height }, { ...detectBase, thresh: p.psf_threshold });
    const n1 = first.objects.length;
    if (n1 < p.psf_min_stars) {
      throw new AlgorithmError(`first pass found ${n1} sources`, "few_sources");
    }
    const m1 = measureSources(
      noisy,
      first.objects.map((o) => o.x),
      first.objects.map((o) => o.y),
      { seg: first.segmap, gain, maskBits: MASK_BITS },
    );
    const snr1 = Array.from(m1.fluxKron, (f, i) => f / m1.fluxKronErr[i]);
    const flags1 = Int32Array.from(first.objects, (o, i) => o.flags | m1.flags[i]);
    // 3. PSF
    const fwhmGuess = median(
      Array.from(m1.fwhm).filter((f, i) => snr1[i] > p.psf_snr_min && f > 1),
    );
    const isolation = Math.max(10, (p.psf_size_fwhm * (fwhmGuess || 4)) / 2 + 2 * (fwhmGuess || 4));
    const sel = selectPsfStars(snr1, m1.fwhm, m1.peak, flags1, {
      snrMin: p.psf_snr_min,
      maxStars: p.psf_max_stars,
      isolation,
      positions: { x: m1.x, y: m1.y, flux: m1.fluxKron },
    });
    const stars = [...sel.selected.keys()].filter((i) => sel.selected[i] === 1);
    if (stars.length < p.psf_min_stars) {
      throw new AlgorithmError(
        `${stars.length} PSF stars (need ${p.psf_min_stars})`,
        "psf_fit_failed",
      );
    }
    let size = Math.ceil(p.psf_size_fwhm * sel.fwhmMode * p.psf_oversample);
    size = Math.max(size, 15 * p.psf_oversample);
    if (size % 2 === 0) size++;
    // keep the degree to what the stars can constrain: ~ 10 stars per term
    let degree = p.psf_degree;
    while (degree > 0 && stars.length < (10 * ((degree + 1) * (degree + 2))) / 2) degree--;
    const psf = fitPsf(noisy, stars.map((i) => m1.x[i]), stars.map((i) => m1.y[i]), {
      size,
      oversample: p.psf_oversample,
      degree,
      fwhm: sel.fwhmMode,
    });
    if (!(psf.fwhm > 0) || psf.nUsed < Math.min(p.psf_min_stars, stars.length)) {
      throw new AlgorithmError(`PSF fit kept ${psf.nUsed} stars`, "psf_fit_failed");
    }
    // 4. second pass: the PSF as the matched filter
    // the PSF out to ~1.25 FWHM: ~95% of the full matched filter's S/N at half the cost
    const side = Math.min(31, Math.max(5, 2 * Math.ceil(1.25 * psf.fwhm) + 1));
    const kernel = psfRender(psf, (width - 1) / 2, (height - 1) / 2, side);
    let ksum = 0, ksum2 = 0;
    for (const v of kernel) ksum += v;
    for (const v of kernel) ksum2 += (v / ksum) ** 2;
    const second = detect({ data: sub, width, height }, {
      ...detectBase,
      kernel: { data: kernel, width: side, height: side },
      thresh: p.threshold * Math.sqrt(ksum2),
    });
    const objs = second.objects;
    const n = objs.length;
    // 5. measurement
    const m = measureSources(noisy, objs.map((o) => o.x), objs.map((o) => o.y), {
      seg: second.segmap,
      gain,
      maskBits: MASK_BITS,
    });
    // sources whose windowed centroid ran away keep the detection barycentre
    const xs = Float64Array.from(
      m.x,
      (x, i) => Number.isFinite(x) && Math.abs(x - objs[i].x) < 3 ? x : objs[i].x,
    );
    const ys = Float64Array.from(
      m.y,
      (y, i) => Number.isFinite(y) && Math.abs(y - objs[i].y) < 3 ? y : objs[i].y,
    );
    const radii = p.apertures.map((k) => k * psf.fwhm);
    const aper = sumCircle(noisy, xs, ys, radii, { gain, maskBits: MASK_BITS });
    const phot = psfPhotometry(noisy, psf, xs, ys, { gain, maskBits: MASK_BITS });
    const naper = radii.length;
    // 6. CLASS_STAR against the PSF stars' ratio in the aperture of 2 FWHM (or the nearest)
    const kRef = p.apertures.reduce(
      (best, a, k) => (Math.abs(a - 2) < Math.abs(p.apertures[best] - 2) ? k : best),
      0,
    );
    const isStar = new Uint8Array(n);
    {
      // a source of the second pass is a PSF star when it sits on one (within 1 px)
      const grid = new Map<number, number[]>();
      const cell = (x: number, y: number) => Math.floor(x / 4) * 100003 + Math.floor(y / 4);
      stars.forEach((i) => {
        const c = cell(m1.x[i], m1.y[i]);
        (grid.get(c) ?? grid.set(c, []).get(c)!).push(i);
      });
      for (let j = 0; j < n; j++) {
        for (let dx = -1; dx <= 1 && !isStar[j]; dx++) {
          for (let dy = -1; dy <= 1 && !isStar[j]; dy++) {
            const c = (Math.floor(xs[j] / 4) + dx) * 100003 + Math.floor(ys[j] / 4) + dy;
            for (const i of grid.get(c) ?? []) {
              if (Math.hypot(m1.x[i] - xs[j], m1.y[i] - ys[j]) < 1) isStar[j] = 1;
            }
          }
        }
      }
    }
    const ratios: number[] = [];
    for (let j = 0; j < n; j++) {
      const fa = aper.flux[j * naper + kRef];
      if (isStar[j] && phot.flux[j] > 0 && fa > 0) ratios.push(phot.flux[j] / fa);
    }
    const starRatio = median(ratios);
    // best aperture: the highest median S/N over the PSF stars
    let bestAperture = 0, bestSnr = -Infinity;
    for (let k = 0; k < naper; k++) {
      const s: number[] = [];
      for (let j = 0; j < n; j++) {
        if (isStar[j]) s.push(aper.flux[j * naper + k] / aper.fluxErr[j * naper + k]);
      }
      const med = median(s);
      if (med > bestSnr) {
        bestSnr = med;
        bestAperture = k;
      }
    }
    const list = emptySourceList(n, radii);
    for (let j = 0; j < n; j++) {
      const o = objs[j];
      list.X[j] = xs[j];
      list.Y[j] = ys[j];
      const sigma = psf.fwhm / 2.3548;
      const snrPsf = phot.flux[j] / phot.fluxErr[j];
      const posErr = snrPsf > 0 ? sigma / snrPsf : NaN; // a Gaussian PSF: sigma / (S/N) per axis
      list.X_ERR[j] = posErr;
      list.Y_ERR[j] = posErr;
      list.A[j] = m.a[j];
      list.B[j] = m.b[j];
      list.THETA[j] = m.theta[j];
      list.FWHM[j] = m.fwhm[j];
      list.NPIX[j] = o.npix;
      list.PEAK[j] = m.peak[j];
      list.BKG[j] = phot.bkg[j];
      list.FLUX_ISO[j] = m.fluxIso[j];
      list.FLUXERR_ISO[j] = m.fluxIsoErr[j];
      list.FLUX_KRON[j] = m.fluxKron[j];
      list.FLUXERR_KRON[j] = m.fluxKronErr[j];
      list.KRON_RADIUS[j] = m.kronRadius[j];
      list.FLUX_PSF[j] = phot.flux[j];
      list.FLUXERR_PSF[j] = phot.fluxErr[j];
      for (let k = 0; k < naper; k++) {
        list.FLUX_APER[j * naper + k] = aper.flux[j * naper + k];
        list.FLUXERR_APER[j * naper + k] = aper.fluxErr[j * naper + k];
      }
      list.CLASS_STAR[j] = classStar(
        phot.flux[j],
        phot.fluxErr[j],
        aper.flux[j * naper + kRef],
        aper.fluxErr[j * naper + kRef],
        starRatio,
        p.class_star_width,
      );
      list.FLAGS[j] = (o.flags & 31) | ((m.flags[j] | phot.flags[j] | aper.flags[j]) & 63) << 5;
    }
    list.header.set("THRESH", p.threshold, "detection threshold (sigma), matched filter");
    list.header.set("THRESHF", p.threshold * Math.sqrt(ksum2), "threshold on the filtered image");
    list.header.set("PSFFWHM", psf.fwhm, "PSF FWHM at the image centre (px)");
    list.header.set("NPSFSTAR", psf.nUsed, "stars in the PSF fit");
    list.header.set("STARRAT", starRatio, "median FLUX_PSF / FLUX_APER of PSF stars");
    list.header.set("CSAPER", kRef + 1, "aperture (1-based) of CLASS_STAR");
    list.header.set("GAIN", gain, "e- per image unit");
    const bunit = inputs.image.header.getString("BUNIT");
    if (bunit) list.header.set("BUNIT", bunit, "unit of the fluxes");
    return {
      outputs: {
        sources: list,
        background: toBackgroundData(bkg, p),
        psf,
        bestAperture,
        infAperture: naper - 1,
        info: {
          first_pass: n1,
          psf_stars_selected: stars.length,
          psf_stars_used: psf.nUsed,
          psf_degree: psf.degree,
          psf_fwhm_px: psf.fwhm,
          threshold_filtered: p.threshold * Math.sqrt(ksum2),
          star_ratio: starRatio,
        },
      },
      metrics: {
        sources: n,
        first_pass: n1,
        psf_stars: psf.nUsed,
        psf_fwhm_px: psf.fwhm,
        background: bkg.global,
        background_rms: bkg.globalRms,
      },
    };
  },
});
