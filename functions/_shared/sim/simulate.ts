/**
 * `skydiff simulate`: writes a simulated field — calibration exposures (biases and
 * dome flats), reference epochs, then new epochs in which transients have risen —
 * as raw SimCam files (fpack-like Rice compression by default) with their truth
 * tables and a manifest, to a directory or an object store.
 *
 * Layout under the destination:
 *   calib/<field>_<expnum>_bias.fits[.fz], calib/<field>_<expnum>_flat_<band>.fits[.fz]
 *   raw/<field>_<expnum>_<band>.fits[.fz]        science exposures
 *   truth/<field>_<expnum>_<band>_truth.fits     sources drawn on each CCD
 *   manifest.json                                options, exposures, transients
 *
 * Reference epochs come first; new epochs start `gapDays` later, and transient peaks
 * fall within the new epochs (their rise is at most 20 days, Gaussian), so the
 * references do not contain them.
 *
 * @module
 */
import { z } from "zod";
import { SimCam } from "../instruments/simcam.ts";
import type { ObjectStore } from "../storage/object_store.ts";
import { renderExposure } from "./camera.ts";
import { exposureFits, truthFits } from "./output.ts";
import { hashSeed, Rng } from "./random.ts";
import { SIM_BANDS, SimSky } from "./sky.ts";

/** Options of {@linkcode simulateField}. */
export const simulateOptionsSchema = z.object({
  out: z.string().min(1).default("data/sim").describe(
    "output directory, or the key prefix when an object store is given",
  ),
  field: z.string().regex(/^[A-Za-z0-9_-]+$/).default("simfield").describe(
    "field name (OBJECT, and the file name prefix)",
  ),
  ra: z.number().min(0).max(360).default(150).describe("field centre right ascension (deg)"),
  dec: z.number().min(-89).max(89).default(2.2).describe("field centre declination (deg)"),
  band: z.enum(SIM_BANDS).default("r").describe("band of the science exposures"),
  nCcd: z.number().int().min(1).max(62).default(4).describe("CCDs of the camera"),
  ccdNx: z.number().int().min(16).default(2048).describe("CCD width (px)"),
  ccdNy: z.number().int().min(16).default(4096).describe("CCD height (px)"),
  refEpochs: z.number().int().min(0).default(10).describe("reference epochs"),
  newEpochs: z.number().int().min(0).default(5).describe("new epochs (with transients)"),
  startMjd: z.number().default(60000).describe("MJD of the first reference epoch"),
  cadenceDays: z.number().positive().default(1).describe("days between epochs"),
  gapDays: z.number().min(0).default(100).describe(
    "days between the last reference epoch and the first new one",
  ),
  exptime: z.number().positive().default(90).describe("exposure time (s)"),
  seeing: z.tuple([z.number().positive(), z.number().positive()]).default([0.9, 1.4]).describe(
    "range of seeing FWHM (arcsec) drawn per epoch",
  ),
  ditherArcsec: z.number().min(0).default(30).describe("pointing offsets drawn per epoch (arcsec)"),
  transientsPerDeg2: z.number().min(0).default(500).describe("transients per square degree"),
  movingPerDeg2: z.number().min(0).default(20).describe(
    "moving objects per square degree per night",
  ),
  biases: z.number().int().min(0).default(5).describe("bias exposures"),
  flats: z.number().int().min(0).default(5).describe("dome flats in the band"),
  skySeed: z.number().int().default(1).describe("seed of the simulated sky"),
  cameraSeed: z.number().int().default(1).describe("seed of the camera's defects and electronics"),
  seed: z.number().int().default(1).describe("seed of the observing conditions and noise"),
  compress: z.boolean().default(true).describe("Rice tile-compress raw files (.fits.fz)"),
});

/** Options as given (defaults filled by the schema). */
export type SimulateOptions = z.input<typeof simulateOptionsSchema>;

/** Hooks of {@linkcode simulateField}. */
export interface SimulateHooks {
  /** Called before each exposure and at the end. */
  progress?: (p: SimulateProgress) => void;
  /** Write to this object store under the key prefix `out` instead of the directory `out`. */
  store?: ObjectStore;
}

/** One written exposure in the manifest. */
export interface ManifestExposure {
  kind: "bias" | "flat" | "reference" | "new";
  expnum: number;
  mjd: number;
  band: string;
  exptime: number;
  ra: number;
  dec: number;
  seeing: number | null;
  /** Path of the raw file, relative to the destination. */
  raw: string;
  /** Path of the truth file (science exposures). */
  truth: string | null;
  /** Transients drawn on the CCDs (science exposures). */
  transientsDrawn: number;
}

/** What simulateField wrote. */
export interface SimulateManifest {
  options: z.output<typeof simulateOptionsSchema>;
  exposures: ManifestExposure[];
  /** Every transient drawn on at least one science exposure (peaks fall in the new epochs). */
  transients: Array<{
    id: number;
    ra: number;
    dec: number;
    hostId: number | null;
    mjdPeak: number;
    peakMag: number;
  }>;
}

/** Progress of {@linkcode simulateField}. */
export interface SimulateProgress {
  done: number;
  total: number;
  message: string;
}

/**
 * Writes a simulated field to the directory `options.out` (or, with `hooks.store`,
 * to that object store under the key prefix `options.out`); returns (and writes)
 * its manifest.
 */
export async function simulateField(
  options: SimulateOptions,
  hooks: SimulateHooks = {},
): Promise<SimulateManifest> {
  const o = simulateOptionsSchema.parse(options);
  const cam = new SimCam({ nCcd: o.nCcd, ccdNx: o.ccdNx, ccdNy: o.ccdNy, seed: o.cameraSeed });
  const lastRef = o.startMjd + Math.max(0, o.refEpochs - 1) * o.cadenceDays;
  const newStart = lastRef + o.gapDays;
  const newEnd = newStart + Math.max(0, o.newEpochs - 1) * o.cadenceDays;
  const sky = new SimSky({
    seed: o.skySeed,
    transientsPerDeg2: o.transientsPerDeg2,
    transientMjdRange: [newStart, Math.max(newStart, newEnd)],
    movingPerDeg2: o.movingPerDeg2,
  });
  const write = async (path: string, bytes: Uint8Array) => {
    if (!hooks.store) {
      const full = `${o.out.replace(/\/+$/, "")}/${path}`;
      await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(full, bytes);
    } else {
      const prefix = o.out.replace(/^\/+|\/+$/g, "");
      await hooks.store.put(prefix ? `${prefix}/${path}` : path, bytes);
    }
  };
  const ext = o.compress ? ".fits.fz" : ".fits";
  const rng = new Rng(hashSeed(o.seed, 31));
  const total = o.biases + o.flats + o.refEpochs + o.newEpochs;
  let done = 0, expnum = hashSeed(o.seed, 7) % 100000 * 10;
  const exposures: ManifestExposure[] = [];
  const flats = new Map<string, Float32Array>();
  const report = (message: string) => hooks.progress?.({ done, total, message });
  const drawn = new Set<number>();

  for (let i = 0; i < o.biases + o.flats; i++) {
    const type = i < o.biases ? "bias" : "flat";
    expnum++;
    const mjd = o.startMjd - 0.5 + i * 0.001;
    report(`${type} ${expnum}`);
    const exp = renderExposure(cam, sky, {
      type,
      ra: o.ra,
      dec: o.dec,
      mjd,
      band: o.band,
      expnum,
      object: o.field,
      seed: hashSeed(o.seed, expnum),
    }, { flats });
    const raw = `calib/${o.field}_${expnum}_${type === "bias" ? "bias" : `flat_${o.band}`}${ext}`;
    await write(raw, exposureFits(exp, o.compress));
    exposures.push({
      kind: type,
      expnum,
      mjd,
      band: o.band,
      exptime: type === "bias" ? 0 : 10,
      ra: o.ra,
      dec: o.dec,
      seeing: null,
      raw,
      truth: null,
      transientsDrawn: 0,
    });
    done++;
  }
  for (let i = 0; i < o.refEpochs + o.newEpochs; i++) {
    const kind = i < o.refEpochs ? "reference" : "new";
    const mjd = kind === "reference"
      ? o.startMjd + i * o.cadenceDays + rng.range(0, 0.1)
      : newStart + (i - o.refEpochs) * o.cadenceDays + rng.range(0, 0.1);
    const seeing = rng.range(o.seeing[0], o.seeing[1]);
    const dRa = rng.normal(0, o.ditherArcsec / 3600) / Math.cos((o.dec * Math.PI) / 180);
    const dDec = rng.normal(0, o.ditherArcsec / 3600);
    const ra = (o.ra + dRa + 360) % 360, dec = o.dec + dDec;
    expnum++;
    report(`${kind} epoch ${expnum} (MJD ${mjd.toFixed(3)}, seeing ${seeing.toFixed(2)}")`);
    const exp = renderExposure(cam, sky, {
      ra,
      dec,
      mjd,
      band: o.band,
      exptime: o.exptime,
      seeing,
      airmass: rng.range(1.05, 1.6),
      expnum,
      object: o.field,
      seed: hashSeed(o.seed, expnum),
    }, { flats });
    for (const c of exp.ccds) {
      for (const t of c.truth) if (t.kind === "transient") drawn.add(t.id);
    }
    const name = `${o.field}_${expnum}_${o.band}`;
    const raw = `raw/${name}${ext}`, truth = `truth/${name}_truth.fits`;
    await write(raw, exposureFits(exp, o.compress));
    await write(truth, truthFits(exp));
    exposures.push({
      kind,
      expnum,
      mjd,
      band: o.band,
      exptime: o.exptime,
      ra,
      dec,
      seeing,
      raw,
      truth,
      transientsDrawn: exp.ccds.reduce(
        (n, c) => n + c.truth.filter((t) => t.kind === "transient").length,
        0,
      ),
    });
    done++;
  }
  // the transients drawn, with their light-curve parameters
  const reach = (Math.hypot(o.ccdNx, o.ccdNy) * 4 * cam.pixelScale) / 3600 + 0.1;
  const transients = sky.transientsInCone(o.ra, o.dec, reach).filter((t) => drawn.has(t.id))
    .map((t) => ({
      id: t.id,
      ra: t.ra,
      dec: t.dec,
      hostId: t.hostId,
      mjdPeak: t.mjdPeak,
      peakMag: t.peakMag[o.band],
    }));
  const manifest: SimulateManifest = { options: o, exposures, transients };
  await write("manifest.json", new TextEncoder().encode(JSON.stringify(manifest, null, 2)));
  report("done");
  return manifest;
}
