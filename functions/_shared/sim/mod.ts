/**
 * The simulator: SimSky (a deterministic synthetic sky), the SimCam renderer (raw
 * exposures with truth), its TAN+TPV world coordinates, file writers and
 * `simulateField` (the `skydiff simulate` command).
 *
 * @module
 */
export * from "./random.ts";
export * from "./sky.ts";
export * from "./tpv.ts";
export * from "./camera.ts";
export * from "./output.ts";
export * from "./simulate.ts";
