/**
 * preprocessing handler: (exposure, section) -> raw extension (ranged reads) +
 * master calibrations -> run() -> Image MEF in the object store + an images row.
 *
 * @module
 */
import { type CalibratorType, findCalibrator, loadCalibrator } from "../_shared/calibration/mod.ts";
import type { DataStore } from "../_shared/datastore.ts";
import { badnessOf } from "../_shared/db/badness.ts";
import { HEALPIX_ORDER } from "../_shared/db/schema.ts";
import { findImage, insertImage } from "../_shared/db/images.ts";
import { InputError } from "../_shared/errors.ts";
import type { Header } from "../_shared/fits/header.ts";
import { encodeImage } from "../_shared/products/image_file.ts";
import { productKey } from "../_shared/products/keys.ts";
import type { Handler } from "../_shared/runtime/handler.ts";
import { executeStep } from "../_shared/runtime/execute.ts";
import { ang2pixNest } from "../_shared/sky/mod.ts";
import { wcsFromHeader, type WcsParams } from "../_shared/wcs/mod.ts";
import { findSection, readingFits } from "./instrument.ts";
import {
  type PreprocessingInputs,
  type PreprocessingParameters,
  PreprocessingParams,
  preprocessingStep,
} from "./step.ts";

/** The message's section id; an InputError when it has none. */
export function sectionIdOf(ds: DataStore): string {
  const id = ds.message.section_id;
  if (!id) {
    throw new InputError(`step ${ds.message.step} needs section_id`, { field: "section_id" });
  }
  return id;
}

/** Extension cards worth keeping in the image header (not structure, sections, or WCS). */
function keptCards(ext: Header): Array<[string, string | number | boolean, string]> {
  const skip =
    /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|BZERO|BSCALE|BLANK|CHECKSUM|DATASUM|Z[A-Z0-9]*|TFIELDS|T(TYPE|FORM)\d+|COMMENT|HISTORY|(DATA|BIAS|TRIM|PRE|CCD)SEC[A-Z]?|WCSAXES|CTYPE\d|CUNIT\d|CRVAL\d|CRPIX\d|CD\d_\d|PC\d_\d|CDELT\d|PV\d_\d+|RADESYS|EQUINOX|[AB]P?_\d_\d|[AB]P?_ORDER|LONPOLE|LATPOLE|)$/;
  const out: Array<[string, string | number | boolean, string]> = [];
  for (const key of ext.keys()) {
    if (skip.test(key)) continue;
    const v = ext.get(key);
    if (v === undefined || v === null) continue;
    out.push([key, typeof v === "bigint" ? Number(v) : v, ext.comment(key) ?? ""]);
  }
  return out;
}

/** Loads the section's raw pixels, layout, bad pixels, calibrations and WCS. */
export async function loadPreprocessingInputs(
  ds: DataStore,
  params: PreprocessingParameters,
): Promise<PreprocessingInputs & { calibrators: Record<string, string> }> {
  const sectionId = sectionIdOf(ds);
  const exposure = await ds.exposure();
  const fits = await readingFits(exposure.filepath, () => ds.exposureFits());
  const { instrument, hdu, layout } = await findSection(fits, exposure.instrument, sectionId);
  const band = exposure.filter ? instrument.band(exposure.filter) : null;
  const date = new Date((exposure.mjd - 40587) * 86400000);
  const calibrators: Record<string, string> = {};
  const calibration = async (type: CalibratorType, need: "required" | "if_available" | "skip") => {
    if (need === "skip") return null;
    const rec = await findCalibrator(ds.db, {
      instrument: instrument.name,
      sectionId,
      type,
      filter: type === "flat" ? band : null,
      date,
    });
    if (!rec) {
      if (need === "if_available") return null;
      throw new InputError(
        `no ${type} calibrator for ${instrument.name} section ${sectionId}` +
          `${
            type === "flat" ? ` band ${band ?? exposure.filter}` : ""
          } valid at ${date.toISOString()}`,
        { missing: type, section: sectionId, filter: band },
      );
    }
    const frame = await loadCalibrator(ds.store, rec);
    if (frame.nx !== layout.nx || frame.ny !== layout.ny) {
      throw new InputError(
        `${type} calibrator ${rec.id} is ${frame.nx}x${frame.ny}, section ${sectionId} is ` +
          `${layout.nx}x${layout.ny}`,
        { calibrator: rec.id },
      );
    }
    calibrators[type] = rec.id;
    return frame.image;
  };
  const bias = await calibration("zero", params.zero);
  const dark = await calibration("dark", params.dark);
  const flat = await calibration("flat", params.flat);
  const raw = await readingFits(exposure.filepath, () => hdu.readImage());
  if (raw.axes[0] !== layout.rawNx || raw.axes[1] !== layout.rawNy) {
    throw new InputError(
      `${exposure.filepath}[${hdu.index}]: ${raw.axes.join("x")} pixels, layout says ` +
        `${layout.rawNx}x${layout.rawNy}`,
      { section: sectionId },
    );
  }
  let wcs: WcsParams | null = null;
  try {
    wcs = wcsFromHeader(hdu.header);
  } catch {
    wcs = null; // no usable WCS: the handler falls back to the pointing
  }
  const cards: PreprocessingInputs["cards"] = [
    ["INSTRUME", instrument.name, "instrument"],
    ["TELESCOP", exposure.telescope, "telescope"],
    ["FILTER", exposure.filter ?? "", "filter"],
    ["BAND", band ?? "", "band"],
    ["EXPTIME", exposure.exp_time, "exposure time (s)"],
    ["MJD-OBS", exposure.mjd, "start of exposure (MJD)"],
    ["SECTION", sectionId, "section (CCD) of the exposure"],
    ...keptCards(hdu.header).filter(([k]) =>
      !["INSTRUME", "TELESCOP", "FILTER", "EXPTIME", "MJD-OBS", "GAIN", "SATURATE"].includes(k)
    ),
  ];
  return {
    raw: raw.data as ArrayLike<number>,
    layout,
    badPixels: instrument.badPixels(sectionId, layout.nx, layout.ny),
    exptime: exposure.exp_time,
    bias,
    dark,
    flat,
    wcs,
    cards,
    calibrators,
  };
}

/** Handles a preprocessing message. */
export const handlePreprocessing: Handler = (ctx) => {
  const params = PreprocessingParams.parse(ctx.config.preprocessing ?? {});
  let calibrators: Record<string, string> = {};
  return executeStep(ctx, {
    step: preprocessingStep,
    upstreams: async (ds) => [(await ds.exposure()).provenance_id],
    async findExisting(db, ds, provenance) {
      const image = await findImage(db, ds.exposureId, sectionIdOf(ds), provenance.id);
      return image?.id ?? null;
    },
    async loadInputs(ds) {
      const inputs = await loadPreprocessingInputs(ds, params);
      calibrators = inputs.calibrators;
      return inputs;
    },
    async save(ds, outputs, provenance, tx) {
      const exposure = await ds.exposure();
      const sectionId = sectionIdOf(ds);
      const key = productKey("image", { exposureId: exposure.id, sectionId }, provenance.id);
      const stored = await ds.store.put(key, encodeImage(outputs.image), {
        contentType: "application/fits",
      });
      const est = outputs.estimates;
      const centre = est.centre ?? { ra: exposure.ra, dec: exposure.dec };
      const corners = est.corners ?? {
        ra: [centre.ra, centre.ra, centre.ra, centre.ra],
        dec: [centre.dec, centre.dec, centre.dec, centre.dec],
      };
      const upstream = await badnessOf(tx, "exposures", exposure.id);
      return await insertImage(tx, {
        provenanceId: provenance.id,
        exposureId: exposure.id,
        sectionId,
        type: "sci",
        instrument: exposure.instrument,
        telescope: exposure.telescope,
        target: typeof exposure.header.OBJECT === "string" ? exposure.header.OBJECT : null,
        filter: exposure.filter,
        mjd: exposure.mjd,
        expTime: exposure.exp_time,
        airmass: typeof exposure.header.AIRMASS === "number" ? exposure.header.AIRMASS : null,
        width: outputs.image.width,
        height: outputs.image.height,
        ra: centre.ra,
        dec: centre.dec,
        healpix: ang2pixNest(HEALPIX_ORDER, centre.ra, centre.dec),
        corners: corners as never,
        fwhmEstimate: est.fwhmArcsec,
        zeroPointEstimate: null,
        limMagEstimate: null,
        bkgMeanEstimate: est.sky,
        bkgRmsEstimate: est.rms,
        preprocBitflag: outputs.preprocBitflag,
        header: {},
        info: {
          calibrators,
          fwhm_px: est.fwhmPx,
          n_saturated: est.nSaturated,
          n_bleed: est.nBleed,
          n_zero_weight: est.nBad,
          wcs_from_header: est.centre !== null,
        },
        bitflag: 0,
        upstreamBitflag: upstream,
        filepath: key,
        md5: stored.md5,
      });
    },
  });
};
