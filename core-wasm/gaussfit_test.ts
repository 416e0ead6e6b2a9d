import assert from "node:assert/strict";
import type { CoreVariant } from "./_module.ts";
import { Rng } from "./_test_util.ts";
import { gaussFit, type GaussParams } from "./gaussfit.ts";

function render(n: number, p: GaussParams, noise: number, rng?: Rng): Float32Array {
  const img = new Float32Array(n * n);
  const c = Math.cos(p.theta), s = Math.sin(p.theta);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const dx = x - p.x, dy = y - p.y;
      const u = c * dx + s * dy, v = -s * dx + c * dy;
      img[y * n + x] = p.amplitude *
          Math.exp(-0.5 * (u * u / p.sigmaMajor ** 2 + v * v / p.sigmaMinor ** 2)) +
        p.background + (rng ? noise * rng.normal() : 0);
    }
  }
  return img;
}

const VARIANTS: CoreVariant[] = ["simd", "scalar"];

for (const variant of VARIANTS) {
  Deno.test(`gaussFit recovers a rotated elliptical Gaussian exactly without noise (${variant})`, () => {
    const truth = {
      amplitude: 800,
      x: 20.4,
      y: 19.7,
      sigmaMajor: 3.2,
      sigmaMinor: 1.4,
      theta: -1.1,
      background: 12,
    };
    const fit = gaussFit(render(41, truth, 0), 41, 41, { variant });
    assert.ok(fit.converged);
    for (const k of Object.keys(truth) as (keyof GaussParams)[]) {
      assert.ok(Math.abs(fit[k] - truth[k]) < 1e-4 * Math.max(1, Math.abs(truth[k])), `${k}`);
    }
    assert.equal(fit.ndof, 41 * 41 - 7);
  });

  Deno.test(`gaussFit errors match the scatter of noisy fits (${variant})`, () => {
    const rng = new Rng(7);
    const truth = {
      amplitude: 150,
      x: 15.3,
      y: 14.6,
      sigmaMajor: 2.0,
      sigmaMinor: 2.0,
      theta: 0,
      background: 3,
    };
    const noise = 4;
    const weight = new Float32Array(31 * 31).fill(1 / noise ** 2);
    const keys = ["amplitude", "x", "y", "background"] as const;
    const pulls: Record<string, number[]> = {};
    const widths: number[] = [];
    for (let t = 0; t < 120; t++) {
      const fit = gaussFit(render(31, truth, noise, rng), 31, 31, { weight, variant });
      for (const k of keys) (pulls[k] ??= []).push((fit[k] - truth[k]) / fit.errors[k]);
      widths.push(Math.sqrt(fit.sigmaMajor * fit.sigmaMinor));
      assert.ok(fit.chi2 / fit.ndof > 0.85 && fit.chi2 / fit.ndof < 1.15, `chi2 ${fit.chi2}`);
    }
    for (const k of keys) {
      const rms = Math.sqrt(pulls[k].reduce((a, b) => a + b * b, 0) / pulls[k].length);
      assert.ok(rms > 0.8 && rms < 1.25, `${k} pull rms ${rms}`);
    }
    const meanWidth = widths.reduce((a, b) => a + b, 0) / widths.length;
    assert.ok(Math.abs(meanWidth - 2.0) < 0.03, `mean width ${meanWidth}`);
  });
}

Deno.test("gaussFit: SIMD and scalar builds agree and flagged pixels are ignored", () => {
  const truth = {
    amplitude: 500,
    x: 12.2,
    y: 11.9,
    sigmaMajor: 2.5,
    sigmaMinor: 1.2,
    theta: 0.7,
    background: 0,
  };
  const rng = new Rng(3);
  const img = render(25, truth, 2, rng);
  const flags = new Uint16Array(25 * 25);
  img[12 * 25 + 12] = 1e5; // a cosmic ray, flagged
  flags[12 * 25 + 12] = 8;
  const a = gaussFit(img, 25, 25, { flags, variant: "simd" });
  const b = gaussFit(img, 25, 25, { flags, variant: "scalar" });
  for (const k of ["x", "sigmaMajor", "sigmaMinor", "theta", "amplitude"] as const) {
    assert.ok(Math.abs(a[k] - b[k]) < 1e-6 * Math.max(1, Math.abs(a[k])), k);
  }
  assert.ok(Math.abs(a.sigmaMajor - 2.5) < 0.05 && Math.abs(a.theta - 0.7) < 0.03);
  // without the flag the cosmic ray ruins the fit
  const c = gaussFit(img, 25, 25, { variant: "simd" });
  assert.ok(c.sigmaMinor < 0.9 || c.amplitude > 5000, `${c.sigmaMinor} ${c.amplitude}`);
});

Deno.test("gaussFit refuses bad sizes and all-flagged stamps", () => {
  assert.throws(() => gaussFit(new Float32Array(10), 4, 4), RangeError);
  assert.throws(
    () => gaussFit(new Float32Array(16), 4, 4, { flags: new Uint16Array(16).fill(1) }),
    /SD_ERR_EMPTY/,
  );
});
