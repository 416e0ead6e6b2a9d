/**
 * Test support (not pipeline code): one simulated SimCam CCD with its truth,
 * turned into a SourceList by a minimal extraction on the core — overscan and
 * gain per amplifier, the true flat, background subtraction, detection, windowed
 * centroids and circular apertures at [1, 2, 3, 5] x FWHM — and the simulated
 * Gaia excerpt around it. Used by the astrocal/photocal unit, e2e and quality
 * tests until the extraction step's output is available to them.
 *
 * @module
 */
import { background } from "../../../core-wasm/background.ts";
import { detect, OBJ_FLAGS } from "../../../core-wasm/detect.ts";
import { measureSources } from "../../../core-wasm/measure.ts";
import { sumCircle } from "../../../core-wasm/photometry.ts";
import { SimSkySource } from "../catalogs/sim.ts";
import type { RefStar } from "../catalogs/catalog.ts";
import { Header } from "../fits/header.ts";
import { SimCam } from "../instruments/simcam.ts";
import { emptySourceList, type SourceList } from "../products/source_list_file.ts";
import {
  ccdFlat,
  type RenderedCcd,
  renderExposure,
  SIM_EXTINCTION,
  SIM_ZEROPOINT,
} from "../sim/camera.ts";
import { SimSky, type SimSkyOptions } from "../sim/sky.ts";
import { tpvCards } from "../sim/tpv.ts";

/** Options of {@linkcode simulateCcd}. */
export interface SimCcdOptions {
  /** Trimmed CCD size. @default 512 x 1024 */
  nx?: number;
  ny?: number;
  /** Pointing. @default 150.2, 2.1 */
  ra?: number;
  dec?: number;
  /** @default 60020.3 */
  mjd?: number;
  /** @default 90 */
  exptime?: number;
  /** @default "r" */
  band?: "g" | "r" | "i" | "z";
  /** @default 1.2 */
  airmass?: number;
  /** Seeing FWHM (arcsec). @default 1.1 */
  seeing?: number;
  /** Exposure number (noise seed). @default 501 */
  expnum?: number;
  /** SimSky options. @default {seed: 31, starsPerDeg2: 150000, starSlope: 0.2} */
  sky?: SimSkyOptions;
  /** Camera seed. @default 7 */
  camSeed?: number;
}

/** A simulated CCD, its truth and its measured sources. */
export interface SimulatedCcd {
  cam: SimCam;
  sky: SimSky;
  ccd: RenderedCcd;
  width: number;
  height: number;
  /** Flat-fielded, background-subtracted image (e-). */
  image: Float32Array;
  /** Background rms (e-), median over the image. */
  rms: number;
  /** The measured sources. */
  list: SourceList;
  /** The true WCS as FITS cards (trimmed pixels). */
  cards: Record<string, string | number>;
  /** Simulated Gaia stars around the CCD (12' margin). */
  refStars: RefStar[];
  /** mag = -2.5 log10(flux [e-]) + zpTrue. */
  zpTrue: number;
  /** Read noise (e-, mean over the amplifiers). */
  readNoise: number;
  options: Required<Omit<SimCcdOptions, "sky">> & { sky: SimSkyOptions };
}

/** Renders one CCD and extracts its sources. */
export async function simulateCcd(options: SimCcdOptions = {}): Promise<SimulatedCcd> {
  const o = {
    nx: options.nx ?? 512,
    ny: options.ny ?? 1024,
    ra: options.ra ?? 150.2,
    dec: options.dec ?? 2.1,
    mjd: options.mjd ?? 60020.3,
    exptime: options.exptime ?? 90,
    band: options.band ?? "r",
    airmass: options.airmass ?? 1.2,
    seeing: options.seeing ?? 1.1,
    expnum: options.expnum ?? 501,
    sky: options.sky ?? { seed: 31, starsPerDeg2: 150000, starSlope: 0.2 },
    camSeed: options.camSeed ?? 7,
  };
  const cam = new SimCam({ nCcd: 1, ccdNx: o.nx, ccdNy: o.ny, seed: o.camSeed });
  const sky = new SimSky(o.sky);
  const exp = renderExposure(cam, sky, {
    ra: o.ra,
    dec: o.dec,
    mjd: o.mjd,
    exptime: o.exptime,
    band: o.band,
    airmass: o.airmass,
    seeing: o.seeing,
    expnum: o.expnum,
  });
  const ccd = exp.ccds[0];
  const sim = cam.ccd(ccd.id);
  const lay = cam.layout(Header.from([["NAXIS1", ccd.rawNx], ["NAXIS2", ccd.rawNy], ...ccd.cards]));
  const { nx, ny } = lay;
  // overscan (row mean) and gain per amplifier, then the true flat
  const img = new Float32Array(nx * ny);
  for (const a of lay.amps) {
    const h = a.data.y1 - a.data.y0, w = a.data.x1 - a.data.x0;
    for (let j = 0; j < h; j++) {
      const ry = a.data.y0 + j;
      let s = 0;
      for (let x = a.bias.x0; x < a.bias.x1; x++) s += ccd.raw[ry * lay.rawNx + x];
      const bias = s / (a.bias.x1 - a.bias.x0);
      const ty = a.flipY ? a.trim.y1 - 1 - j : a.trim.y0 + j;
      for (let i = 0; i < w; i++) {
        const tx = a.flipX ? a.trim.x1 - 1 - i : a.trim.x0 + i;
        img[ty * nx + tx] = (ccd.raw[ry * lay.rawNx + a.data.x0 + i] - bias) * a.gain;
      }
    }
  }
  const flat = ccdFlat(cam, sim);
  for (let i = 0; i < img.length; i++) img[i] /= flat[i];
  const bkg = background({ data: img, width: nx, height: ny }, { boxWidth: 64, boxHeight: 64 });
  for (let i = 0; i < img.length; i++) img[i] -= bkg.backImage[i];
  const weight = new Float32Array(nx * ny);
  for (let i = 0; i < weight.length; i++) weight[i] = 1 / bkg.rmsImage[i] ** 2;
  const fullWell = Math.min(sim.amps[0].fullWell, sim.amps[1].fullWell);
  const det = detect({ data: img, width: nx, height: ny }, {
    noise: bkg.rmsImage,
    thresh: 3,
    minArea: 5,
    saturate: 0.9 * fullWell - bkg.global,
  });
  const objs = det.objects;
  const noisy = { data: img, width: nx, height: ny, weight };
  const m = measureSources(noisy, objs.map((d) => d.x), objs.map((d) => d.y), { gain: 1 });
  const bright = objs.map((d, i) => ({ snr: d.flux / (bkg.globalRms * Math.sqrt(d.npix)), i }))
    .filter((b) => b.snr > 50 && objs[b.i].flags === 0).map((b) => m.fwhm[b.i])
    .filter(Number.isFinite).sort((a, b) => a - b);
  const fwhm = bright.length > 0 ? bright[bright.length >> 1] : o.seeing / cam.pixelScale;
  const radii = [1, 2, 3, 5].map((f) => f * fwhm);
  const x = Float64Array.from(objs, (d, i) => (Number.isFinite(m.x[i]) ? m.x[i] : d.x));
  const y = Float64Array.from(objs, (d, i) => (Number.isFinite(m.y[i]) ? m.y[i] : d.y));
  const ap = sumCircle(noisy, x, y, radii, { gain: 1 });
  const list = emptySourceList(objs.length, radii);
  for (let i = 0; i < objs.length; i++) {
    list.X[i] = x[i];
    list.Y[i] = y[i];
    list.FWHM[i] = m.fwhm[i];
    list.A[i] = m.a[i];
    list.B[i] = m.b[i];
    list.THETA[i] = m.theta[i];
    list.NPIX[i] = objs[i].npix;
    list.PEAK[i] = objs[i].peak;
    list.FLUX_ISO[i] = objs[i].flux;
    list.FLUX_PSF[i] = NaN;
    list.FLUXERR_PSF[i] = NaN;
    list.CLASS_STAR[i] = NaN;
    // saturation, truncation and blends spoil photometry; keep them flagged
    list.FLAGS[i] =
      (objs[i].flags & (OBJ_FLAGS.SATURATED | OBJ_FLAGS.TRUNCATED | OBJ_FLAGS.BLENDED)) |
      (ap.flags[i] << 5);
    for (let k = 0; k < radii.length; k++) {
      list.FLUX_APER[i * radii.length + k] = ap.flux[i * radii.length + k];
      list.FLUXERR_APER[i * radii.length + k] = ap.fluxErr[i * radii.length + k];
    }
  }
  const cards: Record<string, string | number> = {};
  for (const [k, v] of tpvCards(ccd.wcs)) cards[k] = v;
  const src = new SimSkySource(sky);
  const c = ccd.wcs.crval;
  const half = (Math.hypot(nx, ny) / 2) * cam.pixelScale / 3600 + 0.2;
  const cosd = Math.cos((c[1] * Math.PI) / 180);
  const refStars = await src.rect({
    minRa: c[0] - half / cosd,
    maxRa: c[0] + half / cosd,
    minDec: c[1] - half,
    maxDec: c[1] + half,
  });
  const zpTrue = SIM_ZEROPOINT[o.band] - SIM_EXTINCTION[o.band] * o.airmass +
    2.5 * Math.log10(o.exptime);
  const readNoise = (sim.amps[0].readNoise + sim.amps[1].readNoise) / 2;
  return {
    cam,
    sky,
    ccd,
    width: nx,
    height: ny,
    image: img,
    rms: bkg.globalRms,
    list,
    cards,
    refStars,
    zpTrue,
    readNoise,
    options: o,
  };
}

/** Header cards of `cards` with CRVAL moved by (dRa cos dec, dDec) arcmin and CD rotated and scaled. */
export function perturbCards(
  cards: Record<string, string | number>,
  offsetArcmin: [number, number],
  rotationDeg: number,
  scale: number,
): Record<string, string | number> {
  const out = { ...cards };
  const dec = Number(cards.CRVAL2);
  out.CRVAL1 = Number(cards.CRVAL1) + offsetArcmin[0] / 60 / Math.cos((dec * Math.PI) / 180);
  out.CRVAL2 = dec + offsetArcmin[1] / 60;
  const th = (rotationDeg * Math.PI) / 180, c = Math.cos(th), s = Math.sin(th);
  const cd = [[Number(cards.CD1_1 ?? 0), Number(cards.CD1_2 ?? 0)], [
    Number(cards.CD2_1 ?? 0),
    Number(cards.CD2_2 ?? 0),
  ]];
  out.CD1_1 = (c * cd[0][0] - s * cd[1][0]) * scale;
  out.CD1_2 = (c * cd[0][1] - s * cd[1][1]) * scale;
  out.CD2_1 = (s * cd[0][0] + c * cd[1][0]) * scale;
  out.CD2_2 = (s * cd[0][1] + c * cd[1][1]) * scale;
  return out;
}
