/**
 * calibrate: raw bias and flat exposures in the object store become master
 * frames, one per section (and band, for flats), registered as calibrator files
 * valid from the date of the earliest frame. Preprocessing finds them by
 * instrument, section, filter and date.
 *
 * @module
 */
import {
  masterBias,
  masterFlat,
  type MasterFrame,
  type RawFrame,
} from "../_shared/calibration/master.ts";
import { type CalibratorRecord, saveCalibrator } from "../_shared/calibration/registry.ts";
import { InputError } from "../_shared/errors.ts";
import { openFits } from "../_shared/fits/reader.ts";
import { objectSource } from "../_shared/fits/source.ts";
import type { Services } from "../_shared/runtime/handler.ts";
import type { Instrument } from "../_shared/instruments/instrument.ts";
import { getInstrument } from "../_shared/instruments/registry.ts";
import { findSection, readingFits } from "../preprocessing/instrument.ts";

/** Raw calibration exposures, by object key. */
export interface CalibrationInputs {
  biasKeys: readonly string[];
  flatKeys: readonly string[];
}

interface LoadedExposure {
  key: string;
  instrument: string;
  /** The instrument's band of the FILTER keyword (flats are per band). */
  band: string | null;
  mjd: number;
  sections: Map<string, RawFrame>;
}

const MJD_UNIX_EPOCH = 40587;

async function loadExposure(services: Services, key: string): Promise<LoadedExposure> {
  const fits = await readingFits(
    key,
    () => openFits(objectSource(services.store, key), { name: key }),
  );
  const primary = (await readingFits(key, () => fits.hdu(0))).header;
  const name = primary.getString("INSTRUME");
  const mjd = primary.getNumber("MJD-OBS");
  if (!name || mjd === undefined) {
    throw new InputError(`${key}: primary header needs INSTRUME and MJD-OBS`, { file: key });
  }
  let instrument: Instrument;
  try {
    instrument = getInstrument(name, { nCcd: 62 });
  } catch (err) {
    throw new InputError(`${key}: ${(err as Error).message}`, { file: key });
  }
  const filter = primary.getString("FILTER");
  const sections = new Map<string, RawFrame>();
  for (const hdu of await readingFits(key, () => fits.hdus())) {
    const id = hdu.index === 0 || hdu.kind !== "image" ? null : instrument.sectionOf(hdu.header);
    if (id === null) continue;
    const { layout } = await findSection(fits, name, id);
    const image = await readingFits(key, () => hdu.readImage());
    sections.set(id, { raw: image.data as ArrayLike<number>, layout });
  }
  return {
    key,
    instrument: instrument.name,
    band: filter ? instrument.band(filter) ?? filter.trim() : null,
    mjd,
    sections,
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

/**
 * Builds master biases per (instrument, section) and master flats per
 * (instrument, section, filter), and registers them. Returns the new rows.
 */
export async function buildMasters(
  services: Services,
  inputs: CalibrationInputs,
  progress: (message: string) => void = () => {},
): Promise<CalibratorRecord[]> {
  const biases: LoadedExposure[] = [];
  for (const key of inputs.biasKeys) biases.push(await loadExposure(services, key));
  const flats: LoadedExposure[] = [];
  for (const key of inputs.flatKeys) flats.push(await loadExposure(services, key));
  const saved: CalibratorRecord[] = [];
  const masterBiases = new Map<string, MasterFrame>();
  const validFrom = (group: readonly LoadedExposure[]) =>
    new Date((Math.min(...group.map((e) => e.mjd)) - MJD_UNIX_EPOCH) * 86400000);

  for (const [instrument, group] of groupBy(biases, (e) => e.instrument)) {
    for (const sectionId of group[0].sections.keys()) {
      const frames = group.map((e) => e.sections.get(sectionId)).filter((f) => f !== undefined);
      progress(`master bias ${instrument} ${sectionId} from ${frames.length} frames`);
      const frame = masterBias(frames);
      masterBiases.set(`${instrument}/${sectionId}`, frame);
      saved.push(
        await saveCalibrator(services.db, services.store, {
          type: "zero",
          instrument,
          sectionId,
          frame,
          validFrom: validFrom(group),
        }),
      );
    }
  }
  for (const [groupKey, group] of groupBy(flats, (e) => `${e.instrument}/${e.band}`)) {
    const { instrument, band } = group[0];
    if (!band) throw new InputError(`${group[0].key}: a flat needs FILTER`, { file: group[0].key });
    for (const sectionId of group[0].sections.keys()) {
      const frames = group.map((e) => e.sections.get(sectionId)).filter((f) => f !== undefined);
      progress(`master flat ${groupKey} ${sectionId} from ${frames.length} frames`);
      const frame = masterFlat(frames, masterBiases.get(`${instrument}/${sectionId}`) ?? null);
      saved.push(
        await saveCalibrator(services.db, services.store, {
          type: "flat",
          instrument,
          sectionId,
          filter: band,
          frame,
          validFrom: validFrom(group),
        }),
      );
    }
  }
  return saved;
}
