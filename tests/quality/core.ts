/**
 * Quality of the core's PSF modelling and PSF photometry against simulated truth.
 *
 * - `core/psf_residual_frac_peak`: noiseless Moffat (beta 3) stars whose FWHM varies over
 *   the CCD as a quadratic polynomial (+-12%); a PSF model (25 px, degree 2) is fitted at the
 *   measured windowed centroids; at random positions the model, rendered with its sub-pixel
 *   shift, is compared with the true pixel-integrated profile: the worst |model - truth|
 *   over all test stamps, as a fraction of the true peak (target 0.01).
 * - `core/psf_flux_bias`: the same PSF with sky noise (weight map = 1/variance); the model is
 *   fitted from the stars selectPsfStars picks (S/N > 100 from the Kron flux, on the
 *   FWHM locus, unflagged), then PSF fluxes with fitted positions start from the
 *   measured centroids; bias = |median(flux / true - 1)| over stars with S/N > 50
 *   (target 0.005). True fluxes are the rendered fluxes within 12 px, which the 25 px PSF
 *   grid covers (aperture corrections for farther wings are photocal's business).
 * - `core/centroid_rms_px`, `core/psf_position_rms_px`: rms distance (px, x and y together) of
 *   the windowed centroids and of the PSF-fitted positions from the truth, same stars (S/N > 50);
 *   target 0.05 px (DESIGN's astrometric 0.03" is 0.11 px on DECam).
 *
 * Small mode: 1024 x 1024 with ~300 stars; full: 2048 x 4096 with ~3000 stars.
 *
 * @module
 */
import type { Figure, FigureOptions } from "../figure.ts";
import { target } from "../figure.ts";
import { measureSources } from "../../core-wasm/measure.ts";
import { fitPsf, psfPhotometry, psfRender, selectPsfStars } from "../../core-wasm/psf.ts";
import { renderStars } from "../../core-wasm/render.ts";

/**
 * FWHM(u, v) = 3.4 + 0.25 u + 0.05 u^2 + 0.15 v - 0.03 u v + 0.05 v^2 (terms 1, u, u^2, v, u v,
 * v^2): 3.07 to 3.87 px over the CCD (+-12%, more than a DECam CCD shows).
 */
const FWHM_POLY = [3.4, 0.25, 0.05, 0.15, -0.03, 0.05];
const RADIUS = 12;
const SIZE = 25;

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

function fwhmAt(x: number, y: number, width: number, height: number): number {
  const u = (x - (width - 1) / 2) / (width / 2), v = (y - (height - 1) / 2) / (height / 2);
  const [c0, cu, cuu, cv, cuv, cvv] = FWHM_POLY;
  return c0 + cu * u + cuu * u * u + cv * v + cuv * u * v + cvv * v * v;
}

/** Random star positions at least `gap` px apart and 20 px from the edges. */
function positions(n: number, width: number, height: number, gap: number, seed: number) {
  const r = rng(seed);
  const xs: number[] = [], ys: number[] = [];
  let tries = 0;
  while (xs.length < n && tries++ < 50 * n) {
    const x = 20 + r.uniform() * (width - 40), y = 20 + r.uniform() * (height - 40);
    let ok = true;
    for (let k = 0; k < xs.length && ok; k++) {
      if ((xs[k] - x) ** 2 + (ys[k] - y) ** 2 < gap * gap) ok = false;
    }
    if (ok) {
      xs.push(x);
      ys.push(y);
    }
  }
  return { xs, ys, r };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** The quality figures of the core (group "core"). */
export default async function* core(opts: FigureOptions): AsyncIterable<Figure> {
  const width = opts.small ? 1024 : 2048, height = opts.small ? 1024 : 4096;
  const nstar = opts.small ? 300 : 3000;

  // 1. PSF model residual on noiseless stars
  {
    const { xs, ys, r } = positions(nstar, width, height, 2 * RADIUS + 2, 1);
    const fs = xs.map(() => 1e4 * (1 + 9 * r.uniform()));
    const data = new Float32Array(width * height);
    renderStars({ data, width, height }, xs, ys, fs, { fwhmPoly: FWHM_POLY, radius: RADIUS });
    const m = measureSources({ data, width, height }, xs, ys);
    const model = fitPsf({ data, width, height }, m.x, m.y, { size: SIZE, degree: 2, fwhm: 3.4 });
    opts.progress(`PSF from ${model.nUsed} of ${xs.length} noiseless stars`);
    let worst = 0;
    const ntest = 60;
    const corners = [[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]].map((
      [x, y],
    ) => fwhmAt(x, y, width, height));
    for (let t = 0; t < ntest; t++) {
      const gx = 20 + r.uniform() * (width - 40), gy = 20 + r.uniform() * (height - 40);
      const stamp = psfRender(model, gx, gy, SIZE);
      const x0 = Math.round(gx) - (SIZE >> 1), y0 = Math.round(gy) - (SIZE >> 1);
      const truth = new Float32Array(SIZE * SIZE);
      renderStars({ data: truth, width: SIZE, height: SIZE }, [gx - x0], [gy - y0], [1], {
        fwhm: fwhmAt(gx, gy, width, height),
        radius: RADIUS,
      });
      let peak = 0, dmax = 0;
      for (let k = 0; k < truth.length; k++) {
        peak = Math.max(peak, truth[k]);
        dmax = Math.max(dmax, Math.abs(stamp[k] - truth[k]));
      }
      worst = Math.max(worst, dmax / peak);
    }
    yield {
      ...target("core/psf_residual_frac_peak", worst, 0.01),
      fwhm_range: [Math.min(...corners), Math.max(...corners)],
      stars: model.nUsed,
      test_positions: ntest,
      image: `${width}x${height}`,
    };
  }

  // 2. PSF-flux bias on noisy stars at S/N > 50
  {
    const { xs, ys, r } = positions(nstar, width, height, 2 * RADIUS + 2, 2);
    const sigma = 10;
    // S/N spread from ~20 to ~1000: flux ~ snr * sigma * sqrt(4 pi) * (FWHM / 2.3548) * 1.7
    const snrTrue = xs.map(() => 20 * Math.pow(50, r.uniform()));
    const fs = snrTrue.map((s) => s * sigma * 2 * Math.sqrt(Math.PI) * 1.45 * 1.7);
    const data = new Float32Array(width * height);
    renderStars({ data, width, height }, xs, ys, fs, { fwhmPoly: FWHM_POLY, radius: RADIUS });
    for (let i = 0; i < data.length; i++) data[i] += sigma * r.normal();
    const weight = new Float32Array(width * height).fill(1 / (sigma * sigma));
    const img = { data, width, height, weight };
    const m = measureSources(img, xs, ys);
    const snr = m.fluxKron.map((f, i) => f / m.fluxKronErr[i]);
    const sel = selectPsfStars(snr, m.fwhm, m.peak, m.flags, { snrMin: 100 });
    const bright = [...xs.keys()].filter((i) => sel.selected[i] === 1);
    const model = fitPsf(img, bright.map((i) => m.x[i]), bright.map((i) => m.y[i]), {
      size: SIZE,
      degree: 2,
      fwhm: 3.4,
    });
    opts.progress(`PSF from ${model.nUsed} of ${bright.length} bright noisy stars`);
    const phot = psfPhotometry(img, model, m.x, m.y, { fitPosition: true });
    const ratios: number[] = [];
    for (let i = 0; i < xs.length; i++) {
      const snr = phot.flux[i] / phot.fluxErr[i];
      if (!(snr > 50) || phot.flags[i] !== 0) continue;
      ratios.push(phot.flux[i] / fs[i] - 1);
    }
    const bias = median(ratios);
    // positions: windowed centroids and PSF-fitted positions of the same S/N > 50 stars
    let nPos = 0, win2 = 0, psf2 = 0;
    for (let i = 0; i < xs.length; i++) {
      const snr = phot.flux[i] / phot.fluxErr[i];
      if (!(snr > 50) || phot.flags[i] !== 0 || m.flags[i] !== 0) continue;
      nPos++;
      win2 += (m.x[i] - xs[i]) ** 2 + (m.y[i] - ys[i]) ** 2;
      psf2 += (phot.x[i] - xs[i]) ** 2 + (phot.y[i] - ys[i]) ** 2;
    }
    yield {
      ...target("core/psf_flux_bias", Math.abs(bias), 0.005),
      signed_bias: bias,
      stars: ratios.length,
      psf_stars: model.nUsed,
      image: `${width}x${height}`,
    };
    yield { ...target("core/centroid_rms_px", Math.sqrt(win2 / nPos), 0.05), stars: nPos };
    yield { ...target("core/psf_position_rms_px", Math.sqrt(psf2 / nPos), 0.05), stars: nPos };
  }
}
