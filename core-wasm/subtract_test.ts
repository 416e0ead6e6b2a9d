import assert from "node:assert/strict";
import { alardLupton, alardLuptonKernel, subtractNaive, zogy } from "./subtract.ts";
import { addGaussian, Rng } from "./_test_util.ts";

function stamp(size: number, sigma: number): Float32Array {
  const s = new Float32Array(size * size);
  addGaussian(s, size, size, (size - 1) / 2, (size - 1) / 2, sigma, 1);
  return s;
}

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`zogy finds a transient at its S/N and flux; noise-only S_corr has unit std (${variant})`, () => {
    const width = 200, height = 160, sn = 4, sr = 2;
    const rng = new Rng(3);
    const n = new Float32Array(width * height), r = new Float32Array(width * height);
    for (let i = 0; i < n.length; i++) {
      n[i] = sn * rng.normal();
      r[i] = sr * rng.normal();
    }
    const psfN = stamp(21, 2.0), psfR = stamp(21, 1.5);
    // expected S/N of the transient: ZOGY's F_S (checked below) gives flux / error
    const flux = 3000;
    addGaussian(n, width, height, 120, 70, 2.0, flux);
    const res = zogy(
      { data: n, width, height },
      { data: r, width, height },
      psfN,
      (_x, _y) => psfR,
      { psfSize: 21, tile: 100, sigmaNew: sn, sigmaRef: sr, variant },
    );
    assert.equal(res.tilesX * res.tilesY, 4);
    const i = 70 * width + 120;
    const expect = flux * Math.sqrt(res.tiles[1].fs);
    assert.ok(Math.abs(res.scorr[i] / expect - 1) < 0.1, `S_corr ${res.scorr[i]} vs ${expect}`);
    assert.ok(Math.abs(res.flux[i] / flux - 1) < 0.05, `flux ${res.flux[i]}`);
    assert.ok(Math.abs(res.fluxErr[i] * Math.sqrt(res.tiles[1].fs) - 1) < 1e-3);
    let s2 = 0, cnt = 0;
    for (let y = 10; y < height - 10; y++) {
      for (let x = 10; x < width - 10; x++) {
        if (Math.hypot(x - 120, y - 70) < 15) continue;
        s2 += res.scorr[y * width + x] ** 2;
        cnt++;
      }
    }
    assert.ok(Math.abs(Math.sqrt(s2 / cnt) - 1) < 0.05, `std ${Math.sqrt(s2 / cnt)}`);
    const pdSum = res.tiles[0].pd.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(pdSum - 1) < 1e-4);
  });

  Deno.test(`alardLupton recovers a Gaussian kernel and leaves noise-level residuals (${variant})`, () => {
    const width = 220, height = 200, sn = 3, sr = 1;
    const rng = new Rng(4);
    const n = new Float32Array(width * height), r = new Float32Array(width * height);
    const xs: number[] = [], ys: number[] = [];
    for (let k = 0; k < 80; k++) {
      const x = 20 + rng.uniform() * (width - 40), y = 20 + rng.uniform() * (height - 40);
      const f = 4000 * 10 ** rng.uniform();
      xs.push(x);
      ys.push(y);
      addGaussian(r, width, height, x, y, 1.5, f);
      // new = ref (x) Gaussian(1.2): sigma sqrt(1.5^2 + 1.2^2), flux ratio 1.25
      addGaussian(n, width, height, x, y, Math.hypot(1.5, 1.2), 1.25 * f);
    }
    for (let i = 0; i < n.length; i++) {
      n[i] += 7 + sn * rng.normal();
      r[i] += sr * rng.normal();
    }
    const variance = (v: number) => new Float32Array(width * height).fill(v * v);
    const res = alardLupton(
      { data: n, width, height, variance: variance(sn) },
      { data: r, width, height, variance: variance(sr) },
      xs,
      ys,
      { sigma: 1.2, halfWidth: 7, variant },
    );
    assert.ok(Math.abs(res.fit.kernelSum - 1.25) < 0.0125, `kernel sum ${res.fit.kernelSum}`);
    const k = alardLuptonKernel(res.fit, 110, 100);
    let m0 = 0, m2 = 0;
    for (let v = -7; v <= 7; v++) {
      for (let u = -7; u <= 7; u++) {
        m0 += k[(v + 7) * 15 + u + 7];
        m2 += k[(v + 7) * 15 + u + 7] * (u * u + v * v);
      }
    }
    const sigma = Math.sqrt(m2 / m0 / 2);
    assert.ok(Math.abs(sigma - 1.2) < 0.06, `kernel sigma ${sigma}`);
    // residual pulls away from the edges
    let s2 = 0, cnt = 0;
    for (let y = 12; y < height - 12; y++) {
      for (let x = 12; x < width - 12; x++) {
        const i = y * width + x;
        s2 += res.diff[i] ** 2 * res.weight[i];
        cnt++;
      }
    }
    assert.ok(Math.abs(Math.sqrt(s2 / cnt) - 1) < 0.05, `pull std ${Math.sqrt(s2 / cnt)}`);
  });

  Deno.test(`alardLupton convolves the new image when it is the sharper one (${variant})`, () => {
    const width = 200, height = 180, sn = 1, sr = 3;
    const rng = new Rng(6);
    const n = new Float32Array(width * height), r = new Float32Array(width * height);
    const xs: number[] = [], ys: number[] = [];
    for (let k = 0; k < 60; k++) {
      const x = 20 + rng.uniform() * (width - 40), y = 20 + rng.uniform() * (height - 40);
      const f = 4000 * 10 ** rng.uniform();
      xs.push(x);
      ys.push(y);
      addGaussian(n, width, height, x, y, 1.5, f);
      addGaussian(r, width, height, x, y, Math.hypot(1.5, 1.2), f);
    }
    // a transient of 3000 in the new image only
    addGaussian(n, width, height, 100.3, 90.6, 1.5, 3000);
    for (let i = 0; i < n.length; i++) {
      n[i] += sn * rng.normal();
      r[i] += 5 + sr * rng.normal();
    }
    const variance = (v: number) => new Float32Array(width * height).fill(v * v);
    const res = alardLupton(
      { data: n, width, height, variance: variance(sn) },
      { data: r, width, height, variance: variance(sr) },
      xs,
      ys,
      { sigma: 1.2, halfWidth: 7, convolve: "new", variant },
    );
    assert.ok(Math.abs(res.fit.kernelSum - 1) < 0.01, `kernel sum ${res.fit.kernelSum}`);
    // the transient is positive in new - ref, with its flux (kernel sum 1) near its position
    let sum = 0;
    for (let y = 80; y <= 101; y++) for (let x = 90; x <= 111; x++) sum += res.diff[y * width + x];
    assert.ok(Math.abs(sum / 3000 - 1) < 0.1, `transient flux ${sum}`);
    let s2 = 0, cnt = 0;
    for (let y = 12; y < height - 12; y++) {
      for (let x = 12; x < width - 12; x++) {
        if (Math.hypot(x - 100, y - 90) < 15) continue;
        const i = y * width + x;
        s2 += res.diff[i] ** 2 * res.weight[i];
        cnt++;
      }
    }
    assert.ok(Math.abs(Math.sqrt(s2 / cnt) - 1) < 0.05, `pull std ${Math.sqrt(s2 / cnt)}`);
  });

  Deno.test(`subtractNaive subtracts and propagates weights (${variant})`, () => {
    const a = { data: new Float32Array([5, 6, 7, 8]), width: 2, height: 2 };
    const b = { data: new Float32Array([1, 1, 1, 1]), width: 2, height: 2 };
    const res = subtractNaive(a, b, {
      scale: 2,
      weightNew: new Float32Array([1, 1, 0, 1]),
      weightRef: new Float32Array([4, 4, 4, 4]),
      variant,
    });
    assert.deepEqual(Array.from(res.diff), [3, 4, 5, 6]);
    assert.ok(Math.abs(res.weight[0] - 0.5) < 1e-6);
    assert.equal(res.weight[2], 0);
  });
}
