/**
 * Display stretches: float stamps to 8-bit gray levels, one stamp at a time.
 *
 * - "zscale": IRAF's zscale idea — fit a line to the sorted sample of finite
 *   pixels with iterative k-sigma rejection, and show median -/+ the line's
 *   slope / contrast over the sample, clipped to the data range. Faint structure
 *   near the sky level is visible; bright cores saturate.
 * - "asinh": asinh((x - median) / sigma) with sigma the robust (MAD) noise, from
 *   -2 sigma to the maximum: the sky and bright cores both stay visible.
 *
 * Non-finite pixels (NaN, masked) are shown black.
 *
 * @module
 */

/** A stretch name. */
export type StretchName = "zscale" | "asinh";

/** Options of {@linkcode zscaleLimits}. */
export interface ZscaleOptions {
  /** Contrast: the slope is divided by it. @default 0.25 */
  contrast?: number;
  /** At most this many pixels sampled (evenly spaced). @default 1000 */
  maxSamples?: number;
  /** Rejection threshold in sigmas of the fit residuals. @default 2.5 */
  kRej?: number;
  /** Rejection iterations. @default 5 */
  maxIterations?: number;
  /** Give up the fit (use the data range) when fewer than this fraction remain. @default 0.5 */
  minFraction?: number;
}

function finiteSample(data: ArrayLike<number>, max: number): Float64Array {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i])) n++;
  const step = Math.max(1, Math.ceil(n / max));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) continue;
    if (k++ % step === 0) out.push(data[i]);
  }
  return Float64Array.from(out).sort();
}

/** The zscale display limits [z1, z2] of `data` (NaN ignored); [0, 0] when nothing is finite. */
export function zscaleLimits(
  data: ArrayLike<number>,
  options: ZscaleOptions = {},
): [number, number] {
  const contrast = options.contrast ?? 0.25;
  const sample = finiteSample(data, options.maxSamples ?? 1000);
  const n = sample.length;
  if (n === 0) return [0, 0];
  const zmin = sample[0], zmax = sample[n - 1];
  if (n < 5) return [zmin, zmax];
  const center = Math.floor((n - 1) / 2);
  const median = n % 2 ? sample[center] : 0.5 * (sample[center] + sample[center + 1]);
  const good = new Uint8Array(n).fill(1);
  let slope = 0, intercept = 0, ngood = n;
  for (let iter = 0; iter < (options.maxIterations ?? 5); iter++) {
    let sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
    for (let i = 0; i < n; i++) {
      if (!good[i]) continue;
      sx += i;
      sy += sample[i];
      sxx += i * i;
      sxy += i * sample[i];
      m++;
    }
    const den = m * sxx - sx * sx;
    if (m < 2 || den === 0) break;
    slope = (m * sxy - sx * sy) / den;
    intercept = (sy - slope * sx) / m;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      if (good[i]) ss += (sample[i] - (intercept + slope * i)) ** 2;
    }
    const sigma = Math.sqrt(ss / m);
    const limit = (options.kRej ?? 2.5) * sigma;
    let changed = false;
    ngood = 0;
    for (let i = 0; i < n; i++) {
      const bad = Math.abs(sample[i] - (intercept + slope * i)) > limit;
      if (bad && good[i]) {
        good[i] = 0;
        changed = true;
      }
      if (good[i]) ngood++;
    }
    if (!changed) break;
  }
  if (ngood < (options.minFraction ?? 0.5) * n) return [zmin, zmax];
  const s = slope / contrast;
  return [Math.max(zmin, median - center * s), Math.min(zmax, median + (n - 1 - center) * s)];
}

function medianOf(sorted: Float64Array): number {
  const n = sorted.length, c = Math.floor((n - 1) / 2);
  return n % 2 ? sorted[c] : 0.5 * (sorted[c] + sorted[c + 1]);
}

/** Gray levels 0..255 of `data` by `stretch` (each stamp on its own limits). */
export function stretchToBytes(
  data: ArrayLike<number>,
  stretch: StretchName = "zscale",
): Uint8Array {
  const out = new Uint8Array(data.length);
  const put = (f: (x: number) => number) => {
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (!Number.isFinite(x)) continue; // black
      const v = f(x);
      out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
    return out;
  };
  if (stretch === "zscale") {
    const [z1, z2] = zscaleLimits(data);
    if (!(z2 > z1)) return put(() => 0.5);
    return put((x) => (x - z1) / (z2 - z1));
  }
  const all = finiteSample(data, Infinity);
  if (all.length === 0) return out;
  const med = medianOf(all);
  const dev = all.map((x) => Math.abs(x - med)).sort();
  let sigma = 1.4826 * medianOf(dev);
  const max = all[all.length - 1];
  if (!(sigma > 0)) sigma = (max - all[0]) / 100 || 1;
  const lo = Math.asinh(-2), hi = Math.asinh((max - med) / sigma);
  if (!(hi > lo)) return put(() => 0.5);
  return put((x) => (Math.asinh((x - med) / sigma) - lo) / (hi - lo));
}
