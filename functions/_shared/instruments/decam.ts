/**
 * DECam, the Dark Energy Camera on the Blanco 4-m telescope: 62 science CCDs of
 * 2048 x 4096 pixels at 0.263"/px, named N1..N31 and S1..S31 (CCDNUM 1..62),
 * each read by two amplifiers with their own overscan. Raw files are
 * multi-extension FITS, often fpack-compressed (the fits module reads both).
 *
 * Header keywords read: primary INSTRUME, MJD-OBS, EXPTIME, FILTER, RA/DEC
 * (sexagesimal; TELRA/TELDEC as fallback), AIRMASS, OBJECT, OBSTYPE, EXPNUM;
 * extension EXTNAME/DETPOS/CCDNUM, DATASECA/B, BIASSECA/B, CCDSECA/B, GAINA/B,
 * RDNOISEA/B, SATURATA/B.
 *
 * The colour transforms from Gaia are smooth cubic fits in BP-RP chosen to follow
 * the stellar locus (g-G about 0.4 and r-G about 0 for a solar-type star); they are
 * the transforms the simulator renders with, and a stand-in for a fitted DECam
 * calibration on real data.
 *
 * @module
 */
import type { Header } from "../fits/header.ts";
import {
  type Box,
  cubicColour,
  type ExposureInfo,
  type ExposureType,
  type Instrument,
  parseAngle,
  type PreprocessingStep,
  type SectionLayout,
  twoAmpLayout,
} from "./instrument.ts";

/** Section names by CCDNUM - 1 (DECam's numbering: S29 is CCD 1, N31 is CCD 62). */
// deno-fmt-ignore
export const DECAM_CCDNUM_NAMES: readonly string[] = [
  "S29", "S30", "S31", "S25", "S26", "S27", "S28", "S20", "S21", "S22", "S23", "S24", // 1-12
  "S14", "S15", "S16", "S17", "S18", "S19", "S8", "S9", "S10", "S11", "S12", "S13", // 13-24
  "S1", "S2", "S3", "S4", "S5", "S6", "S7", // 25-31
  "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9", "N10", "N11", "N12", "N13", // 32-44
  "N14", "N15", "N16", "N17", "N18", "N19", "N20", "N21", "N22", "N23", "N24", // 45-55
  "N25", "N26", "N27", "N28", "N29", "N30", "N31", // 56-62
];

/** Rows of the focal plane from the centre outwards: names in each row, per half. */
const ROWS: readonly (readonly number[])[] = [
  [1, 2, 3, 4, 5, 6, 7],
  [8, 9, 10, 11, 12, 13],
  [14, 15, 16, 17, 18, 19],
  [20, 21, 22, 23, 24],
  [25, 26, 27, 28],
  [29, 30, 31],
];

/** CCDNUM (1..62) of a section name, or null. */
export function decamCcdnum(name: string): number | null {
  const i = DECAM_CCDNUM_NAMES.indexOf(name);
  return i >= 0 ? i + 1 : null;
}

/**
 * Centre of a section in the focal plane, in pixels of the CCD's own size and
 * orientation convention: X along the CCDs' long axis (east), Y across it (north
 * for N, south for S). Gaps of `gapX` x `gapY` pixels separate the CCDs.
 */
export function focalPlaneCentre(
  name: string,
  longSide = 4096,
  shortSide = 2048,
  gapX = 100,
  gapY = 150,
): { x: number; y: number } {
  const half = name[0];
  const num = Number(name.slice(1));
  if ((half !== "N" && half !== "S") || !(num >= 1 && num <= 31)) {
    throw new RangeError(`not a DECam section name: ${name}`);
  }
  const row = ROWS.findIndex((r) => r.includes(num));
  const k = ROWS[row].indexOf(num), m = ROWS[row].length;
  const x = (k - (m - 1) / 2) * (longSide + gapX);
  const y = (row + 0.5) * (shortSide + gapY) * (half === "N" ? 1 : -1);
  return { x, y };
}

/** Section names ordered by distance from the focal-plane centre (ties by CCDNUM). */
export function sectionsByDistance(): string[] {
  return [...DECAM_CCDNUM_NAMES].sort((a, b) => {
    const pa = focalPlaneCentre(a), pb = focalPlaneCentre(b);
    const d = Math.hypot(pa.x, pa.y) - Math.hypot(pb.x, pb.y);
    return d !== 0 ? d : decamCcdnum(a)! - decamCcdnum(b)!;
  });
}

/** DECam's filter names (first word of FILTER) to our band names. */
const FILTERS: Record<string, string> = {
  u: "u",
  g: "g",
  r: "r",
  i: "i",
  z: "z",
  Y: "Y",
  VR: "VR",
  N964: "N964",
};

/** Cubic coefficients of band - G in BP-RP (valid for 0 <= BP-RP <= 3.5). */
export const DECAM_GAIA_COLOUR: Readonly<Record<string, readonly number[]>> = {
  u: [0.6, 1.1, 0.25, 0.0],
  g: [-0.05, 0.45, 0.12, -0.005],
  r: [-0.1, 0.05, 0.06, 0.0],
  i: [-0.05, -0.12, 0.0, 0.0],
  z: [-0.02, -0.18, -0.03, 0.0],
  Y: [-0.07, -0.23, -0.03, 0.0],
};

/** Exposure type from OBSTYPE. */
export function exposureType(obstype: string | undefined): ExposureType {
  const t = (obstype ?? "").trim().toLowerCase();
  if (t === "object" || t === "science" || t === "standard") return "science";
  if (t === "zero" || t === "bias") return "bias";
  if (t.includes("flat")) return "flat";
  if (t === "dark") return "dark";
  return "other";
}

/** Exposure information from a DECam-style primary header (shared by SimCam). */
export function decamExposureInfo(
  instrument: string,
  band: (filter: string) => string | null,
  primary: Header,
  extension?: Header,
): ExposureInfo {
  const pick = (key: string) => primary.get(key) ?? extension?.get(key);
  const mjd = Number(pick("MJD-OBS"));
  const exptime = Number(pick("EXPTIME"));
  if (!Number.isFinite(mjd)) throw new Error(`${instrument}: header has no MJD-OBS`);
  if (!Number.isFinite(exptime)) throw new Error(`${instrument}: header has no EXPTIME`);
  let ra = parseAngle(pick("RA"), true), dec = parseAngle(pick("DEC"), false);
  if (!Number.isFinite(ra) || !Number.isFinite(dec)) {
    ra = parseAngle(pick("TELRA"), true);
    dec = parseAngle(pick("TELDEC"), false);
  }
  const filter = String(pick("FILTER") ?? "").trim();
  const expnum = pick("EXPNUM");
  return {
    instrument,
    mjd,
    exptime,
    band: band(filter),
    filter,
    ra,
    dec,
    airmass: Number(pick("AIRMASS") ?? NaN),
    object: String(pick("OBJECT") ?? "").trim(),
    type: exposureType(pick("OBSTYPE") as string | undefined),
    expnum: typeof expnum === "number" ? expnum : null,
  };
}

/** Section id of an extension from EXTNAME, DETPOS or CCDNUM. */
export function decamSectionOf(extension: Header): string | null {
  for (const key of ["DETPOS", "EXTNAME"]) {
    const v = extension.get(key);
    if (typeof v === "string" && DECAM_CCDNUM_NAMES.includes(v.trim())) return v.trim();
  }
  const n = extension.get("CCDNUM");
  if (typeof n === "number" && n >= 1 && n <= 62) return DECAM_CCDNUM_NAMES[n - 1];
  return null;
}

/** The Dark Energy Camera. */
export class DECam implements Instrument {
  readonly name = "DECam";
  readonly pixelScale = 0.263;
  readonly bands = ["u", "g", "r", "i", "z", "Y", "VR", "N964"] as const;
  readonly colourRange = [0, 3.5] as const;

  sectionIds(): string[] {
    return [...DECAM_CCDNUM_NAMES];
  }

  sectionOf(extension: Header): string | null {
    return decamSectionOf(extension);
  }

  band(filter: string): string | null {
    const first = filter.trim().split(/\s+/)[0] ?? "";
    return FILTERS[first] ?? null;
  }

  exposureInfo(primary: Header, extension?: Header): ExposureInfo {
    return decamExposureInfo(this.name, (f) => this.band(f), primary, extension);
  }

  layout(extension: Header): SectionLayout {
    const id = this.sectionOf(extension);
    if (!id) throw new Error("DECam: extension is not a science CCD (no DETPOS/EXTNAME/CCDNUM)");
    return twoAmpLayout(id, extension);
  }

  /**
   * Known-bad regions: all of N30 (CCDNUM 61, failed in 2012) and the half of S7 read by
   * its unstable amplifier B (x < nx/2 in the standard layout, CCDSECB = [1:1024,..]).
   * A real reduction also uses the survey's bad-pixel maps.
   */
  badPixels(sectionId: string, nx: number, ny: number): Box[] {
    if (sectionId === "N30") return [{ x0: 0, x1: nx, y0: 0, y1: ny }];
    if (sectionId === "S7") return [{ x0: 0, x1: nx / 2, y0: 0, y1: ny }];
    return [];
  }

  gaiaToBand(band: string, g: number, bp: number, rp: number): number {
    const c = DECAM_GAIA_COLOUR[band];
    if (!c) throw new RangeError(`DECam has no Gaia colour transform for band ${band}`);
    return cubicColour(c, g, bp, rp);
  }

  /** DECam: overscan, bias, linearity (from its calibrator files), flat; fringe in z and Y. */
  preprocessingSteps(band: string | null): readonly PreprocessingStep[] {
    const steps: PreprocessingStep[] = ["overscan", "zero", "linearity", "flat"];
    if (band === "z" || band === "Y") steps.push("fringe");
    return steps;
  }

  /** DECam's linearity tables are calibrator files (type "linearity"), not built in. */
  linearity(_sectionId: string, _amp: string): readonly number[] | null {
    return null;
  }
}
