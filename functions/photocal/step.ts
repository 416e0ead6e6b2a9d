/**
 * photocal: the photometric calibration of an image from its astrometrically
 * calibrated sources. Gaia stars (moved to the image epoch by their proper
 * motions) with BP-RP inside both the configured range and the instrument's
 * are put in the image's band by the instrument's colour transform, matched to
 * unflagged sources within a radius; then
 *
 * - aperture corrections: for every aperture radius, the clipped median of the
 *   magnitude difference to the largest aperture over the >= 20 brightest
 *   matched stars;
 * - zero point: inverse-variance weighted mean, with sigma clipping, of
 *   m_ref - (-2.5 log10 F_k + apcor_k) over matched stars with S/N above a cut,
 *   at the chosen aperture k; mag = -2.5 log10(F_k) + apcor_k + zp;
 * - limiting magnitude: a fit of calibrated magnitude against ln(S/N) of all
 *   unflagged sources, evaluated at S/N = 5 (SeeChange).
 *
 * @module
 */
import { z } from "zod";
import {
  julianYear,
  pairWithin,
  type Point,
  PointGrid,
  positionAtEpoch,
} from "../_shared/astrometry/mod.ts";
import type { RefStar } from "../_shared/catalogs/catalog.ts";
import { AlgorithmError } from "../_shared/errors.ts";
import type { Instrument } from "../_shared/instruments/instrument.ts";
import type { SourceList } from "../_shared/products/source_list_file.ts";
import { defineStep } from "../_shared/runtime/step.ts";
import { type HeaderLike, pixelScaleArcsec, wcsFromHeader } from "../_shared/wcs/mod.ts";
import { apertureCorrections, clippedWeightedMean, limitingMagnitude } from "./zero_point.ts";

/** The step's parameters. */
export const PhotocalParams = z.object({
  colour_range: z.tuple([z.number(), z.number()]).default([0.5, 3]).describe(
    "BP-RP range of calibration stars (SeeChange), further limited to the instrument's",
  ),
  match_radius_arcsec: z.number().positive().default(1).describe(
    "largest distance of a source from its catalog star (arcsec)",
  ),
  aperture_index: z.number().int().min(-1).default(1).describe(
    "aperture (index into the source list's radii) whose magnitudes the zero point calibrates: " +
      "1 = 2 x FWHM with [1, 2, 3, 5] x FWHM, a small correction to total; -1: the list's best aperture",
  ),
  flag_mask: z.number().int().min(0).default(0xffff).describe(
    "sources with any of these FLAGS bits are not used",
  ),
  min_snr: z.number().positive().default(20).describe("S/N cut of zero-point stars"),
  clip: z.number().positive().default(3).describe("sigma clipping of the zero-point stars"),
  sys_error: z.number().min(0).default(0.005).describe(
    "magnitude error added in quadrature to each star's (catalog and colour-transform systematics)",
  ),
  min_stars: z.number().int().min(3).default(10).describe("fewer zero-point stars: fail"),
  apcor_min_stars: z.number().int().min(3).default(20).describe(
    "fewest bright stars for the aperture corrections",
  ),
  apcor_max_stars: z.number().int().min(3).default(50).describe(
    "brightest matched stars used for the aperture corrections",
  ),
  apcor_isolation_fwhm: z.number().min(0).default(1).describe(
    "aperture-correction stars: neighbours are looked for out to the largest aperture plus this many FWHM",
  ),
  apcor_isolation_flux: z.number().min(0).default(0.01).describe(
    "aperture-correction stars: no neighbour in reach may be brighter than this fraction of the star",
  ),
  lim_snr: z.number().positive().default(5).describe("S/N of the limiting magnitude"),
  lim_fit_snr: z.tuple([z.number().positive(), z.number().positive()]).default([3, 20]).describe(
    "S/N range of the sources in the fit of mag against ln(S/N)",
  ),
}).strict();

/** Parsed parameters. */
export type PhotocalParameters = z.infer<typeof PhotocalParams>;

/** What run() reads. */
export interface PhotocalInputs {
  sources: SourceList;
  width: number;
  height: number;
  /** The astrocal WCS cards. */
  wcs: HeaderLike;
  /** The source list's best aperture (source_lists.best_aper_num), if recorded. */
  bestAperture: number | null;
  mjd: number;
  expTime: number;
  /** Our band name. */
  band: string;
  instrument: Pick<Instrument, "gaiaToBand" | "colourRange">;
  refStars: RefStar[];
}

/** The ZeroPoint product. */
export interface PhotocalOutputs {
  zp: number;
  dzp: number;
  aperCorRadii: number[];
  aperCors: number[];
  limMag: number;
  nStars: number;
  info: Record<string, unknown>;
}

/** The step's declaration. */
export const photocalStep = defineStep({
  process: "photocal",
  codeVersion: "1.0.0",
  params: PhotocalParams,
  critical: [
    "colour_range",
    "match_radius_arcsec",
    "aperture_index",
    "flag_mask",
    "min_snr",
    "clip",
    "sys_error",
    "min_stars",
    "apcor_min_stars",
    "apcor_max_stars",
    "apcor_isolation_fwhm",
    "apcor_isolation_flux",
    "lim_snr",
    "lim_fit_snr",
  ],
  inputs: ["sources", "world_coordinates", "catalog_excerpt"],
  outputs: ["zero_point"],
  run(inputs: PhotocalInputs, params: PhotocalParameters) {
    const { sources: list, width, height, instrument, band } = inputs;
    const na = list.apertureRadii.length;
    if (na === 0) throw new AlgorithmError("the source list has no apertures", "few_sources");
    // the requested aperture, or the largest one when the list has fewer
    const k = Math.min(
      params.aperture_index >= 0 ? params.aperture_index : inputs.bestAperture ?? 1,
      na - 1,
    );
    const total = na - 1;
    const wcs = wcsFromHeader(inputs.wcs);
    const epoch = julianYear(inputs.mjd + inputs.expTime / 2 / 86400);
    const lo = Math.max(params.colour_range[0], instrument.colourRange[0]);
    const hi = Math.min(params.colour_range[1], instrument.colourRange[1]);

    // catalog stars on the image; in the band when their colour allows
    const stars: Array<{ x: number; y: number; mag: number; err: number }> = [];
    const anyStars: Point[] = [];
    for (const s of inputs.refStars) {
      const pos = positionAtEpoch(s, epoch);
      const p = wcs.skyToPix(pos.ra, pos.dec);
      if (!(p.x >= 0 && p.y >= 0 && p.x <= width - 1 && p.y <= height - 1)) continue;
      anyStars.push(p);
      const c = s.bp - s.rp;
      if (![s.g, s.bp, s.rp].every(Number.isFinite) || !(c >= lo && c <= hi)) continue;
      const mag = instrument.gaiaToBand(band, s.g, s.bp, s.rp);
      // error through the transform: numerical derivatives in BP and RP
      const dbp = instrument.gaiaToBand(band, s.g, s.bp + 0.01, s.rp) - mag;
      const drp = instrument.gaiaToBand(band, s.g, s.bp, s.rp + 0.01) - mag;
      const err = Math.hypot(
        Number.isFinite(s.gErr) ? s.gErr : 0,
        (dbp / 0.01) * (Number.isFinite(s.bpErr) ? s.bpErr : 0),
        (drp / 0.01) * (Number.isFinite(s.rpErr) ? s.rpErr : 0),
      );
      stars.push({ x: p.x, y: p.y, mag, err });
    }

    // usable sources and their matches
    const good = (i: number) =>
      (list.FLAGS[i] & params.flag_mask) === 0 && list.FLUX_APER[i * na + k] > 0 &&
      list.FLUXERR_APER[i * na + k] > 0;
    const usable = Array.from({ length: list.count }, (_, i) => i).filter(good);
    const radiusPx = params.match_radius_arcsec / pixelScaleArcsec(wcs);
    const pairs = pairWithin(
      usable.map((i) => ({ x: list.X[i], y: list.Y[i] })),
      (x, y) => [x, y],
      new PointGrid(stars, 8),
      radiusPx,
    ).map(([a, b]) => [usable[a], b] as [number, number]);
    const flux = (i: number, a: number) => list.FLUX_APER[i * na + a];
    const snr = (i: number, a: number) => flux(i, a) / list.FLUXERR_APER[i * na + a];

    // aperture corrections from the brightest isolated matched stars: no other source
    // within the largest aperture plus `apcor_isolation_fwhm` FWHM brighter than
    // `apcor_isolation_flux` of the star (the large aperture would collect it)
    const fwhms = Array.from(list.FWHM).filter((v) => v > 0);
    fwhms.sort((a, b) => a - b);
    const fwhm = fwhms.length > 0 ? fwhms[fwhms.length >> 1] : 0;
    const reach = list.apertureRadii[total] + params.apcor_isolation_fwhm * fwhm;
    const isolated = (i: number) => {
      for (let j = 0; j < list.count; j++) {
        if (j === i) continue;
        const dx = list.X[j] - list.X[i], dy = list.Y[j] - list.Y[i];
        if (dx * dx + dy * dy > reach * reach) continue;
        if (!(flux(j, 0) < params.apcor_isolation_flux * flux(i, 0))) return false;
      }
      return true;
    };
    // stars: sources on a catalog star of any colour, or point-like by CLASS_STAR
    const starLike = new Set(
      pairWithin(
        usable.map((i) => ({ x: list.X[i], y: list.Y[i] })),
        (x, y) => [x, y],
        new PointGrid(anyStars, 8),
        radiusPx,
      ).map(([a]) => usable[a]),
    );
    for (const i of usable) if (list.CLASS_STAR[i] >= 0.8) starLike.add(i);
    const bright = [...starLike].filter((i) => flux(i, total) > 0 && flux(i, 0) > 0)
      .sort((a, b) => flux(b, total) - flux(a, total)).filter(isolated)
      .slice(0, params.apcor_max_stars);
    if (bright.length < params.apcor_min_stars) {
      throw new AlgorithmError(
        `${bright.length} matched stars for the aperture corrections, ${params.apcor_min_stars} needed`,
        "few_sources",
        { matched: pairs.length, star_like: starLike.size },
      );
    }
    const apcor = apertureCorrections(
      list.FLUX_APER,
      list.FLUXERR_APER,
      na,
      bright,
      total,
      params.clip,
    );

    // zero point
    const zpPairs = pairs.filter(([i]) => snr(i, k) >= params.min_snr);
    const values = zpPairs.map(([i, j]) =>
      stars[j].mag - (-2.5 * Math.log10(flux(i, k)) + apcor.corrections[k])
    );
    const errors = zpPairs.map(([i, j]) => Math.hypot(1.0857362 / snr(i, k), stars[j].err));
    const zp = clippedWeightedMean(values, errors, params.clip, params.sys_error);
    if (!(zp.n >= params.min_stars)) {
      throw new AlgorithmError(
        `${zp.n} zero-point stars after clipping, ${params.min_stars} needed`,
        "xmatch_failed",
        { matched: pairs.length },
      );
    }

    // limiting magnitude from every usable source
    const mags = usable.map((i) => -2.5 * Math.log10(flux(i, k)) + apcor.corrections[k] + zp.mean);
    const snrs = usable.map((i) => snr(i, k));
    const lim = limitingMagnitude(mags, snrs, params.lim_snr, params.lim_fit_snr);

    return {
      outputs: {
        zp: zp.mean,
        dzp: Math.hypot(zp.error, apcor.errors[k]),
        aperCorRadii: [...list.apertureRadii],
        aperCors: apcor.corrections,
        limMag: lim.mag,
        nStars: zp.n,
        info: {
          aperture_index: k,
          matched: pairs.length,
          catalog_stars: stars.length,
          colour_range: [lo, hi],
          chi2: zp.chi2,
          dzp_stars: zp.error,
          apcor_stars: bright.length,
          apcor_scatter: apcor.scatter,
          apcor_errors: apcor.errors,
          lim_fit: { slope: lim.slope, intercept: lim.intercept, n: lim.n },
          epoch,
        },
      },
      metrics: {
        zp: zp.mean,
        dzp: zp.error,
        n_stars: zp.n,
        lim_mag: lim.mag,
        matched: pairs.length,
      },
    };
  },
});
