import assert from "node:assert/strict";
import { convolveImage } from "./convolve.ts";
import { Rng } from "./_test_util.ts";

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`convolveImage: FFT and direct agree with a naive sum, zero and reflect (${variant})`, () => {
    const width = 40, height = 30, kw = 9;
    const rng = new Rng(8);
    const data = Float32Array.from({ length: width * height }, () => rng.normal() + 1);
    const kernel = Float32Array.from({ length: kw * kw }, () => rng.uniform());
    for (const pad of ["zero", "reflect"] as const) {
      const direct = convolveImage(
        { data, width, height },
        { data: kernel, width: kw, height: kw },
        {
          pad,
          method: "direct",
          variant,
        },
      );
      const viaFft = convolveImage(
        { data, width, height },
        { data: kernel, width: kw, height: kw },
        {
          pad,
          method: "fft",
          variant,
        },
      );
      const refl = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i);
      for (const [x, y] of [[0, 0], [5, 7], [39, 29], [20, 1]]) {
        let want = 0;
        for (let v = -4; v <= 4; v++) {
          for (let u = -4; u <= 4; u++) {
            let xx = x - u, yy = y - v;
            const inside = xx >= 0 && xx < width && yy >= 0 && yy < height;
            if (!inside && pad === "zero") continue;
            xx = refl(xx, width);
            yy = refl(yy, height);
            want += kernel[(v + 4) * kw + u + 4] * data[yy * width + xx];
          }
        }
        assert.ok(Math.abs(direct[y * width + x] - want) < 1e-4, `${pad} direct ${x},${y}`);
        assert.ok(Math.abs(viaFft[y * width + x] - want) < 1e-4, `${pad} fft ${x},${y}`);
      }
    }
  });
}
