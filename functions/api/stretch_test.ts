/**
 * zscaleLimits and stretchToBytes on data whose answer is known: a ramp (limits
 * = its range), Gaussian noise with hot pixels (limits near the noise, hot pixels
 * excluded), NaN (black), constant stamps (mid-gray).
 */
import assert from "node:assert/strict";
import { stretchToBytes, zscaleLimits } from "./stretch.ts";

function gaussian(n: number, sigma: number, seed = 7): Float32Array {
  let s = seed;
  const u = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = 1000 + sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

Deno.test("zscaleLimits: a linear ramp is shown over its whole range", () => {
  const ramp = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5);
  const [z1, z2] = zscaleLimits(ramp);
  assert.equal(z1, 0);
  assert.equal(z2, 499.5);
});

Deno.test("zscaleLimits: noise with hot pixels — limits within a few sigma, hot pixels out", () => {
  const data = gaussian(41 * 41, 10);
  for (let i = 0; i < 20; i++) data[i * 37] = 60000;
  const [z1, z2] = zscaleLimits(data);
  // IRAF's zscale on Gaussian noise with contrast 0.25 gives about median -/+ 5 to 10 sigma
  assert.ok(z1 > 1000 - 120 && z1 < 1000 - 20, `z1 ${z1}`);
  assert.ok(z2 < 1000 + 120 && z2 > 1000 + 20, `z2 ${z2}`);
  assert.deepEqual(zscaleLimits(new Float32Array([NaN, NaN])), [0, 0]);
});

Deno.test("stretchToBytes: NaN black, constant mid-gray, order preserved, asinh keeps the core below 255 only at the max", () => {
  const data = gaussian(400, 10);
  data[5] = NaN;
  data[10] = 50000;
  for (const stretch of ["zscale", "asinh"] as const) {
    const bytes = stretchToBytes(data, stretch);
    assert.equal(bytes[5], 0, `${stretch}: NaN is black`);
    assert.equal(bytes[10], 255, `${stretch}: the brightest pixel is white`);
    // monotonic: a brighter pixel is never darker
    const idx = [...data.keys()].filter((i) => Number.isFinite(data[i])).sort((a, b) =>
      data[a] - data[b]
    );
    for (let k = 1; k < idx.length; k++) assert.ok(bytes[idx[k]] >= bytes[idx[k - 1]]);
  }
  // asinh: the median sits at asinh(2) / (asinh(2) + asinh((max - med) / sigma)) of the range
  const asinh = stretchToBytes(data, "asinh");
  const sortedFinite = [...data].filter(Number.isFinite).sort((a, b) => a - b);
  const med = (sortedFinite[199] + sortedFinite[198]) / 2;
  const medIndex = [...data].findIndex((v) => Math.abs(v - med) < 1.5);
  assert.ok(asinh[medIndex] > 10 && asinh[medIndex] < 80, `median level ${asinh[medIndex]}`);
  assert.deepEqual([...stretchToBytes(new Float32Array(9).fill(3))], new Array(9).fill(128));
});
