/**
 * Quality of preprocessing + extraction against the simulation's truth (group
 * "extraction"; part B adds the astrometry and photometry figures in
 * tests/quality/astrometry.ts). One simulated SimCam CCD (1024 x 2048 small — a
 * quarter CCD keeps ~140 PSF stars —, 2048 x 4096 full) goes through master bias
 * and flat, preprocessing's run() and extraction's run():
 *
 * - extraction/psf_fwhm_centre: |FWHM of the PSF model / truth - 1| at the CCD
 *   centre; target 0.02. The truth is the FWHM of the simulated Moffat as sampled
 *   on pixels (the renderer integrates over pixels, which widens it by ~3% at 4 px),
 *   measured the same way on a model fitted to noise-free truth stars
 *   (functions/extraction/_testing.ts pixelizedFwhm).
 * - extraction/psf_fwhm_corners: the largest of the same at the four corners (10 px
 *   in); target 0.02.
 * - extraction/star_completeness: fraction of truth stars with S/N > 20 (from
 *   their flux and the sky) and no truth source above a tenth of their flux
 *   within 3 FWHM (blends of the matched-filter detection are not counted) found
 *   within 1 px; target >= 0.95.
 * - extraction/sky_level: |median sky / truth - 1| (truth: sky + dark x flat
 *   median); target 0.005.
 *
 * @module
 */
import { psfFwhm } from "../../core-wasm/mod.ts";
import { ccdFlat, evalFwhm } from "../../functions/_shared/sim/camera.ts";
import { pixelizedFwhm } from "../../functions/extraction/_testing.ts";
import { ExtractionParams, extractionStep } from "../../functions/extraction/step.ts";
import {
  preprocessingInputsOf,
  simScience,
  simSetup,
} from "../../functions/preprocessing/_testing.ts";
import { PreprocessingParams, preprocessingStep } from "../../functions/preprocessing/step.ts";
import { type FigureOptions, type QualityFigure, target } from "../figure.ts";

export default async function* extraction(opts: FigureOptions): AsyncIterable<QualityFigure> {
  const nx = opts.small ? 1024 : 2048, ny = opts.small ? 2048 : 4096;
  opts.progress(`extraction: masters and a science exposure of a ${nx} x ${ny} CCD`);
  const setup = simSetup({ nx, ny, frames: opts.small ? 3 : 5 });
  const ccd = simScience(setup).ccds[0];
  opts.progress("extraction: preprocessing and extraction");
  const pre = await preprocessingStep.run(
    preprocessingInputsOf(setup, ccd),
    PreprocessingParams.parse({}),
    undefined,
  );
  const { outputs } = await extractionStep.run(
    { image: pre.outputs.image },
    ExtractionParams.parse({}),
    undefined,
  );
  const fwhmErr = (x: number, y: number) =>
    Math.abs(
      psfFwhm(outputs.psf, x, y) / pixelizedFwhm(evalFwhm(ccd.fwhmPoly, nx, ny, x, y)) - 1,
    );
  yield {
    ...target("extraction/psf_fwhm_centre", fwhmErr((nx - 1) / 2, (ny - 1) / 2), 0.02),
    fwhm_px: psfFwhm(outputs.psf, (nx - 1) / 2, (ny - 1) / 2),
    psf_stars: outputs.psf.nUsed,
    psf_degree: outputs.psf.degree,
  };
  const m = 10;
  const corners = [[m, m], [nx - 1 - m, m], [m, ny - 1 - m], [nx - 1 - m, ny - 1 - m]];
  yield {
    ...target(
      "extraction/psf_fwhm_corners",
      Math.max(...corners.map(([x, y]) => fwhmErr(x, y))),
      0.02,
    ),
    per_corner: corners.map(([x, y]) => Number(fwhmErr(x, y).toFixed(4))),
  };

  const flat = Float64Array.from(ccdFlat(setup.cam, setup.cam.ccd(ccd.id))).sort();
  const flatMedian = flat[flat.length >> 1];
  const skyTruth = (ccd.skyE + setup.cam.ccd(ccd.id).darkCurrent * 90) * flatMedian;
  const list = outputs.sources;
  const sky = outputs.background.global;
  const bright = ccd.truth.filter((t) => {
    if (t.kind !== "star" || t.x < 5 || t.y < 5 || t.x > nx - 6 || t.y > ny - 6) return false;
    const area = Math.PI * t.fwhm * t.fwhm; // ~ the optimal aperture's noise area
    if (t.fluxE / Math.sqrt(t.fluxE + area * sky) <= 20) return false;
    return !ccd.truth.some((o) =>
      o !== t && o.fluxE > 0.1 * t.fluxE && Math.hypot(o.x - t.x, o.y - t.y) < 3 * t.fwhm
    );
  });
  // a grid of sources for matching
  const cell = 8, grid = new Map<number, number[]>();
  for (let j = 0; j < list.count; j++) {
    const key = Math.floor(list.X[j] / cell) * 65536 + Math.floor(list.Y[j] / cell);
    (grid.get(key) ?? grid.set(key, []).get(key)!).push(j);
  }
  let found = 0;
  for (const t of bright) {
    const cx = Math.floor(t.x / cell), cy = Math.floor(t.y / cell);
    let hit = false;
    for (let dx = -1; dx <= 1 && !hit; dx++) {
      for (let dy = -1; dy <= 1 && !hit; dy++) {
        for (const j of grid.get((cx + dx) * 65536 + cy + dy) ?? []) {
          if (Math.hypot(list.X[j] - t.x, list.Y[j] - t.y) < 1) hit = true;
        }
      }
    }
    if (hit) found++;
  }
  yield {
    ...target("extraction/star_completeness", found / bright.length, 0.95, false),
    stars: bright.length,
    sources: list.count,
  };
  yield {
    ...target("extraction/sky_level", Math.abs(sky / skyTruth - 1), 0.005),
    sky,
    sky_truth: skyTruth,
  };
}
