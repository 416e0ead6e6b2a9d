import assert from "node:assert/strict";
import { sigmaClippedStats } from "./stats.ts";
import { Rng } from "./_test_util.ts";

function gaussianWithOutliers(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 50 + 2 * rng.normal();
  for (let i = 0; i < n; i += 40) x[i] = 5000; // 2.5% bright outliers
  return x;
}

Deno.test("sigmaClippedStats recovers Gaussian mean, sigma and mode despite outliers", () => {
  const x = gaussianWithOutliers(100_000, 1);
  const s = sigmaClippedStats(x);
  assert.ok(Math.abs(s.mean - 50) < 0.03, `mean ${s.mean}`);
  assert.ok(Math.abs(s.median - 50) < 0.03, `median ${s.median}`);
  // clipped at 3 sigma the population std is 0.9866 sigma
  assert.ok(Math.abs(s.std - 2 * 0.9866) < 0.03, `std ${s.std}`);
  assert.ok(Math.abs(1.4826 * s.mad - 2) < 0.04, `mad ${s.mad}`);
  assert.ok(Math.abs(s.mode - 50) < 0.06, `mode ${s.mode}`);
  assert.ok(s.nUsed < 97_500 && s.nUsed > 96_500, `nUsed ${s.nUsed}`);
});

Deno.test("sigmaClippedStats: SIMD and scalar builds agree", () => {
  const x = gaussianWithOutliers(50_001, 2);
  const mask = new Uint16Array(x.length);
  for (let i = 3; i < mask.length; i += 7) mask[i] = 4;
  const a = sigmaClippedStats(x, { mask, kappaLow: 2.5, kappaHigh: 3.5 });
  const b = sigmaClippedStats(x, { mask, kappaLow: 2.5, kappaHigh: 3.5, variant: "scalar" });
  assert.equal(a.nUsed, b.nUsed);
  assert.equal(a.median, b.median);
  assert.equal(a.mad, b.mad);
  for (const k of ["mean", "std", "mode"] as const) {
    assert.ok(Math.abs(a[k] - b[k]) < 1e-5 * Math.abs(b[k]), `${k}: ${a[k]} vs ${b[k]}`);
  }
});

Deno.test("sigmaClippedStats honours mask bits and kappa, and rejects empty input", () => {
  const x = new Float32Array([1, 2, 3, 4, 100, -1e9]);
  const mask = new Uint16Array([0, 0, 0, 0, 0, 2]);
  const none = sigmaClippedStats(x, { mask, maxIter: 0 });
  assert.equal(none.mean, 22);
  assert.equal(none.median, 3);
  const clipped = sigmaClippedStats(x, { mask, kappaLow: 2, kappaHigh: 2 });
  assert.equal(clipped.nUsed, 4);
  assert.equal(clipped.mean, 2.5);
  const unmasked = sigmaClippedStats(x, { mask, maskBits: 1, maxIter: 0 });
  assert.equal(unmasked.nUsed, 6);
  assert.throws(() => sigmaClippedStats(new Float32Array([NaN])), /SD_ERR_EMPTY/);
});
