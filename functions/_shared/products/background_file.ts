/**
 * The Background product file: the sky background of an image as the mesh it was
 * estimated on, small enough to store for every image, and enough to render the
 * full-resolution background and noise maps again (bicubic spline, as
 * `renderMesh` of the core does).
 *
 * | HDU | EXTNAME | data |
 * |---|---|---|
 * | 0 | — | none; cards below |
 * | 1 | BACK | float32 nbx x nby: background per box (after median filtering) |
 * | 2 | RMS | float32 nbx x nby: noise rms per box |
 *
 * Primary cards: IMWIDTH, IMHEIGHT (image size), BOXW, BOXH (box size, px), FILTW,
 * FILTH (median filter, boxes), GLOBBKG, GLOBRMS (median of the boxes), NBADBOX
 * (boxes filled from their neighbours), BKGMETH ("skydiff").
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { Header } from "../fits/header.ts";
import type { FitsFile } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";

/** A background mesh with the settings it was made with. */
export interface BackgroundData {
  /** Size of the image it describes. */
  width: number;
  height: number;
  boxWidth: number;
  boxHeight: number;
  filterWidth: number;
  filterHeight: number;
  /** Boxes along x and y. */
  nbx: number;
  nby: number;
  /** nbx * nby values, row-major. */
  back: Float32Array;
  rms: Float32Array;
  /** Median background and rms of the boxes. */
  global: number;
  globalRms: number;
  /** Boxes filled from their neighbours. */
  nBad: number;
}

/** Encodes a background as FITS bytes. */
export function encodeBackground(b: BackgroundData): Uint8Array {
  if (b.nbx !== Math.ceil(b.width / b.boxWidth) || b.nby !== Math.ceil(b.height / b.boxHeight)) {
    throw new RangeError(`mesh ${b.nbx} x ${b.nby} does not match the image and box sizes`);
  }
  if (b.back.length !== b.nbx * b.nby || b.rms.length !== b.nbx * b.nby) {
    throw new RangeError(`mesh planes do not hold ${b.nbx} x ${b.nby} values`);
  }
  const header = Header.from([
    ["IMWIDTH", b.width, "image width (px)"],
    ["IMHEIGHT", b.height, "image height (px)"],
    ["BOXW", b.boxWidth, "mesh box width (px)"],
    ["BOXH", b.boxHeight, "mesh box height (px)"],
    ["FILTW", b.filterWidth, "median filter width (boxes)"],
    ["FILTH", b.filterHeight, "median filter height (boxes)"],
    ["GLOBBKG", b.global, "median background of the boxes"],
    ["GLOBRMS", b.globalRms, "median rms of the boxes"],
    ["NBADBOX", b.nBad, "boxes filled from their neighbours"],
    ["BKGMETH", "skydiff", "clipped-mode mesh, median filter, bicubic spline"],
  ]);
  const axes = [b.nbx, b.nby];
  return writeFits([
    { header },
    { name: "BACK", data: b.back, axes },
    { name: "RMS", data: b.rms, axes },
  ]);
}

/** Reads a background; an {@linkcode InputError} names the file and what is wrong. */
export async function decodeBackground(fits: FitsFile): Promise<BackgroundData> {
  const bad = (what: string) => new InputError(`${fits.name}: ${what}`, { file: fits.name });
  const h = (await fits.hdu(0)).header;
  const need = (key: string) => {
    const v = h.getNumber(key);
    if (v === undefined || !Number.isFinite(v)) throw bad(`no ${key} card`);
    return v;
  };
  const b = {
    width: need("IMWIDTH"),
    height: need("IMHEIGHT"),
    boxWidth: need("BOXW"),
    boxHeight: need("BOXH"),
    filterWidth: need("FILTW"),
    filterHeight: need("FILTH"),
    global: need("GLOBBKG"),
    globalRms: need("GLOBRMS"),
    nBad: need("NBADBOX"),
  };
  const planes: Float32Array[] = [];
  for (const name of ["BACK", "RMS"]) {
    let img;
    try {
      img = await fits.image(name);
    } catch {
      throw bad(`no ${name} extension`);
    }
    if (!(img.data instanceof Float32Array)) throw bad(`${name} is not float32`);
    planes.push(img.data);
    const nbx = Math.ceil(b.width / b.boxWidth), nby = Math.ceil(b.height / b.boxHeight);
    if (img.axes[0] !== nbx || img.axes[1] !== nby) {
      throw bad(`${name} is ${img.axes.join("x")}, expected ${nbx}x${nby}`);
    }
  }
  return {
    ...b,
    nbx: Math.ceil(b.width / b.boxWidth),
    nby: Math.ceil(b.height / b.boxHeight),
    back: planes[0],
    rms: planes[1],
  };
}
