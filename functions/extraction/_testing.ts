/**
 * Truth helpers of the extraction tests and figures (tests only).
 *
 * @module
 */
import { fitPsf, psfFwhm, renderStars } from "../../core-wasm/mod.ts";

const cache = new Map<string, number>();

/**
 * The FWHM of a Moffat PSF as sampled on pixels: what a perfect PSF model
 * measures. The simulator integrates the Moffat of FWHM `fwhm` over each pixel,
 * which widens its half-maximum contour (about 3% at 4 px); this renders a grid of
 * noise-free stars of the truth PSF at random sub-pixel positions, fits a
 * constant PSF model to them and measures its FWHM (the half-maximum contour's
 * geometric mean, as psfFwhm does for any model).
 */
export function pixelizedFwhm(fwhm: number, beta = 3): number {
  const key = `${fwhm.toFixed(4)}:${beta}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const side = Math.max(25, 2 * Math.ceil(3 * fwhm) + 1);
  const step = side + 6, n = 6, width = n * step + 10, height = width;
  const xs: number[] = [], ys: number[] = [], fs: number[] = [];
  let seed = 12345;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      xs.push(5 + step / 2 + i * step + uniform() - 0.5);
      ys.push(5 + step / 2 + j * step + uniform() - 0.5);
      fs.push(1e5);
    }
  }
  const data = new Float32Array(width * height);
  renderStars({ data, width, height }, xs, ys, fs, { fwhm, beta });
  const model = fitPsf({ data, width, height }, xs, ys, { size: side, degree: 0, fwhm });
  const out = psfFwhm(model, width / 2, height / 2);
  cache.set(key, out);
  return out;
}
