import assert from "node:assert/strict";
import {
  dequantizeTiles,
  quantizeTiles,
  riceDecodeDequantize,
  riceDecodeTiles,
  riceEncodeTiles,
} from "./rice.ts";

Deno.test("riceDecodeTiles inverts riceEncodeTiles for every width, in both builds", () => {
  let s = 99;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const counts = new Uint32Array([1, 33, 2048, 500]);
  const n = counts.reduce((a, b) => a + b, 0);
  for (const bytepix of [1, 2, 4] as const) {
    const v = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const x = Math.round(100 + 3 * (rand() + rand() + rand() - 1.5) * (i % 7));
      v[i] = bytepix === 1 ? x & 0xff : bytepix === 2 ? (x << 16) >> 16 : x * 4099;
    }
    for (const variant of ["simd", "scalar"] as const) {
      const { bytes, lengths } = riceEncodeTiles(v, counts, { bytepix, variant });
      const offsets = new Uint32Array(lengths.length);
      for (let t = 1; t < lengths.length; t++) offsets[t] = offsets[t - 1] + lengths[t - 1];
      assert.ok(bytes.length < n * bytepix, "noise of a few counts compresses");
      const back = riceDecodeTiles(bytes, offsets, lengths, counts, { bytepix, variant });
      assert.deepEqual(back, v);
    }
  }
});

Deno.test("riceDecodeTiles throws on a truncated stream", () => {
  const { bytes, lengths } = riceEncodeTiles(
    Int32Array.from({ length: 100 }, (_, i) => i * i),
    new Uint32Array([100]),
  );
  assert.throws(
    () =>
      riceDecodeTiles(
        bytes.subarray(0, 10),
        new Uint32Array([0]),
        new Uint32Array([10]),
        new Uint32Array([100]),
      ),
    /SD_ERR_CORRUPT/,
  );
  assert.ok(lengths[0] > 10);
});

Deno.test("dequantizeTiles applies scale, zero, blank and the dither offsets", () => {
  const q = Int32Array.from({ length: 64 }, (_, i) => i - 32);
  q[3] = -2147483647;
  const counts = new Uint32Array([32, 32]);
  const plain = dequantizeTiles(q, counts, new Float64Array([0.5, 2]), new Float64Array([10, -1]), {
    method: 0,
    blank: -2147483647,
  });
  assert.ok(Number.isNaN(plain[3]));
  assert.equal(plain[4], (4 - 32) * 0.5 + 10);
  assert.equal(plain[40], (40 - 32) * 2 - 1);
  const dithered = dequantizeTiles(
    q,
    counts,
    new Float64Array([0.5, 2]),
    new Float64Array([10, -1]),
    {
      method: 1,
      dither0: 5,
    },
  );
  for (let i = 4; i < 64; i++) {
    const s = i < 32 ? 0.5 : 2;
    assert.ok(Math.abs(dithered[i] - plain[i]) <= s / 2 + 1e-6);
  }
  assert.notDeepEqual(dithered.subarray(4), plain.subarray(4));
});

Deno.test("quantizeTiles and dequantizeTiles round-trip within half a step", () => {
  let s = 3;
  const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const v = Float32Array.from({ length: 4000 }, () => 50 + 8 * (r() + r() + r() + r() - 2));
  v[10] = NaN;
  v.fill(1, 1000, 2000); // constant tile
  const counts = new Uint32Array([1000, 1000, 1000, 1000]);
  const q = quantizeTiles(v, counts, { qlevel: 4, dither0: 99 });
  assert.equal(q.scales[1], 0);
  assert.ok(q.scales[0] > 0.5 && q.scales[0] < 2);
  const back = dequantizeTiles(q.values, counts, q.scales, q.zeros, {
    dither0: 99,
    blank: -2147483647,
  });
  assert.ok(Number.isNaN(back[10]));
  for (let i = 0; i < 4000; i++) {
    if (i === 10 || (i >= 1000 && i < 2000)) continue;
    assert.ok(Math.abs(back[i] - v[i]) <= q.scales[Math.floor(i / 1000)] / 2 + 1e-4, `pixel ${i}`);
  }
});

Deno.test("riceDecodeDequantize equals riceDecodeTiles then dequantizeTiles", () => {
  const counts = new Uint32Array([100, 100, 100]);
  const q = Int32Array.from({ length: 300 }, (_, i) => ((i * 37) % 91) - 45);
  const { bytes, lengths } = riceEncodeTiles(q, counts);
  const offsets = new Uint32Array([0, lengths[0], lengths[0] + lengths[1]]);
  const scales = new Float64Array([0.5, 0, 2]), zeros = new Float64Array([3, 0, -7]);
  const one = riceDecodeDequantize(bytes, offsets, lengths, counts, scales, zeros, { dither0: 12 });
  const ints = riceDecodeTiles(bytes, offsets, lengths, counts);
  assert.deepEqual(ints, q);
  const two = dequantizeTiles(ints, counts, scales, zeros, { dither0: 12 });
  assert.deepEqual(one, two);
  assert.ok(one.subarray(100, 200).every((v) => v === 0));
});
