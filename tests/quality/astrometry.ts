/**
 * `deno task quality astrometry`: astrocal and photocal against the truth of a
 * simulated SimCam CCD (512 x 1024 small, 2048 x 4096 full). The CCD is
 * rendered, overscan-corrected, flat-fielded with the true flat, background
 * subtracted, detected and measured on the core (windowed centroids, apertures
 * at [1, 2, 3, 5] x FWHM; functions/_shared/astrometry/_testing.ts); the
 * header's WCS given to astrocal is the true one moved by 2' (and, at full
 * size, also 4'), rotated by 1 degree (-3 degrees) and scaled by 1.01 (0.99).
 * The catalog is the simulator's Gaia-like catalog (positions at J2016 with
 * proper motions and errors).
 *
 * Figures (per scenario `<off>_<rot>`):
 * - astrometry/rms_vs_truth_arcsec_<s>: RMS over a 32-px grid of the distance
 *   between the fitted WCS and the renderer's TAN+TPV; target < 0.03".
 * - astrometry/max_vs_truth_arcsec_<s>: the largest such distance; target < 0.1".
 * - astrometry/matched_<s>: catalog stars matched; at least 20.
 * - astrometry/zp_error_mag: |zp - truth| where truth = ZP(band) - k airmass +
 *   2.5 log10(exptime) (e-); target < 0.01.
 * - astrometry/lim_mag_error_mag: |lim mag - truth|, truth = the magnitude of a
 *   Moffat (beta 3, truth FWHM, truncated at 5 FWHM as rendered) star whose flux
 *   in the zero point's aperture has S/N 5 over a sky variance of sky + dark +
 *   read noise^2 (e-) per pixel; target < 0.1.
 *
 * @module
 */
import { type FigureOptions, type QualityFigure, target } from "../figure.ts";
import { perturbCards, simulateCcd } from "../../functions/_shared/astrometry/_testing.ts";
import { AstrocalParams, astrocalStep } from "../../functions/astrocal/step.ts";
import { PhotocalParams, photocalStep } from "../../functions/photocal/step.ts";
import { tpvPixToSky, type TpvWcs } from "../../functions/_shared/sim/tpv.ts";
import { angularSeparationDeg } from "../../functions/_shared/sky/mod.ts";
import { type Wcs, wcsFromHeader } from "../../functions/_shared/wcs/mod.ts";

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

export default async function* astrometry(opts: FigureOptions): AsyncIterable<QualityFigure> {
  opts.progress("astrometry: rendering and measuring a simulated CCD");
  const sim = await simulateCcd(opts.small ? {} : { nx: 2048, ny: 4096 });
  const { list, width, height } = sim;
  opts.progress(`astrometry: ${list.count} sources, ${sim.refStars.length} catalog stars`);
  const scenarios: Array<[[number, number], number, number]> = opts.small
    ? [[[1.2, -1.6], 1, 1.01]]
    : [[[1.2, -1.6], 1, 1.01], [[-3.2, 2.4], -3, 0.99]];
  let cards: Record<string, string | number> | null = null;
  for (const [off, rot, scale] of scenarios) {
    const name = `${Math.hypot(...off).toFixed(0)}arcmin_${rot}deg`;
    const header = perturbCards(sim.cards, off, rot, scale);
    const r = await astrocalStep.run(
      {
        sources: list,
        width,
        height,
        header,
        mjd: sim.options.mjd,
        expTime: sim.options.exptime,
        refStars: sim.refStars,
      },
      AstrocalParams.parse({}),
      undefined,
    );
    const d = distanceToTruth(wcsFromHeader(r.outputs.cards), sim.ccd.wcs, width, height);
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
      bestAperture: null,
      mjd: sim.options.mjd,
      expTime: sim.options.exptime,
      band: sim.options.band,
      instrument: sim.cam,
      refStars: sim.refStars,
    },
    PhotocalParams.parse({}),
    undefined,
  );
  const zp = p.outputs;
  yield { ...target("astrometry/zp_error_mag", Math.abs(zp.zp - sim.zpTrue), 0.01), zp: zp.zp };

  // limiting magnitude from the truth
  const k = Number(zp.info.aperture_index);
  const r = zp.aperCorRadii[k];
  const fw = sim.ccd.truth.map((t) => t.fwhm).sort((a, b) => a - b);
  const fwhm = fw[fw.length >> 1];
  const ccd = sim.cam.ccd(sim.ccd.id);
  const variance = sim.ccd.skyE + ccd.darkCurrent * sim.options.exptime + sim.readNoise ** 2;
  const npix = Math.PI * r * r;
  const f5 = (25 + Math.sqrt(625 + 100 * npix * variance)) / 2;
  const limTrue = sim.zpTrue - 2.5 * Math.log10(f5 / moffatFraction(r, fwhm, 3, 5 * fwhm));
  yield {
    ...target("astrometry/lim_mag_error_mag", Math.abs(zp.limMag - limTrue), 0.1),
    lim_mag: zp.limMag,
    truth: limTrue,
  };
}
