/**
 * The Cutouts product file: square stamps of the new, reference and difference
 * images (data, weight, flags) around every detection of a difference image's
 * source list, as FITS cubes, plus a table of the stamps' centres.
 *
 * | HDU | EXTNAME | data |
 * |---|---|---|
 * | 0 | — | none; cards STAMPSZ (side, px), NCUTOUT, and the caller's extra cards |
 * | 1-3 | NEW, NEW_WEIGHT, NEW_FLAGS | cubes NAXIS1 = NAXIS2 = size, NAXIS3 = N: float32, float32, uint16 |
 * | 4-6 | REF, REF_WEIGHT, REF_FLAGS | same, the reference warped onto the new image |
 * | 7-9 | SUB, SUB_WEIGHT, SUB_FLAGS | same, the difference image |
 * | 10 | SOURCES | binary table, one row per stamp: INDEX (J, row in the source list), X, Y (D, pix, 0-based centre in the new image), RA, DEC (D, deg) |
 *
 * Stamp k is plane k of every cube (row-major size x size, pixel (i, j) of the
 * stamp at new-image pixel (round(X) - half + i, round(Y) - half + j), half =
 * (size - 1) / 2, round = Math.round, halves up). Pixels off the image are 0 with
 * weight 0 and the OUT_OF_BOUNDS flag (decided by the cutting step, not here).
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { Header } from "../fits/header.ts";
import type { FitsFile, Hdu } from "../fits/reader.ts";
import { column } from "../fits/table.ts";
import { writeFits } from "../fits/writer.ts";

/** The three stamp kinds, in file order. */
export const CUTOUT_KINDS = ["new", "ref", "sub"] as const;
/** One stamp kind. */
export type CutoutKind = (typeof CUTOUT_KINDS)[number];

/** The cubes of one kind: N x size x size values each (stamp-major). */
export interface CutoutCubes {
  data: Float32Array;
  weight: Float32Array;
  flags: Uint16Array;
}

/** A cutouts product in memory. */
export interface Cutouts {
  /** Side of the square stamps, pixels (odd). */
  size: number;
  /** Number of stamps N. */
  count: number;
  /** Row of each stamp's detection in the source list. */
  index: Int32Array;
  /** Stamp centres in the new image, 0-based pixels. */
  x: Float64Array;
  y: Float64Array;
  /** Stamp centres on the sky, degrees. */
  ra: Float64Array;
  dec: Float64Array;
  new: CutoutCubes;
  ref: CutoutCubes;
  sub: CutoutCubes;
  /** Extra primary-header cards. */
  header: Header;
}

/** The EXTNAME of a cube: "NEW", "NEW_WEIGHT", "NEW_FLAGS", ... */
export function cutoutExtname(kind: CutoutKind, part: keyof CutoutCubes): string {
  const k = kind.toUpperCase();
  return part === "data" ? k : `${k}_${part.toUpperCase()}`;
}

/** An all-zero cutouts product of `count` stamps of side `size`. */
export function emptyCutouts(count: number, size: number): Cutouts {
  const n = count * size * size;
  const cubes = (): CutoutCubes => ({
    data: new Float32Array(n),
    weight: new Float32Array(n),
    flags: new Uint16Array(n),
  });
  return {
    size,
    count,
    index: new Int32Array(count),
    x: new Float64Array(count),
    y: new Float64Array(count),
    ra: new Float64Array(count),
    dec: new Float64Array(count),
    new: cubes(),
    ref: cubes(),
    sub: cubes(),
    header: new Header(),
  };
}

/** Encodes cutouts as FITS bytes; a RangeError when array lengths disagree with count and size. */
export function encodeCutouts(cutouts: Cutouts): Uint8Array {
  const { size, count } = cutouts;
  if (!Number.isInteger(size) || size < 1 || size % 2 !== 1) {
    throw new RangeError(`stamp size must be a positive odd integer, got ${size}`);
  }
  const n = count * size * size;
  for (const name of ["index", "x", "y", "ra", "dec"] as const) {
    if (cutouts[name].length !== count) {
      throw new RangeError(`${name} has ${cutouts[name].length} values, expected ${count}`);
    }
  }
  const header = cutouts.header.clone();
  header.set("STAMPSZ", size, "side of the square stamps (px)");
  header.set("NCUTOUT", count, "number of stamps");
  const hdus: Parameters<typeof writeFits>[0] = [{ header }];
  for (const kind of CUTOUT_KINDS) {
    for (const part of ["data", "weight", "flags"] as const) {
      const data = cutouts[kind][part];
      if (data.length !== n) {
        throw new RangeError(
          `${cutoutExtname(kind, part)} has ${data.length} values, expected ${n}`,
        );
      }
      hdus.push({ name: cutoutExtname(kind, part), data, axes: [size, size, count] });
    }
  }
  hdus.push({
    type: "bintable",
    name: "SOURCES",
    columns: [
      { name: "INDEX", data: cutouts.index },
      { name: "X", data: cutouts.x, unit: "pix" },
      { name: "Y", data: cutouts.y, unit: "pix" },
      { name: "RA", data: cutouts.ra, unit: "deg" },
      { name: "DEC", data: cutouts.dec, unit: "deg" },
    ],
  });
  return writeFits(hdus);
}

async function cube(
  fits: FitsFile,
  name: string,
  size: number,
  count: number,
  want: typeof Float32Array | typeof Uint16Array,
): Promise<Float32Array | Uint16Array> {
  const bad = (what: string) =>
    new InputError(`${fits.name} HDU ${name}: ${what}`, { file: fits.name, hdu: name });
  let hdu: Hdu;
  try {
    hdu = await fits.hdu(name);
  } catch {
    throw bad("missing");
  }
  if (hdu.kind !== "image") throw bad(`is a ${hdu.kind}, not an image`);
  const image = await hdu.readImage();
  const [nx, ny, nz = 1] = image.axes;
  if (nx !== size || ny !== size || (count > 0 && nz !== count) || image.axes.length > 3) {
    throw bad(`is ${image.axes.join(" x ")}, expected ${size} x ${size} x ${count}`);
  }
  if (count === 0) return new want(0);
  if (!(image.data instanceof want)) {
    throw bad(`holds ${image.data.constructor.name}, expected ${want.name}`);
  }
  return image.data;
}

/** Reads a cutouts product; an {@linkcode InputError} names the file and the HDU at fault. */
export async function decodeCutouts(fits: FitsFile): Promise<Cutouts> {
  const primary = (await fits.hdu(0)).header;
  const size = primary.getNumber("STAMPSZ");
  const count = primary.getNumber("NCUTOUT");
  if (
    size === undefined || count === undefined || !Number.isInteger(size) || size < 1 ||
    !Number.isInteger(count) || count < 0
  ) {
    throw new InputError(`${fits.name} HDU 0: STAMPSZ / NCUTOUT missing or invalid`, {
      file: fits.name,
      hdu: 0,
    });
  }
  const out = emptyCutouts(count, size);
  for (const kind of CUTOUT_KINDS) {
    for (const part of ["data", "weight", "flags"] as const) {
      const want = part === "flags" ? Uint16Array : Float32Array;
      (out[kind] as unknown as Record<string, unknown>)[part] = await cube(
        fits,
        cutoutExtname(kind, part),
        size,
        count,
        want,
      );
    }
  }
  const badTable = (what: string) =>
    new InputError(`${fits.name} HDU SOURCES: ${what}`, { file: fits.name, hdu: "SOURCES" });
  let hdu: Hdu;
  try {
    hdu = await fits.hdu("SOURCES");
  } catch {
    throw badTable("missing");
  }
  if (hdu.kind !== "bintable") throw badTable(`is a ${hdu.kind}, not a binary table`);
  const table = await hdu.readTable();
  if (table.nrows !== count) throw badTable(`has ${table.nrows} rows, NCUTOUT is ${count}`);
  for (const [name, key] of [["X", "x"], ["Y", "y"], ["RA", "ra"], ["DEC", "dec"]] as const) {
    const col = column(table, name);
    if (!col || col.repeat !== 1) throw badTable(`no column ${name}`);
    out[key] = Float64Array.from(col.data as ArrayLike<number>);
  }
  const col = column(table, "INDEX");
  if (!col || col.repeat !== 1) throw badTable("no column INDEX");
  out.index = Int32Array.from(col.data as ArrayLike<number>);
  const header = new Header();
  for (const key of primary.keys()) {
    if (/^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|STAMPSZ|NCUTOUT)$/.test(key)) continue;
    const value = primary.get(key);
    if (value !== undefined) header.set(key, value, primary.comment(key));
  }
  out.header = header;
  return out;
}
