import assert from "node:assert/strict";
import { renderStars } from "./render.ts";

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`renderStars conserves flux and centroid of an elliptical Moffat (${variant})`, () => {
    const width = 64, height = 64;
    const data = new Float32Array(width * height);
    renderStars({ data, width, height }, [30.3], [33.8], [1000], {
      beta: 2.5,
      fwhm: 3,
      axisRatio: 0.7,
      theta: 0.4,
      radius: 20,
      variant,
    });
    let s = 0, sx = 0, sy = 0;
    for (let j = 0; j < height; j++) {
      for (let i = 0; i < width; i++) {
        const v = data[j * width + i];
        s += v;
        sx += v * i;
        sy += v * j;
      }
    }
    assert.ok(Math.abs(s - 1000) < 1e-2, `sum ${s}`);
    assert.ok(Math.abs(sx / s - 30.3) < 2e-3 && Math.abs(sy / s - 33.8) < 2e-3);
  });

  Deno.test(`renderStars: a Gaussian's central pixel matches the analytic integral (${variant})`, () => {
    const width = 41, height = 41;
    const data = new Float32Array(width * height);
    renderStars({ data, width, height }, [20], [20], [1000], {
      profile: "gaussian",
      fwhm: 4,
      radius: 20,
      oversample: 11,
      variant,
    });
    const sigma = 4 / 2.354820045;
    // erf(0.5 / (sqrt(2) sigma)) by series (Abramowitz-Stegun 7.1.26 is too coarse here)
    const erf = (z: number) => {
      let sum = 0, term = z;
      for (let k = 0; k < 40; k++) {
        sum += term / (2 * k + 1);
        term *= -z * z / (k + 1);
      }
      return 2 / Math.sqrt(Math.PI) * sum;
    };
    const e = erf(0.5 / (Math.SQRT2 * sigma));
    const want = 1000 * e * e;
    assert.ok(Math.abs(data[20 * width + 20] - want) < 1e-3 * want, `${data[20 * width + 20]}`);
  });

  Deno.test(`renderStars: FWHM varies with the polynomial (${variant})`, () => {
    const width = 200, height = 50;
    const data = new Float32Array(width * height);
    // FWHM = 3 + 1 * u: 2.0 near the left edge, 4.0 near the right
    renderStars({ data, width, height }, [0.5, 199], [25, 25], [1000, 1000], {
      fwhmPoly: [3, 1, 0],
      radius: 12,
      variant,
    });
    const peakLeft = data[25 * width + 0], peakRight = data[25 * width + 199];
    // at equal flux, peak scales ~ 1 / FWHM^2: (4 / 2)^2 = 4 (less with pixel integration)
    assert.ok(peakLeft / peakRight > 2.5 && peakLeft / peakRight < 4.5, `${peakLeft / peakRight}`);
  });
}

Deno.test("renderStars rejects a bad polynomial length", () => {
  const data = new Float32Array(100);
  assert.throws(() =>
    renderStars({ data, width: 10, height: 10 }, [5], [5], [1], { fwhmPoly: [1, 2] })
  );
});
