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
