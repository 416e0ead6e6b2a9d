/**
 * Test fixtures of preprocessing and extraction (tests, figures and benches
 * only): a simulated SimCam with its master bias and flat per section, science
 * exposures with truth, and the in-memory inputs of preprocessing's run().
 *
 * @module
 */
import {
  masterBias,
  masterFlat,
  type MasterFrame,
  saveCalibrator,
} from "../_shared/calibration/mod.ts";
import type { Db } from "../_shared/db/db.ts";
import { Header } from "../_shared/fits/header.ts";
import { SimCam } from "../_shared/instruments/simcam.ts";
import { type ExposureSpec, type RenderedCcd, renderExposure } from "../_shared/sim/camera.ts";
import { SimSky, type SimSkyOptions } from "../_shared/sim/sky.ts";
import type { ObjectStore } from "../_shared/storage/object_store.ts";
import { wcsFromHeader } from "../_shared/wcs/mod.ts";
import type { PreprocessingInputs } from "./step.ts";

/** A simulated camera with masters for each of its sections. */
export interface SimSetup {
  cam: SimCam;
  sky: SimSky;
  flats: Map<string, Float32Array>;
  bias: Map<string, MasterFrame>;
  flat: Map<string, MasterFrame>;
  band: "g" | "r";
}

/** Options of {@linkcode simSetup}. */
export interface SimSetupOptions {
  /** CCD size. @default 512 x 1024 */
  nx?: number;
  ny?: number;
  /** CCDs. @default 1 */
  nCcd?: number;
  /** Bias and flat frames per master. @default 5 */
  frames?: number;
  /** Sky options. @default seed 3 */
  sky?: SimSkyOptions;
  /** Band of the flats and science exposures. @default "r" */
  band?: "g" | "r";
}

/** The layout of a rendered CCD (its header cards through the camera). */
export function layoutOf(cam: SimCam, c: RenderedCcd) {
  return cam.layout(Header.from([["NAXIS1", c.rawNx], ["NAXIS2", c.rawNy], ...c.cards]));
}

/** Builds the camera (seed 1, the pipeline's SimCam seed), sky and master frames. */
export function simSetup(options: SimSetupOptions = {}): SimSetup {
  const cam = new SimCam({
    nCcd: options.nCcd ?? 1,
    ccdNx: options.nx ?? 512,
    ccdNy: options.ny ?? 1024,
    seed: 1,
  });
  const sky = new SimSky({ seed: 3, ...(options.sky ?? {}) });
  const band = options.band ?? "r";
  const flats = new Map<string, Float32Array>();
  const n = options.frames ?? 5;
  const base = { ra: 150.1, dec: 2.2, mjd: 60100.1, band };
  const render = (type: "bias" | "flat", k: number) =>
    renderExposure(cam, sky, { ...base, type, expnum: 9000 + k + (type === "flat" ? 100 : 0) }, {
      flats,
    });
  const biasExp = Array.from({ length: n }, (_, k) => render("bias", k));
  const flatExp = Array.from({ length: n }, (_, k) => render("flat", k));
  const bias = new Map<string, MasterFrame>(), flat = new Map<string, MasterFrame>();
  for (const [i, id] of cam.sectionIds().entries()) {
    const asRaw = (c: RenderedCcd) => ({ raw: c.raw, layout: layoutOf(cam, c) });
    const b = masterBias(biasExp.map((e) => asRaw(e.ccds[i])));
    bias.set(id, b);
    flat.set(id, masterFlat(flatExp.map((e) => asRaw(e.ccds[i])), b));
  }
  return { cam, sky, flats, bias, flat, band };
}

/** Registers the setup's masters as calibrator files (valid from MJD 60000). */
export async function registerMasters(db: Db, store: ObjectStore, s: SimSetup): Promise<void> {
  for (const id of s.cam.sectionIds()) {
    const validFrom = new Date((60000 - 40587) * 86400000);
    await saveCalibrator(db, store, {
      type: "zero",
      instrument: "SimCam",
      sectionId: id,
      frame: s.bias.get(id)!,
      validFrom,
    });
    await saveCalibrator(db, store, {
      type: "flat",
      instrument: "SimCam",
      sectionId: id,
      filter: s.band,
      frame: s.flat.get(id)!,
      validFrom,
    });
  }
}

/** A science exposure of the setup's sky. */
export function simScience(s: SimSetup, spec: Partial<ExposureSpec> = {}) {
  return renderExposure(s.cam, s.sky, {
    ra: 150.1,
    dec: 2.2,
    mjd: 60120.2,
    band: s.band,
    expnum: 77,
    ...spec,
  }, { flats: s.flats });
}

/** preprocessing's run() inputs for one rendered CCD (what the handler loads). */
export function preprocessingInputsOf(
  s: SimSetup,
  c: RenderedCcd,
  exptime = 90,
): PreprocessingInputs {
  const layout = layoutOf(s.cam, c);
  const header = Header.from(c.cards);
  return {
    raw: c.raw,
    layout,
    badPixels: s.cam.badPixels(c.id, layout.nx, layout.ny),
    exptime,
    bias: s.bias.get(c.id)!.image,
    dark: null,
    flat: s.flat.get(c.id)!.image,
    wcs: wcsFromHeader(header),
    cards: [["SECTION", c.id, "section"]],
  };
}
