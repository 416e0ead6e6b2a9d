/**
 * Bench of the core's photometry and PSF kernels: WASM (SIMD build) against the native build
 * of the same C (core-wasm/build/sd_bench_phot, `make -C core-wasm native`) on the same
 * image and positions, best of 5 alternating native / WASM rounds; SEP's sum_circle as the
 * reference for apertures.
 *
 * The image: 2048 x 4096 with 5000 Moffat stars (FWHM 3.5 px) and Gaussian sky noise
 * (small: 1024 x 1024, 600 stars). Kernels (same calls and options on both sides):
 * sum_circle3 (r = 3, 5, 8 px), sum_circle_annulus (r = 5 px with a 12-18 px annulus),
 * measure, psf_fit (500 stars, 25 px, degree 2), psf_phot (fixed positions),
 * psf_phot_fitpos (positions fitted), render_stars (Moffat, FWHM 3.5, 5 x 5 core sampling).
 * WASM times are kernel calls only (inputs copied once).
 *
 * @module
 */
import type { Figure, FigureOptions } from "../figure.ts";
import { peakMemoryMb } from "../figure.ts";
import { getCore } from "../../core-wasm/_module.ts";
import { renderStars } from "../../core-wasm/render.ts";

const CORE_DIR = new URL("../../core-wasm/", import.meta.url).pathname;
const NATIVE = `${CORE_DIR}build/sd_bench_phot`;
const SEP_SCRIPT = new URL("../crossval/py/sep_phot.py", import.meta.url).pathname;
const REPEATS = 5;
const KERNELS = [
  "sum_circle3",
  "sum_circle_annulus",
  "measure",
  "psf_fit",
  "psf_phot",
  "psf_phot_fitpos",
  "render_stars",
] as const;

function rng(seed: number): { uniform: () => number; normal: () => number } {
  let s = seed >>> 0;
  const uniform = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** WASM timings (ms) of one round of the same calls sd_bench_phot makes. */
function wasmRound(
  data: Float32Array,
  width: number,
  height: number,
  sigma: number,
  xs: Float64Array,
  ys: Float64Array,
): Record<string, number> {
  const core = getCore("simd");
  const n = xs.length;
  const npsf = Math.min(n, 500);
  return core.scope((s) => {
    const img = s.copyIn(data);
    const w = s.copyIn(new Float32Array(width * height).fill(1 / (sigma * sigma)));
    const x = s.copyIn(xs), y = s.copyIn(ys);
    const r = s.copyIn(new Float64Array([3, 5, 8]));
    const flux = s.f64(3 * n), err = s.f64(3 * n), bkg = s.f64(n), fl = s.i32(n);
    const meas = s.f64(17 * n), phot = s.f64(10 * n);
    const lenPtr = s.i32(1);
    core.call("sd_psf_model_length", 25, 2, lenPtr);
    const len = s.readI32(lenPtr, 1)[0];
    const model = s.f32(len);
    const ao = s.copyIn(new Float64Array([0, 0, 0, 0]));
    const aa = s.copyIn(new Float64Array([0, 12, 18, 0]));
    const mo = s.copyIn(new Float64Array(9));
    const fo = s.copyIn(new Float64Array([25, 1, 2, 3.5, 4, 3]));
    const po = s.copyIn(new Float64Array([0, 0, 1, 0, 0, 0]));
    const pf = s.copyIn(new Float64Array([0, 1, 1, 0, 0, 0]));
    const canvas = s.f32(width * height);
    const zeros = new Float32Array(width * height);
    const fluxes = s.copyIn(Float64Array.from(xs, (_, i) => 1000 + 10 * i));
    const ro = s.copyIn(new Float64Array([0, 3, 3.5, 1, 0, 0, 5, 0]));
    const calls: Record<string, () => void> = {
      sum_circle3: () =>
        core.call("sd_sum_circle", img, w, 0, width, height, x, y, n, r, 3, ao, flux, err, bkg, fl),
      sum_circle_annulus: () =>
        core.call("sd_sum_circle", img, w, 0, width, height, x, y, n, r, 1, aa, flux, err, bkg, fl),
      measure: () => core.call("sd_measure", img, w, 0, 0, width, height, x, y, 0, n, mo, meas),
      psf_fit: () =>
        core.call("sd_psf_fit", img, w, 0, width, height, x, y, npsf, fo, model, len, 0),
      psf_phot: () =>
        core.call("sd_psf_phot", img, w, 0, width, height, model, len, x, y, n, po, phot),
      psf_phot_fitpos: () =>
        core.call("sd_psf_phot", img, w, 0, width, height, model, len, x, y, n, pf, phot),
      render_stars: () =>
        core.call("sd_render_stars", canvas, width, height, x, y, fluxes, n, ro, 0, 0),
    };
    const times: Record<string, number> = {};
    for (const k of KERNELS) {
      if (k === "render_stars") core.write(canvas, zeros);
      const t0 = performance.now();
      calls[k]();
      times[k] = performance.now() - t0;
    }
    return times;
  });
}

/** Bench figures of the photometry/PSF kernels (group "core_phot"). */
export default async function* corePhotBench(opts: FigureOptions): AsyncIterable<Figure> {
  const width = opts.small ? 1024 : 2048, height = opts.small ? 1024 : 4096;
  const n = opts.small ? 600 : 5000;
  const sigma = 10;
  const r = rng(3);
  const xs = new Float64Array(n), ys = new Float64Array(n), fs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = 15 + r.uniform() * (width - 30);
    ys[i] = 15 + r.uniform() * (height - 30);
    fs[i] = 300 * Math.pow(300, r.uniform());
  }
  const data = new Float32Array(width * height);
  renderStars({ data, width, height }, xs, ys, fs, { fwhm: 3.5 });
  for (let i = 0; i < data.length; i++) data[i] += sigma * r.normal();

  opts.progress("make -C core-wasm native wasm");
  await run("make", ["-C", CORE_DIR, "native", "wasm"]);
  const dir = await Deno.makeTempDir({ prefix: "sd_bench_phot_" });
  try {
    const imgPath = `${dir}/image.f32`, posPath = `${dir}/pos.f64`;
    await Deno.writeFile(imgPath, new Uint8Array(data.buffer));
    const pos = new Float64Array(2 * n);
    pos.set(xs, 0);
    pos.set(ys, n);
    await Deno.writeFile(posPath, new Uint8Array(pos.buffer));
    // alternate native and WASM rounds so that load from other processes hits both alike
    const native: Record<string, number> = {}, wasm: Record<string, number> = {};
    const args = [imgPath, `${width}`, `${height}`, `${sigma}`, posPath, `${n}`, "1"];
    for (let round = 0; round < REPEATS; round++) {
      opts.progress(`round ${round + 1}/${REPEATS}: native, ${n} stars on ${width}x${height}`);
      const nat = JSON.parse(await run(NATIVE, args)) as Record<string, number>;
      opts.progress(`round ${round + 1}/${REPEATS}: wasm`);
      const was = wasmRound(data, width, height, sigma, xs, ys);
      for (const k of KERNELS) {
        native[k] = Math.min(native[k] ?? Infinity, nat[k]);
        wasm[k] = Math.min(wasm[k] ?? Infinity, was[k]);
      }
    }
    opts.progress("sep");
    const srcPath = `${dir}/src.json`, outPath = `${dir}/sep.json`;
    await Deno.writeTextFile(
      srcPath,
      JSON.stringify({
        x: Array.from(xs),
        y: Array.from(ys),
        radii: [3, 5, 8],
        a: Array.from(xs, () => 2),
        b: Array.from(xs, () => 1.5),
        theta: Array.from(xs, () => 0),
        r_ell: 2,
        win_sig: Array.from(xs, () => 1.5),
      }),
    );
    await run("/usr/bin/python3", [
      SEP_SCRIPT,
      imgPath,
      `${width}`,
      `${height}`,
      `${sigma}`,
      srcPath,
      outPath,
    ]);
    const sep = JSON.parse(await Deno.readTextFile(outPath)) as { seconds_circle: number };
    for (const k of KERNELS) {
      const fig: Figure = {
        bench: `core/${k}`,
        wall_ms: Math.round(wasm[k] * 1000) / 1000,
        peak_mb: peakMemoryMb(),
        native_ms: native[k],
        ratio: Math.round((wasm[k] / native[k]) * 1000) / 1000,
        stars: k === "psf_fit" ? Math.min(n, 500) : n,
        image: `${width}x${height}`,
      };
      if (k === "sum_circle3") {
        fig.ref = "sep";
        fig.ref_ms = Math.round(sep.seconds_circle * 1e6) / 1000;
      }
      yield fig;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
