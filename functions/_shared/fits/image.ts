/**
 * Image data: big-endian FITS pixels <-> native typed arrays, with BSCALE,
 * BZERO and BLANK.
 *
 * Typed array by BITPIX after scaling (as astropy does):
 *
 * | BITPIX | no scaling | unsigned convention | other BSCALE/BZERO |
 * |---|---|---|---|
 * | 8 | Uint8Array | Int8Array (BZERO = -128) | Float32Array |
 * | 16 | Int16Array | Uint16Array (BZERO = 32768) | Float32Array |
 * | 32 | Int32Array | Uint32Array (BZERO = 2^31) | Float64Array |
 * | 64 | BigInt64Array | BigUint64Array (BZERO = 2^63) | Float64Array |
 * | -32 | Float32Array | — | Float32Array |
 * | -64 | Float64Array | — | Float64Array |
 *
 * An integer image with a BLANK keyword is read as floats (Float32Array for
 * BITPIX 8 and 16, Float64Array for 32 and 64) with NaN at the BLANK pixels,
 * whatever BSCALE and BZERO are — as astropy does.
 *
 * @module
 */
import { FitsError, type FitsErrorContext } from "./errors.ts";
import type { Header } from "./header.ts";

/** Pixel arrays an image may hold. */
export type ImageArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** Valid BITPIX values. */
export const BITPIXES = [8, 16, 32, 64, -32, -64] as const;
/** A valid BITPIX. */
export type Bitpix = (typeof BITPIXES)[number];

/** An image read from or written to a FITS HDU. */
export interface FitsImage {
  /** Axis lengths NAXIS1, NAXIS2, ... (NAXIS1 varies fastest). */
  axes: number[];
  /** Pixels, row-major with NAXIS1 fastest, already scaled by BSCALE/BZERO. */
  data: ImageArray;
  /** BITPIX as stored. */
  bitpix: Bitpix;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("the FITS module assumes a little-endian host");
}

/** Checks BITPIX and returns bytes per pixel. */
export function bytesPerPixel(bitpix: number, ctx: FitsErrorContext = {}): number {
  if (!(BITPIXES as readonly number[]).includes(bitpix)) {
    throw new FitsError(`invalid BITPIX ${bitpix}`, { ...ctx, card: "BITPIX" });
  }
  return Math.abs(bitpix) / 8;
}

/** Swaps bytes in place in groups of `size` (2, 4 or 8). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  const n = bytes.length - (bytes.length % size);
  if (size === 2) {
    if (bytes.byteOffset % 2 === 0) {
      const u = new Uint16Array(bytes.buffer, bytes.byteOffset, n / 2);
      for (let i = 0; i < u.length; i++) {
        const x = u[i];
        u[i] = ((x & 0xff) << 8) | (x >>> 8);
      }
      return;
    }
    for (let i = 0; i < n; i += 2) {
      const t = bytes[i];
      bytes[i] = bytes[i + 1];
      bytes[i + 1] = t;
    }
  } else if (size === 4) {
    if (bytes.byteOffset % 4 === 0) {
      const u = new Uint32Array(bytes.buffer, bytes.byteOffset, n / 4);
      for (let i = 0; i < u.length; i++) {
        const x = u[i];
        u[i] = (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
      }
      return;
    }
    for (let i = 0; i < n; i += 4) {
      const a = bytes[i], b = bytes[i + 1];
      bytes[i] = bytes[i + 3];
      bytes[i + 1] = bytes[i + 2];
      bytes[i + 2] = b;
      bytes[i + 3] = a;
    }
  } else if (size === 8) {
    for (let i = 0; i < n; i += 8) {
      for (let k = 0; k < 4; k++) {
        const t = bytes[i + k];
        bytes[i + k] = bytes[i + 7 - k];
        bytes[i + 7 - k] = t;
      }
    }
  }
}

/** Native typed array of raw (unscaled) values from big-endian bytes (copies). */
export function rawFromBigEndian(bytes: Uint8Array, bitpix: Bitpix, count: number): ImageArray {
  const bpp = Math.abs(bitpix) / 8;
  const copy = new Uint8Array(count * bpp);
  copy.set(bytes.subarray(0, count * bpp));
  if (bpp > 1) swapBytes(copy, bpp);
  const buf = copy.buffer;
  switch (bitpix) {
    case 8:
      return new Uint8Array(buf);
    case 16:
      return new Int16Array(buf);
    case 32:
      return new Int32Array(buf);
    case 64:
      return new BigInt64Array(buf);
    case -32:
      return new Float32Array(buf);
    case -64:
      return new Float64Array(buf);
  }
}

/** Big-endian bytes of a native typed array (copies). */
export function toBigEndian(data: ImageArray): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (data.BYTES_PER_ELEMENT > 1) swapBytes(out, data.BYTES_PER_ELEMENT);
  return out;
}

/**
 * Applies BSCALE / BZERO / BLANK of `header` to raw values of `bitpix`,
 * choosing the output type as in the module table.
 */
export function scaleImage(raw: ImageArray, bitpix: Bitpix, header: Header): {
  data: ImageArray;
} {
  const bscale = header.getNumber("BSCALE", 1)!;
  const bzeroCard = header.get("BZERO");
  const bzero = typeof bzeroCard === "bigint" ? Number(bzeroCard) : header.getNumber("BZERO", 0)!;
  const blankRaw = bitpix > 0 ? header.get("BLANK") : undefined;
  const blank = typeof blankRaw === "number" || typeof blankRaw === "bigint" ? blankRaw : undefined;
  if (bscale === 1 && bzero === 0 && blank === undefined) return { data: raw };
  if (bscale === 1 && blank === undefined) {
    // unsigned / signed-byte conventions: a bit flip of the raw values
    if (bitpix === 8 && bzero === -128) {
      const u = raw as Uint8Array;
      const out = new Int8Array(u.length);
      for (let i = 0; i < u.length; i++) out[i] = u[i] ^ 0x80;
      return { data: out };
    }
    if (bitpix === 16 && bzero === 32768) {
      const s = raw as Int16Array;
      const out = new Uint16Array(s.buffer, s.byteOffset, s.length);
      for (let i = 0; i < out.length; i++) out[i] ^= 0x8000;
      return { data: out };
    }
    if (bitpix === 32 && bzero === 2147483648) {
      const s = raw as Int32Array;
      const out = new Uint32Array(s.buffer, s.byteOffset, s.length);
      for (let i = 0; i < out.length; i++) out[i] ^= 0x80000000;
      return { data: out };
    }
    if (bitpix === 64 && bzero === 9223372036854775808) {
      const s = raw as BigInt64Array;
      const out = new BigUint64Array(s.buffer, s.byteOffset, s.length);
      for (let i = 0; i < out.length; i++) out[i] ^= 0x8000000000000000n;
      return { data: out };
    }
  }
  const n = raw.length;
  const useF32 = bitpix === 8 || bitpix === 16 || bitpix === -32;
  const out = useF32 ? new Float32Array(n) : new Float64Array(n);
  if (bitpix === 64) {
    const r = raw as BigInt64Array;
    const b = blank === undefined ? undefined : BigInt(blank);
    for (let i = 0; i < n; i++) out[i] = r[i] === b ? NaN : Number(r[i]) * bscale + bzero;
  } else {
    const r = raw as Exclude<ImageArray, BigInt64Array | BigUint64Array>;
    const b = blank === undefined ? NaN : Number(blank);
    for (let i = 0; i < n; i++) {
      const v = r[i];
      out[i] = v === b ? NaN : v * bscale + bzero;
    }
  }
  return { data: out };
}

/** How a typed array is stored: BITPIX, BZERO, and the raw array to write. */
export function storageOf(data: ImageArray): { bitpix: Bitpix; bzero?: number; raw: ImageArray } {
  if (data instanceof Uint8Array) return { bitpix: 8, raw: data };
  if (data instanceof Int8Array) {
    const raw = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) raw[i] = data[i] ^ 0x80;
    return { bitpix: 8, bzero: -128, raw };
  }
  if (data instanceof Int16Array) return { bitpix: 16, raw: data };
  if (data instanceof Uint16Array) {
    const raw = new Int16Array(data.length);
    for (let i = 0; i < data.length; i++) raw[i] = data[i] ^ 0x8000;
    return { bitpix: 16, bzero: 32768, raw };
  }
  if (data instanceof Int32Array) return { bitpix: 32, raw: data };
  if (data instanceof Uint32Array) {
    const raw = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) raw[i] = data[i] ^ 0x80000000;
    return { bitpix: 32, bzero: 2147483648, raw };
  }
  if (data instanceof BigInt64Array) return { bitpix: 64, raw: data };
  if (data instanceof BigUint64Array) {
    const raw = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) raw[i] = BigInt.asIntN(64, data[i] ^ 0x8000000000000000n);
    return { bitpix: 64, bzero: 9223372036854775808, raw };
  }
  if (data instanceof Float32Array) return { bitpix: -32, raw: data };
  if (data instanceof Float64Array) return { bitpix: -64, raw: data };
  throw new FitsError("unsupported image array type");
}
