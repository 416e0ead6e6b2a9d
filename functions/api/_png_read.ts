/**
 * A PNG reader for tests, independent of png.ts: chunk CRCs checked with
 * node:zlib's crc32, the IDAT stream inflated with the web DecompressionStream,
 * row filters undone (types 0 and 1..4). 8-bit grayscale only.
 *
 * @module
 */
import { crc32 as zlibCrc32 } from "node:zlib";

/** A decoded chunk. */
export interface PngChunk {
  type: string;
  data: Uint8Array;
  crc: number;
  crcOk: boolean;
}

/** A decoded grayscale PNG. */
export interface DecodedPng {
  signatureOk: boolean;
  chunks: PngChunk[];
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  pixels: Uint8Array;
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(
    new DecompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decodes `bytes`; throws on a truncated file. */
export async function readPng(bytes: Uint8Array): Promise<DecodedPng> {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const signatureOk = sig.every((b, i) => bytes[i] === b);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error("truncated chunk");
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    const crc = view.getUint32(at + 8 + length);
    const crcOk = (zlibCrc32(bytes.subarray(at + 4, at + 8 + length)) >>> 0) === crc;
    chunks.push({ type, data, crc, crcOk });
    at += 12 + length;
  }
  const ihdr = chunks[0];
  const hv = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, ihdr.data.byteLength);
  const width = hv.getUint32(0), height = hv.getUint32(4);
  const idat = chunks.filter((c) => c.type === "IDAT");
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.data.length, 0));
  let o = 0;
  for (const c of idat) {
    joined.set(c.data, o);
    o += c.data.length;
  }
  const raw = await inflate(joined);
  if (raw.length !== (width + 1) * height) throw new Error(`IDAT inflates to ${raw.length} bytes`);
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)];
    for (let x = 0; x < width; x++) {
      const v = raw[y * (width + 1) + 1 + x];
      const a = x > 0 ? pixels[y * width + x - 1] : 0;
      const b = y > 0 ? pixels[(y - 1) * width + x] : 0;
      const c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1] : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`unknown filter ${filter}`);
      pixels[y * width + x] = (v + pred) & 0xff;
    }
  }
  return {
    signatureOk,
    chunks,
    width,
    height,
    bitDepth: ihdr.data[8],
    colorType: ihdr.data[9],
    pixels,
  };
}
