/**
 * The Instrument interface: what the pipeline needs to know about a camera to
 * read its raw files — which extension holds which section (CCD), how header
 * keywords translate to our names, where each amplifier's data and overscan are
 * and where its data goes in the trimmed image, gain / read noise / saturation
 * per amplifier, the standard bad-pixel mask, filter names, and the colour
 * transform from Gaia magnitudes to the instrument's bands.
 *
 * Pixel boxes are 0-based and half-open (x in [x0, x1), y in [y0, y1)), x the
 * FITS NAXIS1 axis. FITS section strings ("[x1:x2,y1:y2]", 1-based inclusive,
 * reversed when the readout runs backwards) are parsed by {@linkcode parseSection}.
 *
 * @module
 */
import type { Header } from "../fits/header.ts";

/** A box of pixels, 0-based and half-open. */
export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** A parsed FITS section: its box and whether each axis runs backwards. */
export interface Section {
  box: Box;
  flipX: boolean;
  flipY: boolean;
}

/** Parses a FITS section string "[x1:x2,y1:y2]" (1-based, inclusive, possibly reversed). */
export function parseSection(text: string): Section {
  const m = /^\s*\[\s*(\d+)\s*:\s*(\d+)\s*,\s*(\d+)\s*:\s*(\d+)\s*\]\s*$/.exec(text);
  if (!m) throw new SyntaxError(`not a FITS section: ${JSON.stringify(text)}`);
  const [a, b, c, d] = m.slice(1).map(Number);
  if (a < 1 || b < 1 || c < 1 || d < 1) throw new SyntaxError(`section ${text} starts below 1`);
  return {
    box: { x0: Math.min(a, b) - 1, x1: Math.max(a, b), y0: Math.min(c, d) - 1, y1: Math.max(c, d) },
    flipX: a > b,
    flipY: c > d,
  };
}

/** Formats a box as a FITS section string (1-based, inclusive). */
export function formatSection(box: Box, flipX = false, flipY = false): string {
  const xs = flipX ? [box.x1, box.x0 + 1] : [box.x0 + 1, box.x1];
  const ys = flipY ? [box.y1, box.y0 + 1] : [box.y0 + 1, box.y1];
  return `[${xs[0]}:${xs[1]},${ys[0]}:${ys[1]}]`;
}

/** Width and height of a box. */
export function boxSize(box: Box): { nx: number; ny: number } {
  return { nx: box.x1 - box.x0, ny: box.y1 - box.y0 };
}

/** One amplifier of a section, in raw-extension and trimmed-image coordinates. */
export interface AmpLayout {
  /** Amplifier name, e.g. "A" or "B". */
  name: string;
  /** Its data pixels in the raw extension. */
  data: Box;
  /** Its overscan pixels in the raw extension (rows matching `data`'s rows). */
  bias: Box;
  /** Where its data go in the trimmed image (same size as `data`). */
  trim: Box;
  /** The data map onto `trim` reversed along x / y. */
  flipX: boolean;
  flipY: boolean;
  /** Gain (e-/ADU). */
  gain: number;
  /** Read noise (e-). */
  readNoise: number;
  /** Saturation level (ADU, raw, before overscan subtraction). */
  saturation: number;
}

/** The layout of one section (CCD) of a raw exposure. */
export interface SectionLayout {
  /** Section id, e.g. "N4". */
  id: string;
  /** Size of the raw extension. */
  rawNx: number;
  rawNy: number;
  /** Size of the trimmed image. */
  nx: number;
  ny: number;
  amps: AmpLayout[];
}

/** Kinds of exposures. */
export type ExposureType = "science" | "bias" | "flat" | "dark" | "other";

/** Exposure-level header values, translated to our names and units. */
export interface ExposureInfo {
  /** Instrument name as we know it ("DECam", "SimCam"). */
  instrument: string;
  /** Start of the exposure (MJD, UTC). */
  mjd: number;
  /** Exposure time (s). */
  exptime: number;
  /** Our band name (e.g. "r"), or null when the filter is unknown. */
  band: string | null;
  /** The FILTER keyword as written. */
  filter: string;
  /** Pointing (deg). */
  ra: number;
  dec: number;
  airmass: number;
  /** Target or field name. */
  object: string;
  type: ExposureType;
  /** Exposure number, when the header has one. */
  expnum: number | null;
}

/** Preprocessing corrections (names of the PREPROCESSING bitflag in db/enums.ts). */
export type PreprocessingStep =
  | "overscan"
  | "zero"
  | "dark"
  | "linearity"
  | "flat"
  | "fringe"
  | "illumination";

/** What the pipeline knows about a camera. */
export interface Instrument {
  /** Name, as in exposure rows ("DECam", "SimCam"). */
  readonly name: string;
  /** Nominal pixel scale (arcsec/px). */
  readonly pixelScale: number;
  /** Band names this instrument has, in our spelling. */
  readonly bands: readonly string[];
  /** Every section id, in the instrument's standard order. */
  sectionIds(): string[];
  /** The section id of a raw extension (from EXTNAME/DETPOS/CCDNUM), or null if not a CCD. */
  sectionOf(extension: Header): string | null;
  /** Translates a primary header (plus, optionally, one extension's) to our names. */
  exposureInfo(primary: Header, extension?: Header): ExposureInfo;
  /** Our band name for a FILTER value, or null. */
  band(filter: string): string | null;
  /** Amplifier layout (data, overscan, trim, gain, read noise, saturation) of an extension. */
  layout(extension: Header): SectionLayout;
  /** Standard bad pixels of a section, as boxes in trimmed-image coordinates. */
  badPixels(sectionId: string, nx: number, ny: number): Box[];
  /** Magnitude in `band` of a star with Gaia G, BP, RP (the colour transform). */
  gaiaToBand(band: string, g: number, bp: number, rp: number): number;
  /** The range of BP-RP over which {@linkcode Instrument.gaiaToBand} is valid. */
  readonly colourRange: readonly [number, number];
  /**
   * Corrections preprocessing applies to this camera's science exposures, in order;
   * a calibrator missing for one of them is an error, the others are not needed.
   */
  preprocessingSteps(band: string | null): readonly PreprocessingStep[];
  /**
   * Linearity correction of an amplifier: coefficients c such that corrected ADU =
   * sum c[k] adu^k (adu after overscan subtraction), or null when the response is
   * linear or the correction comes from a calibrator file.
   */
  linearity(sectionId: string, amp: string): readonly number[] | null;
}

/**
 * The shift from raw-extension pixels to trimmed-image pixels, when the amplifiers'
 * data form one contiguous block copied without flips (trimmed = raw - offset);
 * null otherwise. A raw header's WCS (which describes raw pixels) becomes the
 * trimmed image's by CRPIX1 -= dx, CRPIX2 -= dy.
 */
export function rawToTrimmedOffset(layout: SectionLayout): { dx: number; dy: number } | null {
  const a0 = layout.amps[0];
  const dx = a0.data.x0 - a0.trim.x0, dy = a0.data.y0 - a0.trim.y0;
  for (const a of layout.amps) {
    if (a.flipX || a.flipY) return null;
    if (a.data.x0 - a.trim.x0 !== dx || a.data.y0 - a.trim.y0 !== dy) return null;
  }
  return { dx, dy };
}

/** Rasterises bad-pixel boxes into a uint16 flags plane (bit `bit`, default 1 = bad pixel). */
export function badPixelMask(boxes: readonly Box[], nx: number, ny: number, bit = 1): Uint16Array {
  const mask = new Uint16Array(nx * ny);
  for (const b of boxes) {
    const x0 = Math.max(0, b.x0), x1 = Math.min(nx, b.x1);
    const y0 = Math.max(0, b.y0), y1 = Math.min(ny, b.y1);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) mask[y * nx + x] |= bit;
    }
  }
  return mask;
}

/**
 * Reads a two-amplifier layout from DECam-style keywords: DATASECA/B, BIASSECA/B,
 * CCDSECA/B (else the halves of DATASEC), GAINA/B, RDNOISEA/B, SATURATA/B.
 */
export function twoAmpLayout(id: string, ext: Header): SectionLayout {
  const rawNx = ext.getNumber("NAXIS1") ?? ext.getNumber("ZNAXIS1");
  const rawNy = ext.getNumber("NAXIS2") ?? ext.getNumber("ZNAXIS2");
  // a tile-compressed extension's NAXISn describe the table; ZNAXISn the image
  const nx1 = ext.getNumber("ZNAXIS1") ?? rawNx;
  const ny1 = ext.getNumber("ZNAXIS2") ?? rawNy;
  if (nx1 === undefined || ny1 === undefined) throw new Error(`${id}: no NAXIS1/NAXIS2`);
  const amps: AmpLayout[] = [];
  let tx = 0, ty = 0;
  for (const name of ["A", "B"]) {
    const dataText = ext.getString(`DATASEC${name}`);
    const biasText = ext.getString(`BIASSEC${name}`);
    if (!dataText || !biasText) {
      throw new Error(`${id}: missing DATASEC${name} or BIASSEC${name}`);
    }
    const data = parseSection(dataText);
    const bias = parseSection(biasText);
    const ccdText = ext.getString(`CCDSEC${name}`);
    const trim = ccdText ? parseSection(ccdText) : null;
    const { nx, ny } = boxSize(data.box);
    const trimBox = trim?.box ?? { x0: 0, x1: nx, y0: 0, y1: ny };
    const ts = boxSize(trimBox);
    if (ts.nx !== nx || ts.ny !== ny) {
      throw new Error(
        `${id}: CCDSEC${name} ${ccdText} and DATASEC${name} ${dataText} differ in size`,
      );
    }
    const num = (key: string) => {
      const v = ext.getNumber(`${key}${name}`);
      if (v === undefined || !Number.isFinite(v)) throw new Error(`${id}: missing ${key}${name}`);
      return v;
    };
    amps.push({
      name,
      data: data.box,
      bias: bias.box,
      trim: trimBox,
      flipX: data.flipX !== (trim?.flipX ?? false),
      flipY: data.flipY !== (trim?.flipY ?? false),
      gain: num("GAIN"),
      readNoise: num("RDNOISE"),
      saturation: num("SATURAT"),
    });
    tx = Math.max(tx, trimBox.x1);
    ty = Math.max(ty, trimBox.y1);
  }
  return { id, rawNx: nx1, rawNy: ny1, nx: tx, ny: ty, amps };
}

/** A cubic colour transform: band - G = c0 + c1 (BP-RP) + c2 (BP-RP)^2 + c3 (BP-RP)^3. */
export function cubicColour(coeffs: readonly number[], g: number, bp: number, rp: number): number {
  const c = bp - rp;
  return g + coeffs[0] + coeffs[1] * c + coeffs[2] * c * c + coeffs[3] * c * c * c;
}

/** Sexagesimal ("10:20:30.5" hours or degrees) or a number, to degrees. */
export function parseAngle(value: unknown, hours: boolean): number {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return NaN;
  const s = value.trim();
  if (!s.includes(":")) return Number(s);
  const neg = s.startsWith("-");
  const parts = s.replace(/^[-+]/, "").split(":").map(Number);
  const v = (parts[0] ?? 0) + (parts[1] ?? 0) / 60 + (parts[2] ?? 0) / 3600;
  return (neg ? -v : v) * (hours ? 15 : 1);
}

/** Formats degrees as sexagesimal ("HH:MM:SS.SS" for hours, "+DD:MM:SS.S" for degrees). */
export function formatAngle(deg: number, hours: boolean): string {
  const v = hours ? (((deg % 360) + 360) % 360) / 15 : Math.abs(deg);
  const decimals = hours ? 2 : 1;
  const totalSec = Math.round(v * 3600 * 10 ** decimals) / 10 ** decimals;
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec - h * 3600) / 60);
  const sec = totalSec - h * 3600 - m * 60;
  const body = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${
    sec.toFixed(decimals).padStart(3 + decimals, "0")
  }`;
  return hours ? body : `${deg < 0 ? "-" : "+"}${body}`;
}
