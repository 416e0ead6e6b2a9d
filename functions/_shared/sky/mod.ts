/**
 * Sky geometry: angular separation and position angle, HEALPix NESTED indexing
 * (orders 0..29; bigint above 24) and pixel ranges covering a cone.
 *
 * @module
 */
export { angularSeparationDeg, positionAngleDeg, radecToVec, vecToRadec } from "./angles.ts";
export {
  ang2pixNest,
  ang2pixNestBig,
  MAX_NUMBER_ORDER,
  MAX_ORDER,
  maxPixelRadiusDeg,
  npixAtOrder,
  pix2angNest,
} from "./healpix.ts";
export { type ConeOptions, coneRanges, coneRangesBig } from "./cone.ts";
