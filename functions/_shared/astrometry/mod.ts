/**
 * Astrometric matching: triangle pattern matching with no prior offset, then
 * iterative TAN-SIP fitting with a shrinking match radius; reference positions
 * at the image epoch.
 *
 * @module
 */
export {
  applySimilarity,
  fitSimilarity,
  matchPatterns,
  pairWithin,
  type PatternMatch,
  type PatternOptions,
  type Point,
  PointGrid,
  type Similarity,
  similarityRotationDeg,
  similarityScale,
} from "./pattern.ts";
export {
  AstrometryFailure,
  type AstrometrySolution,
  type RefPoint,
  solveAstrometry,
  type SolveOptions,
  type SourcePoint,
} from "./solve.ts";
export { julianYear, positionAtEpoch } from "./epoch.ts";
