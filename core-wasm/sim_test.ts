import assert from "node:assert/strict";
import {
  simAddLines,
  simBleed,
  simExpose,
  simFlat,
  simGalaxies,
  simPoisson,
  simReadout,
} from "./sim.ts";

function assertAlmostEquals(actual: number, expected: number, tol: number): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} within ${tol}`);
}
function assertEquals(actual: unknown, expected: unknown): void {
  assert.deepEqual(actual, expected);
}

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`simGalaxies (${variant}): flux kept, centroid as placed, both builds agree`, () => {
    const nx = 101, ny = 83;
    const img = new Float32Array(nx * ny);
    const gal = { x: 50.2, y: 40.6, flux: 20000, n: 2.5, re: 3, q: 0.6, theta: 0.7, fwhm: 4 };
    simGalaxies(img, nx, ny, [gal], { variant });
    assertAlmostEquals(sum(img), 20000, 0.5);
    let sx = 0, sy = 0;
    img.forEach((v, i) => {
      sx += v * (i % nx);
      sy += v * Math.floor(i / nx);
    });
    assertAlmostEquals(sx / 20000, 50.2, 0.02);
    assertAlmostEquals(sy / 20000, 40.6, 0.02);
    const other = new Float32Array(nx * ny);
    simGalaxies(other, nx, ny, [gal], { variant: variant === "simd" ? "scalar" : "simd" });
    let maxDiff = 0;
    for (let i = 0; i < img.length; i++) maxDiff = Math.max(maxDiff, Math.abs(img[i] - other[i]));
    assert.ok(maxDiff < 1e-3, `builds differ by ${maxDiff}`);
  });

  Deno.test(`simExpose (${variant}): (img + sky) x flat + dark on a length not a multiple of 4`, () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
    const flat = Float32Array.from([1, 2, 0.5, 1, 1, 2, 1]);
    simExpose(img, flat, 10, 1, variant);
    assertEquals(Array.from(img), [12, 25, 7.5, 15, 16, 33, 18]);
  });
}

Deno.test("simPoisson: mean and variance equal the expectation; same seed, same image", () => {
  const n = 100000;
  const a = new Float32Array(n).fill(400);
  const b = new Float32Array(n).fill(400);
  simPoisson(a, 9, 1);
  simPoisson(b, 9, 1);
  assertEquals(a, b);
  const m = sum(a) / n;
  const v = a.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1);
  assertAlmostEquals(m, 400, 5 * Math.sqrt(400 / n));
  assertAlmostEquals(v / 400, 1, 0.02);
  const c = new Float32Array(n).fill(400);
  simPoisson(c, 9, 2);
  assert.ok(a.some((x, i) => x !== c[i]), "another stream gives other values");
});

Deno.test("simFlat: large-scale slope and pixel rms as requested", () => {
  const nx = 300, ny = 200;
  const flat = simFlat(nx, ny, 1, 1, { poly: [1, 0, 0, 0.1, 0, 0], pixelRms: 0.02 });
  // v = (y - 99.5) / 100: bottom row 1 - 0.0995, top row 1 + 0.0995
  let bottom = 0, top = 0;
  for (let x = 0; x < nx; x++) {
    bottom += flat[x];
    top += flat[(ny - 1) * nx + x];
  }
  assertAlmostEquals(bottom / nx, 1 - 0.0995, 0.006);
  assertAlmostEquals(top / nx, 1 + 0.0995, 0.006);
  const mid = flat.slice(100 * nx, 101 * nx);
  const m = sum(mid) / nx;
  const sd = Math.sqrt(mid.reduce((s, x) => s + (x - m) ** 2, 0) / (nx - 1));
  assertAlmostEquals(sd, 0.02, 0.003);
});

Deno.test("simBleed and simAddLines: charge conserved, flags set", () => {
  const nx = 8, ny = 40;
  const img = new Float32Array(nx * ny).fill(10);
  img[20 * nx + 3] = 510;
  const flags = new Uint16Array(nx * ny);
  simBleed(img, nx, ny, 100, flags);
  assertAlmostEquals(sum(img), 10 * nx * ny + 500, 1e-2);
  assertEquals(flags[20 * nx + 3] & 4, 4);
  assertEquals(flags[22 * nx + 3] & 32, 32);
  simAddLines(img, nx, ny, [{ x0: 1, y0: 5, x1: 6, y1: 5, flux: 100, sigma: 0 }], flags, 16);
  assertAlmostEquals(sum(img), 10 * nx * ny + 1000, 1e-2);
  assertEquals(flags[5 * nx + 3] & 16, 16);
});

Deno.test("simReadout: data = electrons / gain + bias; overscan = bias", () => {
  const nx = 4, ny = 3, rawNx = 8, rawNy = 5;
  const e = new Float32Array(nx * ny).fill(300);
  const raw = new Float32Array(rawNx * rawNy);
  const amp = { biasLevel: 1000, gain: 3, readNoise: 0 };
  simReadout(
    e,
    nx,
    ny,
    raw,
    rawNx,
    rawNy,
    {
      srcX0: 0,
      width: 2,
      col0: 0,
      col1: 4,
      dstX0: 2,
      dstY0: 2,
    },
    amp,
    1,
    1,
  );
  simReadout(
    e,
    nx,
    ny,
    raw,
    rawNx,
    rawNy,
    {
      srcX0: 2,
      width: 2,
      col0: 4,
      col1: 8,
      dstX0: 4,
      dstY0: 2,
    },
    { ...amp, biasLevel: 2000, biasCol: new Float32Array(rawNx).fill(1) },
    1,
    2,
  );
  assertEquals(Array.from(raw.slice(3 * rawNx, 4 * rawNx)), [
    1000,
    1000,
    1100,
    1100,
    2101,
    2101,
    2001,
    2001,
  ]);
  assertEquals(raw[0], 1000);
  assertEquals(raw[7], 2001);
});
