/**
 * Tile-compressed images (the FITS tiled-image compression convention, as
 * fpack and cfitsio write it): a BINTABLE with ZIMAGE = T whose rows are tiles.
 *
 * Read: ZCMPTYPE RICE_1 (Rice coding in the C core), GZIP_1, GZIP_2 (byte
 * shuffled) and NOCOMPRESS; integer images losslessly, float images quantized
 * with ZSCALE/ZZERO and ZQUANTIZ NO_DITHER, SUBTRACTIVE_DITHER_1 or
 * SUBTRACTIVE_DITHER_2 (ZDITHER0 seed), null pixels through ZBLANK, tiles that
 * could not be quantized from GZIP_COMPRESSED_DATA or UNCOMPRESSED_DATA.
 * PLIO_1 and HCOMPRESS_1 are reported as unsupported.
 *
 * Write: RICE_1 (integer images losslessly; float images quantized with
 * SUBTRACTIVE_DITHER_1 and a per-tile noise-derived ZSCALE, like fpack -q) or
 * GZIP_1/GZIP_2 (integers losslessly, floats losslessly as raw values).
 *
 * @module
 */
import { gunzipSync, gzipSync } from "node:zlib";
import {
  dequantizeTiles,
  quantizeTiles,
  riceDecodeDequantize,
  riceDecodeTiles,
  riceEncodeTiles,
} from "../../../core-wasm/rice.ts";
import { FitsError, type FitsErrorContext } from "./errors.ts";
import { Card, Header } from "./header.ts";
import {
  type Bitpix,
  bytesPerPixel,
  type ImageArray,
  rawFromBigEndian,
  swapBytes,
} from "./image.ts";
import { parseTForm, type TForm } from "./table.ts";

/** Compression algorithms this module reads. */
export const READ_CMPTYPES = ["RICE_1", "RICE_ONE", "GZIP_1", "GZIP_2", "NOCOMPRESS"];

const N_RANDOM = 10000;
const NULL_VALUE = -2147483647;
const ZERO_VALUE = -2147483646;

let randoms: Float32Array | undefined;

/** The convention's dither sequence: Park-Miller with seed 1, stored as float32. */
function ditherRandoms(): Float32Array {
  if (randoms) return randoms;
  const r = new Float32Array(N_RANDOM);
  const a = 16807, m = 2147483647;
  let seed = 1;
  for (let i = 0; i < N_RANDOM; i++) {
    const t = a * seed;
    seed = t - m * Math.floor(t / m);
    r[i] = seed / m;
  }
  randoms = r;
  return r;
}

/** True when a header is a tile-compressed image (BINTABLE with ZIMAGE = T). */
export function isCompressedImage(header: Header): boolean {
  return header.get("XTENSION") === "BINTABLE" && header.get("ZIMAGE") === true;
}

/** Keywords of the compressed table that do not belong in the image header. */
function isTableKeyword(key: string): boolean {
  return /^(XTENSION|SIMPLE|EXTEND|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|THEAP|CHECKSUM|DATASUM)$/
    .test(key) ||
    /^(TTYPE|TFORM|TUNIT|TDIM|TNULL|TSCAL|TZERO|TDISP)\d+$/.test(key) ||
    /^(ZIMAGE|ZBITPIX|ZNAXIS\d*|ZTILE\d+|ZCMPTYPE|ZNAME\d+|ZVAL\d+|ZMASKCMP|ZSIMPLE|ZTENSION|ZEXTEND|ZBLOCKED|ZPCOUNT|ZGCOUNT|ZHECKSUM|ZDATASUM|ZQUANTIZ|ZDITHER0|ZSCALE|ZZERO|ZBLANK)$/
      .test(key);
}

/**
 * The header of the image a compressed HDU holds: ZBITPIX, ZNAXISn... restored
 * to BITPIX, NAXISn..., the table's structural keywords dropped, all other cards
 * (with their original images) kept.
 */
export function imageHeaderOf(header: Header, ctx: FitsErrorContext): Header {
  const out = new Header();
  const primary = header.has("ZSIMPLE");
  if (primary) out.set("SIMPLE", true, "conforms to FITS standard");
  else out.set("XTENSION", header.getString("ZTENSION", "IMAGE")!, "image extension");
  const zbitpix = header.getNumber("ZBITPIX");
  if (zbitpix === undefined) throw new FitsError("missing ZBITPIX", { ...ctx, card: "ZBITPIX" });
  bytesPerPixel(zbitpix, { ...ctx });
  out.set("BITPIX", zbitpix, "number of bits per data pixel");
  const znaxis = header.getNumber("ZNAXIS");
  if (znaxis === undefined) throw new FitsError("missing ZNAXIS", { ...ctx, card: "ZNAXIS" });
  out.set("NAXIS", znaxis, "number of data axes");
  for (let i = 1; i <= znaxis; i++) {
    const n = header.getNumber(`ZNAXIS${i}`);
    if (n === undefined) throw new FitsError("missing axis length", { ...ctx, card: `ZNAXIS${i}` });
    out.set(`NAXIS${i}`, n, `length of data axis ${i}`);
  }
  if (primary) {
    if (header.has("ZEXTEND")) out.set("EXTEND", header.get("ZEXTEND")!);
  } else {
    out.set("PCOUNT", header.getNumber("ZPCOUNT", 0)!, "required keyword; must = 0");
    out.set("GCOUNT", header.getNumber("ZGCOUNT", 1)!, "required keyword; must = 1");
  }
  for (const c of header.cards) {
    if (c.isCommentary || !isTableKeyword(c.key)) {
      out.cards.push(
        new Card(c.key, c.value, c.comment, {
          hierarch: c.hierarch,
          float: c.float,
          images: c.images,
        }),
      );
    }
  }
  if (header.has("ZHECKSUM")) out.set("CHECKSUM", header.get("ZHECKSUM")!);
  if (header.has("ZDATASUM")) out.set("DATASUM", header.get("ZDATASUM")!);
  return out;
}

interface ColumnInfo {
  index: number;
  offset: number;
  form: TForm;
}

/** Un-shuffles GZIP_2 bytes (all first bytes, then all second bytes, ...) to big-endian values. */
function unshuffle(bytes: Uint8Array, size: number): Uint8Array {
  if (size === 1) return bytes;
  const n = Math.floor(bytes.length / size);
  const out = new Uint8Array(n * size);
  for (let b = 0; b < size; b++) {
    const plane = b * n;
    for (let i = 0; i < n; i++) out[i * size + b] = bytes[plane + i];
  }
  return out;
}

function shuffle(bytes: Uint8Array, size: number): Uint8Array {
  if (size === 1) return bytes;
  const n = Math.floor(bytes.length / size);
  const out = new Uint8Array(n * size);
  for (let b = 0; b < size; b++) {
    const plane = b * n;
    for (let i = 0; i < n; i++) out[plane + i] = bytes[i * size + b];
  }
  return out;
}

function newArray(bitpix: Bitpix, n: number): ImageArray {
  switch (bitpix) {
    case 8:
      return new Uint8Array(n);
    case 16:
      return new Int16Array(n);
    case 32:
      return new Int32Array(n);
    case 64:
      return new BigInt64Array(n);
    case -32:
      return new Float32Array(n);
    case -64:
      return new Float64Array(n);
  }
}

/** Geometry of the tiles: per tile, the origin and the extent along every axis. */
function tileGrid(axes: number[], tile: number[]) {
  const ntiles = axes.map((n, k) => Math.ceil(n / tile[k]));
  const total = ntiles.reduce((a, b) => a * b, 1);
  const at = (t: number) => {
    const origin: number[] = [];
    const extent: number[] = [];
    let rest = t;
    for (let k = 0; k < axes.length; k++) {
      const idx = rest % ntiles[k];
      rest = Math.floor(rest / ntiles[k]);
      origin.push(idx * tile[k]);
      extent.push(Math.min(tile[k], axes[k] - idx * tile[k]));
    }
    return { origin, extent, count: extent.reduce((a, b) => a * b, 1) };
  };
  return { total, at };
}

/** Calls fn(destOffset, srcOffset, runLength) for every first-axis run of a tile. */
function forEachRun(
  axes: number[],
  origin: number[],
  extent: number[],
  fn: (dest: number, src: number, len: number) => void,
): void {
  const nd = axes.length;
  const strides = [1];
  for (let k = 1; k < nd; k++) strides.push(strides[k - 1] * axes[k - 1]);
  const runs = extent.slice(1).reduce((a, b) => a * b, 1);
  const idx = new Array(nd).fill(0);
  for (let r = 0; r < runs; r++) {
    let dest = origin[0];
    for (let k = 1; k < nd; k++) dest += (origin[k] + idx[k]) * strides[k];
    fn(dest, r * extent[0], extent[0]);
    for (let k = 1; k < nd; k++) {
      if (++idx[k] < extent[k]) break;
      idx[k] = 0;
    }
  }
}

/**
 * Decompresses the image of a tile-compressed HDU. `header` is the stored
 * (table) header, `data` its rows followed by the heap. Returns raw image values
 * of BITPIX = ZBITPIX (integers unscaled: apply BSCALE/BZERO of the image header
 * after this; floats dequantized).
 */
export function decompressImage(
  header: Header,
  data: Uint8Array,
  ctx: FitsErrorContext,
): { raw: ImageArray; bitpix: Bitpix; axes: number[] } {
  const cmp = header.getString("ZCMPTYPE");
  if (cmp === undefined) throw new FitsError("missing ZCMPTYPE", { ...ctx, card: "ZCMPTYPE" });
  if (!READ_CMPTYPES.includes(cmp)) {
    throw new FitsError(`unsupported compression ${JSON.stringify(cmp)}`, {
      ...ctx,
      card: "ZCMPTYPE",
    });
  }
  const zbitpix = header.getNumber("ZBITPIX")! as Bitpix;
  bytesPerPixel(zbitpix, { ...ctx, card: "ZBITPIX" });
  const znaxis = header.getNumber("ZNAXIS")!;
  const axes: number[] = [];
  const tile: number[] = [];
  for (let k = 1; k <= znaxis; k++) {
    axes.push(header.getNumber(`ZNAXIS${k}`)!);
    tile.push(header.getNumber(`ZTILE${k}`, k === 1 ? axes[0] : 1)!);
    if (!(tile[k - 1] >= 1)) {
      throw new FitsError("invalid tile size", { ...ctx, card: `ZTILE${k}` });
    }
  }
  const params: Record<string, number> = {};
  for (let i = 1; header.has(`ZNAME${i}`); i++) {
    params[header.getString(`ZNAME${i}`)!.toUpperCase()] = header.getNumber(`ZVAL${i}`, 0)!;
  }
  const npix = axes.reduce((a, b) => a * b, 1);
  const grid = tileGrid(axes, tile);
  const nrows = header.getNumber("NAXIS2", 0)!;
  if (nrows !== grid.total) {
    throw new FitsError(
      `${nrows} table rows but ZNAXISn / ZTILEn give ${grid.total} tiles`,
      { ...ctx, card: "NAXIS2" },
    );
  }
  // columns
  const naxis1 = header.getNumber("NAXIS1", 0)!;
  const cols = new Map<string, ColumnInfo>();
  let off = 0;
  for (let i = 1; header.has(`TFORM${i}`); i++) {
    const form = parseTForm(header.getString(`TFORM${i}`)!, { ...ctx, card: `TFORM${i}` });
    cols.set(header.getString(`TTYPE${i}`, "")!.toUpperCase(), { index: i, offset: off, form });
    off += form.width;
  }
  if (off !== naxis1) {
    throw new FitsError(`row width ${naxis1} disagrees with the TFORMs (${off})`, {
      ...ctx,
      card: "NAXIS1",
    });
  }
  if (data.length < naxis1 * nrows) {
    throw new FitsError("compressed table shorter than NAXIS1 x NAXIS2", {
      ...ctx,
      card: "NAXIS2",
    });
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const heap = data.subarray(header.getNumber("THEAP", naxis1 * nrows)!);
  const descriptor = (c: ColumnInfo | undefined, row: number): [number, number] => {
    if (!c) return [0, 0];
    const p = row * naxis1 + c.offset;
    if (c.form.type === "P") return [dv.getUint32(p), dv.getUint32(p + 4)];
    if (c.form.type === "Q") return [Number(dv.getBigUint64(p)), Number(dv.getBigUint64(p + 8))];
    throw new FitsError("tile column is not variable-length", { ...ctx, card: `TFORM${c.index}` });
  };
  const scalar = (name: string, row: number): number | undefined => {
    const c = cols.get(name);
    if (c) {
      const p = row * naxis1 + c.offset;
      switch (c.form.type) {
        case "D":
          return dv.getFloat64(p);
        case "E":
          return dv.getFloat32(p);
        case "J":
          return dv.getInt32(p);
        case "I":
          return dv.getInt16(p);
        case "K":
          return Number(dv.getBigInt64(p));
      }
      throw new FitsError(`unsupported ${name} column type`, { ...ctx, card: `TFORM${c.index}` });
    }
    return header.getNumber(name);
  };
  const cdata = cols.get("COMPRESSED_DATA");
  const gdata = cols.get("GZIP_COMPRESSED_DATA");
  const udata = cols.get("UNCOMPRESSED_DATA");
  if (!cdata) throw new FitsError("no COMPRESSED_DATA column", { ...ctx, card: "TTYPE1" });
  const isFloat = zbitpix < 0;
  const quantized = isFloat && (cols.has("ZSCALE") || header.has("ZSCALE"));
  const quantiz = header.getString("ZQUANTIZ", "NO_DITHER")!.toUpperCase();
  if (
    quantized && !["NO_DITHER", "SUBTRACTIVE_DITHER_1", "SUBTRACTIVE_DITHER_2"].includes(quantiz)
  ) {
    throw new FitsError(`unsupported quantization ${quantiz}`, { ...ctx, card: "ZQUANTIZ" });
  }
  const dither0 = header.getNumber("ZDITHER0", 1)!;
  // integer values per tile (quantized floats and integer images)
  const intBytes = quantized ? 4 : Math.abs(zbitpix) / 8;
  const tiles = Array.from({ length: grid.total }, (_, t) => grid.at(t));
  const method = quantiz === "SUBTRACTIVE_DITHER_2"
    ? 2
    : quantiz === "SUBTRACTIVE_DITHER_1"
    ? 1
    : 0;
  const blankColumn = cols.has("ZBLANK");
  const zblank = blankColumn ? undefined : header.getNumber("ZBLANK");
  const isRice = cmp === "RICE_1" || cmp === "RICE_ONE";
  // quantized float32 Rice tiles: decoding and dequantization in one pass in the core
  const fused = isRice && quantized && zbitpix === -32 && !blankColumn;
  // Rice: one batched call into the C core for every tile
  let riceValues: Int32Array | undefined;
  const riceOffsets = new Uint32Array(grid.total);
  const riceLengths = new Uint32Array(grid.total);
  const counts = new Uint32Array(grid.total);
  for (let t = 0; t < grid.total; t++) counts[t] = tiles[t].count;
  const bytepix = params.BYTEPIX ?? 4;
  if (isRice) {
    if (![1, 2, 4].includes(bytepix)) {
      throw new FitsError(`invalid Rice BYTEPIX ${bytepix}`, { ...ctx, card: "ZVAL2" });
    }
    for (let t = 0; t < grid.total; t++) {
      const [n, o] = descriptor(cdata, t);
      if (o + n > heap.length) {
        throw new FitsError(`tile ${t + 1} lies outside the heap`, {
          ...ctx,
          card: `TFORM${cdata.index}`,
        });
      }
      riceOffsets[t] = o;
      riceLengths[t] = n;
    }
    try {
      if (!fused) {
        riceValues = riceDecodeTiles(heap, riceOffsets, riceLengths, counts, {
          bytepix: bytepix as 1 | 2 | 4,
          blocksize: params.BLOCKSIZE ?? 32,
        });
      }
    } catch (err) {
      throw new FitsError(`Rice decoding failed: ${(err as Error).message}`, {
        ...ctx,
        card: "ZCMPTYPE",
      });
    }
  }
  // 1. per tile: integers (tile order, one array for the whole image) or raw values
  const starts = new Array<number>(grid.total);
  for (let t = 0, at = 0; t < grid.total; t++) {
    starts[t] = at;
    at += counts[t];
  }
  const intImage = !isFloat && zbitpix !== 64;
  const ints: Int32Array | undefined = riceValues ??
    (!fused && (quantized || intImage) ? new Int32Array(npix) : undefined);
  const raws = new Map<number, ImageArray>();
  const scales = new Float64Array(grid.total);
  const zeros = new Float64Array(grid.total);
  for (let t = 0; t < grid.total; t++) {
    const count = counts[t];
    const [cn, co] = descriptor(cdata, t);
    if (cn > 0) {
      if (quantized) {
        scales[t] = scalar("ZSCALE", t)!;
        zeros[t] = scalar("ZZERO", t) ?? 0;
        if (!(scales[t] !== 0)) {
          throw new FitsError(`tile ${t + 1} has ZSCALE ${scales[t]}`, { ...ctx, card: "ZSCALE" });
        }
      }
      if (isRice) continue;
      let bytes = heap.subarray(co, co + cn);
      if (cmp === "GZIP_1" || cmp === "GZIP_2") {
        try {
          bytes = gunzipSync(bytes);
        } catch (err) {
          throw new FitsError(`tile ${t + 1}: ${(err as Error).message}`, {
            ...ctx,
            card: "ZCMPTYPE",
          });
        }
      }
      if (cmp === "GZIP_2") bytes = unshuffle(bytes, intBytes);
      if (bytes.length < count * intBytes) {
        throw new FitsError(`tile ${t + 1} decompresses to too few bytes`, {
          ...ctx,
          card: "ZCMPTYPE",
        });
      }
      if (quantized) ints!.set(rawFromBigEndian(bytes, 32, count) as Int32Array, starts[t]);
      else if (intImage) {
        ints!.set(rawFromBigEndian(bytes, zbitpix, count) as Int32Array, starts[t]);
      } else raws.set(t, rawFromBigEndian(bytes, zbitpix, count));
    } else {
      // a tile that could not be quantized: raw values, gzipped or plain
      const [gn, go] = descriptor(gdata, t);
      const [un, uo] = descriptor(udata, t);
      if (gn > 0) {
        let bytes: Uint8Array;
        try {
          bytes = gunzipSync(heap.subarray(go, go + gn));
        } catch (err) {
          throw new FitsError(`tile ${t + 1}: ${(err as Error).message}`, {
            ...ctx,
            card: `TFORM${gdata!.index}`,
          });
        }
        if (bytes.length < count * Math.abs(zbitpix) / 8) {
          throw new FitsError(`tile ${t + 1} decompresses to too few bytes`, {
            ...ctx,
            card: `TFORM${gdata!.index}`,
          });
        }
        raws.set(t, rawFromBigEndian(bytes, zbitpix, count));
      } else if (un > 0 && udata) {
        const esize = { E: 4, D: 8, I: 2, J: 4, B: 1, K: 8 }[udata.form.elem!] ?? 0;
        const ebitpix = { E: -32, D: -64, I: 16, J: 32, B: 8, K: 64 }[udata.form.elem!] as Bitpix;
        if (!esize) {
          throw new FitsError("unsupported UNCOMPRESSED_DATA type", {
            ...ctx,
            card: `TFORM${udata.index}`,
          });
        }
        raws.set(t, rawFromBigEndian(heap.subarray(uo, uo + un * esize), ebitpix, un));
      } else {
        throw new FitsError(`tile ${t + 1} has no data`, { ...ctx, card: `TFORM${cdata.index}` });
      }
    }
  }
  // 2. the image in tile order
  let ordered: ImageArray;
  if (fused) {
    try {
      ordered = riceDecodeDequantize(heap, riceOffsets, riceLengths, counts, scales, zeros, {
        bytepix: bytepix as 1 | 2 | 4,
        blocksize: params.BLOCKSIZE ?? 32,
        method,
        dither0,
        blank: zblank,
      });
    } catch (err) {
      throw new FitsError(`Rice decoding failed: ${(err as Error).message}`, {
        ...ctx,
        card: "ZCMPTYPE",
      });
    }
  } else if (quantized && zbitpix === -32 && !blankColumn) {
    ordered = dequantizeTiles(ints!, counts, scales, zeros, { method, dither0, blank: zblank });
  } else if (quantized) {
    ordered = newArray(zbitpix, npix);
    const o = ordered as Float32Array | Float64Array;
    const rnd = ditherRandoms();
    for (let t = 0; t < grid.total; t++) {
      if (scales[t] === 0) continue;
      const scale = scales[t], zero = zeros[t], blank = scalar("ZBLANK", t), s0 = starts[t];
      let iseed = (t + dither0 - 1) % N_RANDOM;
      let next = Math.floor(Math.fround(rnd[iseed] * 500));
      for (let i = s0; i < s0 + counts[t]; i++) {
        const q = ints![i];
        if (q === blank) o[i] = NaN;
        else if (method === 0) o[i] = q * scale + zero;
        else if (method === 2 && q === ZERO_VALUE) o[i] = 0;
        else o[i] = (q - rnd[next] + 0.5) * scale + zero;
        if (method > 0 && ++next === N_RANDOM) {
          if (++iseed === N_RANDOM) iseed = 0;
          next = Math.floor(Math.fround(rnd[iseed] * 500));
        }
      }
    }
  } else if (intImage) {
    ordered = newArray(zbitpix, npix);
    (ordered as Int32Array).set(ints!);
  } else {
    ordered = newArray(zbitpix, npix);
  }
  for (const [t, arr] of raws) {
    if (ordered instanceof BigInt64Array) ordered.set(arr as BigInt64Array, starts[t]);
    else (ordered as Float64Array).set(Float64Array.from(arr as Float64Array), starts[t]);
  }
  // 3. tiles to image order (tiles of whole rows are already in image order)
  const rowTiles = tile[0] === axes[0] && tile.slice(1).every((n) => n === 1);
  if (rowTiles) return { raw: ordered, bitpix: zbitpix, axes };
  const out = newArray(zbitpix, npix);
  const dst = out as Float64Array, src = ordered as Float64Array;
  for (let t = 0; t < grid.total; t++) {
    const { origin, extent } = tiles[t];
    const s0 = starts[t];
    forEachRun(axes, origin, extent, (d, s, len) => dst.set(src.subarray(s0 + s, s0 + s + len), d));
  }
  return { raw: out, bitpix: zbitpix, axes };
}

/** Options of {@linkcode compressImage}. */
export interface CompressOptions {
  /** Algorithm. @default "RICE_1" */
  cmptype?: "RICE_1" | "GZIP_1" | "GZIP_2";
  /** Tile shape (fastest axis first). @default one row: [NAXIS1, 1, ...] */
  tile?: number[];
  /**
   * Quantization level q for float images with RICE_1: ZSCALE = (noise of the
   * tile) / q, as fpack -q. Floats are stored losslessly with GZIP_1/GZIP_2.
   * @default 4
   */
  quantizeLevel?: number;
  /** ZDITHER0, the dither seed (1..10000). @default 1 */
  dither0?: number;
}

/**
 * Compresses an image into the cards and bytes (rows + heap) of a
 * tile-compressed BINTABLE. `raw` holds the stored values: for integer images
 * the unscaled integers (BSCALE/BZERO stay regular keywords of `imageHeader`).
 */
export function compressImage(
  raw: ImageArray,
  bitpix: Bitpix,
  axes: number[],
  options: CompressOptions = {},
): {
  cards: Array<[string, string | number | boolean, string?]>;
  bytes: Uint8Array;
  naxis1: number;
  nrows: number;
  pcount: number;
} {
  const cmp = options.cmptype ?? "RICE_1";
  if (bitpix === 64) {
    throw new FitsError("tile compression of 64-bit integers is not supported", { card: "BITPIX" });
  }
  const tile = options.tile ?? axes.map((n, k) => (k === 0 ? n : 1));
  const grid = tileGrid(axes, tile);
  const isFloat = bitpix < 0;
  const quantize = isFloat && cmp === "RICE_1";
  const q = options.quantizeLevel ?? 4;
  const dither0 = options.dither0 ?? 1;
  const tileBytes: Uint8Array[] = [];
  let scales: Float64Array = new Float64Array(grid.total);
  let zeros: Float64Array = new Float64Array(grid.total);
  const gzipTiles: Uint8Array[] = [];
  const intTiles: Int32Array[] = [];
  const src = raw as Float64Array;
  // every tile's values, in tile order
  const tileVals: Array<Float64Array | Int32Array> = [];
  for (let t = 0; t < grid.total; t++) {
    const { origin, extent, count } = grid.at(t);
    const vals = isFloat ? new Float64Array(count) : new Int32Array(count);
    forEachRun(axes, origin, extent, (d, s, len) => {
      for (let i = 0; i < len; i++) vals[s + i] = src[d + i];
    });
    tileVals.push(vals);
  }
  if (quantize) {
    // quantization (noise estimate, dithering) in the C core, as fpack -q
    const counts = new Uint32Array(tileVals.map((v) => v.length));
    const all = new Float32Array(counts.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const v of tileVals) {
      all.set(v, at);
      at += v.length;
    }
    const qt = quantizeTiles(all, counts, { qlevel: q, method: 1, dither0 });
    scales = qt.scales;
    zeros = qt.zeros;
    at = 0;
    for (let t = 0; t < grid.total; t++) {
      const n = counts[t];
      if (scales[t] === 0) {
        // not quantizable (no noise, or too wide a range): losslessly gzipped raw values
        gzipTiles[t] = gzipSync(bigEndianOf(tileVals[t], bitpix));
        intTiles[t] = new Int32Array(0);
      } else {
        intTiles[t] = qt.values.subarray(at, at + n);
      }
      at += n;
    }
  } else {
    for (let t = 0; t < grid.total; t++) {
      const vals = tileVals[t];
      if (cmp === "RICE_1") {
        intTiles[t] = vals as Int32Array;
      } else {
        const be = bigEndianOf(vals, bitpix);
        tileBytes[t] = gzipSync(cmp === "GZIP_2" ? shuffle(be, Math.abs(bitpix) / 8) : be);
      }
    }
  }
  if (cmp === "RICE_1") {
    const counts = new Uint32Array(intTiles.map((a) => a.length));
    const all = new Int32Array(counts.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const a of intTiles) {
      all.set(a, at);
      at += a.length;
    }
    const bytepix = quantize ? 4 : Math.abs(bitpix) / 8;
    const { bytes, lengths } = riceEncodeTiles(all, counts, { bytepix: bytepix as 1 | 2 | 4 });
    let p = 0;
    for (let t = 0; t < grid.total; t++) {
      tileBytes[t] = bytes.subarray(p, p + lengths[t]);
      p += lengths[t];
    }
  }
  // table: COMPRESSED_DATA (1PB), then GZIP_COMPRESSED_DATA, ZSCALE, ZZERO when quantized
  const naxis1 = 8 + (quantize ? 8 + 8 + 8 : 0);
  const rows = new Uint8Array(naxis1 * grid.total);
  const dv = new DataView(rows.buffer);
  const heapParts: Uint8Array[] = [];
  let heapLen = 0;
  let maxLen = 0;
  for (let t = 0; t < grid.total; t++) {
    const b = tileBytes[t] ?? new Uint8Array(0);
    dv.setUint32(t * naxis1, b.length);
    dv.setUint32(t * naxis1 + 4, heapLen);
    heapParts.push(b);
    heapLen += b.length;
    maxLen = Math.max(maxLen, b.length);
    if (quantize) {
      const g = gzipTiles[t] ?? new Uint8Array(0);
      dv.setUint32(t * naxis1 + 8, g.length);
      dv.setUint32(t * naxis1 + 12, heapLen);
      heapParts.push(g);
      heapLen += g.length;
      maxLen = Math.max(maxLen, g.length);
      dv.setFloat64(t * naxis1 + 16, scales[t]);
      dv.setFloat64(t * naxis1 + 24, zeros[t]);
    }
  }
  const bytes = new Uint8Array(rows.length + heapLen);
  bytes.set(rows);
  let hp = rows.length;
  for (const part of heapParts) {
    bytes.set(part, hp);
    hp += part.length;
  }
  const cards: Array<[string, string | number | boolean, string?]> = [
    ["TTYPE1", "COMPRESSED_DATA", "label for field 1"],
    ["TFORM1", `1PB(${maxLen})`, "data format of field: variable length array"],
  ];
  if (quantize) {
    cards.push(
      ["TTYPE2", "GZIP_COMPRESSED_DATA", "label for field 2"],
      ["TFORM2", `1PB(${maxLen})`, "data format of field: variable length array"],
      ["TTYPE3", "ZSCALE", "label for field 3"],
      ["TFORM3", "1D", "data format of field: 8-byte DOUBLE"],
      ["TTYPE4", "ZZERO", "label for field 4"],
      ["TFORM4", "1D", "data format of field: 8-byte DOUBLE"],
    );
  }
  cards.push(["ZIMAGE", true, "extension contains compressed image"]);
  cards.push(["ZBITPIX", bitpix, "data type of original image"]);
  cards.push(["ZNAXIS", axes.length, "dimension of original image"]);
  axes.forEach((n, k) => cards.push([`ZNAXIS${k + 1}`, n, `length of original image axis`]));
  tile.forEach((n, k) => cards.push([`ZTILE${k + 1}`, n, `size of tiles to be compressed`]));
  cards.push(["ZCMPTYPE", cmp, "compression algorithm"]);
  if (cmp === "RICE_1") {
    cards.push(["ZNAME1", "BLOCKSIZE", "compression block size"], [
      "ZVAL1",
      32,
      "pixels per block",
    ]);
    cards.push(["ZNAME2", "BYTEPIX", "bytes per pixel (1, 2, 4, or 8)"]);
    cards.push(["ZVAL2", quantize ? 4 : Math.abs(bitpix) / 8, "bytes per pixel (1, 2, 4, or 8)"]);
  }
  if (quantize) {
    cards.push(["ZQUANTIZ", "SUBTRACTIVE_DITHER_1", "Pixel Quantization Algorithm"]);
    cards.push(["ZDITHER0", dither0, "dithering offset when quantizing floats"]);
    cards.push(["ZBLANK", NULL_VALUE, "null value in the compressed integer array"]);
  }
  return { cards, bytes, naxis1, nrows: grid.total, pcount: heapLen };
}

function bigEndianOf(vals: ArrayLike<number>, bitpix: Bitpix): Uint8Array {
  let arr: ImageArray;
  switch (bitpix) {
    case 8:
      arr = Uint8Array.from(vals);
      break;
    case 16:
      arr = Int16Array.from(vals);
      break;
    case 32:
      arr = Int32Array.from(vals);
      break;
    case -32:
      arr = Float32Array.from(vals);
      break;
    default:
      arr = Float64Array.from(vals);
  }
  const out = new Uint8Array(arr.buffer.slice(0));
  if (arr.BYTES_PER_ELEMENT > 1) swapBytes(out, arr.BYTES_PER_ELEMENT);
  return out;
}
