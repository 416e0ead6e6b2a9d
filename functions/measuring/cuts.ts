/**
 * The analytic cuts of the measuring step: each measurement's cut variables are
 * compared with two sets of thresholds. Beyond any `keep` threshold, the
 * detection is dropped (no Measurement row); beyond any `bad` threshold (but
 * within every `keep` one), it is kept and marked `is_bad`. A variable that
 * could not be measured (NaN) fails its cut in both sets. Every cut's value
 * goes into the row's `disqualifier_scores`.
 *
 * | cut | variable | fails when |
 * |---|---|---|
 * | detection_offset | distance detection -> PSF-fitted position, px | > threshold |
 * | gauss_offset | distance detection -> Gaussian-fit centre, px | > threshold |
 * | elongation | Gaussian-fit major / minor sigma | > threshold |
 * | width_ratio | max(w / w_psf, w_psf / w), w = sqrt(major x minor) | > threshold |
 * | bad_pixels | flagged / zero-weight pixels near the detection | > threshold |
 * | negative_fraction | significant negative pixels / significant pixels | > threshold |
 * | negative_flux_fraction | their flux / the flux of all significant pixels | > threshold |
 *
 * @module
 */
import { z } from "zod";

/** The names of the cuts, in table order. */
export const CUT_NAMES = [
  "detection_offset",
  "gauss_offset",
  "elongation",
  "width_ratio",
  "bad_pixels",
  "negative_fraction",
  "negative_flux_fraction",
] as const;
/** One cut's name. */
export type CutName = (typeof CUT_NAMES)[number];

/** The value of every cut variable of one measurement. */
export type CutVariables = Record<CutName, number>;

function thresholds(d: CutVariables) {
  return z.object({
    detection_offset: z.number().positive().default(d.detection_offset).describe(
      "largest distance (px) between the detection and the PSF-fitted position",
    ),
    gauss_offset: z.number().positive().default(d.gauss_offset).describe(
      "largest distance (px) between the detection and the Gaussian-fit centre",
    ),
    elongation: z.number().min(1).default(d.elongation).describe(
      "largest ratio of the Gaussian fit's major to minor sigma (streaks, trails)",
    ),
    width_ratio: z.number().min(1).default(d.width_ratio).describe(
      "largest ratio, either way, of the Gaussian-fit width to the PSF's (cosmic rays, blobs)",
    ),
    bad_pixels: z.int().min(0).default(d.bad_pixels).describe(
      "most flagged or zero-weight pixels allowed near the detection",
    ),
    negative_fraction: z.number().min(0).max(1).default(d.negative_fraction).describe(
      "largest fraction of significant pixels near the detection that are negative (dipoles)",
    ),
    negative_flux_fraction: z.number().min(0).max(1).default(d.negative_flux_fraction).describe(
      "largest fraction of the significant flux near the detection that is negative (dipoles)",
    ),
  });
}

/** Thresholds beyond which a measurement is marked bad (SeeChange's defaults). */
export const BadThresholds = thresholds({
  detection_offset: 5,
  gauss_offset: 5,
  elongation: 3,
  width_ratio: 2,
  bad_pixels: 1,
  negative_fraction: 0.3,
  negative_flux_fraction: 0.3,
});

/** Thresholds beyond which a detection is dropped (looser than the bad ones by default). */
export const KeepThresholds = thresholds({
  detection_offset: 10,
  gauss_offset: 10,
  elongation: 6,
  width_ratio: 4,
  bad_pixels: 8,
  negative_fraction: 0.6,
  negative_flux_fraction: 0.6,
});

/** The cuts' parameters: the two threshold sets. */
export const CutsParams = z.object({
  bad: BadThresholds.prefault({}).describe("thresholds beyond which a measurement is marked bad"),
  keep: KeepThresholds.prefault({}).describe(
    "thresholds beyond which a detection is dropped, not saved",
  ),
});
/** Parsed cut parameters. */
export type CutsParameters = z.infer<typeof CutsParams>;

/** The outcome of {@linkcode applyCuts}. */
export interface CutResult {
  /** Each cut's variable (for disqualifier_scores). */
  scores: CutVariables;
  /** Cuts beyond their `bad` threshold (or unmeasured). */
  failedBad: CutName[];
  /** Cuts beyond their `keep` threshold (or unmeasured). */
  failedKeep: CutName[];
  /** Save the measurement: no `keep` cut failed. */
  keep: boolean;
  /** Mark it bad: some `bad` cut failed. */
  isBad: boolean;
}

/** Compares the cut variables with both threshold sets. */
export function applyCuts(
  variables: CutVariables,
  params: CutsParameters = CutsParams.parse({}),
): CutResult {
  const fails = (set: CutVariables) => CUT_NAMES.filter((name) => !(variables[name] <= set[name]));
  const failedBad = fails(params.bad);
  const failedKeep = fails(params.keep);
  return {
    scores: Object.fromEntries(CUT_NAMES.map((n) => [n, variables[n]])) as CutVariables,
    failedBad,
    failedKeep,
    keep: failedKeep.length === 0,
    isBad: failedBad.length > 0,
  };
}
