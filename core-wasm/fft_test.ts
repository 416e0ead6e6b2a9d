import assert from "node:assert/strict";
import { fft2, fftGoodSize, ifft2 } from "./fft.ts";
import { Rng } from "./_test_util.ts";

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`fft2 matches a naive DFT and ifft2 inverts it (${variant})`, () => {
    const width = 12, height = 10;
    const rng = new Rng(5);
    const data = Float32Array.from({ length: width * height }, () => rng.normal());
    const sp = fft2({ data, width, height }, variant);
    const nxh = width / 2 + 1;
    let worst = 0, scale = 0;
    for (let ky = 0; ky < height; ky++) {
      for (let kx = 0; kx < nxh; kx++) {
        let re = 0, im = 0;
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const a = -2 * Math.PI * (kx * x / width + ky * y / height);
            re += data[y * width + x] * Math.cos(a);
            im += data[y * width + x] * Math.sin(a);
          }
        }
        worst = Math.max(worst, Math.hypot(sp.re[ky * nxh + kx] - re, sp.im[ky * nxh + kx] - im));
        scale = Math.max(scale, Math.hypot(re, im));
      }
    }
    assert.ok(worst < 1e-5 * scale, `DFT error ${worst / scale}`);
    const back = ifft2(sp, variant);
    for (let i = 0; i < data.length; i++) assert.ok(Math.abs(back[i] - data[i]) < 1e-5);
  });

  Deno.test(`fftGoodSize returns 2/3/5-smooth sizes (${variant})`, () => {
    assert.equal(fftGoodSize(2089, variant), 2160);
    assert.equal(fftGoodSize(4096, variant), 4096);
    assert.throws(() => fft2({ data: new Float32Array(14), width: 7, height: 2 }, variant));
  });
}
