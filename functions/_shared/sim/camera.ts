/**
 * Renders raw SimCam exposures of a {@linkcode SimSky}: science exposures (stars,
 * galaxies, transients, moving objects, sky, cosmic rays, optional satellite
 * trails), bias frames and dome flats, one DECam-like raw frame per CCD with its
 * header cards and a truth table.
 *
 * Per CCD, in this order: sources are placed through the CCD's TAN+TPV mapping
 * (the one its header carries) and drawn by the C core (stars and point-like
 * transients by sd_render_stars, galaxies by sd_sim_galaxies), with a Moffat PSF
 * whose FWHM varies over the focal plane (quadratic in radius plus a tilt drawn
 * per exposure); then expected electrons = (sources + sky) x flat + dark x t,
 * plus hot pixels; Poisson noise; cosmic rays; charge above full well bleeds
 * along columns; dead columns read zero charge; each amplifier reads out with
 * its gain, read noise and bias (level, a row drift that the overscan follows, a
 * fixed column ramp that only a master bias removes) into a 16-bit frame.
 *
 * @module
 */
import { renderStars } from "../../../core-wasm/render.ts";
import {
  simAddLines,
  simBleed,
  simExpose,
  simFlat,
  simGalaxies,
  type SimGalaxy,
  type SimLine,
  simPoisson,
  simReadout,
} from "../../../core-wasm/sim.ts";
import { formatAngle } from "../instruments/instrument.ts";
import type { SimCam, SimCcd } from "../instruments/simcam.ts";
import { hashSeed, Rng } from "./random.ts";
import {
  moverPositionAt,
  type SimBand,
  type SimSky,
  starPositionAt,
  transientMag,
  variableOffset,
} from "./sky.ts";
import { tpvCards, tpvPixToSky, tpvSkyToPix, type TpvWcs } from "./tpv.ts";

/** Photometric zero points (mag giving 1 e-/s above the atmosphere), DECam-like. */
export const SIM_ZEROPOINT: Readonly<Record<SimBand, number>> = {
  u: 25.3,
  g: 26.5,
  r: 26.7,
  i: 26.5,
  z: 26.1,
  Y: 25.1,
};
/** Dark-sky brightness (mag/arcsec^2) by band. */
export const SIM_SKY_MAG: Readonly<Record<SimBand, number>> = {
  u: 22.8,
  g: 22.0,
  r: 21.1,
  i: 20.3,
  z: 19.0,
  Y: 17.9,
};
/** Atmospheric extinction (mag/airmass) by band. */
export const SIM_EXTINCTION: Readonly<Record<SimBand, number>> = {
  u: 0.45,
  g: 0.18,
  r: 0.1,
  i: 0.08,
  z: 0.08,
  Y: 0.08,
};
/** DECam's FILTER strings. */
export const SIM_FILTER_NAMES: Readonly<Record<SimBand, string>> = {
  u: "u DECam c0006 3500.0 1000.0",
  g: "g DECam SDSS c0001 4720.0 1520.0",
  r: "r DECam SDSS c0002 6415.0 1480.0",
  i: "i DECam SDSS c0003 7835.0 1470.0",
  z: "z DECam SDSS c0004 9260.0 1520.0",
  Y: "Y DECam c0005 10095.0 1130.0",
};

/** What to expose. */
export interface ExposureSpec {
  /** Kind of exposure. @default "science" */
  type?: "science" | "bias" | "flat";
  /** Pointing: the focal-plane centre (deg). */
  ra: number;
  dec: number;
  /** Start of the exposure (MJD). */
  mjd: number;
  /** Exposure time (s). @default 90 (science), 0 (bias), 10 (flat) */
  exptime?: number;
  /** Band. @default "r" */
  band?: SimBand;
  /** Airmass. @default 1.2 */
  airmass?: number;
  /** PSF FWHM at the focal-plane centre (arcsec). @default 1.1 */
  seeing?: number;
  /** Moffat beta. @default 3 */
  beta?: number;
  /** FWHM rise from the centre to the focal-plane edge (fraction). @default 0.05 */
  fwhmRadial?: number;
  /** Largest FWHM tilt across the focal plane, drawn per exposure (fraction). @default 0.03 */
  fwhmTilt?: number;
  /** Sky brightness (mag/arcsec^2). @default SIM_SKY_MAG[band] */
  skyMag?: number;
  /** Zero point (mag for 1 e-/s above the atmosphere). @default SIM_ZEROPOINT[band] */
  zeropoint?: number;
  /** Dome-flat illumination (e-/px) for flats. @default 20000 */
  flatLevel?: number;
  /** Cosmic rays per full-size CCD per second (scaled by CCD area). @default 1 */
  cosmicRate?: number;
  /** Probability that a CCD is crossed by a satellite trail. @default 0 */
  satelliteProbability?: number;
  /** Exposure number (EXPNUM) and the default noise seed. @default 1 */
  expnum?: number;
  /** Seed of this exposure's noise, cosmic rays, PSF tilt and bias jitter. @default hash(expnum) */
  seed?: number;
  /** Object / field name. @default "simfield" */
  object?: string;
  /** Draw noise (Poisson and read noise); false gives the expected frame (rounded). @default true */
  noise?: boolean;
  /** Draw cosmic rays. @default true */
  cosmics?: boolean;
  /** Draw galaxies. @default true */
  galaxies?: boolean;
  /** Draw moving objects. @default true */
  movers?: boolean;
}

/** One source in a CCD's truth table. */
export interface TruthSource {
  kind: "star" | "galaxy" | "transient" | "mover";
  id: number;
  /** Position at the exposure's mid-time (deg). */
  ra: number;
  dec: number;
  /** 0-based pixel position in the trimmed CCD image. */
  x: number;
  y: number;
  /** Magnitude in the band at mid-exposure (variability included). */
  mag: number;
  /** Total charge drawn (e-), before the flat field. */
  fluxE: number;
  /** The same in ADU of the amplifier reading it (fluxE / gain). */
  fluxAdu: number;
  /** PSF FWHM (px) at the source. */
  fwhm: number;
  /** Host galaxy id of a transient, else -1. */
  hostId: number;
}

/** One rendered CCD. */
export interface RenderedCcd {
  id: string;
  /** The raw frame (rawNx x rawNy, DECam layout). */
  raw: Uint16Array;
  rawNx: number;
  rawNy: number;
  /** Extension header cards (section, electronics, WCS, exposure). */
  cards: Array<[string, string | number | boolean, string]>;
  /** The WCS the sources were placed with (0-based pixels of the trimmed image). */
  wcs: TpvWcs;
  /** FWHM (px) over the CCD: polynomial in the core's normalised coordinates (degree 2). */
  fwhmPoly: number[];
  /** Sources drawn (only those whose centre lies on the CCD). */
  truth: TruthSource[];
  /** Sky level (e-/px, before the flat). */
  skyE: number;
  /**
   * Zero point of the exposure in electrons: a source of magnitude m gives
   * 10^(-0.4 (m - zeropointE)) e- in total (extinction and exposure time included).
   */
  zeropointE: number;
  /** Per-amplifier bias level of this exposure (ADU), A then B (drift and ramp excluded). */
  biasLevels: [number, number];
  /** Per-amplifier bias drift by raw row (ADU), A then B: the overscan follows level + drift. */
  biasRows: [Float32Array, Float32Array];
  /** Per-amplifier fixed bias pattern by raw column (ADU), A then B (zero outside its data). */
  biasCols: [Float32Array, Float32Array];
}

/** A rendered exposure. */
export interface RenderedExposure {
  /** Primary header cards. */
  primary: Array<[string, string | number | boolean, string]>;
  ccds: RenderedCcd[];
}

const DEG_PER_ARCSEC = 1 / 3600;

/** Resolved exposure settings. */
function resolve(spec: ExposureSpec) {
  const type = spec.type ?? "science";
  const band = spec.band ?? "r";
  const expnum = spec.expnum ?? 1;
  return {
    type,
    band,
    ra: spec.ra,
    dec: spec.dec,
    mjd: spec.mjd,
    exptime: spec.exptime ?? (type === "science" ? 90 : type === "bias" ? 0 : 10),
    airmass: spec.airmass ?? 1.2,
    seeing: spec.seeing ?? 1.1,
    beta: spec.beta ?? 3,
    fwhmRadial: spec.fwhmRadial ?? 0.05,
    fwhmTilt: spec.fwhmTilt ?? 0.03,
    skyMag: spec.skyMag ?? SIM_SKY_MAG[band],
    zeropoint: spec.zeropoint ?? SIM_ZEROPOINT[band],
    flatLevel: spec.flatLevel ?? 20000,
    cosmicRate: spec.cosmicRate ?? 1,
    satelliteProbability: spec.satelliteProbability ?? 0,
    expnum,
    seed: spec.seed ?? hashSeed(expnum, 4242),
    object: spec.object ?? "simfield",
    noise: spec.noise ?? true,
    cosmics: spec.cosmics ?? true,
    galaxies: spec.galaxies ?? true,
    movers: spec.movers ?? true,
  };
}

/** Focal-plane radius (px) used to scale the FWHM variation. */
function focalRadius(cam: SimCam): number {
  return 3.6 * cam.options.ccdNy;
}

/**
 * The CCD's world coordinates: a TAN projection about the pointing shared by all
 * CCDs (DECam-like orientation: +y to the west, +x to the south), and a radial
 * TPV distortion of `k` per square degree (about 1" at the focal-plane edge of
 * full-size DECam).
 */
export function ccdWcs(cam: SimCam, ccd: SimCcd, ra: number, dec: number, k = 2e-4): TpvWcs {
  const s = cam.pixelScale * DEG_PER_ARCSEC;
  const { ccdNx: nx, ccdNy: ny } = cam.options;
  // xi = -s (y - crpix2), eta = -s (x - crpix1): the CCD centre sits at (Xc, Yc) px
  const crpix1 = (nx + 1) / 2 + ccd.centre.y;
  const crpix2 = (ny + 1) / 2 + ccd.centre.x;
  return {
    crval: [ra, dec],
    crpix: [crpix1, crpix2],
    cd: [[0, -s], [-s, 0]],
    pv1: [0, 1, 0, 0, 0, 0, 0, k, 0, k],
    pv2: [0, 1, 0, 0, 0, 0, 0, k, 0, k],
  };
}

/**
 * FWHM (px) over a CCD as a degree-2 polynomial in the core's normalised
 * coordinates: f0 (1 + radial R^2/Rm^2 + tx X/Rm + ty Y/Rm) with (X, Y) the
 * focal-plane position in pixels.
 */
export function ccdFwhmPoly(
  cam: SimCam,
  ccd: SimCcd,
  f0: number,
  radial: number,
  tx: number,
  ty: number,
): number[] {
  const { ccdNx: nx, ccdNy: ny } = cam.options;
  const xs = nx / 2, ys = ny / 2;
  const Xc = ccd.centre.x, Yc = ccd.centre.y;
  const rm = focalRadius(cam), rm2 = rm * rm;
  // X = Xc - v ys, Y = Yc - u xs
  return [
    f0 * (1 + (radial * (Xc * Xc + Yc * Yc)) / rm2 + (tx * Xc) / rm + (ty * Yc) / rm),
    f0 * ((radial * -2 * Yc * xs) / rm2 - (ty * xs) / rm),
    f0 * ((radial * xs * xs) / rm2),
    f0 * ((radial * -2 * Xc * ys) / rm2 - (tx * ys) / rm),
    0,
    f0 * ((radial * ys * ys) / rm2),
  ];
}

/** Evaluates a degree-2 polynomial of {@linkcode ccdFwhmPoly} at a pixel. */
export function evalFwhm(poly: readonly number[], nx: number, ny: number, x: number, y: number) {
  const u = (x - (nx - 1) / 2) / (nx / 2), v = (y - (ny - 1) / 2) / (ny / 2);
  return poly[0] + poly[1] * u + poly[2] * u * u + poly[3] * v + poly[4] * u * v + poly[5] * v * v;
}

/** The flat field of a CCD (fixed per camera and CCD). */
export function ccdFlat(cam: SimCam, ccd: SimCcd): Float32Array {
  return simFlat(cam.options.ccdNx, cam.options.ccdNy, cam.options.seed, ccd.ccdnum, {
    poly: ccd.flatPoly,
    pixelRms: ccd.flatPixelRms,
  });
}

/** Magnitude -> electrons per second above the atmosphere, then through `airmass`. */
function fluxRate(mag: number, zp: number, k: number, airmass: number): number {
  return 10 ** (-0.4 * (mag - zp + k * airmass));
}

/**
 * Renders one exposure of the camera. `flats` caches flat fields across exposures
 * (they are the same for every exposure of a CCD).
 */
export function renderExposure(
  cam: SimCam,
  sky: SimSky,
  spec: ExposureSpec,
  options: { sections?: string[]; flats?: Map<string, Float32Array> } = {},
): RenderedExposure {
  const e = resolve(spec);
  const sections = options.sections ?? cam.sectionIds();
  const flats = options.flats ?? new Map<string, Float32Array>();
  const expRng = new Rng(hashSeed(e.seed, 1));
  const tilt = [expRng.range(-1, 1) * e.fwhmTilt, expRng.range(-1, 1) * e.fwhmTilt];
  const obstype = e.type === "science" ? "object" : e.type === "bias" ? "zero" : "dome flat";
  const primary: Array<[string, string | number | boolean, string]> = [
    ["INSTRUME", "SimCam", "simulated DECam-like camera"],
    ["TELESCOP", "SimScope 4m", "simulated telescope"],
    ["OBSTYPE", obstype, "type of observation"],
    ["OBJECT", e.object, "field name"],
    ["EXPNUM", e.expnum, "exposure number"],
    ["MJD-OBS", e.mjd, "start of exposure (MJD, UTC)"],
    ["DATE-OBS", mjdToIso(e.mjd), "start of exposure (UTC)"],
    ["EXPTIME", e.exptime, "exposure time (s)"],
    ["FILTER", SIM_FILTER_NAMES[e.band], "filter"],
    ["RA", formatAngle(e.ra, true), "pointing RA (h:m:s)"],
    ["DEC", formatAngle(e.dec, false), "pointing Dec (d:m:s)"],
    ["TELRA", formatAngle(e.ra, true), "telescope RA"],
    ["TELDEC", formatAngle(e.dec, false), "telescope Dec"],
    ["AIRMASS", e.airmass, "airmass"],
    ["PIXSCAL1", cam.pixelScale, "arcsec/px"],
    ["PIXSCAL2", cam.pixelScale, "arcsec/px"],
    ["NEXTEND", sections.length, "number of extensions"],
    ["SIMSEED", e.seed, "noise seed of this exposure"],
    ["SIMSKY", sky.options.seed, "SimSky seed"],
    ["SIMSEEI", e.seeing, "simulated seeing FWHM at the centre (arcsec)"],
  ];
  const ccds = sections.map((id) => renderCcd(cam, sky, e, id, tilt, flats));
  return { primary, ccds };
}

type Resolved = ReturnType<typeof resolve>;

function renderCcd(
  cam: SimCam,
  sky: SimSky,
  e: Resolved,
  id: string,
  tilt: number[],
  flats: Map<string, Float32Array>,
): RenderedCcd {
  const ccd = cam.ccd(id);
  const { ccdNx: nx, ccdNy: ny } = cam.options;
  const { nx: rawNx, ny: rawNy } = cam.rawSize;
  // one generator per effect, so switching one off leaves the others unchanged
  const crRng = new Rng(hashSeed(e.seed, ccd.ccdnum, 2));
  const satRng = new Rng(hashSeed(e.seed, ccd.ccdnum, 3));
  const biasRng = new Rng(hashSeed(e.seed, ccd.ccdnum, 4));
  const wcs = ccdWcs(cam, ccd, e.ra, e.dec);
  const f0 = e.seeing / cam.pixelScale;
  const fwhmPoly = ccdFwhmPoly(cam, ccd, f0, e.fwhmRadial, tilt[0], tilt[1]);
  const k = SIM_EXTINCTION[e.band];
  const truth: TruthSource[] = [];
  const img = new Float32Array(nx * ny);
  const mid = e.mjd + e.exptime / 2 / 86400;
  const gainAt = (x: number) => (x >= nx / 2 ? ccd.amps[0].gain : ccd.amps[1].gain);
  let skyE = 0;
  if (e.type === "science") {
    const c = tpvPixToSky(wcs, (nx - 1) / 2, (ny - 1) / 2);
    const radius = (Math.hypot(nx, ny) / 2) * cam.pixelScale * DEG_PER_ARCSEC * 1.02 + 0.01;
    const maxFwhm = 1.3 * f0 * (1 + e.fwhmRadial * 4 + 2 * e.fwhmTilt);
    const margin = Math.ceil(5 * maxFwhm) + 2;
    const onImage = (x: number, y: number, m: number) =>
      x > -m && y > -m && x < nx - 1 + m && y < ny - 1 + m;
    const centreOn = (x: number, y: number) =>
      x >= -0.5 && y >= -0.5 && x < nx - 0.5 && y < ny - 0.5;
    // stars and transients: point sources
    const px: number[] = [], py: number[] = [], pf: number[] = [];
    for (const s of sky.starsInCone(c.ra, c.dec, radius)) {
      const pos = starPositionAt(s, mid);
      const p = tpvSkyToPix(wcs, pos.ra, pos.dec);
      if (!onImage(p.x, p.y, margin)) continue;
      const mag = cam.gaiaToBand(e.band, s.g, s.bp, s.rp) + variableOffset(s, mid);
      const flux = fluxRate(mag, e.zeropoint, k, e.airmass) * e.exptime;
      px.push(p.x), py.push(p.y), pf.push(flux);
      if (centreOn(p.x, p.y)) {
        truth.push({
          kind: "star",
          id: s.id,
          ...pos,
          x: p.x,
          y: p.y,
          mag,
          fluxE: flux,
          fluxAdu: flux / gainAt(p.x),
          fwhm: evalFwhm(fwhmPoly, nx, ny, p.x, p.y),
          hostId: -1,
        });
      }
    }
    for (const t of sky.transientsInCone(c.ra, c.dec, radius)) {
      const mag = transientMag(t, e.band, mid);
      if (!Number.isFinite(mag)) continue;
      const p = tpvSkyToPix(wcs, t.ra, t.dec);
      if (!onImage(p.x, p.y, margin)) continue;
      const flux = fluxRate(mag, e.zeropoint, k, e.airmass) * e.exptime;
      px.push(p.x), py.push(p.y), pf.push(flux);
      if (centreOn(p.x, p.y)) {
        truth.push({
          kind: "transient",
          id: t.id,
          ra: t.ra,
          dec: t.dec,
          x: p.x,
          y: p.y,
          mag,
          fluxE: flux,
          fluxAdu: flux / gainAt(p.x),
          fwhm: evalFwhm(fwhmPoly, nx, ny, p.x, p.y),
          hostId: t.hostId ?? -1,
        });
      }
    }
    if (e.movers) {
      for (const m of sky.moversInCone(c.ra, c.dec, radius, mid)) {
        const mag = m.mag; // grey: the same magnitude in every band
        const flux = fluxRate(mag, e.zeropoint, k, e.airmass) * e.exptime;
        // a trail: the object's positions over the exposure, one point per ~0.5 px
        const p0 = tpvSkyToPix(wcs, ...xy(moverPositionAt(m, e.mjd)));
        const p1 = tpvSkyToPix(wcs, ...xy(moverPositionAt(m, e.mjd + e.exptime / 86400)));
        const steps = Math.max(1, Math.ceil(Math.hypot(p1.x - p0.x, p1.y - p0.y) / 0.5));
        for (let i = 0; i < steps; i++) {
          const t = (i + 0.5) / steps;
          const x = p0.x + t * (p1.x - p0.x), y = p0.y + t * (p1.y - p0.y);
          if (!onImage(x, y, margin)) continue;
          px.push(x), py.push(y), pf.push(flux / steps);
        }
        const pm = tpvSkyToPix(wcs, m.raNow, m.decNow);
        if (centreOn(pm.x, pm.y)) {
          truth.push({
            kind: "mover",
            id: m.id,
            ra: m.raNow,
            dec: m.decNow,
            x: pm.x,
            y: pm.y,
            mag,
            fluxE: flux,
            fluxAdu: flux / gainAt(pm.x),
            fwhm: evalFwhm(fwhmPoly, nx, ny, pm.x, pm.y),
            hostId: -1,
          });
        }
      }
    }
    renderStars({ data: img, width: nx, height: ny }, px, py, pf, {
      beta: e.beta,
      fwhmPoly,
    });
    if (e.galaxies) {
      const gals: SimGalaxy[] = [];
      for (const g of sky.galaxiesInCone(c.ra, c.dec, radius)) {
        const p = tpvSkyToPix(wcs, g.ra, g.dec);
        const rePx = g.reArcsec / cam.pixelScale;
        if (!onImage(p.x, p.y, margin + 5 * rePx)) continue;
        const mag = g.mag[e.band];
        const flux = fluxRate(mag, e.zeropoint, k, e.airmass) * e.exptime;
        // the major axis: PA east of north, turned into the pixel frame
        const pa = (g.paDeg * Math.PI) / 180;
        const dn = tpvSkyToPix(wcs, g.ra, g.dec + 1e-4);
        const de = tpvSkyToPix(wcs, g.ra + 1e-4 / Math.cos((g.dec * Math.PI) / 180), g.dec);
        const ax = Math.cos(pa) * (dn.x - p.x) + Math.sin(pa) * (de.x - p.x);
        const ay = Math.cos(pa) * (dn.y - p.y) + Math.sin(pa) * (de.y - p.y);
        const fwhm = evalFwhm(fwhmPoly, nx, ny, p.x, p.y);
        gals.push({
          x: p.x,
          y: p.y,
          flux,
          n: g.n,
          re: Math.max(0.1, rePx),
          q: g.q,
          theta: Math.atan2(ay, ax),
          fwhm,
        });
        if (centreOn(p.x, p.y)) {
          truth.push({
            kind: "galaxy",
            id: g.id,
            ra: g.ra,
            dec: g.dec,
            x: p.x,
            y: p.y,
            mag,
            fluxE: flux,
            fluxAdu: flux / gainAt(p.x),
            fwhm,
            hostId: -1,
          });
        }
      }
      simGalaxies(img, nx, ny, gals, { beta: e.beta });
    }
    skyE = fluxRate(e.skyMag, e.zeropoint, k, e.airmass) * e.exptime * cam.pixelScale ** 2;
  }
  let flat: Float32Array | null = null;
  if (e.type !== "bias") {
    flat = flats.get(id) ?? ccdFlat(cam, ccd);
    flats.set(id, flat);
  }
  const illumination = e.type === "flat" ? e.flatLevel : skyE;
  simExpose(img, flat, illumination, ccd.darkCurrent * e.exptime);
  for (const h of ccd.hotPixels) img[h.y * nx + h.x] += h.rate * e.exptime;
  if (e.noise) simPoisson(img, e.seed, ccd.ccdnum * 16 + 1);
  // cosmic rays and satellite trails
  const lines: SimLine[] = [];
  if (e.cosmics && e.type !== "flat") {
    const area = (nx * ny) / (2048 * 4096);
    const n = crRng.poisson(e.cosmicRate * Math.max(e.exptime, 1) * area);
    for (let i = 0; i < n; i++) {
      const x0 = crRng.range(0, nx), y0 = crRng.range(0, ny);
      const len = crRng.logUniform(0.5, 15), ang = crRng.range(0, 2 * Math.PI);
      lines.push({
        x0,
        y0,
        x1: x0 + len * Math.cos(ang),
        y1: y0 + len * Math.sin(ang),
        flux: crRng.logUniform(300, 5000),
        sigma: 0,
      });
    }
  }
  if (e.type === "science" && satRng.uniform() < e.satelliteProbability) {
    const y0 = satRng.range(0, ny), y1 = satRng.range(0, ny);
    lines.push({
      x0: -10,
      y0,
      x1: nx + 10,
      y1,
      flux: satRng.logUniform(200, 3000),
      sigma: f0 / 2.355,
    });
  }
  simAddLines(img, nx, ny, lines);
  simBleed(img, nx, ny, Math.min(ccd.amps[0].fullWell, ccd.amps[1].fullWell));
  for (const x of ccd.badColumns) {
    for (let y = 0; y < ny; y++) img[y * nx + x] = 0;
  }
  // readout
  const raw = new Float32Array(rawNx * rawNy);
  const geo = cam.rawGeometry();
  const biasLevels: [number, number] = [0, 0];
  const biasRows: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  const biasCols: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  geo.forEach((g, i) => {
    const amp = ccd.amps[i];
    const level = amp.biasLevel + biasRng.normal(0, 1.5);
    biasLevels[i] = level;
    const phase = biasRng.range(0, 2 * Math.PI), cycles = biasRng.range(0.5, 2);
    const biasRow = new Float32Array(rawNy);
    for (let y = 0; y < rawNy; y++) {
      biasRow[y] = amp.biasDrift * Math.sin(phase + (2 * Math.PI * cycles * y) / rawNy);
    }
    biasRows[i] = biasRow;
    // the ramp starts at the data column next to the overscan (first read out)
    const biasCol = new Float32Array(rawNx);
    const edge = g.bias.x0 > g.data.x0 ? g.data.x1 - 1 : g.data.x0;
    for (let x = g.data.x0; x < g.data.x1; x++) {
      biasCol[x] = amp.biasRamp * Math.exp(-Math.abs(x - edge) / 30);
    }
    biasCols[i] = biasCol;
    simReadout(
      img,
      nx,
      ny,
      raw,
      rawNx,
      rawNy,
      {
        srcX0: g.trim.x0,
        width: g.trim.x1 - g.trim.x0,
        col0: g.cols.x0,
        col1: g.cols.x1,
        dstX0: g.data.x0,
        dstY0: g.data.y0,
      },
      {
        biasLevel: level,
        gain: amp.gain,
        readNoise: e.noise ? amp.readNoise : 0,
        biasRow,
        biasCol,
      },
      e.seed,
      ccd.ccdnum * 16 + 2 + i,
    );
  });
  const out = Uint16Array.from(raw);
  const cards: Array<[string, string | number | boolean, string]> = [
    ["EXTNAME", id, "extension name"],
    ...cam.sectionCards(id),
    ["MJD-OBS", e.mjd, "start of exposure (MJD, UTC)"],
    ["EXPTIME", e.exptime, "exposure time (s)"],
    ["FILTER", SIM_FILTER_NAMES[e.band], "filter"],
    ["AIRMASS", e.airmass, "airmass"],
    ["DARKCUR", ccd.darkCurrent, "simulated dark current (e-/s/px)"],
    // the header's WCS describes this HDU's own (raw) pixels: the data start at DATASEC
    ...(e.type === "science" ? tpvCards(rawWcs(cam, wcs)) : []),
  ];
  return {
    id,
    raw: out,
    rawNx,
    rawNy,
    cards,
    wcs,
    fwhmPoly,
    truth,
    skyE,
    zeropointE: e.zeropoint - k * e.airmass + 2.5 * Math.log10(Math.max(e.exptime, 1e-9)),
    biasLevels,
    biasRows,
    biasCols,
  };
}

/**
 * The WCS of a raw extension: the trimmed image's, shifted by where the data start
 * in the raw frame (prescan + overscan columns, overscan rows). Trimming at DATASEC
 * shifts it back.
 */
export function rawWcs(cam: SimCam, wcs: TpvWcs): TpvWcs {
  const b = cam.rawGeometry()[1].data; // amplifier B's data start the trimmed image
  return { ...wcs, crpix: [wcs.crpix[0] + b.x0, wcs.crpix[1] + b.y0] };
}

/** ISO 8601 date-time of an MJD (UTC, millisecond precision). */
export function mjdToIso(mjd: number): string {
  return new Date((mjd - 40587) * 86400000).toISOString().replace("Z", "");
}

function xy(p: { ra: number; dec: number }): [number, number] {
  return [p.ra, p.dec];
}
