/**
 * World coordinates: TAN, TAN-SIP and TPV pixel <-> sky, header cards in and
 * out, and TAN-SIP fitting with sigma clipping.
 *
 * Pixel convention: 0-based pixel centres in every TypeScript API (the first
 * pixel's centre is (0, 0)); FITS CRPIX is 1-based and is converted at the
 * header boundary (`crpix` on a Wcs stays 1-based, as in the header).
 *
 * @module
 */
export {
  evalPoly,
  makeWcs,
  pixelScaleArcsec,
  type SipPolynomials,
  tanDeproject,
  tanProject,
  type TpvPolynomials,
  type Wcs,
  wcsCorners,
  type WcsParams,
} from "./wcs.ts";
export { type HeaderLike, type WcsCard, WcsError, wcsFromHeader, wcsToCards } from "./cards.ts";
export {
  fitSipInverse,
  fitTanSip,
  type FitTanSipOptions,
  type Match,
  type TanSipFit,
} from "./fit.ts";
