/**
 * astrocal: the astrometric calibration of an image. Reference stars (a Gaia
 * excerpt, moved to the image's epoch by their proper motions) are matched to
 * the image's sources with no prior beyond the approximate WCS of the header
 * (triangle patterns: offsets of arcminutes, rotations of degrees, scale errors
 * of percents), then a TAN-SIP WCS is fitted with sigma clipping over a
 * shrinking match radius, trying the 2000, 1000, 500 and 200 brightest sources
 * until SeeChange's success criteria hold (> 10 matches, > 10% matched, mean
 * residual <= 0.15"). Output: the WCS cards (WorldCoordinates product) and the
 * image's new footprint (centre, HEALPix, corners).
 *
 * @module
 */
import { z } from "zod";
import {
  AstrometryFailure,
  julianYear,
  positionAtEpoch,
  type RefPoint,
  solveAstrometry,
  type SourcePoint,
} from "../_shared/astrometry/mod.ts";
import type { RefStar } from "../_shared/catalogs/catalog.ts";
import type { FourCorners } from "../_shared/db/images.ts";
import { HEALPIX_ORDER } from "../_shared/db/schema.ts";
import { AlgorithmError } from "../_shared/errors.ts";
import type { SourceList } from "../_shared/products/source_list_file.ts";
import { defineStep } from "../_shared/runtime/step.ts";
import { ang2pixNest, angularSeparationDeg } from "../_shared/sky/mod.ts";
import {
  type HeaderLike,
  pixelScaleArcsec,
  type Wcs,
  wcsFromHeader,
  wcsToCards,
} from "../_shared/wcs/mod.ts";

/** Where the reference catalog comes from. */
export const CatalogSettings = z.object({
  kind: z.enum(["http", "file", "simsky"]).default("http").describe(
    "reference catalog source: a Gaia excerpt server (http), a FITS/CSV file, or the simulated sky",
  ),
  url: z.string().default("").describe("excerpt server base URL (kind http), without /gaiarect"),
  path: z.string().default("").describe("catalog file (kind file): FITS BINTABLE or CSV"),
  simsky: z.record(z.string(), z.number()).default({}).describe(
    "SimSky options (kind simsky), e.g. {seed: 7}; must match the simulated exposures",
  ),
  max_mag: z.number().default(21).describe("faintest Gaia G kept (SeeChange: 22 over 6 mag)"),
  field_radius_deg: z.number().min(0).default(0).describe(
    "0: one cached excerpt per image; > 0: one per exposure pointing of this radius, shared by its CCDs",
  ),
}).strict();

/** The step's parameters. */
export const AstrocalParams = z.object({
  catalog: CatalogSettings.prefault({}).describe("the reference catalog"),
  search_radius_arcmin: z.number().positive().default(5).describe(
    "largest pointing error searched (arcmin): the catalog area is the image grown by it",
  ),
  max_rotation_deg: z.number().min(0).max(45).default(5).describe(
    "largest rotation error of the header WCS (deg)",
  ),
  scale_tolerance: z.number().min(0).max(0.5).default(0.03).describe(
    "largest relative pixel-scale error of the header WCS",
  ),
  pattern_sources: z.array(z.number().int().min(5)).default([30, 50, 80]).describe(
    "brightest sources used to build triangles, tried in turn",
  ),
  tries: z.array(z.number().int().min(10)).default([2000, 1000, 500, 200]).describe(
    "brightest sources used in the fit, tried in turn until success (SeeChange)",
  ),
  match_radius_arcsec: z.number().positive().default(1).describe(
    "final match radius (arcsec); the refinement starts at 4x and 2x it",
  ),
  order: z.number().int().min(1).max(5).default(3).describe(
    "TAN-SIP polynomial order (1 = TAN; lowered when matches are few)",
  ),
  clip: z.number().positive().default(3).describe("sigma clipping of the fit residuals"),
  min_matches: z.number().int().min(3).default(10).describe("success: more matches than this"),
  min_fraction: z.number().min(0).max(1).default(0.1).describe(
    "success: more than this fraction of min(sources used, catalog stars on the image) matched",
  ),
  max_mean_residual_arcsec: z.number().positive().default(0.15).describe(
    "success: mean fit residual at most this (arcsec)",
  ),
  min_catalog_stars: z.number().int().min(3).default(50).describe(
    "fewer catalog stars in the search area: no_catalog",
  ),
}).strict();

/** Parsed parameters. */
export type AstrocalParameters = z.infer<typeof AstrocalParams>;

/** What run() reads. */
export interface AstrocalInputs {
  sources: SourceList;
  width: number;
  height: number;
  /** Header cards of the image's approximate WCS. */
  header: HeaderLike;
  /** Start of the exposure (MJD) and its length (s): stars are moved to mid-exposure. */
  mjd: number;
  expTime: number;
  /** The reference catalog excerpt around the image. */
  refStars: RefStar[];
}

/** The WorldCoordinates product and the image's footprint. */
export interface AstrocalOutputs {
  /** FITS WCS cards, keyword -> value. */
  cards: Record<string, string | number>;
  projection: "tan" | "tan_sip";
  nMatched: number;
  rmsArcsec: number;
  footprint: { ra: number; dec: number; healpix: number; corners: FourCorners };
  info: Record<string, unknown>;
}

/** The flux that ranks sources: PSF flux when measured, else the largest aperture's. */
export function rankingFlux(list: SourceList): Float64Array {
  const n = list.count, na = list.apertureRadii.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const psf = list.FLUX_PSF[i];
    out[i] = Number.isFinite(psf) && psf > 0 ? psf : na > 0 ? list.FLUX_APER[i * na + na - 1] : NaN;
  }
  return out;
}

/** Sky positions of an image's corners (00, 01, 10, 11; 01 = (x0, y1)) and centre. */
export function footprintOf(wcs: Wcs, width: number, height: number): AstrocalOutputs["footprint"] {
  const cs = [[0, 0], [0, height - 1], [width - 1, 0], [width - 1, height - 1]].map(([x, y]) =>
    wcs.pixToSky(x, y)
  );
  const c = wcs.pixToSky((width - 1) / 2, (height - 1) / 2);
  return {
    ra: c.ra,
    dec: c.dec,
    healpix: ang2pixNest(HEALPIX_ORDER, c.ra, c.dec),
    corners: {
      ra: cs.map((p) => p.ra) as FourCorners["ra"],
      dec: cs.map((p) => p.dec) as FourCorners["dec"],
    },
  };
}

/** The step's declaration. */
export const astrocalStep = defineStep({
  process: "astrocal",
  codeVersion: "1.0.0",
  params: AstrocalParams,
  critical: [
    "catalog",
    "search_radius_arcmin",
    "max_rotation_deg",
    "scale_tolerance",
    "pattern_sources",
    "tries",
    "match_radius_arcsec",
    "order",
    "clip",
    "min_matches",
    "min_fraction",
    "max_mean_residual_arcsec",
    "min_catalog_stars",
  ],
  inputs: ["sources", "catalog_excerpt"],
  outputs: ["world_coordinates"],
  run(inputs: AstrocalInputs, params: AstrocalParameters) {
    const { sources: list, width, height } = inputs;
    let guess: Wcs;
    try {
      guess = wcsFromHeader(inputs.header);
    } catch (err) {
      throw new AlgorithmError(
        `no usable approximate WCS: ${(err as Error).message}`,
        "xmatch_failed",
      );
    }
    const epoch = julianYear(inputs.mjd + inputs.expTime / 2 / 86400);
    // stars within reach: the image's half-diagonal plus the search radius (a field
    // excerpt covers many CCDs)
    const centre = guess.pixToSky((width - 1) / 2, (height - 1) / 2);
    const reach = (Math.hypot(width, height) / 2) * pixelScaleArcsec(guess) / 3600 * 1.1 +
      (params.search_radius_arcmin / 60) * 1.5;
    const refs: RefPoint[] = [];
    for (const s of inputs.refStars) {
      if (!(s.g <= params.catalog.max_mag)) continue;
      const p = positionAtEpoch(s, epoch);
      if (angularSeparationDeg(p.ra, p.dec, centre.ra, centre.dec) > reach) continue;
      refs.push({ ...p, mag: s.g });
    }
    // stars in the search area
    const pad = (params.search_radius_arcmin * 60) / Math.sqrt(Math.abs(
      (guess.cd[0][0] * guess.cd[1][1] - guess.cd[0][1] * guess.cd[1][0]) * 3600 * 3600,
    ));
    const nArea = refs.filter((r) => {
      const p = guess.skyToPix(r.ra, r.dec);
      return p.x > -pad && p.y > -pad && p.x < width + pad && p.y < height + pad;
    }).length;
    if (nArea < params.min_catalog_stars) {
      throw new AlgorithmError(
        `${nArea} catalog stars in the search area, ${params.min_catalog_stars} needed`,
        "no_catalog",
        { catalog_stars: nArea },
      );
    }
    const flux = rankingFlux(list);
    const pts: SourcePoint[] = Array.from({ length: list.count }, (_, i) => ({
      x: list.X[i],
      y: list.Y[i],
      flux: flux[i],
    }));
    let sol;
    try {
      sol = solveAstrometry(pts, refs, guess, width, height, {
        searchRadiusArcmin: params.search_radius_arcmin,
        maxRotationDeg: params.max_rotation_deg,
        scaleTolerance: params.scale_tolerance,
        patternSources: params.pattern_sources,
        tries: params.tries,
        matchRadiusArcsec: params.match_radius_arcsec,
        order: params.order,
        clip: params.clip,
        minMatches: params.min_matches,
        minFraction: params.min_fraction,
        maxMeanResidualArcsec: params.max_mean_residual_arcsec,
      });
    } catch (err) {
      if (err instanceof AstrometryFailure) {
        throw new AlgorithmError(err.message, err.reason, { catalog_stars: nArea });
      }
      throw err;
    }
    const cards: Record<string, string | number> = {};
    for (const [k, v] of wcsToCards({ ...sol.wcs, type: sol.wcs.type })) cards[k] = v;
    const footprint = footprintOf(sol.wcs, width, height);
    const g = guess.pixToSky((width - 1) / 2, (height - 1) / 2);
    const shift = Math.hypot(
      (footprint.ra - g.ra) * Math.cos((g.dec * Math.PI) / 180),
      footprint.dec - g.dec,
    ) * 3600;
    return {
      outputs: {
        cards,
        projection: sol.wcs.type === "TAN-SIP" ? "tan_sip" as const : "tan" as const,
        nMatched: sol.nMatched,
        rmsArcsec: sol.rmsArcsec,
        footprint,
        info: {
          fraction_matched: sol.fraction,
          mean_residual_arcsec: sol.meanResidualArcsec,
          sources_used: sol.nSourcesUsed,
          catalog_stars: nArea,
          epoch,
          pattern: sol.pattern,
          centre_shift_arcsec: shift,
        },
      },
      metrics: {
        n_matched: sol.nMatched,
        rms_arcsec: sol.rmsArcsec,
        mean_residual_arcsec: sol.meanResidualArcsec,
        centre_shift_arcsec: shift,
        pattern_rotation_deg: sol.pattern.rotationDeg,
      },
    };
  },
});
