/**
 * Instruments: the {@linkcode Instrument} interface, DECam and the simulated SimCam.
 *
 * @module
 */
export * from "./instrument.ts";
export * from "./decam.ts";
export * from "./simcam.ts";
export { getInstrument } from "./registry.ts";
