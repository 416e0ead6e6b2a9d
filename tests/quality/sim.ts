/**
 * Quality of the simulated camera against its own truth (group "sim"):
 *
 * - sim/star_flux: |median(measured / true) - 1| for isolated bright unsaturated
 *   stars, measured on the raw frame after overscan subtraction, trimming, gain,
 *   flat division and annulus sky subtraction, in an aperture of the renderer's
 *   truncation radius (5 FWHM); target 0.005 (also on the noise-free frame:
 *   sim/star_flux_noiseless, target 0.001).
 * - sim/noise_chi2: |chi^2/dof - 1| of (noisy - noise-free raw) with variance
 *   E/g^2 + (rn/g)^2 + 2/12 (Poisson, read noise, two roundings), columns with
 *   saturation excluded; target 0.01 (5 sigma at 5e5 pixels).
 * - sim/fwhm: |median(fitted FWHM / requested) - 1| from Moffat fits (beta fixed)
 *   to bright isolated stars; target 0.02.
 * - sim/overscan_level: largest |overscan mean - (bias level + row drift)| over the
 *   amplifiers (ADU); target 0.05.
 * - sim/gain_ptc: largest |photon-transfer gain / header gain - 1| over the
 *   amplifiers, from two dome flats and two biases; target 0.02.
 * - sim/master_flat_excess_noise: rms of (master flat / true flat - 1) outside the
 *   standard bad-pixel mask, over the photon noise expected from the two flats:
 *   |ratio - 1|; target 0.05.
 * - sim/master_bias_excess_noise: rms of (master bias - true fixed bias pattern)
 *   over the read noise expected from two frames (with the overscan row median's noise):
 *   |ratio - 1|; target 0.05.
 *
 * @module
 */
import { type FigureOptions, type QualityFigure, target } from "../figure.ts";
import { Header } from "../../functions/_shared/fits/header.ts";
import { SimCam } from "../../functions/_shared/instruments/simcam.ts";
import { badPixelMask } from "../../functions/_shared/instruments/instrument.ts";
import { ccdFlat, type RenderedCcd, renderExposure } from "../../functions/_shared/sim/camera.ts";
import { SimSky } from "../../functions/_shared/sim/sky.ts";
import { aperture, clippedMeanVar, fitMoffat, median, rawToElectrons } from "./_sim_measure.ts";
import { masterBias, masterFlat } from "../../functions/_shared/calibration/master.ts";

function layoutOf(cam: SimCam, c: RenderedCcd) {
  return cam.layout(Header.from([["NAXIS1", c.rawNx], ["NAXIS2", c.rawNy], ...c.cards]));
}

/** True when no other source brighter than 1e-3 of `s` lies within `dist` px of it. */
function isolated(c: RenderedCcd, s: RenderedCcd["truth"][number], dist: number): boolean {
  return c.truth.every((o) =>
    o === s || o.fluxE < 1e-3 * s.fluxE || Math.hypot(o.x - s.x, o.y - s.y) > dist
  );
}

export default async function* sim(opts: FigureOptions): AsyncIterable<QualityFigure> {
  const cam = opts.small
    ? new SimCam({ nCcd: 1, ccdNx: 512, ccdNy: 1024, seed: 5 })
    : new SimCam({ nCcd: 2, seed: 5 });
  // bright stars only (G 14..18.5) and few galaxies, so that enough bright stars are isolated
  const sky = new SimSky({
    seed: 21,
    starBrightMag: 14,
    starFaintMag: 18.5,
    starsPerDeg2: 80000,
    galaxiesPerDeg2: 2000,
  });
  const spec = { ra: 150.2, dec: 2.1, mjd: 60020.3, band: "r" as const, expnum: 301 };
  const flats = new Map<string, Float32Array>();
  opts.progress("sim: rendering science exposures (noisy and noise-free)");
  const noisy = renderExposure(cam, sky, spec, { flats });
  const clean = renderExposure(cam, sky, { ...spec, noise: false }, { flats });

  const ratios: number[] = [], ratiosClean: number[] = [], fwhmRatios: number[] = [];
  let chi2 = 0, dof = 0, overscanWorst = 0;
  for (const [k, c] of noisy.ccds.entries()) {
    const cc = clean.ccds[k];
    const ccd = cam.ccd(c.id);
    const lay = layoutOf(cam, c);
    const nx = lay.nx, ny = lay.ny;
    const flat = flats.get(c.id) ?? ccdFlat(cam, ccd);
    const toFlux = (raw: Uint16Array) => {
      const e = rawToElectrons(raw, lay);
      for (let i = 0; i < e.length; i++) e[i] /= flat[i];
      return e;
    };
    const img = toFlux(c.raw), imgClean = toFlux(cc.raw);
    const fullWell = Math.min(ccd.amps[0].fullWell, ccd.amps[1].fullWell);
    // bright stars whose peak stays below full well (peak fraction of a Moffat beta 3: 2/(pi a^2))
    const stars = c.truth.filter((s) => {
      const alpha = s.fwhm / (2 * Math.sqrt(2 ** (1 / 3) - 1));
      const peak = (s.fluxE * 2) / (Math.PI * alpha * alpha) + c.skyE;
      return s.kind === "star" && peak < 0.7 * fullWell && s.fluxE > 1e5 &&
        isolated(c, s, 10 * s.fwhm);
    });
    for (const s of stars) {
      const r = 5 * s.fwhm;
      if (s.x < r + 12 || s.y < r + 12 || s.x > nx - r - 13 || s.y > ny - r - 13) continue;
      const a = aperture(img, nx, ny, s.x, s.y, r, r + 2, r + 10);
      ratios.push((a.sum - a.sky * a.npix) / s.fluxE);
      const b = aperture(imgClean, nx, ny, s.x, s.y, r, r + 2, r + 10);
      ratiosClean.push((b.sum - b.sky * b.npix) / s.fluxE);
      const fit = fitMoffat(img, nx, ny, s.x, s.y, s.fwhm, 3, 12, c.skyE);
      if (fit) fwhmRatios.push(fit.fwhm / s.fwhm);
    }
    // chi^2 of noisy - noise-free per amplifier
    const geo = cam.rawGeometry();
    geo.forEach((g, i) => {
      const amp = ccd.amps[i];
      const satAdu = (0.9 * fullWell) / amp.gain;
      const badCols = new Set<number>();
      for (let x = g.data.x0; x < g.data.x1; x++) {
        const tx = x - g.data.x0 + g.trim.x0;
        if (ccd.badColumns.includes(tx)) badCols.add(x);
        for (let y = g.data.y0; y < g.data.y1; y++) {
          const e = cc.raw[y * c.rawNx + x] - c.biasLevels[i] - c.biasRows[i][y] - c.biasCols[i][x];
          if (e > satAdu) {
            badCols.add(x);
            break;
          }
        }
      }
      const rn2 = (amp.readNoise / amp.gain) ** 2;
      for (let y = g.data.y0; y < g.data.y1; y++) {
        for (let x = g.data.x0; x < g.data.x1; x++) {
          if (badCols.has(x)) continue;
          const j = y * c.rawNx + x;
          const model = cc.raw[j] - c.biasLevels[i] - c.biasRows[i][y] - c.biasCols[i][x];
          const v = Math.max(model, 0) / amp.gain + rn2 + 2 / 12;
          chi2 += (c.raw[j] - cc.raw[j]) ** 2 / v;
          dof++;
        }
      }
      // overscan: mean over the overscan of (value - drift) against the bias level
      let s = 0, n = 0;
      for (let y = g.bias.y0; y < g.bias.y1; y++) {
        for (let x = g.bias.x0; x < g.bias.x1; x++) {
          s += c.raw[y * c.rawNx + x] - c.biasRows[i][y];
          n++;
        }
      }
      overscanWorst = Math.max(overscanWorst, Math.abs(s / n - c.biasLevels[i]));
    });
  }
  const mr = median(ratios), mc = median(ratiosClean), mf = median(fwhmRatios);
  yield { ...target("sim/star_flux", Math.abs(mr - 1), 0.005), n: ratios.length, median: mr };
  yield {
    ...target("sim/star_flux_noiseless", Math.abs(mc - 1), 0.001),
    n: ratiosClean.length,
    median: mc,
  };
  yield { ...target("sim/noise_chi2", Math.abs(chi2 / dof - 1), 0.01), chi2_dof: chi2 / dof, dof };
  yield { ...target("sim/fwhm", Math.abs(mf - 1), 0.02), n: fwhmRatios.length, median: mf };
  yield target("sim/overscan_level", overscanWorst, 0.05);

  opts.progress("sim: photon transfer from two dome flats and two biases");
  const calib = (type: "flat" | "bias", expnum: number) =>
    renderExposure(cam, sky, { ...spec, type, expnum, cosmics: false }, { flats }).ccds;
  const f1 = calib("flat", 401), f2 = calib("flat", 402);
  const b1 = calib("bias", 403), b2 = calib("bias", 404);
  let gainWorst = 0;
  const gains: number[] = [];
  for (const [k, c] of f1.entries()) {
    const lay = layoutOf(cam, c);
    const adu = [f1[k], f2[k], b1[k], b2[k]].map((x) => rawToElectrons(x.raw, lay, true));
    for (const a of lay.amps) {
      // away from the amplifier's edges (and its bias ramp)
      const x0 = a.trim.x0 + 40, x1 = a.trim.x1 - 40;
      const n = (x1 - x0) * (lay.ny - 80);
      const dF = new Float64Array(n), dB = new Float64Array(n);
      let sF = 0, sB = 0, m = 0;
      for (let y = 40; y < lay.ny - 40; y++) {
        for (let x = x0; x < x1; x++) {
          const i = y * lay.nx + x;
          dF[m] = adu[0][i] - adu[1][i];
          dB[m] = adu[2][i] - adu[3][i];
          sF += adu[0][i] + adu[1][i];
          sB += adu[2][i] + adu[3][i];
          m++;
        }
      }
      const vF = clippedMeanVar(dF).variance, vB = clippedMeanVar(dB).variance;
      const gain = (sF - sB) / m / (vF - vB);
      gains.push(gain / a.gain);
      gainWorst = Math.max(gainWorst, Math.abs(gain / a.gain - 1));
    }
  }
  yield { ...target("sim/gain_ptc", gainWorst, 0.02), ratios: gains };

  // master bias and flat from the same frames, against the truth
  let flatExcess = 0, biasExcess = 0;
  for (const [k, c] of f1.entries()) {
    const lay = layoutOf(cam, c);
    const ccd = cam.ccd(c.id);
    const bias = masterBias([b1[k], b2[k]].map((x) => ({ raw: x.raw, layout: lay })));
    const flat = masterFlat([f1[k], f2[k]].map((x) => ({ raw: x.raw, layout: lay })), bias);
    const truth = flats.get(c.id) ?? ccdFlat(cam, ccd);
    const tmed = median(truth);
    // dead columns and hot pixels (the standard bad-pixel mask) have no flat to recover
    const bad = badPixelMask(cam.badPixels(c.id, lay.nx, lay.ny), lay.nx, lay.ny);
    let r2 = 0, e2 = 0, n = 0;
    for (let i = 0; i < truth.length; i++) {
      if (bad[i]) continue;
      const t = truth[i] / tmed;
      r2 += (flat.image[i] / t - 1) ** 2;
      e2 += 1 / (2 * 20000 * truth[i]); // photon noise of the mean of two 20000 e- flats
      n++;
    }
    flatExcess = Math.max(flatExcess, Math.abs(Math.sqrt(r2 / e2) - 1));
    // the master bias holds the fixed column pattern, to the read noise of two frames
    let b2s = 0, bn = 0;
    let expect = 0;
    cam.rawGeometry().forEach((g, i) => {
      const amp = ccd.amps[i];
      for (let y = 0; y < lay.ny; y++) {
        for (let x = g.data.x0; x < g.data.x1; x++) {
          const tx = x - g.data.x0 + g.trim.x0;
          b2s += (bias.image[y * lay.nx + tx] - b1[k].biasCols[i][x]) ** 2;
          bn++;
        }
      }
      // per frame: read noise and rounding, plus the overscan row median's own noise
      const rn2 = (amp.readNoise / amp.gain) ** 2 + 1 / 12;
      expect += (g.data.x1 - g.data.x0) * lay.ny * (rn2 / 2) * (1 + Math.PI / 2 / 50);
    });
    biasExcess = Math.max(biasExcess, Math.abs(Math.sqrt(b2s / expect) - 1));
  }
  yield target("sim/master_flat_excess_noise", flatExcess, 0.05);
  yield target("sim/master_bias_excess_noise", biasExcess, 0.05);
}
