import assert from "node:assert/strict";
import { FLAG_OUT_OF_BOUNDS, resampleLanczos3, samplePixelMap } from "./resample.ts";

function truth(x: number, y: number): number {
  return 10 + 80 * Math.exp(-((x - 40) ** 2 + (y - 35) ** 2) / (2 * 25)) + 0.05 * x;
}

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`resampleLanczos3 follows a rotated, scaled, shifted map (${variant})`, () => {
    const width = 80, height = 70;
    const data = new Float32Array(width * height), weight = new Float32Array(width * height);
    const flags = new Uint16Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        data[y * width + x] = truth(x, y);
        weight[y * width + x] = 2;
      }
    }
    flags[30 * width + 30] = 4;
    const th = 0.2, sc = 1.1, tx = -4, ty = 6;
    const f = (x: number, y: number): [number, number] => [
      tx + sc * (Math.cos(th) * x - Math.sin(th) * y),
      ty + sc * (Math.sin(th) * x + Math.cos(th) * y),
    ];
    const map = samplePixelMap(width, height, f, 9);
    const out = resampleLanczos3({ data, weight, flags, width, height }, map, width, height, {
      variant,
    });
    let worst = 0, oob = 0, flagged = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const [X, Y] = f(x, y), i = y * width + x;
        const inside = X >= -0.5 && X < width - 0.5 && Y >= -0.5 && Y < height - 0.5;
        assert.equal((out.flags[i] & FLAG_OUT_OF_BOUNDS) !== 0, !inside);
        if (!inside) {
          oob++;
          assert.equal(out.weight[i], 0);
        }
        if (out.flags[i] & 4) flagged++;
        if (X > 4 && X < width - 5 && Y > 4 && Y < height - 5) {
          worst = Math.max(worst, Math.abs(out.data[i] - truth(X, Y)));
          assert.ok(Math.abs(out.weight[i] - 2) < 1e-4);
        }
      }
    }
    // Lanczos-3 on a sigma = 5 px Gaussian: interpolation error ~2e-3 of the peak (~90)
    assert.ok(worst < 0.25, `max error ${worst}`);
    assert.ok(oob > 100);
    assert.ok(flagged >= 1 && flagged <= 4, `flagged ${flagged}`);
  });
}
