import assert from "node:assert/strict";
import { getCore } from "./_module.ts";
import { Rng } from "./_test_util.ts";
import { PhotFlags, sumCircle, sumEllipse } from "./photometry.ts";
import { renderStars } from "./render.ts";

const VARIANTS = ["simd", "scalar"] as const;

function flat(width: number, height: number, value: number): Float32Array {
  return new Float32Array(width * height).fill(value);
}

for (const variant of VARIANTS) {
  Deno.test(`sumCircle on a flat image gives value x pi r^2 exactly (${variant})`, () => {
    const width = 70, height = 50;
    const data = flat(width, height, 3);
    const weight = flat(width, height, 0.25);
    const r = sumCircle({ data, width, height, weight }, [30.3, 20.75], [25.1, 18.5], [2.2, 6.4], {
      variant,
    });
    assert.equal(r.nRadii, 2);
    for (let i = 0; i < 2; i++) {
      for (let k = 0; k < 2; k++) {
        const rad = [2.2, 6.4][k];
        const area = Math.PI * rad * rad;
        assert.ok(
          Math.abs(r.flux[i * 2 + k] - 3 * area) < 2e-5 * area,
          `flux ${r.flux[i * 2 + k]}`,
        );
        assert.ok(Math.abs(r.fluxErr[i * 2 + k] - Math.sqrt(area * 4)) < 1e-4);
      }
      assert.equal(r.flags[i], 0);
    }
  });

  Deno.test(`sumCircle flags masked and truncated apertures and corrects for area (${variant})`, () => {
    const width = 40, height = 40;
    const data = flat(width, height, 1);
    const flags = new Uint16Array(width * height);
    flags[20 * width + 20] = 4;
    const r = sumCircle({ data, width, height, flags }, [20, 1], [20, 20], 4, { variant });
    assert.equal(r.flags[0], PhotFlags.MASKED);
    assert.ok(Math.abs(r.flux[0] - Math.PI * 16) < 1e-4);
    assert.ok((r.flags[1] & PhotFlags.TRUNCATED) !== 0);
    // a bit outside maskBits does not mask
    const r2 = sumCircle({ data, width, height, flags }, [20], [20], 4, { maskBits: 3, variant });
    assert.equal(r2.flags[0], 0);
  });

  Deno.test(`sumCircle subtracts a clipped annulus background around a star (${variant})`, () => {
    const width = 80, height = 80;
    const rng = new Rng(5);
    const data = new Float32Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = 100 + 2 * rng.normal();
    renderStars({ data, width, height }, [40.2], [39.7], [5000], { fwhm: 3, variant });
    const r = sumCircle({ data, width, height }, [40.2], [39.7], 10, {
      annulusIn: 15,
      annulusOut: 25,
      variant,
    });
    assert.ok(Math.abs(r.bkg[0] - 100) < 0.3, `bkg ${r.bkg[0]}`);
    // flux in r = 10 of a Moffat(beta 3, FWHM 3) truncated at 15 px; sky noise ~ 2 * sqrt(314)
    assert.ok(Math.abs(r.flux[0] - 5000 * 0.9945) < 120, `flux ${r.flux[0]}`);
  });

  Deno.test(`sumEllipse with a = b equals sumCircle; elongated ellipse has area pi a b (${variant})`, () => {
    const width = 60, height = 60;
    const data = flat(width, height, 2);
    const c = sumCircle({ data, width, height }, [30.4], [29.6], 5, { variant });
    const e = sumEllipse({ data, width, height }, [30.4], [29.6], [2], [2], [0.4], 2.5, {
      variant,
    });
    assert.ok(Math.abs(c.flux[0] - e.flux[0]) < 1e-4);
    const e2 = sumEllipse({ data, width, height }, [30.4], [29.6], [3], [1.2], [0.7], 3, {
      variant,
    });
    assert.ok(Math.abs(e2.flux[0] - 2 * Math.PI * 9 * 3.6) < 1e-3, `${e2.flux[0]}`);
  });
}

Deno.test("sumCircle: 1000 calls do not grow WASM memory", () => {
  const width = 64, height = 64;
  const data = flat(width, height, 1);
  const weight = flat(width, height, 1);
  sumCircle({ data, width, height, weight }, [30], [30], [3, 5], { annulusIn: 8, annulusOut: 12 });
  const before = getCore().memoryBytes;
  for (let i = 0; i < 1000; i++) {
    sumCircle({ data, width, height, weight }, [30, 10], [30, 12], [3, 5], {
      annulusIn: 8,
      annulusOut: 12,
    });
  }
  assert.equal(getCore().memoryBytes, before);
});

Deno.test("sumCircle: SIMD and scalar builds agree with weights, zero weights and flags", () => {
  const width = 90, height = 70;
  const rng = new Rng(21);
  const data = new Float32Array(width * height);
  const weight = new Float32Array(width * height);
  const flags = new Uint16Array(width * height);
  for (let i = 0; i < data.length; i++) {
    data[i] = 50 + 10 * rng.normal();
    weight[i] = rng.uniform() < 0.03 ? 0 : 0.01 * (1 + rng.uniform());
    flags[i] = rng.uniform() < 0.03 ? 1 << Math.floor(rng.uniform() * 6) : 0;
  }
  const xs: number[] = [], ys: number[] = [];
  for (let k = 0; k < 40; k++) {
    xs.push(rng.uniform() * width);
    ys.push(rng.uniform() * height);
  }
  const img = { data, width, height, weight, flags };
  const o = { annulusIn: 9, annulusOut: 14, gain: 2, maskBits: 0x2f };
  const a = sumCircle(img, xs, ys, [2.5, 4, 7.3], { ...o, variant: "simd" });
  const b = sumCircle(img, xs, ys, [2.5, 4, 7.3], { ...o, variant: "scalar" });
  for (let i = 0; i < a.flux.length; i++) {
    assert.ok(Math.abs(a.flux[i] - b.flux[i]) <= 1e-5 * Math.abs(b.flux[i]) + 1e-3, `${i}`);
    assert.ok(Math.abs(a.fluxErr[i] - b.fluxErr[i]) <= 1e-5 * b.fluxErr[i] + 1e-6);
  }
  assert.deepEqual(Array.from(a.flags), Array.from(b.flags));
  assert.deepEqual(Array.from(a.bkg), Array.from(b.bkg));
  assert.ok(a.flags.some((f) => (f & PhotFlags.MASKED) !== 0));
});
