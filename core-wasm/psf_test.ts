import assert from "node:assert/strict";
import { getCore } from "./_module.ts";
import { Rng } from "./_test_util.ts";
import { fitPsf, psfFwhm, psfPhotometry, psfRender, selectPsfStars } from "./psf.ts";
import { renderStars } from "./render.ts";
import { detect } from "./detect.ts";
import { measureSources } from "./measure.ts";

/** A field of Moffat stars with FWHM = 3.5 + 0.4 u + 0.3 v and a regular grid of positions. */
function field(width: number, height: number, seed: number) {
  const rng = new Rng(seed);
  const xs: number[] = [], ys: number[] = [], fs: number[] = [];
  for (let y = 20; y < height - 20; y += 26) {
    for (let x = 20; x < width - 20; x += 26) {
      xs.push(x + rng.uniform());
      ys.push(y + rng.uniform());
      fs.push(1e4 * (1 + 4 * rng.uniform()));
    }
  }
  const data = new Float32Array(width * height);
  const poly = [3.5, 0.4, 0.3];
  renderStars({ data, width, height }, xs, ys, fs, { fwhmPoly: poly, radius: 12 });
  return { data, xs, ys, fs, poly };
}

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`fitPsf models a Moffat PSF varying over the image to < 1% of peak (${variant})`, () => {
    const width = 300, height = 300;
    const { data, xs, ys, poly } = field(width, height, 3);
    const model = fitPsf({ data, width, height }, xs, ys, { fwhm: 3.5, variant });
    assert.equal(model.degree, 2);
    assert.equal(model.size, 25);
    assert.ok(model.nUsed > 0.9 * xs.length);
    // truth at a new position, rendered on the same 25 x 25 stamp
    const gx = 211.37, gy = 63.81;
    const u = (gx - (width - 1) / 2) / (width / 2), v = (gy - (height - 1) / 2) / (height / 2);
    const fwhm = poly[0] + poly[1] * u + poly[2] * v;
    const truth = new Float32Array(25 * 25);
    renderStars({ data: truth, width: 25, height: 25 }, [gx - 199], [gy - 52], [1], {
      fwhm,
      radius: 12,
    });
    const stamp = psfRender(model, gx, gy, 25, variant);
    let peak = 0, worst = 0, sum = 0;
    for (let k = 0; k < truth.length; k++) {
      peak = Math.max(peak, truth[k]);
      worst = Math.max(worst, Math.abs(stamp[k] - truth[k]));
      sum += stamp[k];
    }
    assert.ok(worst < 0.01 * peak, `residual ${worst / peak}`);
    assert.ok(Math.abs(sum - 1) < 2e-3, `sum ${sum}`);
    const fw = psfFwhm(model, gx, gy, variant);
    assert.ok(Math.abs(fw - fwhm) < 0.15, `fwhm ${fw} vs ${fwhm}`);
  });

  Deno.test(`psfPhotometry recovers fluxes and positions of noisy stars (${variant})`, () => {
    const width = 300, height = 300;
    const { data, xs, ys, fs } = field(width, height, 4);
    const model = fitPsf({ data, width, height }, xs, ys, { fwhm: 3.5, variant });
    const rng = new Rng(9);
    const sigma = 40;
    for (let i = 0; i < data.length; i++) data[i] += sigma * rng.normal();
    const weight = new Float32Array(width * height).fill(1 / (sigma * sigma));
    const img = { data, width, height, weight };
    const fixed = psfPhotometry(img, model, xs, ys, { variant });
    const fitted = psfPhotometry(
      img,
      model,
      xs.map((x) => x + 0.3),
      ys.map((y) => y - 0.2),
      { fitPosition: true, variant },
    );
    let pulls = 0, pos = 0;
    for (let k = 0; k < xs.length; k++) {
      const pull = (fixed.flux[k] - fs[k]) / fixed.fluxErr[k];
      pulls += pull * pull / xs.length;
      assert.ok(
        Math.abs(fitted.flux[k] - fs[k]) < 5 * fitted.fluxErr[k],
        `flux ${fitted.flux[k]} ${fs[k]}`,
      );
      pos += ((fitted.x[k] - xs[k]) ** 2 + (fitted.y[k] - ys[k]) ** 2) / xs.length;
      assert.equal(fitted.flags[k], 0);
      assert.ok(fitted.xErr[k] > 0 && fitted.xErr[k] < 0.2);
    }
    // errors describe the scatter: mean squared pull ~ 1
    assert.ok(pulls > 0.6 && pulls < 1.6, `pull^2 ${pulls}`);
    assert.ok(Math.sqrt(pos) < 0.1, `position rms ${Math.sqrt(pos)}`);
  });
}

Deno.test("selectPsfStars keeps the stellar locus and drops faint, flagged and saturated sources", () => {
  const snr = [50, 60, 70, 80, 90, 5, 100, 100, 40];
  const fwhm = [3.0, 3.1, 2.95, 3.05, 6.0, 3.0, 1.2, 3.02, 3.0];
  const peak = [1, 1, 1, 1, 1, 1, 1, 9e9, 1];
  const flags = new Int32Array([0, 0, 0, 0, 0, 0, 0, 0, 2]);
  const r = selectPsfStars(snr, fwhm, peak, flags, { saturation: 1e6 });
  assert.ok(Math.abs(r.fwhmMode - 3) < 0.1);
  assert.deepEqual(Array.from(r.selected), [1, 1, 1, 1, 0, 0, 0, 0, 0]);
});

Deno.test("fitPsf with oversampling 2 models the varying Moffat to < 1% of peak", () => {
  const width = 300, height = 300;
  const { data, xs, ys, poly } = field(width, height, 5);
  const model = fitPsf({ data, width, height }, xs, ys, {
    fwhm: 3.5,
    oversample: 2,
    size: 51,
    degree: 2,
  });
  assert.equal(model.oversample, 2);
  const gx = 88.61, gy = 240.27;
  const u = (gx - (width - 1) / 2) / (width / 2), v = (gy - (height - 1) / 2) / (height / 2);
  const truth = new Float32Array(25 * 25);
  renderStars({ data: truth, width: 25, height: 25 }, [gx - 77], [gy - 228], [1], {
    fwhm: poly[0] + poly[1] * u + poly[2] * v,
    radius: 12,
  });
  const stamp = psfRender(model, gx, gy, 25);
  let peak = 0, worst = 0;
  for (let k = 0; k < truth.length; k++) {
    peak = Math.max(peak, truth[k]);
    worst = Math.max(worst, Math.abs(stamp[k] - truth[k]));
  }
  assert.ok(worst < 0.01 * peak, `residual ${worst / peak}`);
});

Deno.test("psfPhotometry: SIMD and scalar builds agree; gain adds the Poisson term", () => {
  const width = 200, height = 200;
  const { data, xs, ys } = field(width, height, 6);
  const model = fitPsf({ data, width, height }, xs, ys, { fwhm: 3.5, degree: 1 });
  const weight = new Float32Array(width * height).fill(0.01);
  const img = { data, width, height, weight };
  const a = psfPhotometry(img, model, xs, ys, { fitPosition: true, variant: "simd" });
  const b = psfPhotometry(img, model, xs, ys, { fitPosition: true, variant: "scalar" });
  const g = psfPhotometry(img, model, xs, ys, { gain: 1, variant: "simd" });
  for (let k = 0; k < xs.length; k++) {
    assert.ok(Math.abs(a.flux[k] / b.flux[k] - 1) < 1e-4);
    assert.ok(Math.abs(a.x[k] - b.x[k]) < 1e-3);
    // the Poisson variance flux * psf / gain exceeds the sky variance (100) near the core
    assert.ok(g.fluxErr[k] > 1.5 * a.fluxErr[k], `${g.fluxErr[k]} vs ${a.fluxErr[k]}`);
  }
});

Deno.test("extraction chain: detect, measureSources, selectPsfStars, fitPsf, psfPhotometry", () => {
  const width = 512, height = 512;
  const rng = new Rng(17);
  const xs: number[] = [], ys: number[] = [], fs: number[] = [];
  for (let k = 0; k < 150; k++) {
    xs.push(15 + rng.uniform() * (width - 30));
    ys.push(15 + rng.uniform() * (height - 30));
    fs.push(500 * Math.pow(200, rng.uniform()));
  }
  const sigma = 8;
  const data = new Float32Array(width * height);
  renderStars({ data, width, height }, xs, ys, fs, { fwhmPoly: [3.3, 0.2, 0.1], radius: 12 });
  for (let i = 0; i < data.length; i++) data[i] += sigma * rng.normal();
  const weight = new Float32Array(width * height).fill(1 / (sigma * sigma));
  const image = { data, width, height, weight };
  const det = detect({ data, width, height }, { noiseConst: sigma, thresh: 3, segmap: true });
  const n = det.objects.length;
  assert.ok(n >= 100, `detected ${n}`);
  const m = measureSources(image, det.objects.map((o) => o.x), det.objects.map((o) => o.y), {
    seg: det.segmap,
  });
  const snr = Array.from(m.fluxKron, (f, i) => f / m.fluxKronErr[i]);
  const flags = Int32Array.from(det.objects, (o, i) => o.flags | m.flags[i]);
  const sel = selectPsfStars(snr, m.fwhm, m.peak, flags, {
    snrMin: 50,
    isolation: 18,
    positions: { x: m.x, y: m.y, flux: m.fluxKron },
  });
  const ix = [...m.x.keys()].filter((i) => sel.selected[i] === 1);
  assert.ok(ix.length >= 20, `${ix.length} PSF stars`);
  const model = fitPsf(image, ix.map((i) => m.x[i]), ix.map((i) => m.y[i]), { fwhm: 3.3 });
  assert.ok(Math.abs(model.fwhm - 3.3) < 0.2, `model FWHM ${model.fwhm}`);
  const phot = psfPhotometry(image, model, m.x, m.y, { fitPosition: true });
  // match detections to truth within 1 px; S/N > 50 unflagged: median bias < 1% (DESIGN's
  // target on a crowded field; tests/quality/core.ts holds 0.5% on an uncrowded one), and few
  // stars off by more than 3 sigma + 1% (blends missed by detection, field edges)
  let matched = 0, bad = 0;
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = -1, bd = 1;
    for (let k = 0; k < xs.length; k++) {
      const d = Math.hypot(phot.x[i] - xs[k], phot.y[i] - ys[k]);
      if (d < bd) {
        bd = d;
        best = k;
      }
    }
    if (best < 0 || !(phot.flux[i] / phot.fluxErr[i] > 50) || flags[i] !== 0) continue;
    matched++;
    ratios.push(phot.flux[i] / fs[best] - 1);
    if (Math.abs(phot.flux[i] - fs[best]) > 3 * phot.fluxErr[i] + 0.01 * fs[best]) bad++;
  }
  ratios.sort((a, b) => a - b);
  const med = ratios[ratios.length >> 1];
  assert.ok(Math.abs(med) < 0.01, `median bias ${med}`);
  assert.ok(matched >= 40, `matched ${matched}`);
  assert.ok(bad <= 0.1 * matched, `${bad} of ${matched} off`);
});

Deno.test("fitPsf, psfRender, psfPhotometry, measureSources: 1000 calls do not grow WASM memory", () => {
  const width = 120, height = 120;
  const { data, xs, ys } = field(width, height, 8);
  const weight = new Float32Array(width * height).fill(1);
  const img = { data, width, height, weight };
  const model = fitPsf(img, xs, ys, { fwhm: 3.5, degree: 1 });
  const once = () => {
    psfPhotometry(img, model, xs, ys, { fitPosition: true });
    psfRender(model, 60.2, 60.7, 15);
    measureSources(img, xs, ys);
  };
  once();
  const before = getCore().memoryBytes;
  for (let i = 0; i < 1000; i++) once();
  assert.equal(getCore().memoryBytes, before);
  fitPsf(img, xs, ys, { fwhm: 3.5, degree: 1 });
  assert.equal(getCore().memoryBytes, before);
});
