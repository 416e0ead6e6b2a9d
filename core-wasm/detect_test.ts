import assert from "node:assert/strict";
import { convolve, DEFAULT_KERNEL, detect, OBJ_FLAGS } from "./detect.ts";
import { background } from "./background.ts";
import { addGaussian, Rng } from "./_test_util.ts";

const W = 512, H = 400;

function starField(seed: number) {
  const rng = new Rng(seed);
  const data = new Float32Array(W * H);
  for (let i = 0; i < data.length; i++) data[i] = 100 + 0.01 * (i % W) + 3 * rng.normal();
  const truth: { x: number; y: number; flux: number }[] = [];
  for (let gy = 0; gy < 6; gy++) {
    for (let gx = 0; gx < 8; gx++) {
      const t = { x: 30 + gx * 62 + rng.uniform(), y: 30 + gy * 65 + rng.uniform(), flux: 3000 };
      truth.push(t);
      addGaussian(data, W, H, t.x, t.y, 1.5, t.flux);
    }
  }
  return { data, truth };
}

Deno.test("detect finds injected Gaussian stars with correct centroids and fluxes", () => {
  const { data, truth } = starField(11);
  const bkg = background({ data, width: W, height: H });
  const sub = data.map((v, i) => v - bkg.backImage[i]);
  const { objects } = detect({ data: sub, width: W, height: H }, {
    noise: bkg.rmsImage,
    thresh: 3,
  });
  assert.equal(objects.length, truth.length);
  for (const t of truth) {
    const o = objects.find((o) => Math.hypot(o.x - t.x, o.y - t.y) < 1);
    assert.ok(o, `star at ${t.x}, ${t.y} not found`);
    // S/N ~ 3000 / (3 * sqrt(30)) ~ 180: centroid noise ~ 1.5 * 2 / 180
    assert.ok(Math.hypot(o.x - t.x, o.y - t.y) < 0.06, `centroid ${o.x},${o.y} vs ${t.x},${t.y}`);
    // isophotal flux misses the wings below 3 sigma: ~ 90% of the light
    assert.ok(o.flux > 0.8 * t.flux && o.flux < 1.02 * t.flux, `flux ${o.flux}`);
    assert.ok(Math.abs(o.a - 1.5) < 0.35 && Math.abs(o.b - 1.5) < 0.35, `a ${o.a} b ${o.b}`);
    assert.equal(o.flags, 0);
  }
});

Deno.test("detect: SIMD and scalar builds agree", () => {
  const { data } = starField(12);
  const mask = new Uint16Array(W * H);
  for (let i = 0; i < mask.length; i += 97) mask[i] = 1;
  const opts = { noiseConst: 3, thresh: 2, mask, segmap: true };
  const a = detect({ data: data.map((v) => v - 100), width: W, height: H }, opts);
  const b = detect({ data: data.map((v) => v - 100), width: W, height: H }, {
    ...opts,
    variant: "scalar",
  });
  assert.equal(a.objects.length, b.objects.length);
  assert.deepEqual(a.segmap, b.segmap);
  for (let i = 0; i < a.objects.length; i++) {
    assert.equal(a.objects[i].npix, b.objects[i].npix);
    assert.ok(Math.abs(a.objects[i].x - b.objects[i].x) < 1e-4);
    assert.ok(Math.abs(a.objects[i].flux - b.objects[i].flux) < 1e-3 * Math.abs(b.objects[i].flux));
  }
});

Deno.test("detect splits a blended pair and flags it; segmap labels its pixels", () => {
  const w = 64, h = 48, data = new Float32Array(w * h);
  addGaussian(data, w, h, 28, 24, 1.8, 20000);
  addGaussian(data, w, h, 35.5, 25, 1.8, 8000);
  const { objects, segmap } = detect({ data, width: w, height: h }, { thresh: 5, segmap: true });
  assert.equal(objects.length, 2);
  for (const o of objects) {
    assert.ok(o.flags & OBJ_FLAGS.BLENDED);
    assert.equal(o.parent, 0);
  }
  const bright = objects.find((o) => o.flux > 12000)!;
  assert.ok(Math.abs(bright.x - 28) < 0.3 && Math.abs(bright.y - 24) < 0.3);
  const counts = [0, 0, 0];
  for (const l of segmap!) counts[l]++;
  assert.equal(counts[1], objects[0].npix);
  assert.equal(counts[2], objects[1].npix);
});

Deno.test("detect grows its output beyond the first capacity", () => {
  const w = 1100, h = 1000, data = new Float32Array(w * h);
  for (let y = 2; y < h; y += 10) for (let x = 2; x < w; x += 10) data[y * w + x] = 10;
  const { objects } = detect({ data, width: w, height: h }, {
    kernel: null,
    minArea: 1,
    thresh: 5,
  });
  assert.equal(objects.length, 110 * 100);
  assert.equal(objects[0].x, 2);
  assert.equal(objects[objects.length - 1].y, 992);
});

Deno.test("convolve with the default kernel preserves a constant and smooths a point", () => {
  const w = 20, h = 10, data = new Float32Array(w * h).fill(7);
  const c = convolve({ data, width: w, height: h }, DEFAULT_KERNEL);
  assert.ok(c.every((v) => Math.abs(v - 7) < 1e-5));
  const point = new Float32Array(w * h);
  point[5 * w + 5] = 16;
  const p = convolve({ data: point, width: w, height: h }, DEFAULT_KERNEL, { variant: "scalar" });
  assert.equal(p[5 * w + 5], 4);
  assert.equal(p[4 * w + 4], 1);
  assert.equal(p[5 * w + 6], 2);
});

Deno.test("detect, convolve and background: SIMD and scalar agree on odd sizes with NaNs and masks", () => {
  const rng = new Rng(77);
  for (const [w, h] of [[1, 1], [3, 17], [17, 5], [45, 33], [130, 7]]) {
    const data = new Float32Array(w * h), mask = new Uint16Array(w * h);
    for (let i = 0; i < data.length; i++) {
      data[i] = rng.normal() + (rng.uniform() < 0.05 ? 40 : 0);
      if (rng.uniform() < 0.03) mask[i] = 2;
      if (rng.uniform() < 0.01) data[i] = NaN;
    }
    const image = { data, width: w, height: h };
    const opts = { mask, thresh: 2, minArea: 1, segmap: true };
    const a = detect(image, opts), b = detect(image, { ...opts, variant: "scalar" });
    assert.deepEqual(a.segmap, b.segmap, `${w}x${h} segmap`);
    assert.equal(a.objects.length, b.objects.length);
    const ca = convolve(image, DEFAULT_KERNEL, { mask });
    const cb = convolve(image, DEFAULT_KERNEL, { mask, variant: "scalar" });
    for (let i = 0; i < ca.length; i++) {
      assert.ok(Math.abs(ca[i] - cb[i]) < 1e-5, `${w}x${h} conv ${i}`);
    }
    const ba = background(image, { mask, boxWidth: 8, boxHeight: 8 });
    const bb = background(image, { mask, boxWidth: 8, boxHeight: 8, variant: "scalar" });
    for (let i = 0; i < ba.backImage.length; i++) {
      assert.ok(Math.abs(ba.backImage[i] - bb.backImage[i]) < 1e-4, `${w}x${h} back ${i}`);
    }
  }
});
