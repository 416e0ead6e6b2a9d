/**
 * Rendered exposures to files: the raw multi-extension FITS (plain or, like
 * fpack, Rice tile-compressed) and the truth (a FITS file with one BINTABLE of
 * sources per CCD plus one of the exposure's settings).
 *
 * @module
 */
import { Header } from "../fits/header.ts";
import { type HduInput, writeFits } from "../fits/writer.ts";
import type { RenderedExposure, TruthSource } from "./camera.ts";

/** The raw exposure as a multi-extension FITS file (Rice-compressed when `compress`). */
export function exposureFits(exp: RenderedExposure, compress = false): Uint8Array {
  const hdus: HduInput[] = [{ header: Header.from(exp.primary) }];
  for (const c of exp.ccds) {
    hdus.push({
      header: Header.from(c.cards),
      data: c.raw,
      axes: [c.rawNx, c.rawNy],
      name: c.id,
      ...(compress ? { compress: { cmptype: "RICE_1" as const } } : {}),
    });
  }
  return writeFits(hdus);
}

/** Columns of a truth table, in order. */
export const TRUTH_COLUMNS = [
  "KIND",
  "ID",
  "RA",
  "DEC",
  "X",
  "Y",
  "MAG",
  "FLUX_E",
  "FLUX_ADU",
  "FWHM",
  "HOST_ID",
] as const;

/**
 * The truth of an exposure: one BINTABLE per CCD (EXTNAME TRUTH_<section>; X, Y
 * 0-based in the trimmed image; FLUX_E in electrons before the flat; FLUX_ADU in
 * the reading amplifier's ADU), with the CCD's sky level, zero point (ZP_E: the
 * magnitude giving 1 e-), bias levels and FWHM polynomial in its header.
 */
export function truthFits(exp: RenderedExposure): Uint8Array {
  const hdus: HduInput[] = [{ header: Header.from(exp.primary) }];
  for (const c of exp.ccds) {
    const t = c.truth;
    const col = (f: (s: TruthSource) => number) => Float64Array.from(t, f);
    const header = Header.from([
      ["SECTION", c.id, "CCD"],
      ["SKY_E", c.skyE, "sky level (e-/px, before the flat)"],
      ["ZP_E", c.zeropointE, "magnitude giving 1 e- in this exposure"],
      ["BIAS_A", c.biasLevels[0], "bias level of amplifier A (ADU)"],
      ["BIAS_B", c.biasLevels[1], "bias level of amplifier B (ADU)"],
      ...c.fwhmPoly.map((v, i): [string, number, string] => [
        `FWHMP${i}`,
        v,
        "FWHM (px) polynomial term (core conventions)",
      ]),
    ]);
    hdus.push({
      type: "bintable",
      name: `TRUTH_${c.id}`,
      header,
      columns: [
        { name: "KIND", data: t.map((s) => s.kind), width: 9 },
        { name: "ID", data: BigInt64Array.from(t, (s) => BigInt(s.id)) },
        { name: "RA", data: col((s) => s.ra), unit: "deg" },
        { name: "DEC", data: col((s) => s.dec), unit: "deg" },
        { name: "X", data: col((s) => s.x), unit: "pix" },
        { name: "Y", data: col((s) => s.y), unit: "pix" },
        { name: "MAG", data: col((s) => s.mag), unit: "mag" },
        { name: "FLUX_E", data: col((s) => s.fluxE), unit: "electron" },
        { name: "FLUX_ADU", data: col((s) => s.fluxAdu), unit: "adu" },
        { name: "FWHM", data: col((s) => s.fwhm), unit: "pix" },
        { name: "HOST_ID", data: BigInt64Array.from(t, (s) => BigInt(s.hostId)) },
      ],
    });
  }
  return writeFits(hdus);
}
