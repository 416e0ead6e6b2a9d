/**
 * `deno task quality astrometry`: astrocal and photocal against the truth of a
 * simulated SimCam CCD (512 x 1024 small, 2048 x 4096 full), measured two ways:
 * "pipeline" — the preprocessing and extraction steps' run() (masters from
 * simulated biases and flats; PSF photometry, apertures at [1, 2, 3, 5] x FWHM,
 * best aperture); "core" — a minimal extraction on the core with the true flat
 * (functions/_shared/astrometry/_testing.ts). The
 * header's WCS given to astrocal is the true one moved by 2' (and, at full
 * size, also 4'), rotated by 1 degree (-3 degrees) and scaled by 1.01 (0.99).
 * The catalog is the simulator's Gaia-like catalog (positions at J2016 with
 * proper motions and errors).
 *
 * Figures (per way `<m>` and scenario `<off>_<rot>`):
 * - astrometry/rms_vs_truth_arcsec_<m>_<s>: RMS over a 32-px grid of the distance
 *   between the fitted WCS and the renderer's TAN+TPV; target < 0.03".
 * - astrometry/max_vs_truth_arcsec_<m>_<s>: the largest such distance; target < 0.1".
 * - astrometry/matched_<m>_<s>: catalog stars matched; at least 20.
 * - astrometry/zp_error_mag_<m>: |zp - truth| where truth = ZP(band) - k airmass +
 *   2.5 log10(exptime) (e-), plus 2.5 log10(median of the true flat) for the
 *   pipeline (its master flat has unit median); target < 0.01.
 * - astrometry/lim_mag_error_mag_<m>: |lim mag - truth|, truth = the magnitude of a
 *   Moffat (beta 3, truth FWHM, truncated at 5 FWHM as rendered) star whose flux
 *   in the zero point's aperture has S/N 5 over a sky variance of sky + dark +
 *   read noise^2 (e-) per pixel; target < 0.1. (The pipeline's measured noise
 *   also carries the master bias and flat noise, ~6% more: ~0.07 mag shallower.)
 *
 * @module
 */
import { type FigureOptions, type QualityFigure, target } from "../figure.ts";
import { perturbCards, simulateCcd } from "../../functions/_shared/astrometry/_testing.ts";
import { AstrocalParams, astrocalStep } from "../../functions/astrocal/step.ts";
import { PhotocalParams, photocalStep } from "../../functions/photocal/step.ts";
import { tpvCards, tpvPixToSky, type TpvWcs } from "../../functions/_shared/sim/tpv.ts";
import { angularSeparationDeg } from "../../functions/_shared/sky/mod.ts";
import { type Wcs, wcsFromHeader } from "../../functions/_shared/wcs/mod.ts";
import { ccdFlat, SIM_EXTINCTION, SIM_ZEROPOINT } from "../../functions/_shared/sim/camera.ts";
import { SimSkySource } from "../../functions/_shared/catalogs/sim.ts";
import type { SourceList } from "../../functions/_shared/products/source_list_file.ts";
import type { RefStar } from "../../functions/_shared/catalogs/catalog.ts";
import type { SimCam } from "../../functions/_shared/instruments/simcam.ts";
import type { RenderedCcd } from "../../functions/_shared/sim/camera.ts";
import {
  preprocessingInputsOf,
  simScience,
  simSetup,
} from "../../functions/preprocessing/_testing.ts";
import { PreprocessingParams, preprocessingStep } from "../../functions/preprocessing/step.ts";
import { ExtractionParams, extractionStep } from "../../functions/extraction/step.ts";

/** RMS and max distance (arcsec) between a WCS and the truth over a grid. */
export function distanceToTruth(
  wcs: Wcs,
  truth: TpvWcs,
  width: number,
  height: number,
  step = 32,
): { rms: number; max: number } {
  let s = 0, n = 0, max = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const p = wcs.pixToSky(x, y), q = tpvPixToSky(truth, x, y);
      const d = angularSeparationDeg(p.ra, p.dec, q.ra, q.dec) * 3600;
      s += d * d;
      n++;
      max = Math.max(max, d);
    }
  }
  return { rms: Math.sqrt(s / n), max };
}

/** Fraction of a Moffat (beta, FWHM f) flux within r, the profile truncated at R. */
export function moffatFraction(r: number, fwhm: number, beta: number, R: number): number {
  const alpha = fwhm / (2 * Math.sqrt(2 ** (1 / beta) - 1));
  const enc = (x: number) => 1 - (1 + (x * x) / (alpha * alpha)) ** (1 - beta);
  return enc(Math.min(r, R)) / enc(R);
}

/** One measured CCD, whichever way its sources were measured. */
interface Measured {
  label: string;
  cam: SimCam;
  ccd: RenderedCcd;
  list: SourceList;
  bestAperture: number | null;
  width: number;
  height: number;
  cards: Record<string, string | number>;
  refStars: RefStar[];
  mjd: number;
  exptime: number;
  band: string;
  /** True zero point of the image's flux unit, and of electrons (they differ by the flat's scale). */
  zpTrue: number;
  zpElectrons: number;
  readNoise: number;
}

/** The minimal extraction on the core (functions/_shared/astrometry/_testing.ts). */
async function coreMeasured(small: boolean): Promise<Measured> {
  const sim = await simulateCcd(small ? {} : { nx: 2048, ny: 4096 });
  return {
    label: "core",
    cam: sim.cam,
    ccd: sim.ccd,
    list: sim.list,
    bestAperture: null,
    width: sim.width,
    height: sim.height,
    cards: sim.cards,
    refStars: sim.refStars,
    mjd: sim.options.mjd,
    exptime: sim.options.exptime,
    band: sim.options.band,
    zpTrue: sim.zpTrue,
    zpElectrons: sim.zpTrue,
    readNoise: sim.readNoise,
  };
}

/** The pipeline's own preprocessing (masters from simulated biases and flats) and extraction. */
async function pipelineMeasured(small: boolean): Promise<Measured> {
  const sky = { seed: 3, starsPerDeg2: 150000, starSlope: 0.2 };
  const setup = simSetup({ frames: 3, sky, ...(small ? {} : { nx: 2048, ny: 4096 }) });
  const exp = simScience(setup);
  const ccd = exp.ccds[0];
  const pre = await preprocessingStep.run(
    preprocessingInputsOf(setup, ccd),
    PreprocessingParams.parse({}),
    undefined,
  );
  const ex = await extractionStep.run(
    { image: pre.outputs.image },
    ExtractionParams.parse({}),
    undefined,
  );
  const cards: Record<string, string | number> = {};
  for (const [k, v] of tpvCards(ccd.wcs)) cards[k] = v;
  const { ccdNx: nx, ccdNy: ny } = setup.cam.options;
  const c = ccd.wcs.crval, half = (Math.hypot(nx, ny) / 2) * setup.cam.pixelScale / 3600 + 0.2;
  const cosd = Math.cos((c[1] * Math.PI) / 180);
  const refStars = await new SimSkySource(setup.sky).rect({
    minRa: c[0] - half / cosd,
    maxRa: c[0] + half / cosd,
    minDec: c[1] - half,
    maxDec: c[1] + half,
  });
  const amps = setup.cam.ccd(ccd.id).amps;
  // the master flat has unit median, the true flat has not: the image is in e- x median(flat)
  const flat = Float64Array.from(ccdFlat(setup.cam, setup.cam.ccd(ccd.id))).sort();
  const flatMedian = flat[flat.length >> 1];
  const zpElectrons = SIM_ZEROPOINT[setup.band] - SIM_EXTINCTION[setup.band] * 1.2 +
    2.5 * Math.log10(90);
  return {
    label: "pipeline",
    cam: setup.cam,
    ccd,
    list: ex.outputs.sources,
    bestAperture: ex.outputs.bestAperture,
    width: nx,
    height: ny,
    cards,
    refStars,
    mjd: 60120.2,
    exptime: 90,
    band: setup.band,
    zpTrue: zpElectrons + 2.5 * Math.log10(flatMedian),
    zpElectrons,
    readNoise: (amps[0].readNoise + amps[1].readNoise) / 2,
  };
}

export default async function* astrometry(opts: FigureOptions): AsyncIterable<QualityFigure> {
  for (const measure of [pipelineMeasured, coreMeasured]) {
    opts.progress(`astrometry: rendering and measuring a simulated CCD (${measure.name})`);
    yield* figuresOf(await measure(opts.small), opts);
  }
}

async function* figuresOf(m: Measured, opts: FigureOptions): AsyncIterable<QualityFigure> {
  const { list, width, height, label } = m;
  opts.progress(`astrometry: ${list.count} sources, ${m.refStars.length} catalog stars`);
  const scenarios: Array<[[number, number], number, number]> = opts.small
    ? [[[1.2, -1.6], 1, 1.01]]
    : [[[1.2, -1.6], 1, 1.01], [[-3.2, 2.4], -3, 0.99]];
  let cards: Record<string, string | number> | null = null;
  for (const [off, rot, scale] of scenarios) {
    const name = `${label}_${Math.hypot(...off).toFixed(0)}arcmin_${rot}deg`;
    const header = perturbCards(m.cards, off, rot, scale);
    const r = await astrocalStep.run(
      {
        sources: list,
        width,
        height,
        header,
        mjd: m.mjd,
        expTime: m.exptime,
        refStars: m.refStars,
      },
      AstrocalParams.parse({}),
      undefined,
    );
    const d = distanceToTruth(wcsFromHeader(r.outputs.cards), m.ccd.wcs, width, height);
    yield target(`astrometry/rms_vs_truth_arcsec_${name}`, d.rms, 0.03);
    yield target(`astrometry/max_vs_truth_arcsec_${name}`, d.max, 0.1);
    yield target(`astrometry/matched_${name}`, r.outputs.nMatched, 20, false);
    cards ??= r.outputs.cards;
  }

  opts.progress("astrometry: photometric calibration");
  const p = await photocalStep.run(
    {
      sources: list,
      width,
      height,
      wcs: cards!,
      bestAperture: m.bestAperture,
      mjd: m.mjd,
      expTime: m.exptime,
      band: m.band,
      instrument: m.cam,
      refStars: m.refStars,
    },
    PhotocalParams.parse({}),
    undefined,
  );
  const zp = p.outputs;
  yield {
    ...target(`astrometry/zp_error_mag_${label}`, Math.abs(zp.zp - m.zpTrue), 0.01),
    zp: zp.zp,
    truth: m.zpTrue,
    aperture: zp.info.aperture_index,
  };

  // limiting magnitude from the truth
  const k = Number(zp.info.aperture_index);
  const r = zp.aperCorRadii[k];
  const fw = m.ccd.truth.map((t) => t.fwhm).sort((a, b) => a - b);
  const fwhm = fw[fw.length >> 1];
  const ccd = m.cam.ccd(m.ccd.id);
  const variance = m.ccd.skyE + ccd.darkCurrent * m.exptime + m.readNoise ** 2;
  const npix = Math.PI * r * r;
  const f5 = (25 + Math.sqrt(625 + 100 * npix * variance)) / 2;
  const limTrue = m.zpElectrons - 2.5 * Math.log10(f5 / moffatFraction(r, fwhm, 3, 5 * fwhm));
  yield {
    ...target(`astrometry/lim_mag_error_mag_${label}`, Math.abs(zp.limMag - limTrue), 0.1),
    lim_mag: zp.limMag,
    truth: limTrue,
  };
}
