/**
 * A small star-field simulator for the core's crossval and bench groups:
 * Moffat and Gaussian stars on a sloped sky, Poisson (Gaussian approximation
 * above 30 e-) plus read noise, gain 1. Deterministic for a seed.
 *
 * @module
 */
import { Rng } from "../../core-wasm/_test_util.ts";

/** Parameters of {@linkcode simulateStarField}. */
export interface StarFieldOptions {
  width: number;
  height: number;
  /** Number of stars. */
  nStars: number;
  /** Seed of the random generator. @default 1 */
  seed?: number;
  /** Sky level at (0, 0) in e-. @default 1000 */
  sky?: number;
  /** Sky slope along x and y, e- per pixel. @default [0.03, 0.015] */
  slope?: [number, number];
  /** Read noise rms in e-. @default 5 */
  readNoise?: number;
  /** PSF FWHM in pixels. @default 4.2 */
  fwhm?: number;
}

/** A simulated image and its truth. */
export interface StarField {
  data: Float32Array;
  width: number;
  height: number;
  /** Noise-free sky at each pixel. */
  sky: (x: number, y: number) => number;
  stars: { x: number; y: number; flux: number; moffat: boolean }[];
}

/** Renders a star field (see {@linkcode StarFieldOptions}). */
export function simulateStarField(options: StarFieldOptions): StarField {
  const { width: w, height: h, nStars } = options;
  const sky0 = options.sky ?? 1000, [sx, sy] = options.slope ?? [0.03, 0.015];
  const read = options.readNoise ?? 5, fwhm = options.fwhm ?? 4.2;
  const rng = new Rng(options.seed ?? 1);
  const sky = (x: number, y: number) => sky0 + sx * x + sy * y;
  const model = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) model[y * w + x] = sky(x, y);

  const sigma = fwhm / 2.3548, beta = 2.5;
  const alpha = fwhm / (2 * Math.sqrt(2 ** (1 / beta) - 1));
  const noise = Math.sqrt(sky0 + read * read);
  // fluxes: dN/dF ~ F^-2.5 from ~S/N 5 upwards, capped
  const fmin = 5 * noise * Math.sqrt(4 * Math.PI * sigma * sigma);
  const stars: StarField["stars"] = [];
  for (let k = 0; k < nStars; k++) {
    const flux = Math.min(fmin * Math.pow(1 - rng.uniform(), -1 / 1.5), 3e6);
    stars.push({
      x: rng.uniform() * w - 0.5,
      y: rng.uniform() * h - 0.5,
      flux,
      moffat: k % 3 === 0,
    });
  }
  for (const s of stars) {
    // stamp radius: where the profile drops below 0.05 of the noise
    const peakG = s.flux / (2 * Math.PI * sigma * sigma);
    let r = Math.ceil(sigma * Math.sqrt(2 * Math.log(Math.max(peakG / (0.05 * noise), 1.0001))));
    const peakM = (s.flux * (beta - 1)) / (Math.PI * alpha * alpha);
    if (s.moffat) {
      const ratio = Math.max(peakM / (0.05 * noise), 1.0001);
      r = Math.ceil(alpha * Math.sqrt(Math.pow(ratio, 1 / beta) - 1));
    }
    r = Math.min(Math.max(r, 2), 40);
    const x0 = Math.round(s.x), y0 = Math.round(s.y);
    for (let y = Math.max(0, y0 - r); y <= Math.min(h - 1, y0 + r); y++) {
      for (let x = Math.max(0, x0 - r); x <= Math.min(w - 1, x0 + r); x++) {
        let v = 0;
        // 3x3 sub-pixel samples
        for (let j = -1; j <= 1; j++) {
          for (let i = -1; i <= 1; i++) {
            const dx = x + i / 3 - s.x, dy = y + j / 3 - s.y;
            const r2 = dx * dx + dy * dy;
            v += s.moffat
              ? peakM * Math.pow(1 + r2 / (alpha * alpha), -beta)
              : peakG * Math.exp(-r2 / (2 * sigma * sigma));
          }
        }
        model[y * w + x] += v / 9;
      }
    }
  }
  const data = new Float32Array(w * h);
  for (let i = 0; i < data.length; i++) {
    data[i] = rng.poisson(model[i]) + read * rng.normal();
  }
  return { data, width: w, height: h, sky, stars };
}
