import assert from "node:assert/strict";
import { Rng } from "../_shared/sim/random.ts";
import { apertureCorrections, clippedWeightedMean, limitingMagnitude } from "./zero_point.ts";

Deno.test("clippedWeightedMean recovers a weighted mean despite 10% gross outliers", () => {
  const rng = new Rng(1);
  const values: number[] = [], errors: number[] = [];
  for (let i = 0; i < 200; i++) {
    const e = rng.range(0.005, 0.05);
    errors.push(e);
    values.push(25 + rng.normal(0, e) + (i % 10 === 0 ? rng.range(0.3, 2) : 0));
  }
  const m = clippedWeightedMean(values, errors, 3);
  assert.ok(Math.abs(m.mean - 25) < 3 * m.error, `${m.mean} +- ${m.error}`);
  assert.ok(m.error < 0.002);
  assert.ok(m.n >= 170 && m.n <= 181, `${m.n} kept`);
  assert.ok(m.used.every((u, i) => !(i % 10 === 0 && values[i] > 25.3) || !u));
  assert.ok(m.chi2 > 0.6 && m.chi2 < 1.5, `chi2 ${m.chi2}`);
});

Deno.test("apertureCorrections finds the flux ratios of a known curve of growth", () => {
  const rng = new Rng(2);
  const frac = [0.8, 0.96, 0.995, 1];
  const n = 40, na = 4;
  const flux = new Float64Array(n * na), err = new Float64Array(n * na);
  for (let i = 0; i < n; i++) {
    const f = 1e5 * (1 + 10 * rng.uniform());
    for (let k = 0; k < na; k++) {
      err[i * na + k] = 30 * (k + 1);
      flux[i * na + k] = f * frac[k] + rng.normal(0, err[i * na + k]);
    }
  }
  // a contaminated star: a neighbour inside the largest aperture
  flux[3 * na + 3] *= 1.5;
  const { corrections } = apertureCorrections(flux, err, na, [...Array(n).keys()], 3);
  for (let k = 0; k < na; k++) {
    const want = -2.5 * Math.log10(1 / frac[k]);
    assert.ok(
      Math.abs(corrections[k] - want) < 1e-3,
      `aperture ${k}: ${corrections[k]} vs ${want}`,
    );
  }
});

Deno.test("limitingMagnitude evaluates the mag-ln(S/N) line at S/N 5", () => {
  const rng = new Rng(3);
  const mags: number[] = [], snrs: number[] = [];
  // background-limited: S/N = 5 at mag 23.4, slope -2.5/ln 10
  for (let i = 0; i < 500; i++) {
    const mag = rng.range(18, 24.5);
    const snr = 5 * 10 ** (-0.4 * (mag - 23.4)) * (1 + rng.normal(0, 0.05));
    mags.push(mag), snrs.push(snr);
  }
  const lim = limitingMagnitude(mags, snrs, 5, [3, 20]);
  assert.ok(Math.abs(lim.mag - 23.4) < 0.02, `${lim.mag}`);
  assert.ok(Math.abs(lim.slope + 2.5 / Math.LN10) < 0.05, `slope ${lim.slope}`);
  assert.ok(Number.isNaN(limitingMagnitude([20, 21], [10, 8]).mag), "too few points: NaN");
});
