/**
 * The Image product file (science, coadd and difference images): one
 * multi-extension FITS, readable by astropy, DS9 and SExtractor, holding
 *
 * | HDU | EXTNAME | data |
 * |---|---|---|
 * | 0 | — | none; the image's header cards (WCS, ZP, provenance...) |
 * | 1 | IMAGE | float32, the calibrated pixels |
 * | 2 | WEIGHT | float32, 1 / variance (0 = no information) |
 * | 3 | FLAGS | uint16, pixel flag bits (enums.ts PIXEL_FLAGS) |
 *
 * Every extension repeats the primary's WCS cards so each opens alone in DS9.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { Header } from "../fits/header.ts";
import type { FitsFile } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";

/** An image with its weight and flags, all width x height, row-major. */
export interface ImageData {
  width: number;
  height: number;
  image: Float32Array;
  weight: Float32Array;
  flags: Uint16Array;
  /** Cards for the primary header (structural cards are ignored). */
  header: Header;
}

/** Names of the extensions, in order. */
export const IMAGE_EXTENSIONS = ["IMAGE", "WEIGHT", "FLAGS"] as const;

const WCS_CARD =
  /^(WCSAXES|CTYPE\d|CUNIT\d|CRVAL\d|CRPIX\d|CD\d_\d|PC\d_\d|CDELT\d|CROTA\d|PV\d_\d+|A_\d_\d|B_\d_\d|AP_\d_\d|BP_\d_\d|A_ORDER|B_ORDER|AP_ORDER|BP_ORDER|RADESYS|EQUINOX|LONPOLE|LATPOLE)$/;

function checkSize(data: ImageData): void {
  const n = data.width * data.height;
  if (!Number.isInteger(data.width) || !Number.isInteger(data.height) || n <= 0) {
    throw new RangeError(`image size ${data.width}x${data.height} is not positive`);
  }
  for (
    const [name, plane] of [["image", data.image], ["weight", data.weight], [
      "flags",
      data.flags,
    ]] as const
  ) {
    if (plane.length !== n) {
      throw new RangeError(
        `${name} has ${plane.length} pixels, expected ${data.width}x${data.height}`,
      );
    }
  }
}

/** Encodes an image product as FITS bytes. */
export function encodeImage(data: ImageData): Uint8Array {
  checkSize(data);
  const wcs = new Header();
  for (const key of data.header.keys()) {
    if (WCS_CARD.test(key)) wcs.set(key, data.header.get(key)!, data.header.comment(key));
  }
  const axes = [data.width, data.height];
  return writeFits([
    { header: data.header },
    { name: "IMAGE", data: data.image, axes, header: wcs.clone() },
    { name: "WEIGHT", data: data.weight, axes, header: wcs.clone() },
    { name: "FLAGS", data: data.flags, axes, header: wcs.clone() },
  ]);
}

/**
 * Reads an image product; an {@linkcode InputError} names the file and the HDU
 * when an extension is missing, has the wrong type or the wrong size.
 */
export async function decodeImage(fits: FitsFile): Promise<ImageData> {
  const primary = await fits.hdu(0);
  let width = 0;
  let height = 0;
  const planes: Record<string, Float32Array | Uint16Array> = {};
  for (const name of IMAGE_EXTENSIONS) {
    let hdu;
    try {
      hdu = await fits.hdu(name);
    } catch (err) {
      throw new InputError(`${fits.name}: no ${name} extension (${(err as Error).message})`, {
        file: fits.name,
        hdu: name,
      });
    }
    const image = await hdu.readImage();
    const [w, h] = image.axes;
    if (image.axes.length !== 2) {
      throw new InputError(`${fits.name}: ${name} is not 2-D`, { file: fits.name, hdu: name });
    }
    if (name === "IMAGE") [width, height] = [w, h];
    else if (w !== width || h !== height) {
      throw new InputError(`${fits.name}: ${name} is ${w}x${h}, IMAGE is ${width}x${height}`, {
        file: fits.name,
        hdu: name,
      });
    }
    const want = name === "FLAGS" ? Uint16Array : Float32Array;
    if (!(image.data instanceof want)) {
      throw new InputError(`${fits.name}: ${name} is not ${want.name.replace("Array", "")}`, {
        file: fits.name,
        hdu: name,
      });
    }
    planes[name] = image.data as Float32Array | Uint16Array;
  }
  return {
    width,
    height,
    image: planes.IMAGE as Float32Array,
    weight: planes.WEIGHT as Float32Array,
    flags: planes.FLAGS as Uint16Array,
    header: primary.header.clone(),
  };
}
