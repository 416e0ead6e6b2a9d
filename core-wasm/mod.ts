/**
 * The skydiff imaging core: typed TypeScript functions over the C core compiled
 * to WebAssembly SIMD (core-wasm/build/sd_core.wasm, built by `deno task build:wasm`).
 *
 * @module
 */
export { CoreError, type CoreVariant, type FloatImage, getCore } from "./_module.ts";
export * from "./stats.ts";
export * from "./background.ts";
export * from "./rice.ts";
export * from "./sim.ts";
export {
  type ApertureOptions,
  type ApertureResult,
  type NoisyImage,
  PhotFlags,
  sumCircle,
  sumEllipse,
} from "./photometry.ts";
export { type Measurements, type MeasureOptions, measureSources } from "./measure.ts";
export { type RenderOptions, renderStars } from "./render.ts";
export * from "./psf.ts";
export * from "./detect.ts";
export * from "./calib.ts";
export * from "./fft.ts";
export * from "./convolve.ts";
export * from "./resample.ts";
export * from "./subtract.ts";
export * from "./coadd.ts";
export * from "./gaussfit.ts";
