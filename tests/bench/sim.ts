/**
 * `deno task bench sim`: the simulated camera. Time to render one 2048 x 4096
 * science CCD of the default sky (about 5000 stars and 1300 galaxies: stars,
 * galaxies, noise, cosmic rays, readout of both amplifiers), best of two after a
 * warm-up; the same for a dome flat; then the simulator's C kernels on that CCD
 * (sd_sim_poisson, sd_sim_readout of one amplifier, sd_sim_galaxies on the CCD's
 * galaxies; inputs already in WASM memory) against the same calls in native C
 * (core-wasm/bench/sim/main.c, compiled with gcc -O3 -march=native at run time),
 * with their ratio; and writing the raw MEF (plain and Rice-compressed).
 * Small mode: a 512 x 1024 CCD.
 *
 * @module
 */
import { type BenchFigure, type FigureOptions, peakMemoryMb } from "../figure.ts";
import { getCore } from "../../core-wasm/mod.ts";
import { SIM_GAL_NCOL } from "../../core-wasm/sim.ts";
import { SimCam } from "../../functions/_shared/instruments/simcam.ts";
import { renderExposure } from "../../functions/_shared/sim/camera.ts";
import { exposureFits } from "../../functions/_shared/sim/output.ts";
import { SimSky } from "../../functions/_shared/sim/sky.ts";
import { tpvPixToSky } from "../../functions/_shared/sim/tpv.ts";

const round = (v: number) => Math.round(v * 10) / 10;

type KernelTimes = Record<"poisson" | "readout_amp" | "galaxies", number>;

/** The three kernels in WASM (SIMD build), inputs already copied in; best of two. */
function timeWasmKernels(nx: number, ny: number, gal: Float64Array, ngal: number): KernelTimes {
  const core = getCore("simd");
  const n = nx * ny, rnx = nx + 112, rny = ny + 50;
  return core.scope((s) => {
    const fill = new Float32Array(n).fill(1000);
    const img = s.f32(n), raw = s.f32(rnx * rny), pg = s.copyIn(gal);
    const geom = s.copyIn(Int32Array.from([nx / 2, nx / 2, 56 + nx / 2, rnx, 56 + nx / 2, 50, 0]));
    const t = { poisson: Infinity, readout_amp: Infinity, galaxies: Infinity };
    for (let r = 0; r < 2; r++) {
      core.write(img, fill);
      let t0 = performance.now();
      core.call("sd_sim_poisson", img, n, 1, 1);
      t.poisson = Math.min(t.poisson, performance.now() - t0);
      t0 = performance.now();
      core.call("sd_sim_readout", img, nx, ny, geom, raw, rnx, rny, 0, 0, 2000, 4, 6, 0, 1, 1);
      t.readout_amp = Math.min(t.readout_amp, performance.now() - t0);
      t0 = performance.now();
      core.call("sd_sim_galaxies", img, nx, ny, pg, ngal, 0, 0, 0, 0);
      t.galaxies = Math.min(t.galaxies, performance.now() - t0);
    }
    return t;
  });
}

/** The same calls in native C, or null when gcc is not available. */
async function timeNativeKernels(
  nx: number,
  ny: number,
  gal: Float64Array,
  ngal: number,
  opts: FigureOptions,
): Promise<KernelTimes | null> {
  const core = new URL("../../core-wasm/", import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "skydiff_bench_sim_" });
  try {
    const exe = `${dir}/sd_bench_sim`;
    const cc = await new Deno.Command("gcc", {
      args: [
        "-O3",
        "-march=native",
        "-std=c11",
        `-I${core}include`,
        `-I${core}src`,
        `${core}bench/sim/main.c`,
        `${core}src/noise.c`,
        `${core}src/render_galaxy.c`,
        "-lm",
        "-o",
        exe,
      ],
      stderr: "piped",
    }).output().catch(() => null);
    if (!cc?.success) {
      opts.progress("sim: gcc unavailable or failed; no native timings");
      return null;
    }
    await Deno.writeFile(
      `${dir}/gal.f64`,
      new Uint8Array(gal.buffer, gal.byteOffset, gal.byteLength),
    );
    const r = await new Deno.Command(exe, {
      args: [String(nx), String(ny), `${dir}/gal.f64`, String(ngal), "2"],
      stdout: "piped",
    }).output();
    if (!r.success) return null;
    return JSON.parse(new TextDecoder().decode(r.stdout)) as KernelTimes;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

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

  // the simulator's kernels with their inputs already in WASM memory, and the same calls
  // in native C (core-wasm/bench/sim/main.c, compiled here with the Makefile's flags)
  const gals = c.truth.filter((t) => t.kind === "galaxy");
  const centre = tpvPixToSky(c.wcs, (nx - 1) / 2, (ny - 1) / 2);
  const byId = new Map(sky.galaxiesInCone(centre.ra, centre.dec, 0.25).map((s) => [s.id, s]));
  const params = new Float64Array(gals.length * SIM_GAL_NCOL);
  gals.forEach((t, i) => {
    const s = byId.get(t.id)!;
    params.set([
      t.x,
      t.y,
      t.fluxE,
      s.n,
      Math.max(0.1, s.reArcsec / cam.pixelScale),
      s.q,
      (s.paDeg * Math.PI) / 180,
      t.fwhm,
    ], i * SIM_GAL_NCOL);
  });
  const wasm = timeWasmKernels(nx, ny, params, gals.length);
  const native = await timeNativeKernels(nx, ny, params, gals.length, opts);
  for (const k of ["poisson", "readout_amp", "galaxies"] as const) {
    const fig: BenchFigure = {
      bench: `sim/kernel_${k}`,
      wall_ms: round(wasm[k]),
      peak_mb: peakMemoryMb(),
    };
    if (native) {
      fig.native_ms = round(native[k]);
      fig.ratio = Math.round((wasm[k] / native[k]) * 100) / 100;
    }
    if (k === "galaxies") fig.galaxies = gals.length;
    yield fig;
  }
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
