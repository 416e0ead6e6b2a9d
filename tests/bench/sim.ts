/**
 * `deno task bench sim`: the simulated camera. Time to render one 2048 x 4096
 * science CCD of the default sky (about 5000 stars and 1300 galaxies: stars,
 * galaxies, noise, cosmic rays, readout of both amplifiers), best of two after a
 * warm-up; the same for a dome flat; then the simulator's C kernels on that CCD
 * (sd_sim_poisson, sd_sim_readout of one amplifier, sd_sim_galaxies on the CCD's
 * galaxies) and writing the raw MEF (plain and Rice-compressed).
 * Small mode: a 512 x 1024 CCD.
 *
 * @module
 */
import { type BenchFigure, type FigureOptions, peakMemoryMb } from "../figure.ts";
import { simGalaxies, simPoisson, simReadout } from "../../core-wasm/sim.ts";
import { SimCam } from "../../functions/_shared/instruments/simcam.ts";
import { renderExposure } from "../../functions/_shared/sim/camera.ts";
import { exposureFits } from "../../functions/_shared/sim/output.ts";
import { SimSky } from "../../functions/_shared/sim/sky.ts";
import { tpvPixToSky } from "../../functions/_shared/sim/tpv.ts";

function best(fn: () => void, repeat = 2): number {
  let t = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

export default async function* sim(opts: FigureOptions): AsyncIterable<BenchFigure> {
  const cam = opts.small
    ? new SimCam({ nCcd: 1, ccdNx: 512, ccdNy: 1024 })
    : new SimCam({ nCcd: 1 });
  const { ccdNx: nx, ccdNy: ny } = cam.options;
  const sky = new SimSky({ seed: 1 });
  const spec = { ra: 150, dec: 2, mjd: 60000.2, band: "r" as const };
  const flats = new Map<string, Float32Array>();
  opts.progress(`sim: warm-up render of one ${nx} x ${ny} CCD`);
  const first = renderExposure(cam, sky, { ...spec, expnum: 1 }, { flats });
  const c = first.ccds[0];
  const counts: Record<string, number> = {};
  for (const t of c.truth) counts[t.kind] = (counts[t.kind] ?? 0) + 1;
  let expnum = 2;
  const science = best(() => renderExposure(cam, sky, { ...spec, expnum: expnum++ }, { flats }));
  yield {
    bench: "sim/render_ccd",
    wall_ms: Math.round(science),
    peak_mb: peakMemoryMb(),
    size: `${nx}x${ny}`,
    ...counts,
  };
  const flat = best(() =>
    renderExposure(cam, sky, { ...spec, type: "flat", expnum: expnum++ }, { flats })
  );
  yield { bench: "sim/render_flat", wall_ms: Math.round(flat), peak_mb: peakMemoryMb() };

  const img = new Float32Array(nx * ny).fill(1000);
  yield {
    bench: "sim/kernel_poisson",
    wall_ms: Math.round(best(() => simPoisson(img.fill(1000), 1, 1))),
    peak_mb: peakMemoryMb(),
  };
  const { nx: rawNx, ny: rawNy } = cam.rawSize;
  const raw = new Float32Array(rawNx * rawNy);
  const g = cam.rawGeometry()[0];
  yield {
    bench: "sim/kernel_readout_amp",
    wall_ms: Math.round(best(() =>
      simReadout(
        img,
        nx,
        ny,
        raw,
        rawNx,
        rawNy,
        {
          srcX0: g.trim.x0,
          width: g.trim.x1 - g.trim.x0,
          col0: g.cols.x0,
          col1: g.cols.x1,
          dstX0: g.data.x0,
          dstY0: g.data.y0,
        },
        { biasLevel: 2000, gain: 4, readNoise: 6 },
        1,
        1,
      )
    )),
    peak_mb: peakMemoryMb(),
  };
  const gals = c.truth.filter((t) => t.kind === "galaxy");
  const centre = tpvPixToSky(c.wcs, (nx - 1) / 2, (ny - 1) / 2);
  const byId = new Map(sky.galaxiesInCone(centre.ra, centre.dec, 0.25).map((s) => [s.id, s]));
  const params = gals.map((t) => {
    const s = byId.get(t.id)!;
    return {
      x: t.x,
      y: t.y,
      flux: t.fluxE,
      n: s.n,
      re: Math.max(0.1, s.reArcsec / cam.pixelScale),
      q: s.q,
      theta: 0.3,
      fwhm: t.fwhm,
    };
  });
  yield {
    bench: "sim/kernel_galaxies",
    wall_ms: Math.round(best(() => simGalaxies(img, nx, ny, params))),
    peak_mb: peakMemoryMb(),
    galaxies: params.length,
  };
  for (const compress of [false, true]) {
    let size = 0;
    const t = best(() => (size = exposureFits(first, compress).length));
    yield {
      bench: compress ? "sim/write_fits_rice" : "sim/write_fits",
      wall_ms: Math.round(t),
      peak_mb: peakMemoryMb(),
      bytes: size,
    };
  }
}
