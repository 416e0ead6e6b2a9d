/**
 * Calibration frames: master bias and flat from raw calibration exposures, stored
 * and registered as calibrator files, and found by instrument, section, filter and date.
 *
 * @module
 */
export * from "./master.ts";
export * from "./registry.ts";
