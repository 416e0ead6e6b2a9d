/**
 * The PSF product file: the C core's PSF model (a PSFEx-like pixel basis whose
 * images are the coefficients of a polynomial in the normalised image position)
 * as a FITS file.
 *
 * | HDU | EXTNAME | data |
 * |---|---|---|
 * | 0 | — | none; cards below |
 * | 1 | PSF_BASIS | float32 cube size x size x nterms: basis image k is the coefficient of the k-th monomial |
 *
 * Primary cards: PSFSIZE (side of the basis images, grid px), PSFOSAMP (grid px per
 * image px), PSFDEG (polynomial degree), PSFNTERM, FWHM (px, at the image centre),
 * NSTARS (stars kept in the fit), and PSFH0..PSFH15: the 16 values of the core's
 * model header verbatim (sd_core.h, "PSF model layout": version, size, oversampling,
 * degree, terms, polynomial centre and scale, FWHM, stars...), so that the model
 * bytes the core reads come back exactly.
 *
 * @module
 */
import { PSF_HEADER, type PsfModel, psfModelFromData } from "../../../core-wasm/psf.ts";
import { InputError } from "../errors.ts";
import { Header } from "../fits/header.ts";
import type { FitsFile } from "../fits/reader.ts";
import { writeFits } from "../fits/writer.ts";

/** Encodes a PSF model as FITS bytes; `extra` cards go into the primary header. */
export function encodePsf(model: PsfModel, extra: Header = new Header()): Uint8Array {
  const { size, nterms } = model;
  if (model.data.length !== PSF_HEADER + nterms * size * size) {
    throw new RangeError(
      `PSF model has ${model.data.length} values, expected ${PSF_HEADER + nterms * size * size}`,
    );
  }
  const header = extra.clone();
  header.set("PSFSIZE", size, "side of the basis images (grid px)");
  header.set("PSFOSAMP", model.oversample, "grid px per image px");
  header.set("PSFDEG", model.degree, "degree of the spatial polynomial");
  header.set("PSFNTERM", nterms, "number of basis images");
  header.set("FWHM", model.fwhm, "FWHM at the image centre (px)");
  header.set("NSTARS", model.nUsed, "stars kept in the fit");
  for (let k = 0; k < PSF_HEADER; k++) {
    header.set(`PSFH${k}`, model.data[k], "core model header value", { float: true });
  }
  return writeFits([
    { header },
    {
      name: "PSF_BASIS",
      data: model.data.slice(PSF_HEADER),
      axes: [size, size, nterms],
    },
  ]);
}

/** Reads a PSF model; an {@linkcode InputError} names the file and what is wrong. */
export async function decodePsf(fits: FitsFile): Promise<PsfModel> {
  const bad = (what: string) => new InputError(`${fits.name}: ${what}`, { file: fits.name });
  const h = (await fits.hdu(0)).header;
  const head = new Float32Array(PSF_HEADER);
  for (let k = 0; k < PSF_HEADER; k++) {
    const v = h.getNumber(`PSFH${k}`);
    if (v === undefined) throw bad(`no PSFH${k} card`);
    head[k] = v;
  }
  let img;
  try {
    img = await fits.image("PSF_BASIS");
  } catch {
    throw bad("no PSF_BASIS extension");
  }
  const size = head[1], nterms = head[4];
  if (img.axes.length !== 3 || img.axes[0] !== size || img.axes[1] !== size) {
    throw bad(`PSF_BASIS is ${img.axes.join("x")}, expected ${size}x${size}x${nterms}`);
  }
  if (img.axes[2] !== nterms || !(img.data instanceof Float32Array)) {
    throw bad(`PSF_BASIS does not hold ${nterms} float32 basis images`);
  }
  const data = new Float32Array(PSF_HEADER + img.data.length);
  data.set(head);
  data.set(img.data, PSF_HEADER);
  try {
    return psfModelFromData(data);
  } catch (err) {
    throw bad((err as Error).message);
  }
}
