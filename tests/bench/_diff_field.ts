/**
 * A synthetic new / reference pair for the subtraction benches and quality figures: Moffat
 * stars (new FWHM 4.2 px, reference 3.2 px: a 30% PSF-width mismatch), Gaussian noise with
 * the source noise in the variance, PSF stamps per ZOGY tile, a distortion grid and star
 * positions. Private to tests/.
 *
 * @module
 */
import { renderStars } from "../../core-wasm/render.ts";
import { Rng } from "../../core-wasm/_test_util.ts";

/** A simulated pair on the same pixel grid. */
export interface DiffField {
  width: number;
  height: number;
  newData: Float32Array;
  refData: Float32Array;
  varNew: Float32Array;
  varRef: Float32Array;
  xs: Float64Array;
  ys: Float64Array;
  fluxes: Float64Array;
  psfNew: Float32Array;
  psfRef: Float32Array;
  psfSize: number;
  sigmaNew: number;
  sigmaRef: number;
  fwhmNew: number;
  fwhmRef: number;
}

/** A ps x ps unit-flux Moffat stamp centred on the middle pixel. */
export function psfStamp(ps: number, fwhm: number, radius = 15): Float32Array {
  const st = new Float32Array(ps * ps);
  const c = (ps - 1) / 2;
  renderStars({ data: st, width: ps, height: ps }, [c], [c], [1], { fwhm, radius });
  return st;
}

/**
 * Renders the pair. Stars have fluxes 300 x 300^u (electrons, gain 1); extra sources can be
 * added to the new image only (transients).
 */
export function diffField(
  width: number,
  height: number,
  nStars: number,
  seed: number,
  transients: { x: number[]; y: number[]; flux: number[] } = { x: [], y: [], flux: [] },
): DiffField {
  const rng = new Rng(seed);
  const fwhmNew = 4.2, fwhmRef = 3.2, sigmaNew = 10, sigmaRef = 4, psfSize = 31, radius = 15;
  const xs = new Float64Array(nStars),
    ys = new Float64Array(nStars),
    fluxes = new Float64Array(nStars);
  for (let i = 0; i < nStars; i++) {
    xs[i] = 10 + rng.uniform() * (width - 20);
    ys[i] = 10 + rng.uniform() * (height - 20);
    fluxes[i] = 300 * 300 ** rng.uniform();
  }
  const n = width * height;
  const newData = new Float32Array(n), refData = new Float32Array(n);
  renderStars({ data: newData, width, height }, xs, ys, fluxes, { fwhm: fwhmNew, radius });
  renderStars({ data: refData, width, height }, xs, ys, fluxes, { fwhm: fwhmRef, radius });
  if (transients.x.length > 0) {
    renderStars({ data: newData, width, height }, transients.x, transients.y, transients.flux, {
      fwhm: fwhmNew,
      radius,
    });
  }
  // the reference is a deep coadd: source noise / 8
  const varNew = new Float32Array(n), varRef = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    varNew[i] = sigmaNew * sigmaNew + Math.max(newData[i], 0);
    varRef[i] = sigmaRef * sigmaRef + Math.max(refData[i], 0) / 8;
    newData[i] += Math.sqrt(varNew[i]) * rng.normal();
    refData[i] += Math.sqrt(varRef[i]) * rng.normal();
  }
  return {
    width,
    height,
    newData,
    refData,
    varNew,
    varRef,
    xs,
    ys,
    fluxes,
    psfNew: psfStamp(psfSize, fwhmNew, radius),
    psfRef: psfStamp(psfSize, fwhmRef, radius),
    psfSize,
    sigmaNew,
    sigmaRef,
    fwhmNew,
    fwhmRef,
  };
}
