/**
 * Rice coding of integer tiles (FITS tiled-image convention, ZCMPTYPE 'RICE_1'),
 * over sd_rice_decode_tiles / sd_rice_encode_tiles of the C core.
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";

/** Bytes per value in a Rice stream: 1 (unsigned 8-bit), 2 (signed 16-bit), 4 (signed 32-bit). */
export type RiceBytePix = 1 | 2 | 4;

/** Options of the Rice functions. */
export interface RiceOptions {
  /** Bytes per value. @default 4 */
  bytepix?: RiceBytePix;
  /** Values per Rice block (ZVAL of BLOCKSIZE). @default 32 */
  blocksize?: number;
  /** Which core build to run. @default "simd" */
  variant?: CoreVariant;
}

function bytesOf(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Decodes Rice-compressed tiles. Tile t is `heap[offsets[t], offsets[t] + lengths[t])`
 * and holds `counts[t]` values; the result has every tile's values one after the
 * other (sum of counts). Tiles with length 0 are left as zeros in the result.
 * Throws CoreError (SD_ERR_CORRUPT) on a malformed stream.
 */
export function riceDecodeTiles(
  heap: Uint8Array,
  offsets: Uint32Array,
  lengths: Uint32Array,
  counts: Uint32Array,
  options: RiceOptions = {},
): Int32Array {
  const ntiles = counts.length;
  if (offsets.length !== ntiles || lengths.length !== ntiles) {
    throw new RangeError("riceDecodeTiles: offsets, lengths and counts differ in length");
  }
  let total = 0;
  for (let t = 0; t < ntiles; t++) total += counts[t];
  const core = getCore(options.variant ?? "simd");
  return core.scope((s) => {
    const pHeap = s.copyIn(heap.length > 0 ? heap : new Uint8Array(1));
    const pOff = s.copyIn(bytesOf(offsets));
    const pLen = s.copyIn(bytesOf(lengths));
    const pCnt = s.copyIn(bytesOf(counts));
    const pOut = s.i32(Math.max(1, total));
    core.call(
      "sd_rice_decode_tiles",
      pHeap,
      heap.length,
      pOff,
      pLen,
      pCnt,
      ntiles,
      options.bytepix ?? 4,
      options.blocksize ?? 32,
      pOut,
    );
    return s.readI32(pOut, total);
  });
}

/**
 * Rice-encodes consecutive tiles of `values` (tile t has `counts[t]` values).
 * Returns the concatenated streams and each tile's byte length.
 */
export function riceEncodeTiles(
  values: Int32Array,
  counts: Uint32Array,
  options: RiceOptions = {},
): { bytes: Uint8Array; lengths: Uint32Array } {
  const bytepix = options.bytepix ?? 4;
  const ntiles = counts.length;
  // worst case per value: fsbits/blocksize + 8 bytepix bits; plus the first value and a flush
  const cap = values.length * (bytepix + 1) + ntiles * (bytepix + 8) + 16;
  const core = getCore(options.variant ?? "simd");
  return core.scope((s) => {
    const pIn = s.copyIn(values.length > 0 ? values : new Int32Array(1));
    const pCnt = s.copyIn(bytesOf(counts));
    const pOut = s.alloc(cap);
    const pLen = s.i32(Math.max(1, ntiles));
    core.call(
      "sd_rice_encode_tiles",
      pIn,
      pCnt,
      ntiles,
      bytepix,
      options.blocksize ?? 32,
      pOut,
      cap,
      pLen,
    );
    const lengths = new Uint32Array(s.readI32(pLen, ntiles).buffer);
    let total = 0;
    for (const l of lengths) total += l;
    return { bytes: core.read(Uint8Array, pOut, total), lengths };
  });
}

/** Options of {@linkcode dequantizeTiles}. */
export interface DequantizeOptions {
  /** 0 NO_DITHER, 1 SUBTRACTIVE_DITHER_1, 2 SUBTRACTIVE_DITHER_2. @default 1 */
  method?: 0 | 1 | 2;
  /** ZDITHER0, 1..10000. @default 1 */
  dither0?: number;
  /** ZBLANK: quantized value that means NaN; none when undefined. @default undefined */
  blank?: number;
  /** Which core build to run. @default "simd" */
  variant?: CoreVariant;
}

/**
 * Restores quantized float tiles (FITS ZQUANTIZ): tile t's `counts[t]` integers
 * become (q - r + 0.5) * scales[t] + zeros[t] with the convention's dither sequence
 * (or q * scale + zero without dithering). Tiles with scale 0 are left as 0.
 */
export function dequantizeTiles(
  values: Int32Array,
  counts: Uint32Array,
  scales: Float64Array,
  zeros: Float64Array,
  options: DequantizeOptions = {},
): Float32Array {
  const ntiles = counts.length;
  if (scales.length !== ntiles || zeros.length !== ntiles) {
    throw new RangeError("dequantizeTiles: counts, scales and zeros differ in length");
  }
  const core = getCore(options.variant ?? "simd");
  return core.scope((s) => {
    const pIn = s.copyIn(values.length > 0 ? values : new Int32Array(1));
    const pCnt = s.copyIn(bytesOf(counts));
    const pScale = s.copyIn(scales.length > 0 ? scales : new Float64Array(1));
    const pZero = s.copyIn(zeros.length > 0 ? zeros : new Float64Array(1));
    const pOut = s.f32(Math.max(1, values.length));
    core.call(
      "sd_dequantize_tiles",
      pIn,
      pCnt,
      ntiles,
      pScale,
      pZero,
      options.method ?? 1,
      options.dither0 ?? 1,
      options.blank === undefined ? 0 : 1,
      options.blank ?? 0,
      pOut,
    );
    return s.readF32(pOut, values.length);
  });
}

/**
 * Quantizes float tiles as fpack -q does (see sd_quantize_tiles): returns the
 * integers and each tile's ZSCALE / ZZERO; a tile with scale 0 could not be
 * quantized (no noise, or too wide a range) and must be stored losslessly.
 */
export function quantizeTiles(
  values: Float32Array,
  counts: Uint32Array,
  options: { qlevel?: number; method?: 0 | 1 | 2; dither0?: number; variant?: CoreVariant } = {},
): { values: Int32Array; scales: Float64Array; zeros: Float64Array } {
  const ntiles = counts.length;
  const core = getCore(options.variant ?? "simd");
  return core.scope((s) => {
    const pIn = s.copyIn(values.length > 0 ? values : new Float32Array(1));
    const pCnt = s.copyIn(bytesOf(counts));
    const pOut = s.i32(Math.max(1, values.length));
    const pScale = s.f64(Math.max(1, ntiles));
    const pZero = s.f64(Math.max(1, ntiles));
    core.call(
      "sd_quantize_tiles",
      pIn,
      pCnt,
      ntiles,
      options.qlevel ?? 4,
      options.method ?? 1,
      options.dither0 ?? 1,
      pOut,
      pScale,
      pZero,
    );
    return {
      values: s.readI32(pOut, values.length),
      scales: s.readF64(pScale, ntiles),
      zeros: s.readF64(pZero, ntiles),
    };
  });
}

/**
 * Rice decoding and dequantization of float tiles in one pass through WASM memory
 * (the integers never leave it): {@linkcode riceDecodeTiles} then
 * {@linkcode dequantizeTiles}. Tiles with length 0 or scale 0 are left as 0.
 */
export function riceDecodeDequantize(
  heap: Uint8Array,
  offsets: Uint32Array,
  lengths: Uint32Array,
  counts: Uint32Array,
  scales: Float64Array,
  zeros: Float64Array,
  options: RiceOptions & Omit<DequantizeOptions, "variant"> = {},
): Float32Array {
  const ntiles = counts.length;
  if (
    offsets.length !== ntiles || lengths.length !== ntiles || scales.length !== ntiles ||
    zeros.length !== ntiles
  ) {
    throw new RangeError("riceDecodeDequantize: per-tile arrays differ in length");
  }
  let total = 0;
  for (let t = 0; t < ntiles; t++) total += counts[t];
  const core = getCore(options.variant ?? "simd");
  return core.scope((s) => {
    const pHeap = s.copyIn(heap.length > 0 ? heap : new Uint8Array(1));
    const pOff = s.copyIn(bytesOf(offsets));
    const pLen = s.copyIn(bytesOf(lengths));
    const pCnt = s.copyIn(bytesOf(counts));
    const pScale = s.copyIn(scales.length > 0 ? scales : new Float64Array(1));
    const pZero = s.copyIn(zeros.length > 0 ? zeros : new Float64Array(1));
    const pInts = s.i32(Math.max(1, total));
    const pOut = s.f32(Math.max(1, total));
    core.call(
      "sd_rice_decode_tiles",
      pHeap,
      heap.length,
      pOff,
      pLen,
      pCnt,
      ntiles,
      options.bytepix ?? 4,
      options.blocksize ?? 32,
      pInts,
    );
    core.call(
      "sd_dequantize_tiles",
      pInts,
      pCnt,
      ntiles,
      pScale,
      pZero,
      options.method ?? 1,
      options.dither0 ?? 1,
      options.blank === undefined ? 0 : 1,
      options.blank ?? 0,
      pOut,
    );
    return s.readF32(pOut, total);
  });
}
