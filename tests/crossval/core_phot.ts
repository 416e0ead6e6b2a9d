/**
 * Crossval of the core's aperture photometry and windowed centroids against SEP
 * (python3-sep, Debian) on the same simulated image and positions.
 *
 * The image: Moffat stars (FWHM 3.5 px) on a background-subtracted sky with Gaussian noise,
 * some stars within a few px of the edges (truncated apertures). Both sides use exact
 * pixel overlap (SEP subpix=0) and a constant pixel error.
 *
 * Figures (tolerances stated here):
 * - `core/aperture_flux_vs_sep`: median |ours / SEP - 1| of circular fluxes (r = 3, 5, 8 px)
 *   over sources with SEP S/N > 10; tolerance 0.005.
 * - `core/aperture_flux_vs_sep_p99`: the 99th percentile of the same; tolerance 0.02.
 * - `core/aperture_fluxerr_vs_sep`: median |ours / SEP - 1| of the flux errors; tolerance 0.005.
 * - `core/ellipse_flux_vs_sep`: median |ours / SEP - 1| of elliptical fluxes; tolerance 0.005.
 * - `core/winpos_vs_sep_px`: median distance (px) between our adaptive windowed centroid and
 *   SEP's winpos (fixed window sigma = FWHM / 2.35) for sources with S/N > 20; tolerance 0.05.
 * - `core/kron_radius_vs_sep`, `core/kron_flux_vs_sep`: with our windowed centroid and shape
 *   (a, b, theta) given to SEP's kron_radius (6 a) and sum_ellipse(max(2.5 kron, 3.5)), median
 *   |ours / SEP - 1| of the Kron radius (tolerance 0.01) and Kron flux (tolerance 0.005),
 *   S/N > 20, unflagged.
 *
 * @module
 */
import type { Figure, FigureOptions } from "../figure.ts";
import { within } from "../figure.ts";
import { measureSources } from "../../core-wasm/measure.ts";
import { sumCircle, sumEllipse } from "../../core-wasm/photometry.ts";
import { renderStars } from "../../core-wasm/render.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("./py/sep_phot.py", import.meta.url).pathname;
const RADII = [3, 5, 8];
const FWHM = 3.5;

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

/** Quantile q of v; NaN entries count as +Infinity so they cannot hide. */
function quantile(v: number[], q: number): number {
  const s = v.map((x) => (Number.isNaN(x) ? Infinity : x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

interface SepOut {
  sum_circle: number[][];
  sum_circle_err: number[][];
  sum_ellipse: number[];
  xwin: number[];
  ywin: number[];
  kron_radius: number[];
  kron_flux: number[];
  seconds_circle: number;
  version: string;
}

/** Runs tests/crossval/py/sep_phot.py on an image and sources. */
async function runSep(
  data: Float32Array,
  width: number,
  height: number,
  sigma: number,
  sources: Record<string, unknown>,
): Promise<SepOut> {
  const dir = await Deno.makeTempDir({ prefix: "sd_core_phot_" });
  try {
    const img = `${dir}/image.f32`, src = `${dir}/sources.json`, out = `${dir}/out.json`;
    await Deno.writeFile(img, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    await Deno.writeTextFile(src, JSON.stringify(sources));
    const cmd = new Deno.Command(PYTHON, {
      args: [SCRIPT, img, String(width), String(height), String(sigma), src, out],
      stdout: "piped",
      stderr: "piped",
    });
    const res = await cmd.output();
    if (!res.success) {
      throw new Error(`sep_phot.py failed: ${new TextDecoder().decode(res.stderr)}`);
    }
    return JSON.parse(await Deno.readTextFile(out)) as SepOut;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The crossval figures of the core's photometry against SEP (group "core_phot"). */
export default async function* corePhot(opts: FigureOptions): AsyncIterable<Figure> {
  const width = opts.small ? 1024 : 2048, height = opts.small ? 1024 : 4096;
  const nstar = opts.small ? 600 : 5000;
  const sigma = 10;
  const r = rng(7);
  const xs: number[] = [], ys: number[] = [], fs: number[] = [];
  for (let i = 0; i < nstar; i++) {
    // 5% of the stars within 6 px of an edge
    const edge = r.uniform() < 0.05;
    xs.push(
      edge
        ? (r.uniform() < 0.5 ? 6 * r.uniform() : width - 1 - 6 * r.uniform())
        : 10 + r.uniform() * (width - 20),
    );
    ys.push(10 + r.uniform() * (height - 20));
    fs.push(200 * Math.pow(500, r.uniform()));
  }
  const data = new Float32Array(width * height);
  renderStars({ data, width, height }, xs, ys, fs, { fwhm: FWHM });
  for (let i = 0; i < data.length; i++) data[i] += sigma * r.normal();
  const weight = new Float32Array(width * height).fill(1 / (sigma * sigma));
  const image = { data, width, height, weight };
  const a = xs.map(() => 2 + r.uniform()), b = a.map((v) => v * (0.5 + 0.5 * r.uniform()));
  const theta = xs.map(() => (r.uniform() - 0.5) * Math.PI);
  const rEll = 2;

  opts.progress(`${nstar} stars on ${width}x${height}: core`);
  const ours = sumCircle(image, xs, ys, RADII);
  const ell = sumEllipse(image, xs, ys, a, b, theta, rEll);
  const m = measureSources(image, xs, ys);
  opts.progress("SEP");
  const sep = await runSep(data, width, height, sigma, {
    x: xs,
    y: ys,
    radii: RADII,
    a,
    b,
    theta,
    r_ell: rEll,
    win_sig: xs.map(() => FWHM / 2.3548),
    kron: {
      x: Array.from(m.x),
      y: Array.from(m.y),
      a: Array.from(m.a),
      b: Array.from(m.b),
      theta: Array.from(m.theta),
    },
  });

  const dev: number[] = [], devErr: number[] = [], devEll: number[] = [];
  for (let k = 0; k < RADII.length; k++) {
    for (let i = 0; i < nstar; i++) {
      const f = sep.sum_circle[k][i], e = sep.sum_circle_err[k][i];
      devErr.push(Math.abs(ours.fluxErr[i * RADII.length + k] / e - 1));
      if (!(f / e > 10)) continue;
      dev.push(Math.abs(ours.flux[i * RADII.length + k] / f - 1));
    }
  }
  for (let i = 0; i < nstar; i++) {
    const f = sep.sum_ellipse[i];
    if (f / (sigma * Math.sqrt(Math.PI * a[i] * b[i] * rEll * rEll)) > 10) {
      devEll.push(Math.abs(ell.flux[i] / f - 1));
    }
  }
  const dist: number[] = [];
  const r5 = RADII.indexOf(5);
  for (let i = 0; i < nstar; i++) {
    const snr = sep.sum_circle[r5][i] / sep.sum_circle_err[r5][i];
    const inside = xs[i] > 10 && xs[i] < width - 11;
    if (snr > 20 && inside && m.flags[i] === 0) {
      dist.push(Math.hypot(m.x[i] - sep.xwin[i], m.y[i] - sep.ywin[i]));
    }
  }
  const devKr: number[] = [], devKf: number[] = [];
  for (let i = 0; i < nstar; i++) {
    const snr = sep.sum_circle[r5][i] / sep.sum_circle_err[r5][i];
    if (!(snr > 20) || m.flags[i] !== 0) continue;
    devKr.push(Math.abs(m.kronRadius[i] / sep.kron_radius[i] - 1));
    devKf.push(Math.abs(m.fluxKron[i] / sep.kron_flux[i] - 1));
  }
  opts.progress(
    `examples: ellipse ${ell.flux[0]} vs ${sep.sum_ellipse[0]}; kron r ${m.kronRadius[0]} vs ${
      sep.kron_radius[0]
    }, flux ${m.fluxKron[0]} vs ${sep.kron_flux[0]}`,
  );
  const extra = { n: dev.length, sep: sep.version, image: `${width}x${height}` };
  yield { ...within("core/aperture_flux_vs_sep", quantile(dev, 0.5), 0.005), ...extra };
  yield { ...within("core/aperture_flux_vs_sep_p99", quantile(dev, 0.99), 0.02), ...extra };
  yield {
    ...within("core/aperture_fluxerr_vs_sep", quantile(devErr, 0.5), 0.005),
    n: devErr.length,
  };
  yield { ...within("core/ellipse_flux_vs_sep", quantile(devEll, 0.5), 0.005), n: devEll.length };
  yield {
    ...within("core/winpos_vs_sep_px", quantile(dist, 0.5), 0.05),
    n: dist.length,
    p90: quantile(dist, 0.9),
  };
  yield { ...within("core/kron_radius_vs_sep", quantile(devKr, 0.5), 0.01), n: devKr.length };
  yield { ...within("core/kron_flux_vs_sep", quantile(devKf, 0.5), 0.005), n: devKf.length };
}
