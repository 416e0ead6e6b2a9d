import assert from "node:assert/strict";
import { AlgorithmError } from "../_shared/errors.ts";
import { ccdFlat } from "../_shared/sim/camera.ts";
import { SimSky } from "../_shared/sim/sky.ts";
import { tpvPixToSky } from "../_shared/sim/tpv.ts";
import { preprocessingInputsOf, simScience, simSetup } from "./_testing.ts";
import { FLAG, PreprocessingParams, preprocessingStep, trimmedWcs } from "./step.ts";

const setup = simSetup({ frames: 3 });
const params = PreprocessingParams.parse({});
const NX = 512, NY = 1024;

function clippedMedian(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

Deno.test("preprocessingStep.run: noise-free sky in electrons, corners from the header WCS", async () => {
  // bright stars only, so that enough of them are isolated
  const sky = new SimSky({ seed: 21, starBrightMag: 14, starFaintMag: 18.5, starsPerDeg2: 80000 });
  const c =
    simScience({ ...setup, sky }, { noise: false, cosmics: false, galaxies: false }).ccds[0];
  const { outputs } = await preprocessingStep.run(
    preprocessingInputsOf(setup, c),
    params,
    undefined,
  );
  const img = outputs.image;
  assert.equal(img.width, NX);
  assert.equal(img.height, NY);
  // sky + dark current x 90 s, times the true flat's median (the master flat has median 1)
  const truthFlat = Float64Array.from(ccdFlat(setup.cam, setup.cam.ccd(c.id))).sort();
  const flatMedian = truthFlat[truthFlat.length >> 1];
  const dark = setup.cam.ccd(c.id).darkCurrent * 90;
  const skyTruth = (c.skyE + dark) * flatMedian;
  assert.ok(
    Math.abs(outputs.estimates.sky / skyTruth - 1) < 0.003,
    `sky ${outputs.estimates.sky} vs ${skyTruth}`,
  );
  // overscan, zero, flat
  assert.equal(outputs.preprocBitflag, 1 | 2 | 16);
  // corners: the trimmed image's WCS is the renderer's (to float precision)
  const corners = [[0, 0], [0, NY - 1], [NX - 1, 0], [NX - 1, NY - 1]];
  corners.forEach(([x, y], k) => {
    const t = tpvPixToSky(c.wcs, x, y);
    assert.ok(Math.abs(outputs.estimates.corners!.ra[k] - t.ra) < 1e-7, `corner ${k} ra`);
    assert.ok(Math.abs(outputs.estimates.corners!.dec[k] - t.dec) < 1e-7, `corner ${k} dec`);
  });
  // bright isolated stars: 6-FWHM aperture sums minus sky match the charge drawn to 1%
  const ratios: number[] = [];
  for (const t of c.truth) {
    if (t.kind !== "star" || t.fluxE < 3e4) continue;
    const r = 6 * t.fwhm;
    if (t.x < r + 2 || t.y < r + 2 || t.x > NX - r - 3 || t.y > NY - r - 3) continue;
    const crowded = c.truth.some((o) =>
      o !== t && o.fluxE > 2e-3 * t.fluxE && Math.hypot(o.x - t.x, o.y - t.y) < r + 5 * o.fwhm
    );
    if (crowded) continue;
    let sum = 0;
    for (let y = Math.floor(t.y - r); y <= Math.ceil(t.y + r); y++) {
      for (let x = Math.floor(t.x - r); x <= Math.ceil(t.x + r); x++) {
        if (Math.hypot(x - t.x, y - t.y) <= r) sum += img.image[y * NX + x] - outputs.estimates.sky;
      }
    }
    ratios.push(sum / (t.fluxE * flatMedian));
  }
  assert.ok(ratios.length >= 3, `${ratios.length} stars`);
  const med = clippedMedian(ratios);
  assert.ok(Math.abs(med - 1) < 0.01, `flux ratio ${med}`);
});

Deno.test("preprocessingStep.run: weights describe the noise, defects and saturation are flagged", async () => {
  const exp = simScience(setup, { exptime: 1800, expnum: 78 });
  const c = exp.ccds[0];
  const { outputs } = await preprocessingStep.run(
    preprocessingInputsOf(setup, c, 1800),
    params,
    undefined,
  );
  const { image, weight, flags } = outputs.image;
  // pulls of sky pixels far from any source: (data - sky) sqrt(weight) has unit rms
  const pulls: number[] = [];
  const busy = new Uint8Array(NX * NY);
  for (const t of c.truth) {
    const r = Math.ceil(Math.min(40, 3 * t.fwhm + Math.log10(Math.max(t.fluxE, 10)) * 3));
    for (let y = Math.max(0, Math.floor(t.y) - r); y < Math.min(NY, t.y + r); y++) {
      for (let x = Math.max(0, Math.floor(t.x) - r); x < Math.min(NX, t.x + r); x++) {
        busy[y * NX + x] = 1;
      }
    }
  }
  for (let i = 0; i < NX * NY; i += 7) {
    if (busy[i] || flags[i] !== 0) continue;
    pulls.push((image[i] - outputs.estimates.sky) * Math.sqrt(weight[i]));
  }
  pulls.sort((a, b) => a - b);
  // robust sigma from the interquartile range (cosmic rays and faint sources in the tails)
  const iqr = pulls[Math.floor(0.75 * pulls.length)] - pulls[Math.floor(0.25 * pulls.length)];
  const sigma = iqr / 1.349;
  assert.ok(Math.abs(sigma - 1) < 0.05, `pull sigma ${sigma} from ${pulls.length} pixels`);
  // the instrument's bad columns and hot pixels: flagged bad, zero weight
  const ccd = setup.cam.ccd(c.id);
  for (const x of ccd.badColumns) {
    assert.equal(flags[500 * NX + x] & (FLAG.BAD | FLAG.ZERO_WEIGHT), FLAG.BAD | FLAG.ZERO_WEIGHT);
    assert.equal(weight[500 * NX + x], 0);
  }
  for (const h of ccd.hotPixels) assert.ok(flags[h.y * NX + h.x] & FLAG.BAD);
  // stars whose peak exceeds full well: their centre is flagged saturated, with zero weight
  const fullWell = Math.min(ccd.amps[0].fullWell, ccd.amps[1].fullWell);
  const saturated = c.truth.filter((t) => {
    const alpha = t.fwhm / (2 * Math.sqrt(2 ** (1 / 3) - 1));
    return t.kind === "star" && (t.fluxE * 2) / (Math.PI * alpha * alpha) > 1.5 * fullWell;
  });
  assert.ok(saturated.length >= 1, "the 1800 s exposure has saturated stars");
  for (const t of saturated) {
    const i = Math.round(t.y) * NX + Math.round(t.x);
    assert.ok(flags[i] & FLAG.SATURATED, `star at ${t.x}, ${t.y} not flagged saturated`);
    assert.equal(weight[i], 0);
  }
  assert.ok(outputs.estimates.nSaturated > 0);
});

Deno.test("preprocessingStep.run: NaN-filled or constant raw data are AlgorithmErrors", () => {
  const c = simScience(setup, { noise: false, cosmics: false, galaxies: false }).ccds[0];
  const inputs = preprocessingInputsOf(setup, c);
  for (
    const [raw, pattern] of [
      [new Float32Array(c.raw.length).fill(NaN), /NaN-filled/],
      [new Uint16Array(c.raw.length), /every raw pixel is 0/],
    ] as const
  ) {
    assert.throws(
      () => preprocessingStep.run({ ...inputs, raw }, params, undefined),
      (err: unknown) => err instanceof AlgorithmError && pattern.test(err.message),
    );
  }
});

Deno.test("trimmedWcs: a flipped origin amplifier mirrors CRPIX and the CD column", () => {
  const raw = {
    crpix: [100, 60] as [number, number],
    crval: [10, 20] as [number, number],
    cd: [[1e-4, 0], [0, 1e-4]] as [[number, number], [number, number]],
  };
  const amp = {
    name: "A",
    data: { x0: 10, x1: 110, y0: 5, y1: 55 },
    bias: { x0: 110, x1: 120, y0: 5, y1: 55 },
    trim: { x0: 0, x1: 100, y0: 0, y1: 50 },
    flipX: true,
    flipY: false,
    gain: 1,
    readNoise: 1,
    saturation: 65535,
  };
  const layout = { id: "X", rawNx: 120, rawNy: 55, nx: 100, ny: 50, amps: [amp] };
  const t = trimmedWcs(raw, layout);
  // trimmed pixel tx sits at raw x = 109 - tx: the reference raw pixel 99 (0-based) -> tx = 10
  assert.equal(t.crpix[0], 11);
  assert.equal(t.crpix[1], 60 - 5);
  assert.deepEqual(t.cd, [[-1e-4, 0], [-0, 1e-4]]);
});
