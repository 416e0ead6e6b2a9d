import assert from "node:assert/strict";
import { combineClipped, overscanTrim } from "./calib.ts";

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`overscanTrim (${variant}): row levels subtracted, gain applied, flipped amp`, () => {
    const rawNx = 14, rawNy = 3;
    const raw = new Float32Array(rawNx * rawNy);
    for (let y = 0; y < rawNy; y++) {
      for (let x = 0; x < rawNx; x++) {
        raw[y * rawNx + x] = (x < 7 ? 50 : 80) + y + (x >= 2 && x < 12 ? x : 0);
      }
    }
    const { image, levels } = overscanTrim(
      raw,
      rawNx,
      rawNy,
      [
        { data: { x0: 2, x1: 7, y0: 0, y1: 3 }, bias: { x0: 0, x1: 2 }, trim: { x0: 0, y0: 0 } },
        {
          data: { x0: 7, x1: 12, y0: 0, y1: 3 },
          bias: { x0: 12, x1: 14 },
          trim: { x0: 5, y0: 0 },
          flipX: true,
          gain: 2,
        },
      ],
      10,
      3,
      { variant },
    );
    assert.deepEqual(Array.from(image.slice(10, 20)), [2, 3, 4, 5, 6, 22, 20, 18, 16, 14]);
    assert.deepEqual(levels, [51, 81]);
  });

  Deno.test(`combineClipped (${variant}): an outlier is rejected; scales divide`, () => {
    const frames = [1, 2, 3, 4, 5].map((k) => new Float32Array([10 + k * 0.1, 20, 7 * k]));
    frames[2][1] = 1000;
    const r = combineClipped(frames, { variant, scales: [1, 1, 1, 1, 1] });
    assert.ok(Math.abs(r.image[0] - 10.3) < 1e-5);
    assert.equal(r.image[1], 20);
    assert.equal(r.nused[1], 4);
    const half = combineClipped(frames.map((f) => f.map((v) => v * 2)), {
      variant,
      scales: [2, 2, 2, 2, 2],
    });
    assert.ok(Math.abs(half.image[2] - r.image[2]) < 1e-5);
  });
}
