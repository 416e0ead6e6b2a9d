/**
 * The numbers of a photometric calibration: a weighted mean with sigma
 * clipping (the zero point), aperture corrections from bright stars, and the
 * limiting magnitude from a fit of magnitude against ln(S/N).
 *
 * @module
 */

/** Median of finite values (NaN when none). */
export function median(values: ArrayLike<number>): number {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return NaN;
  return n % 2 ? v[(n - 1) / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/** Result of {@linkcode clippedWeightedMean}. */
export interface ClippedMean {
  mean: number;
  /** Error of the mean: sqrt(1 / sum w), scaled up by sqrt(chi2/dof) when that exceeds 1. */
  error: number;
  /** Reduced chi^2 of the kept values about the mean. */
  chi2: number;
  /** Values kept. */
  n: number;
  used: boolean[];
}

/**
 * Inverse-variance weighted mean of `values` (errors `errors`, plus `floor` in
 * quadrature) with iterative clipping at `clip` times the robust scatter
 * (1.4826 MAD, never below the typical error) about a centre that starts at the
 * median.
 */
export function clippedWeightedMean(
  values: ArrayLike<number>,
  errors: ArrayLike<number>,
  clip = 3,
  floor = 0,
  maxIterations = 10,
): ClippedMean {
  const n = values.length;
  const w = Array.from({ length: n }, (_, i) => 1 / (errors[i] ** 2 + floor ** 2));
  let used = Array.from(
    { length: n },
    (_, i) => Number.isFinite(values[i]) && w[i] > 0 && Number.isFinite(w[i]),
  );
  let centre = median(Array.from(values).filter((_, i) => used[i]));
  let mean = centre;
  for (let it = 0; it < maxIterations; it++) {
    const kept = Array.from(values).filter((_, i) => used[i]);
    const mad = 1.4826 * median(kept.map((v) => Math.abs(v - centre)));
    const typical = median(
      Array.from(errors).filter((_, i) => used[i]).map((e) => Math.hypot(e, floor)),
    );
    const scale = Math.max(mad, typical);
    const next = used.map((_, i) =>
      Number.isFinite(values[i]) && w[i] > 0 && Number.isFinite(w[i]) &&
      Math.abs(values[i] - centre) <= clip * scale
    );
    let sw = 0, swx = 0;
    next.forEach((u, i) => {
      if (u) {
        sw += w[i];
        swx += w[i] * values[i];
      }
    });
    mean = swx / sw;
    const changed = next.some((u, i) => u !== used[i]);
    used = next;
    if (!changed && Math.abs(mean - centre) < 1e-9) break;
    centre = mean;
  }
  let sw = 0, chi = 0, k = 0;
  used.forEach((u, i) => {
    if (u) {
      sw += w[i];
      chi += w[i] * (values[i] - mean) ** 2;
      k++;
    }
  });
  const chi2 = k > 1 ? chi / (k - 1) : NaN;
  const error = Math.sqrt(1 / sw) * Math.max(1, Number.isFinite(chi2) ? Math.sqrt(chi2) : 1);
  return { mean, error, chi2, n: k, used };
}

/**
 * Aperture corrections: for each aperture k, the magnitude to add to an
 * aperture-k magnitude to get the flux in aperture `total` — the clipped
 * inverse-variance weighted mean of -2.5 log10(F_total / F_k) over the stars
 * `rows` (the largest aperture's noise dominates the weights). `flux` and
 * `fluxErr` are n x nAper, row-major.
 */
export function apertureCorrections(
  flux: ArrayLike<number>,
  fluxErr: ArrayLike<number>,
  nAper: number,
  rows: readonly number[],
  total: number,
  clip = 3,
): { corrections: number[]; errors: number[]; scatter: number[] } {
  const corrections: number[] = [], errors: number[] = [], scatter: number[] = [];
  for (let k = 0; k < nAper; k++) {
    if (k === total) {
      corrections.push(0), errors.push(0), scatter.push(0);
      continue;
    }
    const d: number[] = [], e: number[] = [];
    for (const i of rows) {
      const ft = flux[i * nAper + total], fk = flux[i * nAper + k];
      const v = -2.5 * Math.log10(ft / fk);
      const err = 1.0857362 *
        Math.hypot(fluxErr[i * nAper + total] / ft, fluxErr[i * nAper + k] / fk);
      if (Number.isFinite(v) && err > 0) {
        d.push(v);
        e.push(err);
      }
    }
    const m = clippedWeightedMean(d, e, clip);
    corrections.push(m.mean);
    errors.push(m.error);
    scatter.push(1.4826 * median(d.map((v) => Math.abs(v - m.mean))));
  }
  return { corrections, errors, scatter };
}

/** Result of {@linkcode limitingMagnitude}. */
export interface LimitingMagnitude {
  /** Magnitude at S/N = snr. */
  mag: number;
  /** Fitted mag = intercept + slope ln(S/N). */
  slope: number;
  intercept: number;
  /** Points in the fit. */
  n: number;
}

/**
 * Limiting magnitude at S/N = `snr` (SeeChange): a straight-line fit of
 * magnitude against ln(S/N) over the sources with S/N within `range`, clipped
 * at 3 sigma, evaluated at ln(snr). NaN when fewer than 5 points.
 */
export function limitingMagnitude(
  mags: ArrayLike<number>,
  snrs: ArrayLike<number>,
  snr = 5,
  range: [number, number] = [3, 20],
): LimitingMagnitude {
  let pts: Array<[number, number]> = [];
  for (let i = 0; i < mags.length; i++) {
    const s = snrs[i];
    if (Number.isFinite(mags[i]) && s >= range[0] && s <= range[1]) {
      pts.push([Math.log(s), mags[i]]);
    }
  }
  let a = NaN, b = NaN;
  for (let it = 0; it < 5; it++) {
    if (pts.length < 5) return { mag: NaN, slope: NaN, intercept: NaN, n: pts.length };
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const [x, y] of pts) {
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    const n = pts.length;
    b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    a = (sy - b * sx) / n;
    const res = pts.map(([x, y]) => y - a - b * x);
    const sigma = 1.4826 * median(res.map(Math.abs));
    const next = pts.filter((_, k) => Math.abs(res[k]) <= 3 * Math.max(sigma, 1e-6));
    if (next.length === pts.length) break;
    pts = next;
  }
  return { mag: a + b * Math.log(snr), slope: b, intercept: a, n: pts.length };
}
