/**
 * encodeGrayPng decoded by an independent reader: signature, chunk order and
 * CRCs (node:zlib crc32), IHDR fields, and the IDAT inflated back to the pixels.
 */
import assert from "node:assert/strict";
import { crc32, encodeGrayPng } from "./png.ts";
import { readPng } from "./_png_read.ts";

Deno.test("crc32: the check value of '123456789' is CBF43926 (ISO 3309)", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
  // continuing a CRC over a split input gives the CRC of the whole
  const all = new TextEncoder().encode("hello, png world");
  assert.equal(crc32(all.subarray(5), crc32(all.subarray(0, 5))), crc32(all));
});

Deno.test("encodeGrayPng: decodes back to the same pixels, every chunk CRC right", async () => {
  for (const [w, h] of [[1, 1], [7, 3], [131, 41]]) {
    const pixels = new Uint8Array(w * h);
    let s = 12345;
    for (let i = 0; i < pixels.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      pixels[i] = (i % 3 === 0) ? (s >>> 24) : (i * 7) & 0xff;
    }
    const png = encodeGrayPng(w, h, pixels);
    const d = await readPng(png);
    assert.ok(d.signatureOk);
    assert.deepEqual(d.chunks.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
    assert.ok(d.chunks.every((c) => c.crcOk), "chunk CRCs");
    assert.equal(d.chunks[0].data.length, 13);
    assert.deepEqual([d.width, d.height, d.bitDepth, d.colorType], [w, h, 8, 0]);
    assert.deepEqual(d.chunks[0].data.subarray(10), new Uint8Array([0, 0, 0]));
    assert.equal(d.chunks[2].data.length, 0);
    assert.deepEqual(d.pixels, pixels);
  }
});

Deno.test("encodeGrayPng: a flipped byte breaks its chunk's CRC; bad sizes throw", async () => {
  const png = encodeGrayPng(4, 4, new Uint8Array(16).fill(200));
  const broken = png.slice();
  broken[8 + 8 + 12] ^= 0x01; // IHDR interlace byte: decodes, but the CRC no longer matches
  const d = await readPng(broken);
  assert.deepEqual(d.chunks.map((c) => c.crcOk), [false, true, true]);
  assert.throws(() => encodeGrayPng(0, 4, new Uint8Array()), /bad size/);
  assert.throws(() => encodeGrayPng(4, 4, new Uint8Array(15)), /15 pixels/);
});
