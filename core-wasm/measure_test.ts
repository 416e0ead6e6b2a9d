import assert from "node:assert/strict";
import { Rng } from "./_test_util.ts";
import { measureSources } from "./measure.ts";
import { PhotFlags } from "./photometry.ts";
import { renderStars } from "./render.ts";

for (const variant of ["simd", "scalar"] as const) {
  Deno.test(`measureSources recovers centroid, shape and Kron flux of an elliptical Gaussian (${variant})`, () => {
    const width = 100, height = 90;
    const data = new Float32Array(width * height);
    renderStars({ data, width, height }, [50.3], [40.7], [5000], {
      profile: "gaussian",
      fwhm: 5,
      axisRatio: 0.6,
      theta: 0.5,
      radius: 40,
      oversample: 7,
      variant,
    });
    const seg = new Int32Array(width * height);
    let iso = 0;
    for (let j = 0; j < height; j++) {
      for (let i = 0; i < width; i++) {
        if ((i - 50) ** 2 + (j - 41) ** 2 <= 36) {
          seg[j * width + i] = 7;
          iso += data[j * width + i];
        }
      }
    }
    const m = measureSources({ data, width, height }, [51], [40], {
      seg,
      ids: new Int32Array([7]),
      variant,
    });
    assert.ok(Math.abs(m.x[0] - 50.3) < 1e-3 && Math.abs(m.y[0] - 40.7) < 1e-3);
    const sa = 5 / 2.354820045, sb = 0.6 * sa;
    assert.ok(Math.abs(m.a[0] - Math.sqrt(sa * sa + 1 / 12)) < 0.01, `a ${m.a[0]}`);
    assert.ok(Math.abs(m.b[0] - Math.sqrt(sb * sb + 1 / 12)) < 0.01, `b ${m.b[0]}`);
    assert.ok(Math.abs(m.theta[0] - 0.5) < 0.01);
    assert.ok(Math.abs(m.fluxKron[0] / 5000 - 1) < 0.01, `kron ${m.fluxKron[0]}`);
    assert.ok(Math.abs(m.fluxIso[0] - iso) < 1e-3 * iso);
    assert.equal(m.flags[0], 0);
  });

  Deno.test(`measureSources: windowed centroid scatter on noisy stars is small and unbiased (${variant})`, () => {
    const width = 200, height = 200;
    const rng = new Rng(11);
    const data = new Float32Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = 5 * rng.normal();
    const xs: number[] = [], ys: number[] = [];
    for (let k = 0; k < 25; k++) {
      xs.push(20 + (k % 5) * 40 + rng.uniform());
      ys.push(20 + Math.floor(k / 5) * 40 + rng.uniform());
    }
    renderStars({ data, width, height }, xs, ys, xs.map(() => 20000), {
      profile: "gaussian",
      fwhm: 3.5,
      variant,
    });
    const weight = new Float32Array(width * height).fill(1 / 25);
    const m = measureSources(
      { data, width, height, weight },
      xs.map((x) => x + 0.6),
      ys.map((y) => y - 0.4),
      { variant },
    );
    let mdx = 0, rms = 0;
    for (let k = 0; k < 25; k++) {
      const dx = m.x[k] - xs[k], dy = m.y[k] - ys[k];
      mdx += dx / 25;
      rms += (dx * dx + dy * dy) / 25;
      // Gaussian FWHM 3.5 broadened by the pixel (variance + 1/12 px^2)
      assert.ok(Math.abs(m.fwhm[k] - Math.sqrt(3.5 ** 2 + 2.3548 ** 2 / 12)) < 0.1, `${m.fwhm[k]}`);
      assert.ok(m.fluxKronErr[k] > 0);
    }
    assert.ok(Math.sqrt(rms) < 0.03, `rms ${Math.sqrt(rms)}`);
    assert.ok(Math.abs(mdx) < 0.02);
  });
}

Deno.test("measureSources subtracts the annulus background and flags truncated regions", () => {
  const width = 80, height = 80;
  const data = new Float32Array(width * height).fill(40);
  renderStars({ data, width, height }, [40.4, 2.0], [39.6, 40], [3000, 3000], {
    profile: "gaussian",
    fwhm: 3,
  });
  const m = measureSources({ data, width, height }, [40, 2], [40, 40], {
    annulusIn: 12,
    annulusOut: 20,
  });
  assert.ok(Math.abs(m.bkg[0] - 40) < 1e-4);
  assert.ok(Math.abs(m.x[0] - 40.4) < 1e-3 && Math.abs(m.y[0] - 39.6) < 1e-3);
  assert.ok(Math.abs(m.fluxKron[0] / 3000 - 1) < 0.01, `${m.fluxKron[0]}`);
  assert.ok((m.flags[1] & PhotFlags.TRUNCATED) !== 0);
});
