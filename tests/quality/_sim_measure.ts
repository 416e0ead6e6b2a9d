/**
 * Measurements the sim quality figures make on simulated raw frames, written
 * independently of the renderer: overscan subtraction and trimming from the
 * header layout, aperture sums, a Moffat fit and photon-transfer gain.
 * Test code only (the pipeline has its own C kernels).
 *
 * @module
 */
import type { SectionLayout } from "../../functions/_shared/instruments/instrument.ts";

/**
 * Trimmed image in electrons: for each amplifier, each row's overscan mean is
 * subtracted from its data row, then the data are multiplied by the gain
 * (by 1 when `adu`).
 */
export function rawToElectrons(
  raw: ArrayLike<number>,
  lay: SectionLayout,
  adu = false,
): Float32Array {
  const out = new Float32Array(lay.nx * lay.ny);
  for (const a of lay.amps) {
    const h = a.data.y1 - a.data.y0, w = a.data.x1 - a.data.x0;
    for (let j = 0; j < h; j++) {
      const ry = a.data.y0 + j;
      let s = 0;
      for (let x = a.bias.x0; x < a.bias.x1; x++) s += raw[ry * lay.rawNx + x];
      const bias = s / (a.bias.x1 - a.bias.x0);
      const ty = a.flipY ? a.trim.y1 - 1 - j : a.trim.y0 + j;
      const g = adu ? 1 : a.gain;
      for (let i = 0; i < w; i++) {
        const tx = a.flipX ? a.trim.x1 - 1 - i : a.trim.x0 + i;
        out[ty * lay.nx + tx] = (raw[ry * lay.rawNx + a.data.x0 + i] - bias) * g;
      }
    }
  }
  return out;
}

/** Median of values (copied). */
export function median(values: ArrayLike<number>): number {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return NaN;
  return n % 2 ? a[(n - 1) / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

/** Sum of pixels whose centre is within r of (x, y), and the median of the annulus [r1, r2). */
export function aperture(
  img: Float32Array,
  nx: number,
  ny: number,
  x: number,
  y: number,
  r: number,
  r1: number,
  r2: number,
): { sum: number; npix: number; sky: number } {
  let sum = 0, npix = 0;
  const ann: number[] = [];
  const h = Math.ceil(r2) + 1;
  for (let j = Math.floor(y) - h; j <= Math.floor(y) + h; j++) {
    if (j < 0 || j >= ny) continue;
    for (let i = Math.floor(x) - h; i <= Math.floor(x) + h; i++) {
      if (i < 0 || i >= nx) continue;
      const d = Math.hypot(i - x, j - y);
      const v = img[j * nx + i];
      if (d <= r) {
        sum += v;
        npix++;
      } else if (d >= r1 && d < r2) ann.push(v);
    }
  }
  return { sum, npix, sky: median(ann) };
}

/** Pixel-integrated Moffat (5 x 5 sub-samples) of unit flux, FWHM f, beta b, at (dx, dy). */
function moffatPixel(dx: number, dy: number, fwhm: number, beta: number): number {
  const alpha = fwhm / (2 * Math.sqrt(2 ** (1 / beta) - 1));
  const a2 = alpha * alpha, norm = (beta - 1) / (Math.PI * a2);
  let s = 0;
  for (let b = 0; b < 5; b++) {
    const y = dy + (b + 0.5) / 5 - 0.5;
    for (let a = 0; a < 5; a++) {
      const x = dx + (a + 0.5) / 5 - 0.5;
      s += (1 + (x * x + y * y) / a2) ** -beta;
    }
  }
  return (norm * s) / 25;
}

/**
 * Fits flux, x, y, FWHM and a constant background of a Moffat (fixed beta) to a
 * square stamp of half-size h around (x0, y0), weights 1 / max(value, floor);
 * Levenberg-Marquardt with numerical derivatives. Returns null if it fails.
 */
export function fitMoffat(
  img: Float32Array,
  nx: number,
  ny: number,
  x0: number,
  y0: number,
  fwhm0: number,
  beta: number,
  h: number,
  varFloor: number,
): { flux: number; x: number; y: number; fwhm: number; bg: number } | null {
  const cx = Math.round(x0), cy = Math.round(y0);
  if (cx - h < 0 || cy - h < 0 || cx + h >= nx || cy + h >= ny) return null;
  const px: number[] = [], py: number[] = [], pv: number[] = [], pw: number[] = [];
  let total = 0;
  for (let j = cy - h; j <= cy + h; j++) {
    for (let i = cx - h; i <= cx + h; i++) {
      const v = img[j * nx + i];
      px.push(i), py.push(j), pv.push(v), pw.push(1 / Math.max(v, varFloor));
      total += v;
    }
  }
  const edge = median(
    pv.filter((_, k) => Math.max(Math.abs(px[k] - cx), Math.abs(py[k] - cy)) === h),
  );
  let p = [total - edge * pv.length, x0, y0, fwhm0, edge];
  const model = (q: number[]) =>
    px.map((x, k) => q[0] * moffatPixel(x - q[1], py[k] - q[2], q[3], beta) + q[4]);
  const chi2 = (m: number[]) => m.reduce((s, v, k) => s + pw[k] * (pv[k] - v) ** 2, 0);
  let m = model(p), c = chi2(m), lambda = 1e-3;
  for (let it = 0; it < 50; it++) {
    const steps = [Math.max(1, Math.abs(p[0]) * 1e-4), 1e-4, 1e-4, 1e-4, 1e-2];
    const J = steps.map((d, a) => {
      const q = [...p];
      q[a] += d;
      return model(q).map((v, k) => (v - m[k]) / d);
    });
    const A = Array.from({ length: 5 }, () => new Array(5).fill(0));
    const g = new Array(5).fill(0);
    for (let k = 0; k < pv.length; k++) {
      const r = pv[k] - m[k];
      for (let a = 0; a < 5; a++) {
        g[a] += pw[k] * J[a][k] * r;
        for (let b = 0; b <= a; b++) A[a][b] += pw[k] * J[a][k] * J[b][k];
      }
    }
    for (let a = 0; a < 5; a++) for (let b = 0; b < a; b++) A[b][a] = A[a][b];
    let improved = false;
    for (let tries = 0; tries < 10 && !improved; tries++) {
      const M = A.map((row, a) => row.map((v, b) => (a === b ? v * (1 + lambda) : v)));
      const d = solve(M, g);
      if (!d) return null;
      const q = p.map((v, a) => v + d[a]);
      if (!(q[3] > 0.5)) {
        lambda *= 10;
        continue;
      }
      const mq = model(q), cq = chi2(mq);
      if (cq < c) {
        const done = Math.abs(c - cq) < 1e-9 * c;
        p = q, m = mq, c = cq, lambda = Math.max(lambda / 10, 1e-9);
        improved = true;
        if (done) return { flux: p[0], x: p[1], y: p[2], fwhm: p[3], bg: p[4] };
      } else lambda *= 10;
    }
    if (!improved) break;
  }
  return { flux: p[0], x: p[1], y: p[2], fwhm: p[3], bg: p[4] };
}

/** Solves A x = b (Gaussian elimination with partial pivoting); null when singular. */
function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    if (Math.abs(M[piv][c]) < 1e-300) return null;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/** Mean and variance of values after 5-sigma clipping (3 passes). */
export function clippedMeanVar(
  values: Float64Array,
): { mean: number; variance: number; n: number } {
  let keep = values;
  let mean = 0, variance = 0;
  for (let pass = 0; pass < 3; pass++) {
    let s = 0, s2 = 0;
    for (const v of keep) s += v;
    mean = s / keep.length;
    for (const v of keep) s2 += (v - mean) ** 2;
    variance = s2 / (keep.length - 1);
    const lim = 5 * Math.sqrt(variance);
    keep = keep.filter((v) => Math.abs(v - mean) <= lim);
  }
  return { mean, variance, n: keep.length };
}
