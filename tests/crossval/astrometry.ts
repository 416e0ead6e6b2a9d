/**
 * `deno task crossval astrometry`: our astrometric calibration against SCAMP
 * (Debian's scamp, fed by Debian's source-extractor) on the same simulated
 * SimCam CCD (512 x 1024 small, 2048 x 4096 full; flat-fielded with the true
 * flat and background-subtracted, functions/_shared/astrometry/_testing.ts),
 * the same approximate header WCS (the true one moved by 2', rotated by 1
 * degree, scaled by 1.01) and the same reference stars (the simulator's Gaia
 * catalog moved to the image epoch by its proper motions). SCAMP gets
 * POSITION_MAXERR 5', POSANGLE_MAXERR 5 deg, DISTORT_DEGREES 3; we get our
 * defaults. Both solutions are compared with the renderer's TAN+TPV over a
 * 32-px grid (tests/crossval/py/scamp_astrometry.py).
 *
 * Figures (tolerance 0.03" each, the acceptance bar of the astrometric RMS):
 * - astrometry/ours_rms_vs_truth_arcsec: RMS distance of our WCS to the truth.
 * - astrometry/scamp_rms_vs_truth_arcsec: the same for SCAMP's solution.
 * - astrometry/ours_vs_scamp_rms_arcsec: RMS distance between the two solutions.
 *
 * @module
 */
import type { CrossvalFigure, FigureOptions } from "../figure.ts";
import { within } from "../figure.ts";
import { julianYear, positionAtEpoch } from "../../functions/_shared/astrometry/mod.ts";
import { perturbCards, simulateCcd } from "../../functions/_shared/astrometry/_testing.ts";
import { AstrocalParams, astrocalStep } from "../../functions/astrocal/step.ts";
import { tpvPixToSky } from "../../functions/_shared/sim/tpv.ts";
import { angularSeparationDeg } from "../../functions/_shared/sky/mod.ts";
import { wcsFromHeader } from "../../functions/_shared/wcs/mod.ts";

const PY = new URL("./py/scamp_astrometry.py", import.meta.url).pathname;

export default async function* astrometry(opts: FigureOptions): AsyncIterable<CrossvalFigure> {
  opts.progress("astrometry: rendering and measuring a simulated CCD");
  const sim = await simulateCcd(opts.small ? {} : { nx: 2048, ny: 4096 });
  const { width, height } = sim;
  const header = perturbCards(sim.cards, [1.2, -1.6], 1, 1.01);
  const params = AstrocalParams.parse({});

  opts.progress("astrometry: ours");
  const ours = await astrocalStep.run(
    {
      sources: sim.list,
      width,
      height,
      header,
      mjd: sim.options.mjd,
      expTime: sim.options.exptime,
      refStars: sim.refStars,
    },
    params,
    undefined,
  );
  const wcs = wcsFromHeader(ours.outputs.cards);

  const grid: Array<[number, number]> = [];
  for (let y = 0; y < height; y += 32) for (let x = 0; x < width; x += 32) grid.push([x, y]);
  const epoch = julianYear(sim.options.mjd + sim.options.exptime / 2 / 86400);
  const refs = sim.refStars.filter((s) => s.g <= params.catalog.max_mag).map((s) => {
    const p = positionAtEpoch(s, epoch);
    return [p.ra, p.dec, s.g, Math.max(1e-3, Math.hypot(s.raErr, s.decErr) / 1000)];
  });

  opts.progress("astrometry: source-extractor + scamp");
  const work = await Deno.makeTempDir({ prefix: "scamp_" });
  let scamp: { ra: number[]; dec: number[]; n_sources: number };
  try {
    await Deno.writeFile(`${work}/image.f32`, new Uint8Array(sim.image.buffer));
    await Deno.writeTextFile(
      `${work}/input.json`,
      JSON.stringify({ width, height, header, refs, grid, radius_arcmin: 5, degree: 3 }),
    );
    const out = await new Deno.Command("/usr/bin/python3", { args: [PY, work] }).output();
    if (!out.success) {
      throw new Error(`scamp_astrometry.py failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    scamp = JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(work, { recursive: true });
  }

  let so = 0, ss = 0, sx = 0;
  grid.forEach(([x, y], k) => {
    const t = tpvPixToSky(sim.ccd.wcs, x, y), o = wcs.pixToSky(x, y);
    const d1 = angularSeparationDeg(o.ra, o.dec, t.ra, t.dec) * 3600;
    const d2 = angularSeparationDeg(scamp.ra[k], scamp.dec[k], t.ra, t.dec) * 3600;
    const d3 = angularSeparationDeg(o.ra, o.dec, scamp.ra[k], scamp.dec[k]) * 3600;
    so += d1 * d1, ss += d2 * d2, sx += d3 * d3;
  });
  const n = grid.length;
  yield {
    ...within("astrometry/ours_rms_vs_truth_arcsec", Math.sqrt(so / n), 0.03),
    matched: ours.outputs.nMatched,
    sources: sim.list.count,
  };
  yield {
    ...within("astrometry/scamp_rms_vs_truth_arcsec", Math.sqrt(ss / n), 0.03),
    sources: scamp.n_sources,
  };
  yield within("astrometry/ours_vs_scamp_rms_arcsec", Math.sqrt(sx / n), 0.03);
}
