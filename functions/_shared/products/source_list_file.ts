/**
 * The SourceList product file: a FITS binary table, one row per source, in
 * extension SOURCES. Positions are 0-based pixel coordinates (pixel centres at
 * integers; add 1 for FITS/SExtractor conventions). Fluxes are in the image's
 * unit, as measured on the background-subtracted image: the table header's BUNIT
 * ("electron" for skydiff's preprocessed images; ADU when BUNIT is absent), which
 * also becomes the TUNIT of the flux columns (written "adu" in the table below).
 *
 * | column | type | unit | meaning |
 * |---|---|---|---|
 * | X, Y | D | pix | windowed centroid |
 * | X_ERR, Y_ERR | E | pix | centroid errors |
 * | A, B | E | pix | semi-major / semi-minor axis (second moments) |
 * | THETA | E | rad | major-axis angle, counter-clockwise from +x |
 * | FWHM | E | pix | full width at half maximum |
 * | NPIX | J | | pixels above the detection threshold |
 * | PEAK | E | ADU | highest pixel above background |
 * | BKG | E | ADU | local background (annulus) |
 * | FLUX_ISO, FLUXERR_ISO | E | ADU | isophotal flux |
 * | FLUX_APER, FLUXERR_APER | nE | ADU | circular apertures of radii APER_R1..n (header, pix) |
 * | FLUX_KRON, FLUXERR_KRON, KRON_RADIUS | E | ADU, pix | Kron photometry |
 * | FLUX_PSF, FLUXERR_PSF | E | ADU | PSF photometry |
 * | CLASS_STAR | E | | star/galaxy indicator, 1 = point-like |
 * | FLAGS | I | | source flags: bits 0-4 detection (core OBJ_FLAGS: blended, truncated, saturated, masked, singular), bits 5-10 measurement (core PhotFlags << 5) |
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { Header } from "../fits/header.ts";
import type { FitsFile } from "../fits/reader.ts";
import { column } from "../fits/table.ts";
import { writeFits } from "../fits/writer.ts";

/** Per-source columns with one value per source, by name and storage type. */
export const SCALAR_COLUMNS = {
  X: Float64Array,
  Y: Float64Array,
  X_ERR: Float32Array,
  Y_ERR: Float32Array,
  A: Float32Array,
  B: Float32Array,
  THETA: Float32Array,
  FWHM: Float32Array,
  NPIX: Int32Array,
  PEAK: Float32Array,
  BKG: Float32Array,
  FLUX_ISO: Float32Array,
  FLUXERR_ISO: Float32Array,
  FLUX_KRON: Float32Array,
  FLUXERR_KRON: Float32Array,
  KRON_RADIUS: Float32Array,
  FLUX_PSF: Float32Array,
  FLUXERR_PSF: Float32Array,
  CLASS_STAR: Float32Array,
  FLAGS: Int16Array,
} as const;

/** A scalar column name. */
export type ScalarColumn = keyof typeof SCALAR_COLUMNS;

const UNITS: Partial<Record<ScalarColumn, string>> = {
  X: "pix",
  Y: "pix",
  X_ERR: "pix",
  Y_ERR: "pix",
  A: "pix",
  B: "pix",
  THETA: "rad",
  FWHM: "pix",
  PEAK: "adu",
  BKG: "adu",
  FLUX_ISO: "adu",
  FLUXERR_ISO: "adu",
  FLUX_KRON: "adu",
  FLUXERR_KRON: "adu",
  KRON_RADIUS: "pix",
  FLUX_PSF: "adu",
  FLUXERR_PSF: "adu",
};

/** A source list in memory: columns of equal length, apertures as n x naper (row-major). */
export type SourceList =
  & { [K in ScalarColumn]: InstanceType<(typeof SCALAR_COLUMNS)[K]> }
  & {
    /** Number of sources. */
    count: number;
    /** Aperture radii, pixels. */
    apertureRadii: number[];
    /** count x apertureRadii.length fluxes, row-major. */
    FLUX_APER: Float32Array;
    FLUXERR_APER: Float32Array;
    /** Extra header cards (e.g. the detection threshold). */
    header: Header;
  };

/** An empty source list of `count` rows (zeros) with the given apertures. */
export function emptySourceList(count: number, apertureRadii: number[]): SourceList {
  const list = { count, apertureRadii, header: new Header() } as Record<string, unknown>;
  for (const [name, type] of Object.entries(SCALAR_COLUMNS)) list[name] = new type(count);
  list.FLUX_APER = new Float32Array(count * apertureRadii.length);
  list.FLUXERR_APER = new Float32Array(count * apertureRadii.length);
  return list as SourceList;
}

/** Encodes a source list as FITS bytes (primary + SOURCES table). */
export function encodeSourceList(list: SourceList): Uint8Array {
  const naper = list.apertureRadii.length;
  const header = list.header.clone();
  header.set("NAPER", naper, "number of circular apertures");
  list.apertureRadii.forEach((r, i) => header.set(`APER_R${i + 1}`, r, "aperture radius (pix)"));
  const fluxUnit = list.header.getString("BUNIT")?.trim() || "adu";
  const columns = Object.keys(SCALAR_COLUMNS).map((name) => {
    const data = list[name as ScalarColumn];
    if (data.length !== list.count) {
      throw new RangeError(`column ${name} has ${data.length} rows, expected ${list.count}`);
    }
    const unit = UNITS[name as ScalarColumn];
    return { name, data, unit: unit === "adu" ? fluxUnit : unit };
  });
  if (naper > 0) {
    for (const name of ["FLUX_APER", "FLUXERR_APER"] as const) {
      if (list[name].length !== list.count * naper) {
        throw new RangeError(
          `column ${name} has ${list[name].length} values, expected ${list.count * naper}`,
        );
      }
      columns.push({ name, data: list[name], unit: fluxUnit, repeat: naper } as never);
    }
  }
  return writeFits([{}, { type: "bintable", name: "SOURCES", columns, header }]);
}

/** Reads a source list; an {@linkcode InputError} names the file and what is missing. */
export async function decodeSourceList(fits: FitsFile): Promise<SourceList> {
  const bad = (what: string) =>
    new InputError(`${fits.name}: ${what}`, { file: fits.name, hdu: "SOURCES" });
  let hdu;
  try {
    hdu = await fits.hdu("SOURCES");
  } catch {
    throw bad("no SOURCES table");
  }
  const table = await hdu.readTable();
  const naper = hdu.header.getNumber("NAPER", 0)!;
  const radii: number[] = [];
  for (let i = 1; i <= naper; i++) {
    const r = hdu.header.getNumber(`APER_R${i}`);
    if (r === undefined) throw bad(`NAPER is ${naper} but APER_R${i} is missing`);
    radii.push(r);
  }
  const list = emptySourceList(table.nrows, radii);
  for (const [name, type] of Object.entries(SCALAR_COLUMNS)) {
    const col = column(table, name);
    if (!col) throw bad(`no column ${name}`);
    (list as Record<string, unknown>)[name] = type.from(col.data as ArrayLike<number>);
  }
  if (naper > 0) {
    for (const name of ["FLUX_APER", "FLUXERR_APER"] as const) {
      const col = column(table, name);
      if (!col || col.repeat !== naper) throw bad(`no column ${name} with ${naper} apertures`);
      list[name] = Float32Array.from(col.data as ArrayLike<number>);
    }
  }
  const header = new Header();
  for (const key of hdu.header.keys()) {
    if (/^(NAPER|APER_R\d+)$/.test(key)) continue;
    if (
      /^(XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|T(TYPE|FORM|UNIT|DIM|NULL|SCAL|ZERO)\d+|EXTNAME)$/
        .test(key)
    ) continue;
    const value = hdu.header.get(key);
    if (value !== undefined) header.set(key, value, hdu.header.comment(key));
  }
  list.header = header;
  return list;
}
