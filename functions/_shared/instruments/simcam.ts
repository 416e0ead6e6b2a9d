/**
 * SimCam: the simulated DECam-like camera. Its sections are DECam's (N1..N31,
 * S1..S31, taken from the focal-plane centre outwards: 4 CCDs are N1, S1, N2, S2
 * ... by distance), its raw files use DECam's keywords and two-amplifier layout
 * (prescan, overscan columns on the outer side of each amplifier, overscan rows
 * below the data), and its filters are DECam's.
 *
 * Every physical property of a CCD — gains, read noise, bias level and structure,
 * full well, dark current, flat-field shape, bad columns and hot pixels — is drawn
 * from the camera seed and the section name, so the camera is the same in every
 * exposure, and the standard bad-pixel mask is exactly what the renderer draws.
 *
 * @module
 */
import type { Header } from "../fits/header.ts";
import { hashSeed, Rng } from "../sim/random.ts";
import {
  DECAM_GAIA_COLOUR,
  decamCcdnum,
  decamExposureInfo,
  decamSectionOf,
  focalPlaneCentre,
  sectionsByDistance,
} from "./decam.ts";
import {
  type Box,
  cubicColour,
  type ExposureInfo,
  formatSection,
  type Instrument,
  type PreprocessingStep,
  type SectionLayout,
  twoAmpLayout,
} from "./instrument.ts";

/** Configuration of the simulated camera. */
export interface SimCamOptions {
  /** Number of CCDs (1..62), taken from the focal-plane centre outwards. @default 4 */
  nCcd?: number;
  /** Trimmed CCD width (x, NAXIS1), even. @default 2048 */
  ccdNx?: number;
  /** Trimmed CCD height (y, NAXIS2). @default 4096 */
  ccdNy?: number;
  /** Pixel scale (arcsec/px). @default 0.263 */
  pixelScale?: number;
  /** Prescan columns on the outer edge of each amplifier. @default 6 */
  prescan?: number;
  /** Overscan columns of each amplifier. @default 50 */
  overscan?: number;
  /** Overscan rows below the data. @default 50 */
  overscanRows?: number;
  /** Camera seed: another seed, another set of CCD defects and electronics. @default 1 */
  seed?: number;
}

/** Electronics of one amplifier. */
export interface SimAmp {
  name: "A" | "B";
  /** e-/ADU. */
  gain: number;
  /** e- rms. */
  readNoise: number;
  /** Mean bias level (ADU). */
  biasLevel: number;
  /** Amplitude (ADU) of the bias ramp at the amplifier's first data columns (fixed pattern). */
  biasRamp: number;
  /** Amplitude (ADU) of the slow bias drift along rows (changes per exposure). */
  biasDrift: number;
  /** Full well (e-): charge above it bleeds along the column. */
  fullWell: number;
  /** Saturation (raw ADU): min(biasLevel + fullWell / gain, 65535). */
  saturation: number;
}

/** A hot pixel: dark current far above the rest. */
export interface HotPixel {
  x: number;
  y: number;
  /** Dark current (e-/s). */
  rate: number;
}

/** Physical properties of one simulated CCD. */
export interface SimCcd {
  id: string;
  ccdnum: number;
  /** Amplifier B reads x < nx/2, amplifier A x >= nx/2. */
  amps: [SimAmp, SimAmp];
  /** Dark current (e-/s/px). */
  darkCurrent: number;
  /** Large-scale flat (spatial polynomial of degree 2, core conventions). */
  flatPoly: number[];
  /** Pixel-to-pixel flat rms. */
  flatPixelRms: number;
  /** Dead columns (trimmed x). */
  badColumns: number[];
  hotPixels: HotPixel[];
  /** Focal-plane centre (px, DECam-like layout). */
  centre: { x: number; y: number };
}

/** Raw-frame geometry of one amplifier (0-based, half-open; see formatSection). */
export interface RawAmpGeometry {
  name: "A" | "B";
  /** Raw columns the amplifier owns (prescan + overscan + data). */
  cols: Box;
  data: Box;
  bias: Box;
  prescan: Box;
  /** Where its data go in the trimmed image. */
  trim: Box;
}

/** The simulated camera. */
export class SimCam implements Instrument {
  readonly name = "SimCam";
  readonly pixelScale: number;
  readonly bands = ["u", "g", "r", "i", "z", "Y"] as const;
  readonly colourRange = [0, 3.5] as const;
  /** Resolved options. */
  readonly options: Required<SimCamOptions>;
  readonly #sections: string[];
  readonly #ccds = new Map<string, SimCcd>();

  constructor(options: SimCamOptions = {}) {
    this.options = {
      nCcd: options.nCcd ?? 4,
      ccdNx: options.ccdNx ?? 2048,
      ccdNy: options.ccdNy ?? 4096,
      pixelScale: options.pixelScale ?? 0.263,
      prescan: options.prescan ?? 6,
      overscan: options.overscan ?? 50,
      overscanRows: options.overscanRows ?? 50,
      seed: options.seed ?? 1,
    };
    const o = this.options;
    if (!Number.isInteger(o.nCcd) || o.nCcd < 1 || o.nCcd > 62) {
      throw new RangeError(`nCcd ${o.nCcd} out of 1..62`);
    }
    if (!Number.isInteger(o.ccdNx) || o.ccdNx < 16 || o.ccdNx % 2 !== 0) {
      throw new RangeError(`ccdNx ${o.ccdNx} must be an even integer >= 16`);
    }
    if (!Number.isInteger(o.ccdNy) || o.ccdNy < 16) {
      throw new RangeError(`ccdNy ${o.ccdNy} must be an integer >= 16`);
    }
    this.pixelScale = o.pixelScale;
    this.#sections = sectionsByDistance().slice(0, o.nCcd);
  }

  sectionIds(): string[] {
    return [...this.#sections];
  }

  sectionOf(extension: Header): string | null {
    const id = decamSectionOf(extension);
    return id !== null && this.#sections.includes(id) ? id : null;
  }

  band(filter: string): string | null {
    const first = filter.trim().split(/\s+/)[0] ?? "";
    return (this.bands as readonly string[]).includes(first) ? first : null;
  }

  exposureInfo(primary: Header, extension?: Header): ExposureInfo {
    return decamExposureInfo(this.name, (f) => this.band(f), primary, extension);
  }

  layout(extension: Header): SectionLayout {
    const id = this.sectionOf(extension);
    if (!id) throw new Error("SimCam: extension is not one of this camera's sections");
    return twoAmpLayout(id, extension);
  }

  badPixels(sectionId: string, _nx: number, _ny: number): Box[] {
    const c = this.ccd(sectionId);
    const ny = this.options.ccdNy;
    return [
      ...c.badColumns.map((x) => ({ x0: x, x1: x + 1, y0: 0, y1: ny })),
      ...c.hotPixels.map((h) => ({ x0: h.x, x1: h.x + 1, y0: h.y, y1: h.y + 1 })),
    ];
  }

  gaiaToBand(band: string, g: number, bp: number, rp: number): number {
    const c = DECAM_GAIA_COLOUR[band];
    if (!c) throw new RangeError(`SimCam has no Gaia colour transform for band ${band}`);
    return cubicColour(c, g, bp, rp);
  }

  /**
   * SimCam: overscan, bias and flat. Its dark current (< 0.01 e-/s) is below the
   * noise of any exposure and its hot pixels are in the bad-pixel mask, so no dark.
   */
  preprocessingSteps(_band: string | null): readonly PreprocessingStep[] {
    return ["overscan", "zero", "flat"];
  }

  /** SimCam's response is linear up to full well. */
  linearity(_sectionId: string, _amp: string): readonly number[] | null {
    return null;
  }

  /** Size of a raw extension. */
  get rawSize(): { nx: number; ny: number } {
    const o = this.options;
    return { nx: o.ccdNx + 2 * (o.prescan + o.overscan), ny: o.ccdNy + o.overscanRows };
  }

  /**
   * Raw geometry, DECam's: [prescan B | overscan B | data B | data A | overscan A |
   * prescan A] along x, overscan rows below the data.
   */
  rawGeometry(): RawAmpGeometry[] {
    const o = this.options;
    const half = o.ccdNx / 2, p = o.prescan, s = o.overscan, r = o.overscanRows;
    const { nx: rawNx, ny: rawNy } = this.rawSize;
    const rows = { y0: r, y1: rawNy };
    return [
      {
        name: "A",
        cols: { x0: p + s + half, x1: rawNx, y0: 0, y1: rawNy },
        data: { x0: p + s + half, x1: p + s + o.ccdNx, ...rows },
        bias: { x0: p + s + o.ccdNx, x1: p + 2 * s + o.ccdNx, ...rows },
        prescan: { x0: rawNx - p, x1: rawNx, ...rows },
        trim: { x0: half, x1: o.ccdNx, y0: 0, y1: o.ccdNy },
      },
      {
        name: "B",
        cols: { x0: 0, x1: p + s + half, y0: 0, y1: rawNy },
        data: { x0: p + s, x1: p + s + half, ...rows },
        bias: { x0: p, x1: p + s, ...rows },
        prescan: { x0: 0, x1: p, ...rows },
        trim: { x0: 0, x1: half, y0: 0, y1: o.ccdNy },
      },
    ];
  }

  /** DECam-style section keywords of an extension (DATASEC, BIASSECA, GAINA, ...). */
  sectionCards(id: string): Array<[string, string | number, string]> {
    const c = this.ccd(id);
    const geo = this.rawGeometry();
    const a = geo[0], b = geo[1];
    const o = this.options;
    const cards: Array<[string, string | number, string]> = [
      ["CCDNUM", c.ccdnum, "CCD number"],
      ["DETPOS", id, "detector position"],
      [
        "DATASEC",
        formatSection({ x0: b.data.x0, x1: a.data.x1, y0: a.data.y0, y1: a.data.y1 }),
        "data section",
      ],
      [
        "TRIMSEC",
        formatSection({ x0: b.data.x0, x1: a.data.x1, y0: a.data.y0, y1: a.data.y1 }),
        "trim section",
      ],
      ["CCDSEC", formatSection({ x0: 0, x1: o.ccdNx, y0: 0, y1: o.ccdNy }), "CCD section"],
    ];
    for (const [g, amp] of [[a, c.amps[0]], [b, c.amps[1]]] as const) {
      const n = g.name;
      cards.push(
        [`DATASEC${n}`, formatSection(g.data), `data section, amplifier ${n}`],
        [`BIASSEC${n}`, formatSection(g.bias), `overscan section, amplifier ${n}`],
        [`PRESEC${n}`, formatSection(g.prescan), `prescan section, amplifier ${n}`],
        [`CCDSEC${n}`, formatSection(g.trim), `CCD section, amplifier ${n}`],
        [`GAIN${n}`, amp.gain, `gain (e-/ADU), amplifier ${n}`],
        [`RDNOISE${n}`, amp.readNoise, `read noise (e-), amplifier ${n}`],
        [`SATURAT${n}`, amp.saturation, `saturation (ADU), amplifier ${n}`],
      );
    }
    return cards;
  }

  /** Physical properties of a section (deterministic from the camera seed and the name). */
  ccd(id: string): SimCcd {
    const cached = this.#ccds.get(id);
    if (cached) return cached;
    const ccdnum = decamCcdnum(id);
    if (ccdnum === null || !this.#sections.includes(id)) {
      throw new RangeError(`SimCam has no section ${id} (it has ${this.#sections.join(", ")})`);
    }
    const o = this.options;
    const rng = new Rng(hashSeed(o.seed, ccdnum, 77));
    // one full well per CCD: charge bleeds along whole columns
    const fullWell = Math.round(rng.range(150000, 180000));
    const amp = (name: "A" | "B"): SimAmp => {
      const gain = rng.range(3.7, 4.4);
      const biasLevel = Math.round(rng.range(1500, 3500));
      return {
        name,
        gain,
        readNoise: rng.range(5.5, 7.5),
        biasLevel,
        biasRamp: rng.range(2, 8),
        biasDrift: rng.range(0.5, 2),
        fullWell,
        saturation: Math.min(65535, Math.floor(biasLevel + fullWell / gain)),
      };
    };
    const amps: [SimAmp, SimAmp] = [amp("A"), amp("B")];
    // flat: a few per cent of large-scale structure (vignetting-like curvature and a tilt)
    const flatPoly = [
      1,
      rng.normal(0, 0.01),
      rng.range(-0.03, -0.01),
      rng.normal(0, 0.01),
      rng.normal(0, 0.005),
      rng.range(-0.03, -0.01),
    ];
    const area = (o.ccdNx * o.ccdNy) / (2048 * 4096);
    const nBad = rng.poisson(2 * Math.sqrt(area));
    const badColumns: number[] = [];
    for (let k = 0; k < nBad; k++) badColumns.push(rng.int(o.ccdNx));
    const nHot = rng.poisson(40 * area);
    const hotPixels: HotPixel[] = [];
    for (let k = 0; k < nHot; k++) {
      hotPixels.push({ x: rng.int(o.ccdNx), y: rng.int(o.ccdNy), rate: rng.logUniform(5, 500) });
    }
    const centre = focalPlaneCentre(
      id,
      o.ccdNy,
      o.ccdNx,
      100 * o.ccdNy / 4096,
      150 * o.ccdNx / 2048,
    );
    const ccd: SimCcd = {
      id,
      ccdnum,
      amps,
      darkCurrent: rng.range(0.002, 0.01),
      flatPoly,
      flatPixelRms: 0.01,
      badColumns: [...new Set(badColumns)].sort((x, y) => x - y),
      hotPixels,
      centre,
    };
    this.#ccds.set(id, ccd);
    return ccd;
  }
}
