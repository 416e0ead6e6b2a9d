/**
 * The measuring step's pure computation: per-detection measurements from its
 * new / ref / sub stamps (data, weight, flags), the difference image's PSF at the
 * detection and the zero point. No I/O; the step handler reads the Cutouts and
 * writes the MeasurementSet.
 *
 * Everything is measured on the difference stamp, multiplied by -1 for a negative
 * detection (so a negative transient looks like a positive one):
 *
 * - PSF flux and error at the detection's position (core psfPhotometry, position
 *   fixed, no background: the difference is background-free), and the
 *   magnitude zero_point - 2.5 log10(flux) (NaN for flux <= 0);
 * - circular aperture fluxes of radii `aperture_fwhm` x FWHM of the PSF;
 * - detection offset: distance from the detection to the PSF fit with free position
 *   over `offset_fit_fwhm` x FWHM or, when that fit does not converge, to the
 *   highest pixel of the PSF-filtered stamp within that radius;
 * - a weighted elliptical Gaussian fit (core gaussFit, on the pixels within
 *   `gauss_fit_fwhm` x FWHM of the detection, started at the PSF-fitted position with
 *   the PSF's width): centre offset, widths, elongation (major / minor), angle, and
 *   the width ratio max(w / w_psf, w_psf / w) with w = sqrt(major x minor) and
 *   w_psf the same for a Gaussian fit to the PSF;
 * - in the "region" (within `region_fwhm` x FWHM of the detection): bad pixels (any
 *   of new/ref/sub flagged with `flag_mask`, zero weight or non-finite); significant
 *   pixels, where the stamp filtered by the PSF (the matched filter: its S/N at a
 *   point source is the source's S/N) exceeds `significance` times its noise, either
 *   way: negative fraction = negative significant pixels / all significant pixels,
 *   negative flux fraction = the flux (unfiltered) of the negative ones / that of all
 *   of them; the dipole indicator min(F+, F-) / max(F+, F-) of those two fluxes (0
 *   without either lobe; near 1 for a dipole) and the distance between the lobes'
 *   flux-weighted centroids;
 * - background mean and standard deviation of the usable difference pixels outside
 *   `background_fwhm` x FWHM.
 *
 * @module
 */
import { z } from "zod";
import { CoreError } from "../../core-wasm/_module.ts";
import { type GaussFit, gaussFit } from "../../core-wasm/gaussfit.ts";
import { PhotFlags, sumCircle } from "../../core-wasm/photometry.ts";
import { PSF_HEADER, type PsfModel, psfModelFromData, psfPhotometry } from "../../core-wasm/psf.ts";
import {
  applyCuts,
  type CutResult,
  type CutsParameters,
  CutsParams,
  type CutVariables,
} from "./cuts.ts";
import { HEALPIX_ORDER } from "../_shared/db/schema.ts";
import { ang2pixNest } from "../_shared/sky/healpix.ts";
import type { Cutouts } from "../_shared/products/cutouts_file.ts";

/** Parameters of {@linkcode measureDetection}. */
export const MeasureParams = z.object({
  aperture_fwhm: z.array(z.number().positive()).min(1).default([1, 2]).describe(
    "radii of the circular apertures, in units of the PSF FWHM",
  ),
  region_fwhm: z.number().positive().default(1.5).describe(
    "radius, in PSF FWHM, of the region where bad pixels, negative pixels and dipoles are counted",
  ),
  significance: z.number().positive().default(3).describe(
    "a pixel is significant when the PSF-filtered stamp there exceeds this many times its noise",
  ),
  gauss_fit_fwhm: z.number().positive().default(3).describe(
    "the Gaussian fit uses the pixels within this radius of the detection, in PSF FWHM",
  ),
  offset_fit_fwhm: z.number().positive().default(3).describe(
    "radius, in PSF FWHM, of the free-position PSF fit that gives the detection offset",
  ),
  background_fwhm: z.number().positive().default(4).describe(
    "the stamp background is measured outside this radius, in PSF FWHM",
  ),
  flag_mask: z.int().min(0).max(0xffff).default(0xffff).describe(
    "pixel flag bits that make a pixel bad",
  ),
});
/** Parsed measurement parameters. */
export type MeasureParameters = z.infer<typeof MeasureParams>;

/** One stamp: data, inverse-variance weights and flags, size x size row-major. */
export interface StampPlanes {
  data: Float32Array;
  weight: Float32Array;
  flags: Uint16Array;
}

/** What {@linkcode measureDetection} measures on. */
export interface MeasureInput {
  /** Side of the stamps (odd). */
  size: number;
  new: StampPlanes;
  ref: StampPlanes;
  sub: StampPlanes;
  /** The detection in stamp pixels (0-based). @default the stamp centre */
  x?: number;
  y?: number;
  /** The difference image's PSF at the detection: an odd square stamp centred on its middle pixel. */
  psf: Float32Array;
  /** Zero point of the difference image: mag = zeroPoint - 2.5 log10(flux). */
  zeroPoint: number;
  /** A negative detection (the reference is brighter): the difference is measured negated. @default false */
  negative?: boolean;
}

/** The measurements of one detection (fluxes in the difference image's unit). */
export interface Measurement {
  fluxPsf: number;
  fluxPsfErr: number;
  magPsf: number;
  magPsfErr: number;
  /** Aperture radii, px. */
  aperRadii: number[];
  fluxApertures: number[];
  fluxAperturesErr: number[];
  /** PSF-fitted position (stamp px; the filtered stamp's peak when the fit failed) and its distance to the detection. */
  psfX: number;
  psfY: number;
  detectionOffset: number;
  /** Gaussian-fit centre minus the detection, px. */
  gaussOffsetX: number;
  gaussOffsetY: number;
  gaussOffset: number;
  /** Gaussian-fit sigmas, px, and sqrt(major x minor). */
  sigmaMajor: number;
  sigmaMinor: number;
  width: number;
  elongation: number;
  /** Major-axis angle, degrees counter-clockwise from +x, (-90, 90]. */
  positionAngle: number;
  widthRatio: number;
  /** PSF FWHM, px (from a Gaussian fit to the PSF stamp). */
  psfFwhm: number;
  nBadPixels: number;
  negativeFraction: number;
  negativeFluxFraction: number;
  dipole: number;
  dipoleSeparation: number;
  bkgMean: number;
  bkgStd: number;
}

/**
 * Stamp k of a cutouts product (copies), with the detection's position in stamp
 * pixels: the stamp is centred on pixel (round(X), round(Y)) of the new image
 * (cutouts_file.ts), so the detection sits at half + X - round(X).
 */
export function stampsOf(
  cutouts: Cutouts,
  k: number,
): Pick<MeasureInput, "size" | "new" | "ref" | "sub"> & { x: number; y: number } {
  if (!Number.isInteger(k) || k < 0 || k >= cutouts.count) {
    throw new RangeError(`stamp ${k} out of 0..${cutouts.count - 1}`);
  }
  const n = cutouts.size * cutouts.size;
  const half = (cutouts.size - 1) / 2;
  const plane = (kind: "new" | "ref" | "sub"): StampPlanes => ({
    data: cutouts[kind].data.slice(k * n, (k + 1) * n),
    weight: cutouts[kind].weight.slice(k * n, (k + 1) * n),
    flags: cutouts[kind].flags.slice(k * n, (k + 1) * n),
  });
  return {
    size: cutouts.size,
    new: plane("new"),
    ref: plane("ref"),
    sub: plane("sub"),
    x: half + cutouts.x[k] - Math.round(cutouts.x[k]),
    y: half + cutouts.y[k] - Math.round(cutouts.y[k]),
  };
}

/** A constant (degree-0) core PSF model whose only basis image is `psf` normalised to unit sum. */
export function psfModelFromStamp(psf: Float32Array, fwhm: number): PsfModel {
  const side = Math.round(Math.sqrt(psf.length));
  if (side * side !== psf.length || side % 2 !== 1) {
    throw new RangeError(`PSF stamp of ${psf.length} values is not an odd square`);
  }
  let sum = 0;
  for (const v of psf) sum += v;
  if (!(sum > 0)) throw new RangeError("PSF stamp does not sum to a positive value");
  const data = new Float32Array(PSF_HEADER + side * side);
  data.set([1, side, 1, 0, 1, 0, 1, 0, 1, fwhm, 1, 1]);
  for (let i = 0; i < psf.length; i++) data[PSF_HEADER + i] = psf[i] / sum;
  return psfModelFromData(data);
}

function tryGauss(fn: () => GaussFit): GaussFit | null {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CoreError) return null;
    throw err;
  }
}

/** Measures one detection on its stamps (see the module doc). */
export function measureDetection(
  input: MeasureInput,
  params: MeasureParameters = MeasureParams.parse({}),
): Measurement {
  const { size } = input;
  const n = size * size;
  for (const kind of ["new", "ref", "sub"] as const) {
    const p = input[kind];
    if (p.data.length !== n || p.weight.length !== n || p.flags.length !== n) {
      throw new RangeError(`${kind} stamp planes are not ${size} x ${size}`);
    }
  }
  const half = (size - 1) / 2;
  const x0 = input.x ?? half, y0 = input.y ?? half;
  const sign = input.negative ? -1 : 1;
  const sub = Float32Array.from(input.sub.data, (v) => sign * v);
  const image = { data: sub, width: size, height: size, weight: input.sub.weight };
  const mask = params.flag_mask;
  const subFlags = input.sub.flags;

  // the PSF: its Gaussian width and a constant model
  const psfSide = Math.round(Math.sqrt(input.psf.length));
  const psfFit = gaussFit(input.psf, psfSide, psfSide);
  const psfWidth = Math.sqrt(psfFit.sigmaMajor * psfFit.sigmaMinor);
  const fwhm = 2 * Math.sqrt(2 * Math.LN2) * psfWidth;
  const model = psfModelFromStamp(input.psf, fwhm);
  let psfPeak = 0;
  for (const v of model.data.subarray(PSF_HEADER)) psfPeak = Math.max(psfPeak, v);

  // PSF photometry at the detection, then with free position
  const withFlags = { ...image, flags: subFlags };
  const fixed = psfPhotometry(withFlags, model, [x0], [y0], {
    fitBackground: false,
    maskBits: mask,
  });
  const fluxPsf = fixed.flux[0], fluxPsfErr = fixed.fluxErr[0];
  const free = psfPhotometry(withFlags, model, [x0], [y0], {
    fitBackground: false,
    fitPosition: true,
    fitRadius: params.offset_fit_fwhm * fwhm,
    maskBits: mask,
  });
  // a fit that did not converge (or left its region) reports no position
  const moved = (free.flags[0] & PhotFlags.NOCONVERGE) === 0;

  const radii = params.aperture_fwhm.map((f) => f * fwhm);
  const aper = sumCircle(withFlags, [x0], [y0], radii, { maskBits: mask });

  // Gaussian fit near the detection, started at the PSF fit with the PSF's width
  const fitRadius = params.gauss_fit_fwhm * fwhm;
  const fitWeight = input.sub.weight.map((w, k) =>
    Math.hypot((k % size) - x0, Math.floor(k / size) - y0) <= fitRadius ? w : 0
  );
  const g = tryGauss(() =>
    gaussFit(sub, size, size, {
      weight: fitWeight,
      flags: subFlags,
      flagMask: mask,
      init: {
        amplitude: Math.max(Math.abs((moved ? free.flux[0] : fluxPsf) * psfPeak), 1e-6),
        x: moved ? free.x[0] : x0,
        y: moved ? free.y[0] : y0,
        sigmaMajor: psfWidth,
        sigmaMinor: psfWidth,
        theta: 0,
        background: 0,
      },
    })
  );
  const width = g ? Math.sqrt(g.sigmaMajor * g.sigmaMinor) : NaN;

  // region statistics
  const region = params.region_fwhm * fwhm;
  const bkgRadius = params.background_fwhm * fwhm;
  const usable = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const w = input.sub.weight[k];
    usable[k] = Number.isFinite(sub[k]) && w > 0 && (subFlags[k] & mask) === 0 ? 1 : 0;
  }
  const psf = model.data.subarray(PSF_HEADER);
  const ph = (psfSide - 1) / 2;
  /** S/N of the PSF-filtered stamp at pixel (i, j). */
  const filtered = (i: number, j: number): number => {
    let sv = 0, var_ = 0;
    for (let b = -ph; b <= ph; b++) {
      const jj = j + b;
      if (jj < 0 || jj >= size) continue;
      for (let a = -ph; a <= ph; a++) {
        const ii = i + a, k = jj * size + ii;
        if (ii < 0 || ii >= size || !usable[k]) continue;
        const q = psf[(b + ph) * psfSide + a + ph];
        sv += q * sub[k];
        var_ += (q * q) / input.sub.weight[k];
      }
    }
    return var_ > 0 ? sv / Math.sqrt(var_) : 0;
  };
  let nBad = 0, nPos = 0, nNeg = 0, fPos = 0, fNeg = 0;
  let pxSum = 0, pySum = 0, nxSum = 0, nySum = 0;
  let bn = 0, bs = 0, bs2 = 0;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const k = j * size + i;
      const r = Math.hypot(i - x0, j - y0);
      const v = sub[k];
      if (r > bkgRadius && usable[k]) {
        bn++;
        bs += v;
        bs2 += v * v;
      }
      if (r > region) continue;
      const bad = !usable[k] || (input.new.flags[k] & mask) !== 0 ||
        (input.ref.flags[k] & mask) !== 0 || !(input.new.weight[k] > 0) ||
        !(input.ref.weight[k] > 0);
      if (bad) {
        nBad++;
        continue;
      }
      const z = filtered(i, j);
      if (z > params.significance) {
        nPos++;
        const f = Math.max(v, 0);
        fPos += f;
        pxSum += f * i;
        pySum += f * j;
      } else if (z < -params.significance) {
        nNeg++;
        const f = Math.max(-v, 0);
        fNeg += f;
        nxSum += f * i;
        nySum += f * j;
      }
    }
  }
  // where the fit did not converge: the peak of the PSF-filtered stamp near the detection
  let psfX = free.x[0], psfY = free.y[0];
  if (!moved) {
    const reach = params.offset_fit_fwhm * fwhm;
    let best = -Infinity;
    psfX = psfY = NaN;
    for (let j = Math.max(0, Math.floor(y0 - reach)); j <= Math.min(size - 1, y0 + reach); j++) {
      for (let i = Math.max(0, Math.floor(x0 - reach)); i <= Math.min(size - 1, x0 + reach); i++) {
        if (Math.hypot(i - x0, j - y0) > reach) continue;
        const z = filtered(i, j);
        if (z > best) {
          best = z;
          psfX = i;
          psfY = j;
        }
      }
    }
  }
  const detectionOffset = Math.hypot(psfX - x0, psfY - y0);

  const bkgMean = bn > 0 ? bs / bn : NaN;
  const bkgStd = bn > 1 ? Math.sqrt(Math.max(0, (bs2 - bs * bs / bn) / (bn - 1))) : NaN;
  const dipole = fPos > 0 && fNeg > 0 ? Math.min(fPos, fNeg) / Math.max(fPos, fNeg) : 0;
  const dipoleSeparation = fPos > 0 && fNeg > 0
    ? Math.hypot(pxSum / fPos - nxSum / fNeg, pySum / fPos - nySum / fNeg)
    : NaN;

  const nr = radii.length;
  return {
    fluxPsf,
    fluxPsfErr,
    magPsf: fluxPsf > 0 ? input.zeroPoint - 2.5 * Math.log10(fluxPsf) : NaN,
    magPsfErr: fluxPsf > 0 ? (2.5 / Math.LN10) * fluxPsfErr / fluxPsf : NaN,
    aperRadii: radii,
    fluxApertures: Array.from(aper.flux.subarray(0, nr)),
    fluxAperturesErr: Array.from(aper.fluxErr.subarray(0, nr)),
    psfX,
    psfY,
    detectionOffset,
    gaussOffsetX: g ? g.x - x0 : NaN,
    gaussOffsetY: g ? g.y - y0 : NaN,
    gaussOffset: g ? Math.hypot(g.x - x0, g.y - y0) : NaN,
    sigmaMajor: g ? g.sigmaMajor : NaN,
    sigmaMinor: g ? g.sigmaMinor : NaN,
    width,
    elongation: g ? g.sigmaMajor / g.sigmaMinor : NaN,
    positionAngle: g ? (g.theta * 180) / Math.PI : NaN,
    widthRatio: width > 0 ? Math.max(width / psfWidth, psfWidth / width) : NaN,
    psfFwhm: fwhm,
    nBadPixels: nBad,
    negativeFraction: nPos + nNeg > 0 ? nNeg / (nPos + nNeg) : 0,
    negativeFluxFraction: fPos + fNeg > 0 ? fNeg / (fPos + fNeg) : 0,
    dipole,
    dipoleSeparation,
    bkgMean,
    bkgStd,
  };
}

/** The cut variables of a measurement (see cuts.ts). */
export function cutVariables(m: Measurement): CutVariables {
  return {
    detection_offset: m.detectionOffset,
    gauss_offset: m.gaussOffset,
    elongation: m.elongation,
    width_ratio: m.widthRatio,
    bad_pixels: m.nBadPixels,
    negative_fraction: m.negativeFraction,
    negative_flux_fraction: m.negativeFluxFraction,
  };
}

/** One detection of a cutouts product after measuring and cutting. */
export interface MeasuredDetection {
  /** Stamp index in the cutouts product. */
  stamp: number;
  /** Row of the detection in the source list. */
  indexInSources: number;
  measurement: Measurement;
  cuts: CutResult;
  /**
   * The columns of its `measurements` row (without ids, object and flags), for
   * detections whose `cuts.keep` is true.
   */
  row: MeasurementRow;
}

/** The measured columns of a `measurements` row (sql/0001_schema.sql). */
export interface MeasurementRow {
  index_in_sources: number;
  ra: number;
  dec: number;
  healpix: number;
  x: number;
  y: number;
  flux_psf: number | null;
  flux_psf_err: number | null;
  flux_apertures: (number | null)[];
  flux_apertures_err: (number | null)[];
  aper_radii: number[];
  mag_psf: number | null;
  mag_psf_err: number | null;
  bkg_mean: number | null;
  bkg_std: number | null;
  offset_x: number | null;
  offset_y: number | null;
  width: number | null;
  elongation: number | null;
  position_angle: number | null;
  nbad_pixels: number;
  negative_fraction: number | null;
  negative_flux_fraction: number | null;
  /** Each cut's value (NaN as null). */
  disqualifier_scores: Record<string, number | null>;
  is_bad: boolean;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The `measurements` columns of a measured detection at stamp k of `cutouts`. */
export function measurementRow(
  cutouts: Cutouts,
  k: number,
  m: Measurement,
  cuts: CutResult,
): MeasurementRow {
  const ra = cutouts.ra[k], dec = cutouts.dec[k];
  return {
    index_in_sources: cutouts.index[k],
    ra,
    dec,
    healpix: ang2pixNest(HEALPIX_ORDER, ra, dec),
    x: cutouts.x[k],
    y: cutouts.y[k],
    flux_psf: orNull(m.fluxPsf),
    flux_psf_err: orNull(m.fluxPsfErr),
    flux_apertures: m.fluxApertures.map(orNull),
    flux_apertures_err: m.fluxAperturesErr.map(orNull),
    aper_radii: m.aperRadii,
    mag_psf: orNull(m.magPsf),
    mag_psf_err: orNull(m.magPsfErr),
    bkg_mean: orNull(m.bkgMean),
    bkg_std: orNull(m.bkgStd),
    offset_x: orNull(m.gaussOffsetX),
    offset_y: orNull(m.gaussOffsetY),
    width: orNull(m.width),
    elongation: orNull(m.elongation),
    position_angle: orNull(m.positionAngle),
    nbad_pixels: m.nBadPixels,
    negative_fraction: orNull(m.negativeFraction),
    negative_flux_fraction: orNull(m.negativeFluxFraction),
    disqualifier_scores: Object.fromEntries(
      Object.entries(cuts.scores).map(([name, v]) => [name, orNull(v)]),
    ),
    is_bad: cuts.isBad,
  };
}

/** What {@linkcode measureCutouts} needs besides the stamps. */
export interface MeasureCutoutsInput {
  cutouts: Cutouts;
  /** The difference image's PSF at stamp k's detection (odd square, centred). */
  psfAt: (k: number) => Float32Array;
  /** Zero point of the difference image. */
  zeroPoint: number;
  /** True for the negative detections (by stamp). @default none negative */
  negative?: (k: number) => boolean;
}

/**
 * Measures and cuts every stamp of a cutouts product; returns them all (the
 * step saves those with `cuts.keep`).
 */
export function measureCutouts(
  input: MeasureCutoutsInput,
  params: MeasureParameters = MeasureParams.parse({}),
  cutsParams: CutsParameters = CutsParams.parse({}),
): MeasuredDetection[] {
  const out: MeasuredDetection[] = [];
  for (let k = 0; k < input.cutouts.count; k++) {
    const measurement = measureDetection({
      ...stampsOf(input.cutouts, k),
      psf: input.psfAt(k),
      zeroPoint: input.zeroPoint,
      negative: input.negative?.(k) ?? false,
    }, params);
    const cuts = applyCuts(cutVariables(measurement), cutsParams);
    out.push({
      stamp: k,
      indexInSources: input.cutouts.index[k],
      measurement,
      cuts,
      row: measurementRow(input.cutouts, k, measurement, cuts),
    });
  }
  return out;
}
