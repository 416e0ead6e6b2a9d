import assert from "node:assert/strict";
import { coaddClipped } from "./coadd.ts";
import { Rng } from "./_test_util.ts";

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`coaddClipped (${variant}): weighted mean, cosmic ray rejected, flags OR-ed`, () => {
    const f = (d: number[], w: number[], fl: number[]) => ({
      data: new Float32Array(d),
      weight: new Float32Array(w),
      flags: new Uint16Array(fl),
    });
    const r = coaddClipped([
      f([10, 10, 5], [1, 4, 1], [0, 0, 1]),
      f([12, 10.5, 5], [1, 4, 1], [0, 0, 8]),
      f([11, 1000, 5], [2, 4, 1], [0, 0, 1]),
      f([11, 9.5, 5], [4, 4, 1], [0, 0, 8]),
    ], { variant, frac: 0 });
    assert.ok(Math.abs(r.image[0] - 11) < 1e-5);
    assert.ok(Math.abs(r.weight[0] - 8) < 1e-5);
    assert.ok(Math.abs(r.image[1] - 10) < 1e-5);
    assert.equal(r.nused[1], 3);
    assert.deepEqual([r.image[2], r.weight[2], r.flags[2], r.nused[2]], [0, 0, 9, 0]);
    assert.equal(r.flags[0], 0);
  });

  Deno.test(`coaddClipped (${variant}): scaled noisy frames -> variance 1/sum(w), unbiased`, () => {
    const rng = new Rng(7), npix = 20000, n = 5;
    // frame k is in units 1/s_k of the common one: value 5/s_k, sigma 1/s_k
    const scales = [1, 2, 0.5, 1.5, 0.8];
    const frames = scales.map((s) => {
      const data = new Float32Array(npix), weight = new Float32Array(npix);
      for (let i = 0; i < npix; i++) {
        data[i] = (5 + rng.normal()) / s;
        weight[i] = s * s;
      }
      return { data, weight, scale: s };
    });
    const r = coaddClipped(frames, { variant });
    let s1 = 0, s2 = 0;
    for (let i = 0; i < npix; i++) {
      s1 += r.image[i] - 5;
      s2 += (r.image[i] - 5) ** 2;
      assert.ok(Math.abs(r.weight[i] - n) < 1e-4 || r.nused[i] < n);
    }
    const mean = s1 / npix, v = s2 / npix - mean * mean;
    assert.ok(Math.abs(mean) < 4 * Math.sqrt(1 / n / npix), `mean ${mean}`);
    assert.ok(Math.abs(v * n - 1) < 0.05, `variance x N ${v * n}`);
  });

  Deno.test(`coaddClipped (${variant}): rejects sizes that differ`, () => {
    assert.throws(() =>
      coaddClipped([
        { data: new Float32Array(2), weight: new Float32Array(2) },
        { data: new Float32Array(3), weight: new Float32Array(3) },
      ], { variant }), RangeError);
    assert.throws(() => coaddClipped([], { variant }), RangeError);
  });
}

Deno.test("coaddClipped: pixel chunks give the same result as one call", () => {
  const rng = new Rng(3), npix = 1001;
  const frames = [1, 2, 3, 4].map((s) => {
    const data = new Float32Array(npix), weight = new Float32Array(npix);
    const flags = new Uint16Array(npix);
    for (let i = 0; i < npix; i++) {
      data[i] = rng.normal() + (rng.uniform() < 0.05 ? 100 : 0);
      weight[i] = rng.uniform() < 0.02 ? 0 : 1;
      flags[i] = rng.uniform() < 0.02 || i === 500 ? 8 : 0;
    }
    return { data, weight, flags, scale: s };
  });
  const whole = coaddClipped(frames);
  const chunked = coaddClipped(frames, { chunkBytes: 10 * 4 * 97 });
  assert.deepEqual(chunked, whole);
  assert.ok(whole.nused.some((n) => n === 3));
  assert.equal(whole.flags[500], 8);
});
