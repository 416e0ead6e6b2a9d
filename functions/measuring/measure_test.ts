import assert from "node:assert/strict";
import { applyCuts, CUT_NAMES, type CutName, CutsParams } from "./cuts.ts";
import { ang2pixNest } from "../_shared/sky/healpix.ts";
import {
  cutVariables,
  measureCutouts,
  measureDetection,
  type MeasureInput,
  MeasureParams,
  stampsOf,
} from "./measure.ts";
import { emptyCutouts } from "../_shared/products/cutouts_file.ts";

const SIZE = 41;
const PSF_SIGMA = 1.5;
const NOISE = 1;

/** Seeded normal deviates (mulberry32 + Box-Muller). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Adds a pixel-integrated (5x5 subsampled) circular Gaussian of total flux at (x0, y0). */
function addStar(img: Float32Array, side: number, x0: number, y0: number, flux: number) {
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      let s = 0;
      for (let b = 0; b < 5; b++) {
        for (let a = 0; a < 5; a++) {
          const dx = i - 0.4 + 0.2 * a - x0, dy = j - 0.4 + 0.2 * b - y0;
          s += Math.exp(-(dx * dx + dy * dy) / (2 * PSF_SIGMA ** 2));
        }
      }
      img[j * side + i] += (flux * s) / 25 / (2 * Math.PI * PSF_SIGMA ** 2);
    }
  }
}

function psfStamp(): Float32Array {
  const psf = new Float32Array(21 * 21);
  addStar(psf, 21, 10, 10, 1);
  return psf;
}

/** new = ref + sub, sub = `draw` + noise; weights 1 / NOISE^2, no flags. */
function stamps(draw: (sub: Float32Array) => void, seed = 1): MeasureInput {
  const n = SIZE * SIZE;
  const normal = rng(seed);
  const sub = new Float32Array(n);
  draw(sub);
  const ref = new Float32Array(n).fill(100);
  const plane = (data: Float32Array) => ({
    data,
    weight: new Float32Array(n).fill(1 / NOISE ** 2),
    flags: new Uint16Array(n),
  });
  const noisy = sub.map((v) => v + NOISE * normal());
  return {
    size: SIZE,
    new: plane(ref.map((v, i) => v + sub[i])),
    ref: plane(ref),
    sub: plane(noisy),
    psf: psfStamp(),
    zeroPoint: 30,
  };
}

function failed(input: MeasureInput): CutName[] {
  return applyCuts(cutVariables(measureDetection(input))).failedBad;
}

Deno.test("measureDetection: a clean PSF transient has the right flux and passes every cut", () => {
  const flux = 500;
  const input = stamps((s) => addStar(s, SIZE, 20.3, 19.8, flux));
  input.x = 20.3;
  input.y = 19.8;
  const m = measureDetection(input);
  // S/N ~ flux / (noise sqrt(4 pi sigma^2)) ~ 94
  assert.ok(Math.abs(m.fluxPsf - flux) < 3 * m.fluxPsfErr, `flux ${m.fluxPsf} +- ${m.fluxPsfErr}`);
  assert.ok(Math.abs(m.fluxPsfErr - NOISE * Math.sqrt(4 * Math.PI) * PSF_SIGMA) < 0.3);
  assert.ok(Math.abs(m.magPsf - (30 - 2.5 * Math.log10(flux))) < 0.04);
  // pixel integration adds 1/12 px^2 to the variance
  const pixSigma = Math.sqrt(PSF_SIGMA ** 2 + 1 / 12);
  assert.ok(Math.abs(m.psfFwhm - 2.3548 * pixSigma) < 0.02, `fwhm ${m.psfFwhm}`);
  // aperture of 2 FWHM holds 1 - exp(-(2 * 2.3548)^2 / 2) of a Gaussian's flux
  const inside = 1 - Math.exp(-((2 * m.psfFwhm) ** 2) / (2 * pixSigma ** 2));
  assert.ok(Math.abs(m.fluxApertures[1] - flux * inside) < 3 * m.fluxAperturesErr[1]);
  assert.ok(
    m.detectionOffset < 0.1 && m.gaussOffset < 0.1,
    `${m.detectionOffset} ${m.gaussOffset}`,
  );
  assert.ok(Math.abs(m.width - pixSigma) < 0.1 && m.elongation < 1.15);
  assert.equal(m.nBadPixels, 0);
  assert.ok(m.negativeFraction < 0.1 && m.negativeFluxFraction < 0.05 && m.dipole < 0.05);
  assert.ok(Math.abs(m.bkgMean) < 0.1 && Math.abs(m.bkgStd - NOISE) < 0.1);
  const cuts = applyCuts(cutVariables(m));
  assert.deepEqual(cuts.failedBad, []);
  assert.equal(cuts.keep, true);
  assert.equal(cuts.isBad, false);
});

Deno.test("measureDetection: a negative detection is measured negated", () => {
  const input = stamps((s) => addStar(s, SIZE, 20, 20, -400), 2);
  input.negative = true;
  const m = measureDetection(input);
  assert.ok(Math.abs(m.fluxPsf - 400) < 3 * m.fluxPsfErr);
  assert.deepEqual(failed(input), []);
});

Deno.test("measureDetection: a dipole fails the negative-pixel and negative-flux cuts", () => {
  const input = stamps((s) => {
    addStar(s, SIZE, 20.9, 20, 600);
    addStar(s, SIZE, 19.1, 20, -600);
  }, 3);
  const m = measureDetection(input);
  assert.ok(m.dipole > 0.7, `dipole ${m.dipole}`);
  // lobes of a derivative of a Gaussian: centroids ~ +-sigma sqrt(pi / 2) apart, beyond the shift
  assert.ok(
    m.dipoleSeparation > 1.8 && m.dipoleSeparation < m.psfFwhm * 1.5,
    `${m.dipoleSeparation}`,
  );
  const f = failed(input);
  assert.ok(f.includes("negative_fraction") && f.includes("negative_flux_fraction"), `${f}`);
  assert.ok(!f.includes("bad_pixels"));
});

Deno.test("measureDetection: a cosmic ray (one sharp pixel) fails the width ratio", () => {
  const input = stamps((s) => (s[20 * SIZE + 20] = 300), 4);
  const m = measureDetection(input);
  assert.ok(m.width < 0.6, `width ${m.width}`);
  const f = failed(input);
  assert.ok(f.includes("width_ratio"), `${f}`);
  assert.ok(!f.includes("negative_fraction") && !f.includes("bad_pixels"), `${f}`);
});

Deno.test("measureDetection: flagged pixels at the detection fail the bad-pixel cut only", () => {
  const input = stamps((s) => addStar(s, SIZE, 20, 20, 500), 5);
  for (const k of [20 * SIZE + 21, 21 * SIZE + 21, 19 * SIZE + 19]) input.sub.flags[k] = 4;
  input.ref.flags[22 * SIZE + 20] = 1;
  const m = measureDetection(input);
  assert.equal(m.nBadPixels, 4);
  assert.ok(Math.abs(m.fluxPsf - 500) < 3 * m.fluxPsfErr);
  assert.deepEqual(failed(input), ["bad_pixels"]);
  // the same flag bits outside flag_mask are ignored
  const m2 = measureDetection(input, MeasureParams.parse({ flag_mask: 0xffff & ~4 & ~1 }));
  assert.equal(m2.nBadPixels, 0);
  assert.deepEqual(applyCuts(cutVariables(m2)).failedBad, []);
});

Deno.test("measureDetection: an elongated streak fails the elongation cut", () => {
  const input = stamps((s) => {
    // a satellite trail: 41 points along a 24-px segment at 30 degrees
    for (let t = 0; t <= 40; t++) {
      const u = -12 + (24 * t) / 40;
      addStar(s, SIZE, 20 + u * Math.cos(Math.PI / 6), 20 + u * Math.sin(Math.PI / 6), 60);
    }
  }, 6);
  const m = measureDetection(input);
  assert.ok(m.elongation > 3, `elongation ${m.elongation}`);
  assert.ok(Math.abs(m.positionAngle - 30) < 3, `angle ${m.positionAngle}`);
  assert.ok(failed(input).includes("elongation"));
});

Deno.test("measureDetection: the detection offset cut fails for a source 7 px away", () => {
  const input = stamps((s) => addStar(s, SIZE, 24.5, 25, 800), 7);
  const m = measureDetection(input);
  assert.ok(Math.abs(m.detectionOffset - Math.hypot(4.5, 5)) < 0.2, `${m.detectionOffset}`);
  const f = failed(input);
  assert.ok(f.includes("detection_offset") && f.includes("gauss_offset"), `${f}`);
});

Deno.test("stampsOf copies plane k of every cube and places the detection in the stamp", () => {
  const c = emptyCutouts(3, 5);
  c.sub.data[25 + 7] = 9;
  c.ref.flags[50] = 2;
  c.x.set([0, 10.3, 7.6]);
  c.y.set([0, 4.5, 2]);
  const s = stampsOf(c, 1);
  assert.equal(s.sub.data[7], 9);
  assert.ok(Math.abs(s.x - 2.3) < 1e-12 && Math.abs(s.y - 1.5) < 1e-12); // round(4.5) = 5
  assert.ok(Math.abs(stampsOf(c, 2).x - 1.6) < 1e-12);
  assert.equal(stampsOf(c, 2).ref.flags[0], 2);
  assert.throws(() => stampsOf(c, 3), RangeError);
});

Deno.test("applyCuts: NaN fails, keep thresholds are looser than bad ones", () => {
  const v = {
    detection_offset: 0.5,
    gauss_offset: 0.5,
    elongation: 4, // beyond bad (3), within keep (6)
    width_ratio: 1.1,
    bad_pixels: 0,
    negative_fraction: 0,
    negative_flux_fraction: NaN,
  };
  const r = applyCuts(v);
  assert.deepEqual(r.failedBad, ["elongation", "negative_flux_fraction"]);
  assert.deepEqual(r.failedKeep, ["negative_flux_fraction"]);
  assert.equal(r.keep, false);
  const r2 = applyCuts({ ...v, negative_flux_fraction: 0.1 });
  assert.equal(r2.keep, true);
  assert.equal(r2.isBad, true);
  const strict = CutsParams.parse({ bad: { elongation: 5 } });
  assert.equal(strict.bad.width_ratio, 2);
  assert.equal(applyCuts({ ...v, negative_flux_fraction: 0.1 }, strict).isBad, false);
});

Deno.test("measureDetection: faint clean transients (S/N ~10) pass the cuts and have unbiased PSF fluxes", () => {
  const flux = 55; // S/N = flux / (noise sqrt(4 pi) sigma) ~ 10
  const trials = 60;
  let pass = 0, sumPull = 0, sumPull2 = 0;
  for (let t = 0; t < trials; t++) {
    const input = stamps((s) => addStar(s, SIZE, 20, 20, flux), 1000 + t);
    const m = measureDetection(input);
    const pull = (m.fluxPsf - flux) / m.fluxPsfErr;
    sumPull += pull;
    sumPull2 += pull * pull;
    if (!applyCuts(cutVariables(m)).isBad) pass++;
  }
  assert.ok(pass >= 0.95 * trials, `${pass} of ${trials} pass`);
  const mean = sumPull / trials, rms = Math.sqrt(sumPull2 / trials);
  assert.ok(Math.abs(mean) < 0.35, `mean pull ${mean}`);
  assert.ok(rms > 0.75 && rms < 1.3, `pull rms ${rms}`);
});

Deno.test("measureCutouts measures every stamp and builds the measurements rows", () => {
  const clean = stamps((s) => addStar(s, SIZE, 20, 20, 500), 11);
  const dipole = stamps((s) => {
    addStar(s, SIZE, 20.9, 20, 600);
    addStar(s, SIZE, 19.1, 20, -600);
  }, 12);
  const c = emptyCutouts(2, SIZE);
  [clean, dipole].forEach((st, k) => {
    for (const kind of ["new", "ref", "sub"] as const) {
      c[kind].data.set(st[kind].data, k * SIZE * SIZE);
      c[kind].weight.set(st[kind].weight, k * SIZE * SIZE);
      c[kind].flags.set(st[kind].flags, k * SIZE * SIZE);
    }
  });
  c.index.set([3, 8]);
  c.x.set([100, 200]);
  c.y.set([50, 60]);
  c.ra.set([150.1, 150.2]);
  c.dec.set([2.2, 2.3]);
  const psf = psfStamp();
  const out = measureCutouts({ cutouts: c, psfAt: () => psf, zeroPoint: 30 });
  assert.equal(out.length, 2);
  assert.equal(out[0].indexInSources, 3);
  assert.equal(out[0].cuts.isBad, false);
  assert.equal(out[1].cuts.isBad, true);
  const row = out[0].row;
  assert.equal(row.index_in_sources, 3);
  assert.equal(row.ra, 150.1);
  assert.equal(row.healpix, ang2pixNest(12, 150.1, 2.2));
  assert.ok(Math.abs(row.flux_psf! - 500) < 3 * row.flux_psf_err!);
  assert.equal(row.aper_radii.length, 2);
  assert.equal(row.is_bad, false);
  assert.deepEqual(Object.keys(row.disqualifier_scores), [...CUT_NAMES]);
  assert.equal(out[1].row.is_bad, true);
  // the same stamp measured directly gives the same numbers
  const direct = measureDetection({ ...clean, x: 20, y: 20 });
  assert.equal(direct.fluxPsf, out[0].measurement.fluxPsf);
});
