/**
 * Instruments by name.
 *
 * @module
 */
import { DECam } from "./decam.ts";
import type { Instrument } from "./instrument.ts";
import { SimCam, type SimCamOptions } from "./simcam.ts";

/**
 * The instrument of a name ("DECam" or "SimCam", case-insensitive; INSTRUME values
 * such as "DECam" work too). SimCam takes its options (CCD count and size, seed).
 */
export function getInstrument(name: string, simcam: SimCamOptions = {}): Instrument {
  const n = name.trim().toLowerCase();
  if (n === "decam") return new DECam();
  if (n === "simcam") return new SimCam(simcam);
  throw new RangeError(`unknown instrument ${JSON.stringify(name)} (known: DECam, SimCam)`);
}
