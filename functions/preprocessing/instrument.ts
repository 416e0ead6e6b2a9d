/**
 * The instrument of an exposure, as preprocessing needs it: the raw extension of
 * a section and its layout, and the instrument object whose standard bad-pixel
 * mask matches the file.
 *
 * SimCam's geometry (CCD size) is not a header keyword of its raw files but it
 * follows from the extension's layout, and its camera seed defaults to 1: the
 * camera is rebuilt with every DECam section name (62 CCDs), the CCD size of the
 * file and the seed, so the bad-pixel mask is the one the simulator drew.
 *
 * @module
 */
import { InputError } from "../_shared/errors.ts";
import { FitsError } from "../_shared/fits/errors.ts";
import type { FitsFile, Hdu } from "../_shared/fits/reader.ts";
import type { Instrument, SectionLayout } from "../_shared/instruments/instrument.ts";
import { getInstrument } from "../_shared/instruments/registry.ts";

/** A section's extension, its layout and the matching instrument. */
export interface SectionSource {
  instrument: Instrument;
  hdu: Hdu;
  layout: SectionLayout;
}

/** Wraps a FITS read problem (truncated or corrupt file) as an InputError naming the file. */
export async function readingFits<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FitsError || err instanceof RangeError) {
      throw new InputError(`${file}: cannot read the raw file: ${err.message}`, { file });
    }
    throw err;
  }
}

/**
 * Finds the extension of `sectionId` in a raw file of `instrumentName`; an
 * InputError when the instrument is unknown or the file has no such section.
 */
export async function findSection(
  fits: FitsFile,
  instrumentName: string,
  sectionId: string,
  simcamSeed = 1,
): Promise<SectionSource> {
  let probe: Instrument;
  try {
    probe = getInstrument(instrumentName, { nCcd: 62 });
  } catch (err) {
    throw new InputError((err as Error).message, { field: "instrument" });
  }
  const hdus = await readingFits(fits.name, () => fits.hdus());
  const seen: string[] = [];
  for (const hdu of hdus) {
    if (hdu.index === 0 || hdu.kind !== "image") continue;
    const id = probe.sectionOf(hdu.header);
    if (id === null) continue;
    seen.push(id);
    if (id !== sectionId) continue;
    let layout: SectionLayout;
    try {
      layout = probe.layout(hdu.header);
    } catch (err) {
      throw new InputError(`${fits.name}[${hdu.index}]: ${(err as Error).message}`, {
        file: fits.name,
        section: sectionId,
      });
    }
    const instrument = probe.name === "SimCam"
      ? getInstrument("SimCam", { nCcd: 62, ccdNx: layout.nx, ccdNy: layout.ny, seed: simcamSeed })
      : probe;
    return { instrument, hdu, layout };
  }
  throw new InputError(
    `${fits.name}: no section ${sectionId} (the file has ${seen.join(", ") || "none"})`,
    { field: "section_id", section: sectionId },
  );
}

/** The section ids of a raw file, in file order. */
export async function sectionsOf(fits: FitsFile, instrumentName: string): Promise<string[]> {
  const probe = getInstrument(instrumentName, { nCcd: 62 });
  const ids: string[] = [];
  for (const hdu of await readingFits(fits.name, () => fits.hdus())) {
    if (hdu.index === 0 || hdu.kind !== "image") continue;
    const id = probe.sectionOf(hdu.header);
    if (id !== null) ids.push(id);
  }
  return ids;
}
