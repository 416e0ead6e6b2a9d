/**
 * The names of every smallint enum and bigint bitflag stored in the database
 * (sql/0001_schema.sql). The database holds only the numbers; the numbers here
 * are part of the schema and never change meaning: add new codes, never reuse
 * or renumber one.
 *
 * ```ts
 * enumCode(IMAGE_TYPE, "diff"); // 3
 * enumName(PROCESS, 14); // "referencing"
 * bitsToNames(BADNESS, 2 ** 16 + 2 ** 21); // ["few_sources", "no_catalog"]
 * ```
 *
 * @module
 */

import type { Process } from "../processes.ts";

/** An enum: smallint code -> name. */
export type EnumMap<N extends string = string> = Readonly<Record<number, N>>;

/** A bitflag: bit number (0..62) -> name. */
export type BitMap<N extends string = string> = Readonly<Record<number, N>>;

/** `provenances.process`, `code_versions.process`, `reports.process`, `provenance_tags.process`. */
export const PROCESS: EnumMap<Process> = Object.freeze({
  1: "exposure",
  2: "preprocessing",
  3: "extraction",
  4: "astrocal",
  5: "photocal",
  6: "subtraction",
  7: "detection",
  8: "cutting",
  9: "measuring",
  10: "scoring",
  11: "alerting",
  12: "fakeinjection",
  13: "coaddition",
  14: "referencing", // sql/0001 provenance_tags_tag_process_key excludes 14
  15: "headersummary",
});

/** `images.type`, `exposures.type`. Codes 2 and 4 are coadds, 3 and 4 differences (see the generated columns). */
export const IMAGE_TYPE: EnumMap = Object.freeze({
  1: "sci",
  2: "comsci",
  3: "diff",
  4: "comdiff",
  5: "bias",
  6: "combias",
  7: "dark",
  8: "comdark",
  9: "domeflat",
  10: "comdomeflat",
  11: "skyflat",
  12: "comskyflat",
  13: "twiflat",
  14: "comtwiflat",
  15: "fringe",
  16: "warped",
  17: "comwarped",
});

/** `*.format` of file products (images, exposures, cutouts, catalog excerpts). */
export const FILE_FORMAT: EnumMap = Object.freeze({
  1: "fits",
  2: "fits_fpack",
  3: "fits_gzip",
  4: "fitsldac",
  5: "json",
  6: "avro",
  7: "csv",
  8: "png",
  9: "jpg",
});

/** `source_lists.format`. */
export const SOURCE_LIST_FORMAT: EnumMap = Object.freeze({
  1: "skydiff_fits", // our FITS BINTABLE (extraction step)
  2: "sextractor_fits", // SExtractor FITS_LDAC
  3: "filter", // built from a matched-filter image (detections on a difference)
});

/** `backgrounds.format`. */
export const BACKGROUND_FORMAT: EnumMap = Object.freeze({
  1: "mesh", // mesh of values + noise, interpolated (SEP / SExtractor style)
  2: "scalar", // one value and one noise (no file)
  3: "polynomial",
});

/** `backgrounds.method`. */
export const BACKGROUND_METHOD: EnumMap = Object.freeze({
  1: "skydiff", // our C core
  2: "sep",
  3: "sextractor",
  4: "zero",
});

/** `psfs.format`. */
export const PSF_FORMAT: EnumMap = Object.freeze({
  1: "skydiff", // basis images + spatial polynomial (our C core)
  2: "psfex",
  3: "gaussian",
});

/** `world_coordinates.projection`. */
export const WCS_PROJECTION: EnumMap = Object.freeze({
  1: "tan",
  2: "tan_sip",
  3: "tpv",
});

/** `catalog_excerpts.origin`. */
export const CATALOG_ORIGIN: EnumMap = Object.freeze({
  0: "unknown",
  1: "gaia_dr3",
  2: "simulated",
});

/** `calibrator_files.type`. */
export const CALIBRATOR_TYPE: EnumMap = Object.freeze({
  0: "unknown",
  1: "zero",
  2: "dark",
  3: "flat",
  4: "fringe",
  5: "illumination",
  6: "linearity",
});

/** `calibrator_files.calibrator_set`. */
export const CALIBRATOR_SET: EnumMap = Object.freeze({
  0: "unknown",
  1: "externally_supplied",
  2: "general", // built by us, used for a long time
  3: "nightly", // built each night (a short validity range)
});

/** `calibrator_files.flat_type`. */
export const FLAT_TYPE: EnumMap = Object.freeze({
  0: "unknown",
  1: "externally_supplied",
  2: "sky",
  3: "twilight",
  4: "dome",
});

/** `deepscore_sets.algorithm`. */
export const SCORE_ALGORITHM: EnumMap = Object.freeze({
  1: "cnn", // the CNN on new/ref/sub triplets
  2: "random", // uniform scores (tests)
  3: "allperfect", // every score 1 (tests)
});

/** `reports.status`. */
export const REPORT_STATUS: EnumMap = Object.freeze({
  1: "running",
  2: "succeeded",
  3: "no_work", // NoWorkFound: acknowledged, nothing to do
  4: "algorithm_error", // AlgorithmError: acknowledged, badness set
  5: "input_error", // InputError: dead-lettered
  6: "failed", // anything else: retried by the queue
});

/**
 * Badness bits of `_bitflag` / `_upstream_bitflag` (REFERENCE_NOTES "Bitflags"):
 * image 1-5, psf 11, sources 16-17, catalog match 21-23, background 31-32,
 * reference 35-36, measurements / cutouts 41-46. Bit 0 is never set (0 = good).
 */
export const BADNESS: BitMap = Object.freeze({
  1: "banding",
  2: "shaking",
  3: "saturation",
  4: "bad_subtraction",
  5: "bright_sky",
  11: "psf_fit_failed",
  16: "few_sources",
  17: "many_sources",
  21: "no_catalog",
  22: "xmatch_failed",
  23: "big_residuals",
  31: "bad_background",
  32: "background_fit_failed",
  35: "reference_too_few_images",
  36: "reference_bad_overlap",
  41: "cosmic_ray",
  42: "ghost",
  43: "satellite",
  44: "offset",
  45: "bad_pixel",
  46: "bleed_trail",
});

/** `preproc_bitflag` of exposures and images: preprocessing steps already applied. */
export const PREPROCESSING: BitMap = Object.freeze({
  0: "overscan",
  1: "zero",
  2: "dark",
  3: "linearity",
  4: "flat",
  5: "fringe",
  6: "illumination",
});

/** Bits of the FLAGS (uint16) plane of an image (DESIGN.md, "Products"). */
export const PIXEL_FLAGS: BitMap = Object.freeze({
  0: "bad_pixel",
  1: "zero_weight",
  2: "saturated",
  3: "out_of_bounds",
  4: "cosmic_ray",
  5: "bleed_trail",
});

/** Every enum and bitflag by name, for listings and tests. */
export const ENUMS: Readonly<Record<string, EnumMap>> = Object.freeze({
  PROCESS,
  IMAGE_TYPE,
  FILE_FORMAT,
  SOURCE_LIST_FORMAT,
  BACKGROUND_FORMAT,
  BACKGROUND_METHOD,
  PSF_FORMAT,
  WCS_PROJECTION,
  CATALOG_ORIGIN,
  CALIBRATOR_TYPE,
  CALIBRATOR_SET,
  FLAT_TYPE,
  SCORE_ALGORITHM,
  REPORT_STATUS,
});

/** Every bitflag by name. */
export const BITFLAGS: Readonly<Record<string, BitMap>> = Object.freeze({
  BADNESS,
  PREPROCESSING,
  PIXEL_FLAGS,
});

/** The name of enum code `code`; throws on an unknown code. */
export function enumName<N extends string>(map: EnumMap<N>, code: number): N {
  const name = map[code];
  if (name === undefined) {
    throw new RangeError(`unknown enum code ${code} (known: ${Object.keys(map).join(", ")})`);
  }
  return name;
}

/** The code of enum name `name`; throws on an unknown name. */
export function enumCode<N extends string>(map: EnumMap<N>, name: N | string): number {
  for (const [code, n] of Object.entries(map)) {
    if (n === name) return Number(code);
  }
  throw new RangeError(`unknown enum name "${name}" (known: ${Object.values(map).join(", ")})`);
}

function checkFlag(flag: number | bigint): bigint {
  const big = BigInt(flag);
  if (big < 0n || big >= 1n << 63n) throw new RangeError(`bitflag ${flag} outside 0 .. 2^63-1`);
  return big;
}

/**
 * The names of the bits set in `flag` (ascending bit order). Uses bigint
 * arithmetic, so bits above 31 work (JS `&` would truncate them). Throws on a
 * set bit that has no name.
 */
export function bitsToNames<N extends string>(map: BitMap<N>, flag: number | bigint): N[] {
  let rest = checkFlag(flag);
  const names: N[] = [];
  for (let bit = 0; rest !== 0n; bit++, rest >>= 1n) {
    if ((rest & 1n) === 0n) continue;
    const name = map[bit];
    if (name === undefined) throw new RangeError(`bit ${bit} of ${flag} has no name`);
    names.push(name);
  }
  return names;
}

/**
 * The bitflag with the named bits set, as a number (exact: every bit used is
 * below 53). Throws on an unknown name.
 */
export function namesToBits<N extends string>(
  map: BitMap<N>,
  names: readonly (N | string)[],
): number {
  let flag = 0n;
  for (const name of names) flag |= 1n << BigInt(enumCode(map, name));
  if (flag > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`bitflag of ${names.join(",")} does not fit a safe number`);
  }
  return Number(flag);
}

/** `a | b` for bitflags of up to 63 bits (JS `|` truncates to 32), as a number. */
export function orBits(...flags: (number | bigint)[]): number {
  let out = 0n;
  for (const f of flags) out |= checkFlag(f);
  if (out > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`bitflag ${out} does not fit a safe number`);
  }
  return Number(out);
}
