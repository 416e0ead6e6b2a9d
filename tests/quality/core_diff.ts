/**
 * Quality of the core's subtraction kernels against simulated truth (group "core_diff").
 *
 * The pair (tests/bench/_diff_field.ts): Moffat stars, new FWHM 4.2 px and reference 3.2 px
 * (a 30% PSF-width mismatch), sky sigma 10 (new) and 4 (reference, a deep coadd), source
 * noise in both variance images; point transients added to the new image only, 20 px or
 * more from any star, with fluxes for background-limited S/N 8 to 100.
 *
 * ZOGY (512 px tiles, 32 px overlap, the true PSF stamps):
 * - `core_diff/zogy_snr_ratio_err`: |median over transients of S_corr / expected - 1|, the
 *   expected S/N f sqrt(F_S) with F_S = mean_k |P_n|^2 |P_r|^2 / (s_n^2 |P_r|^2 + s_r^2 |P_n|^2)
 *   computed here from the stamps' spectra (run with the scalar sky sigmas); target 0.1.
 * - `core_diff/zogy_flux_bias`: |median(flux / f - 1)| of the flux image at transients with
 *   S/N > 20 (run with variance images); target 0.02.
 * - `core_diff/zogy_scorr_std_err`: |std(S_corr) - 1| in pixels more than 20 px from any star
 *   or transient; target 0.05.
 * - `core_diff/zogy_star_scorr_rms`: rms of S_corr over the 5 x 5 pixels at every constant
 *   star (the PSF mismatch must leave no residual beyond noise); target 1.3.
 * - `core_diff/zogy_transients_found`: fraction of transients with S_corr > 5 within 1 px
 *   among those with expected S/N >= 8; target 0.9 (min).
 *
 * Alard-Lupton (sigma 1.5 px basis, half-width 10 px, spatial order 1, the 300 brightest
 * unsaturated stars):
 * - `core_diff/al_psf_match_l1`: sum |K (x) P_ref - P_new| at the CCD centre (unit-flux PSFs,
 *   the kernel is not unique beyond the stars' band, its action on the PSF is); target 0.03.
 * - `core_diff/al_kernel_sum_err`: |kernel sum - 1| (same photometric scale); target 0.01.
 * - `core_diff/al_noise_ratio_err`: |std(diff sqrt(weight)) - 1| away from stars and
 *   transients; target 0.1.
 *
 * Small mode: 512 x 1024, 600 stars, 40 transients; full: 2048 x 4096, 5000 stars, 300.
 *
 * @module
 */
import type { Figure, FigureOptions } from "../figure.ts";
import { target } from "../figure.ts";
import { fft2 } from "../../core-wasm/fft.ts";
import { alardLupton, alardLuptonKernel, zogy } from "../../core-wasm/subtract.ts";
import { convolveImage } from "../../core-wasm/convolve.ts";
import { Rng } from "../../core-wasm/_test_util.ts";
import { diffField, psfStamp } from "../bench/_diff_field.ts";

/** F_S of ZOGY from two PSF stamps (F_n = F_r = 1), on a 64 x 64 zero-padded grid. */
function zogyFs(pn: Float32Array, pr: Float32Array, ps: number, sn: number, sr: number): number {
  const P = 64;
  const pad = (st: Float32Array) => {
    const out = new Float32Array(P * P);
    for (let y = 0; y < ps; y++) for (let x = 0; x < ps; x++) out[y * P + x] = st[y * ps + x];
    return out;
  };
  const a = fft2({ data: pad(pn), width: P, height: P });
  const b = fft2({ data: pad(pr), width: P, height: P });
  const nxh = P / 2 + 1;
  let fs = 0;
  for (let ky = 0; ky < P; ky++) {
    for (let kx = 0; kx < nxh; kx++) {
      const i = ky * nxh + kx, w = kx === 0 || kx === P / 2 ? 1 : 2;
      const an = a.re[i] ** 2 + a.im[i] ** 2, ar = b.re[i] ** 2 + b.im[i] ** 2;
      const den = sn * sn * ar + sr * sr * an;
      if (den > 0) fs += (w * an * ar) / den;
    }
  }
  return fs / (P * P);
}

/** Quality figures of ZOGY and Alard-Lupton on a simulated pair. */
export default async function* coreDiffQuality(opts: FigureOptions): AsyncIterable<Figure> {
  const width = opts.small ? 512 : 2048, height = opts.small ? 1024 : 4096;
  const nStars = opts.small ? 600 : 5000, nTrans = opts.small ? 40 : 300;
  // star positions first (the same seed diffField uses), to keep transients away from them
  const probe = diffField(64, 64, 0, 1);
  const fsTrue = zogyFs(probe.psfNew, probe.psfRef, probe.psfSize, probe.sigmaNew, probe.sigmaRef);
  const rng = new Rng(99);
  const stars = diffField(width, height, nStars, 5, { x: [], y: [], flux: [] });
  const tx: number[] = [], ty: number[] = [], tf: number[] = [], tsnr: number[] = [];
  while (tx.length < nTrans) {
    const x = 40 + Math.round(rng.uniform() * (width - 80));
    const y = 40 + Math.round(rng.uniform() * (height - 80));
    let near = false;
    for (let i = 0; i < nStars && !near; i++) {
      near = Math.hypot(stars.xs[i] - x, stars.ys[i] - y) < 20;
    }
    for (let i = 0; i < tx.length && !near; i++) near = Math.hypot(tx[i] - x, ty[i] - y) < 20;
    if (near) continue;
    const snr = 8 * (100 / 8) ** (tx.length / (nTrans - 1));
    tx.push(x);
    ty.push(y);
    tsnr.push(snr);
    tf.push(snr / Math.sqrt(fsTrue));
  }
  opts.progress(`simulating ${width}x${height}, ${nStars} stars, ${nTrans} transients`);
  const f = diffField(width, height, nStars, 5, { x: tx, y: ty, flux: tf });
  const ps = f.psfSize;
  const newImg = { data: f.newData, width, height, variance: f.varNew };
  const refImg = { data: f.refData, width, height, variance: f.varRef };

  opts.progress("zogy with scalar sigmas");
  const bg = zogy(
    { data: f.newData, width, height },
    { data: f.refData, width, height },
    f.psfNew,
    f.psfRef,
    { psfSize: ps, sigmaNew: f.sigmaNew, sigmaRef: f.sigmaRef },
  );
  const ratios = tx.map((x, k) => bg.scorr[ty[k] * width + x] / tsnr[k]).sort((a, b) => a - b);
  yield target("core_diff/zogy_snr_ratio_err", Math.abs(ratios[ratios.length >> 1] - 1), 0.1);

  opts.progress("zogy with variance images");
  const z = zogy(newImg, refImg, f.psfNew, f.psfRef, { psfSize: ps });
  const fr = tx.map((x, k) => z.flux[ty[k] * width + x] / tf[k]).filter((_, k) => tsnr[k] > 20)
    .sort((a, b) => a - b);
  yield target("core_diff/zogy_flux_bias", Math.abs(fr[fr.length >> 1] - 1), 0.02);

  // pixels far from stars and transients
  const far = new Uint8Array(width * height).fill(1);
  const block = (x0: number, y0: number, r: number) => {
    for (let y = Math.max(0, Math.floor(y0 - r)); y <= Math.min(height - 1, y0 + r); y++) {
      for (let x = Math.max(0, Math.floor(x0 - r)); x <= Math.min(width - 1, x0 + r); x++) {
        far[y * width + x] = 0;
      }
    }
  };
  for (let i = 0; i < nStars; i++) block(f.xs[i], f.ys[i], 20);
  for (let k = 0; k < nTrans; k++) block(tx[k], ty[k], 20);
  let s1 = 0, s2 = 0, n = 0;
  for (let y = 20; y < height - 20; y++) {
    for (let x = 20; x < width - 20; x++) {
      const i = y * width + x;
      if (!far[i]) continue;
      s1 += z.scorr[i];
      s2 += z.scorr[i] ** 2;
      n++;
    }
  }
  const std = Math.sqrt(s2 / n - (s1 / n) ** 2);
  yield { ...target("core_diff/zogy_scorr_std_err", Math.abs(std - 1), 0.05), pixels: n };

  let q2 = 0, qn = 0;
  for (let i = 0; i < nStars; i++) {
    const x = Math.round(f.xs[i]), y = Math.round(f.ys[i]);
    if (x < 20 || y < 20 || x >= width - 20 || y >= height - 20) continue;
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        q2 += z.scorr[(y + dy) * width + x + dx] ** 2;
        qn++;
      }
    }
  }
  yield target("core_diff/zogy_star_scorr_rms", Math.sqrt(q2 / qn), 1.3);

  let found = 0;
  for (let k = 0; k < nTrans; k++) {
    let best = -Infinity;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        best = Math.max(best, z.scorr[(ty[k] + dy) * width + tx[k] + dx]);
      }
    }
    if (best > 5) found++;
  }
  yield target("core_diff/zogy_transients_found", found / nTrans, 0.9, false);

  opts.progress("alard-lupton");
  const order = Array.from(f.xs.keys()).filter((i) =>
    f.xs[i] > 30 && f.xs[i] < width - 30 && f.ys[i] > 30 && f.ys[i] < height - 30
  ).sort((a, b) => f.fluxes[b] - f.fluxes[a]).slice(0, 300);
  const al = alardLupton(
    newImg,
    refImg,
    order.map((i) => f.xs[i]),
    order.map((i) => f.ys[i]),
    { sigma: 1.5, halfWidth: 10 },
  );
  const k = alardLuptonKernel(al.fit, width / 2, height / 2);
  const big = 61;
  const pr = psfStamp(big, f.fwhmRef), pn = psfStamp(big, f.fwhmNew);
  const kp = convolveImage({ data: pr, width: big, height: big }, {
    data: k,
    width: 21,
    height: 21,
  });
  let l1 = 0;
  for (let i = 0; i < kp.length; i++) l1 += Math.abs(kp[i] - pn[i]);
  yield { ...target("core_diff/al_psf_match_l1", l1, 0.03), stamps: al.fit.nUsed };
  yield target("core_diff/al_kernel_sum_err", Math.abs(al.fit.kernelSum - 1), 0.01);
  let a1 = 0, a2 = 0, an = 0;
  for (let y = 20; y < height - 20; y++) {
    for (let x = 20; x < width - 20; x++) {
      const i = y * width + x;
      if (!far[i]) continue;
      const v = al.diff[i] * Math.sqrt(al.weight[i]);
      a1 += v;
      a2 += v * v;
      an++;
    }
  }
  yield target(
    "core_diff/al_noise_ratio_err",
    Math.abs(Math.sqrt(a2 / an - (a1 / an) ** 2) - 1),
    0.1,
  );
  await Promise.resolve();
}
