/**
 * Simulated epochs for the coaddition tests and quality figures: Gaussian stars
 * (pixel-integrated by 7 x 7 subsampling) at fixed sky positions, rendered on a
 * TAN grid shifted per epoch, in the epoch's own flux unit (its zero point), on a
 * flat sky with Gaussian noise of known sigma; and the measurements the tests
 * make (aperture sums, robust std, box-sum noise on blank areas).
 *
 * @module
 */
import { Header } from "../_shared/fits/header.ts";
import { Rng } from "../_shared/sim/random.ts";
import { makeWcs, type Wcs, wcsToCards } from "../_shared/wcs/mod.ts";
import { type CoaddInput, fluxScale } from "./step.ts";

/** A star: sky position and flux at the reference zero point. */
export interface SimStar {
  ra: number;
  dec: number;
  flux: number;
}

/** A field: its size, reference zero point and stars. */
export interface SimField {
  width: number;
  height: number;
  /** Zero point of the star fluxes. */
  zp0: number;
  /** The unshifted WCS (centre (150, 2), 0.9"/px). */
  wcs: Wcs;
  stars: SimStar[];
}

const CD: [[number, number], [number, number]] = [[-2.5e-4, 0], [0, 2.5e-4]];

function tanAt(width: number, height: number, dx: number, dy: number): Wcs {
  return makeWcs({ crpix: [width / 2 + dx, height / 2 + dy], crval: [150, 2], cd: CD });
}

/** n stars at least 14 px apart and 15 px from the edges, fluxes uniform in [2e4, 1e5]. */
export function simField(seed: number, n: number, width = 200, height = 180, zp0 = 25): SimField {
  const rng = new Rng(seed);
  const wcs = tanAt(width, height, 0, 0);
  const pix: Array<{ x: number; y: number }> = [];
  const stars: SimStar[] = [];
  for (let tries = 0; stars.length < n && tries < 100 * n; tries++) {
    const x = 15 + rng.uniform() * (width - 30), y = 15 + rng.uniform() * (height - 30);
    if (pix.some((p) => Math.hypot(p.x - x, p.y - y) < 14)) continue;
    pix.push({ x, y });
    stars.push({ ...wcs.pixToSky(x, y), flux: 2e4 + rng.uniform() * 8e4 });
  }
  return { width, height, zp0, wcs, stars };
}

/** Noise-free stars of a field on a grid, fluxes x scale. */
export function renderStars(
  field: SimField,
  wcs: Wcs,
  scale: number,
  fwhm: number,
): Float32Array {
  const { width: W, height: H } = field;
  const img = new Float32Array(W * H), s = fwhm / 2.3548, sub = 7;
  for (const st of field.stars) {
    const p = wcs.skyToPix(st.ra, st.dec), f = st.flux * scale;
    const r = Math.ceil(5 * s) + 1;
    for (let y = Math.floor(p.y) - r; y <= Math.floor(p.y) + r + 1; y++) {
      for (let x = Math.floor(p.x) - r; x <= Math.floor(p.x) + r + 1; x++) {
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        let v = 0;
        for (let j = 0; j < sub; j++) {
          for (let i = 0; i < sub; i++) {
            const dx = x - 0.5 + (i + 0.5) / sub - p.x, dy = y - 0.5 + (j + 0.5) / sub - p.y;
            v += Math.exp(-(dx * dx + dy * dy) / (2 * s * s));
          }
        }
        img[y * W + x] += f * v / (sub * sub) / (2 * Math.PI * s * s);
      }
    }
  }
  return img;
}

/** One epoch's look at a field. */
export interface EpochSpec {
  /** Shift of the WCS reference pixel (px). @default 0 */
  dx?: number;
  dy?: number;
  /** Zero point of the epoch's unit. @default the field's */
  zp?: number;
  /** @default 3.2 */
  fwhm?: number;
  /** @default 300 */
  sky?: number;
  /** Noise sigma in the epoch's unit. @default 15 */
  sigma?: number;
  /** @default 60000 + k */
  mjd?: number;
}

/** Epoch k of a field: a CoaddInput (id `zp<k>`) and its WCS. */
export function simEpoch(
  field: SimField,
  k: number,
  spec: EpochSpec = {},
): { input: CoaddInput; wcs: Wcs } {
  const { width: W, height: H } = field;
  const zp = spec.zp ?? field.zp0, sigma = spec.sigma ?? 15, sky = spec.sky ?? 300;
  const wcs = tanAt(W, H, spec.dx ?? 0, spec.dy ?? 0);
  const img = renderStars(field, wcs, 1 / fluxScale(zp, field.zp0), spec.fwhm ?? 3.2);
  const rng = new Rng(1000 + k);
  const weight = new Float32Array(W * H);
  for (let i = 0; i < img.length; i++) {
    img[i] += sky + sigma * rng.normal();
    weight[i] = 1 / (sigma * sigma);
  }
  const header = new Header();
  for (const [key, v, c] of wcsToCards(wcs)) header.set(key, v, c);
  return {
    wcs,
    input: {
      id: `zp${k}`,
      image: { width: W, height: H, image: img, weight, flags: new Uint16Array(W * H), header },
      wcs: header,
      zp,
      mjd: spec.mjd ?? 60000 + k,
      expTime: 60,
    },
  };
}

/** 1.4826 x the median absolute deviation. */
export function robustStd(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const med = s[s.length >> 1];
  const dev = s.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  return 1.4826 * dev[dev.length >> 1];
}

/** Indices of the pixels farther than 10 px from every star and 5 px from the edges. */
export function blankPixels(field: SimField, wcs: Wcs): number[] {
  const { width: W, height: H } = field;
  const ps = field.stars.map((s) => wcs.skyToPix(s.ra, s.dec));
  const out: number[] = [];
  for (let y = 5; y < H - 5; y++) {
    for (let x = 5; x < W - 5; x++) {
      if (ps.every((p) => Math.hypot(p.x - x, p.y - y) > 10)) out.push(y * W + x);
    }
  }
  return out;
}

/** Sum of img (width W) in a circle. */
export function apertureSum(
  img: Float32Array,
  W: number,
  x0: number,
  y0: number,
  r: number,
): number {
  let s = 0;
  for (let y = Math.ceil(y0 - r); y <= Math.floor(y0 + r); y++) {
    for (let x = Math.ceil(x0 - r); x <= Math.floor(x0 + r); x++) {
      if ((x - x0) ** 2 + (y - y0) ** 2 <= r * r) s += img[y * W + x];
    }
  }
  return s;
}

/**
 * Noise of sums over b x b boxes made only of blank pixels (and none of `avoid`):
 * the measured rms of sum(image - truth) and the predicted sqrt(mean sum(1/weight)).
 * Resampling interpolates variances, so per-pixel weights describe sums over areas
 * larger than the kernel, not single pixels.
 */
export function boxNoise(
  image: Float32Array,
  weight: Float32Array,
  truth: Float32Array,
  W: number,
  H: number,
  blank: readonly number[],
  b = 8,
  avoid: (x: number, y: number) => boolean = () => false,
): { measured: number; predicted: number; boxes: number } {
  const isBlank = new Uint8Array(W * H);
  for (const i of blank) isBlank[i] = 1;
  let s2 = 0, pv = 0, n = 0;
  for (let y0 = 5; y0 + b < H - 5; y0 += b) {
    for (let x0 = 5; x0 + b < W - 5; x0 += b) {
      let s = 0, v = 0, ok = true;
      for (let y = y0; y < y0 + b && ok; y++) {
        for (let x = x0; x < x0 + b; x++) {
          const i = y * W + x;
          if (!isBlank[i] || avoid(x, y)) ok = false;
          s += image[i] - truth[i];
          v += 1 / weight[i];
        }
      }
      if (ok) s2 += s * s, pv += v, n++;
    }
  }
  return { measured: Math.sqrt(s2 / n), predicted: Math.sqrt(pv / n), boxes: n };
}
