/**
 * Quality of coaddition (functions/coaddition run()) against simulated truth
 * (group "coadd"): N epochs of a field of Gaussian stars (functions/coaddition/_testing.ts),
 * Gaussian sky noise of known sigma, zero points 24.7..25.3, seeing 2.8..3.6 px.
 *
 * - coadd/noise_ratio: |(std coadd / std one epoch) x sqrt(N) - 1| on blank pixels of N
 *   epochs on one grid (no resampling); target 0.1.
 * - coadd/box_noise_ratio: dithered epochs (sub-pixel and pixel shifts): |rms of 8 x 8
 *   box sums of (coadd - truth) / the rms the output weights predict - 1|; target 0.1.
 * - coadd/flux_bias: |median(aperture flux (r = 10 px, local sky from blank pixels 12..18 px
 *   away) / true flux) - 1| over the stars of
 *   the dithered coadd (seeing differs per epoch); target 0.005.
 * - coadd/flux_chi_std: robust std of (ratio - median) / (its noise from the output weights)
 *   over the stars: the flux scatter is the noise; target 1.2.
 * - coadd/cosmic_ray_sigma: largest |coadd - truth| x sqrt(weight) in 5 x 5 boxes around
 *   cosmic rays (8000 e-, one pixel, a random epoch each) on blank sky; target 5.
 *
 * @module
 */
import { type FigureOptions, type QualityFigure, target } from "../figure.ts";
import { Rng } from "../../functions/_shared/sim/random.ts";
import { CoadditionParams, coadditionStep } from "../../functions/coaddition/step.ts";
import {
  apertureSum,
  blankPixels,
  boxNoise,
  renderStars,
  robustStd,
  simEpoch,
  simField,
} from "../../functions/coaddition/_testing.ts";

export default async function* coadd(opts: FigureOptions): AsyncIterable<QualityFigure> {
  const n = opts.small ? 4 : 8;
  const [W, H, nStars] = opts.small ? [240, 200, 40] : [800, 800, 600];
  const params = CoadditionParams.parse({});
  const rng = new Rng(77);

  // 1: one grid
  opts.progress(`coadd: ${n} epochs of ${W}x${H} on one grid`);
  const field = simField(11, nStars, W, H);
  const same = Array.from({ length: n }, (_, k) => simEpoch(field, k));
  const co = await coadditionStep.run({ inputs: same.map((e) => e.input) }, params, undefined);
  const one = await coadditionStep.run({ inputs: [same[0].input] }, params, undefined);
  const blank = blankPixels(field, same[0].wcs);
  const ratio = robustStd(blank.map((i) => co.outputs.image.image[i])) /
    robustStd(blank.map((i) => one.outputs.image.image[i]));
  yield {
    ...target("coadd/noise_ratio", Math.abs(ratio * Math.sqrt(n) - 1), 0.1),
    ratio,
    expected: 1 / Math.sqrt(n),
    n,
  };

  // 2: dithered epochs, other zero points and seeing, cosmic rays
  opts.progress(`coadd: ${n} dithered epochs with cosmic rays`);
  const eps = Array.from({ length: n }, (_, k) =>
    simEpoch(field, 100 + k, {
      dx: k === 0 ? 0 : (rng.uniform() - 0.5) * 6,
      dy: k === 0 ? 0 : (rng.uniform() - 0.5) * 6,
      zp: k === 0 ? 25 : 24.7 + 0.6 * rng.uniform(),
      fwhm: 2.8 + 0.8 * rng.uniform(),
    }));
  const grid = eps[0].wcs;
  const gridBlank = blankPixels(field, grid);
  const crs: Array<{ x: number; y: number }> = [];
  const nCr = opts.small ? 10 : 60;
  while (crs.length < nCr) {
    const i = gridBlank[Math.floor(rng.uniform() * gridBlank.length)];
    const x = i % W, y = Math.floor(i / W);
    if (x < 12 || y < 12 || x > W - 13 || y > H - 13) continue;
    if (crs.some((c) => Math.abs(c.x - x) < 12 && Math.abs(c.y - y) < 12)) continue;
    crs.push({ x, y });
    const e = eps[Math.floor(rng.uniform() * n)];
    const sky = grid.pixToSky(x, y);
    const p = e.wcs.skyToPix(sky.ra, sky.dec);
    e.input.image.image[Math.round(p.y) * W + Math.round(p.x)] += 8000;
  }
  const dith = await coadditionStep.run({ inputs: eps.map((e) => e.input) }, params, undefined);
  const out = dith.outputs.image;
  const truth = renderStars(field, grid, 1, 3.2);
  const nearCr = (x: number, y: number) =>
    crs.some((c) => Math.abs(c.x - x) < 12 && Math.abs(c.y - y) < 12);
  const bn = boxNoise(out.image, out.weight, truth, W, H, gridBlank, 8, nearCr);
  yield {
    ...target("coadd/box_noise_ratio", Math.abs(bn.measured / bn.predicted - 1), 0.1),
    measured: bn.measured,
    predicted: bn.predicted,
    boxes: bn.boxes,
  };
  const ratios: number[] = [], rel: number[] = [];
  const isBlank = new Uint8Array(W * H);
  for (const i of gridBlank) isBlank[i] = 1;
  for (const s of field.stars) {
    const p = grid.skyToPix(s.ra, s.dec);
    if (p.x < 12 || p.y < 12 || p.x > W - 13 || p.y > H - 13) continue;
    // local sky: mean of the blank pixels 12..18 px away (the backgrounds were subtracted
    // per epoch by a mesh that stars bias slightly)
    let sky = 0, ns = 0, vs = 0, v = 0, na = 0;
    for (let y = Math.ceil(p.y - 18); y <= Math.floor(p.y + 18); y++) {
      for (let x = Math.ceil(p.x - 18); x <= Math.floor(p.x + 18); x++) {
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        const d2 = (x - p.x) ** 2 + (y - p.y) ** 2, i = y * W + x;
        if (d2 <= 100) v += 1 / out.weight[i], na++;
        else if (d2 >= 144 && d2 <= 324 && isBlank[i]) {
          sky += out.image[i], vs += 1 / out.weight[i], ns++;
        }
      }
    }
    const f = apertureSum(out.image, W, p.x, p.y, 10) - (ns > 20 ? (na * sky) / ns : 0);
    if (ns > 20) v += (na * na * vs) / (ns * ns);
    const r = f / s.flux;
    ratios.push(r);
    rel.push(Math.sqrt(v) / s.flux);
  }
  const med = [...ratios].sort((a, b) => a - b)[ratios.length >> 1];
  const chiStd = robustStd(ratios.map((r, i) => (r - med) / rel[i]));
  yield {
    ...target("coadd/flux_bias", Math.abs(med - 1), 0.005),
    median: med,
    stars: ratios.length,
  };
  yield { ...target("coadd/flux_chi_std", chiStd, 1.2), stars: ratios.length };
  let crWorst = 0;
  for (const c of crs) {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const i = (c.y + dy) * W + c.x + dx;
        crWorst = Math.max(crWorst, Math.abs(out.image[i] - truth[i]) * Math.sqrt(out.weight[i]));
      }
    }
  }
  yield { ...target("coadd/cosmic_ray_sigma", crWorst, 5), cosmic_rays: crs.length };
}
