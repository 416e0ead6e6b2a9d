import assert from "node:assert/strict";
import {
  type ByteSource,
  bytesSource,
  column,
  fileSource,
  FitsError,
  gzip,
  Header,
  type ImageArray,
  objectSource,
  openFits,
  readFits,
  writeFits,
} from "./mod.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** A ByteSource that records every read. */
function recording(bytes: Uint8Array): ByteSource & { reads: Array<[number, number]> } {
  const inner = bytesSource(bytes, "recorded.fits");
  const reads: Array<[number, number]> = [];
  return {
    name: "recorded.fits",
    reads,
    size: () => inner.size(),
    read: (o, n) => {
      reads.push([o, n]);
      return inner.read(o, n);
    },
  };
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** A raw FITS file from card lines and data bytes (padding applied unless told). */
function rawFits(lines: string[], data = new Uint8Array(0), pad = true): Uint8Array {
  let text = lines.map((l) => l.padEnd(80)).join("");
  if (pad) text = text.padEnd(Math.ceil(text.length / 2880) * 2880);
  const padded = pad ? Math.ceil(data.length / 2880) * 2880 : data.length;
  const out = new Uint8Array(text.length + padded);
  out.set(ascii(text));
  out.set(data, text.length);
  return out;
}

Deno.test("writeFits and readFits round-trip every image type", async () => {
  const r = rng(1);
  const w = 37, h = 11, n = w * h;
  const arrays: ImageArray[] = [
    Uint8Array.from({ length: n }, () => Math.floor(r() * 256)),
    Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128),
    Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768),
    Uint16Array.from({ length: n }, () => Math.floor(r() * 65536)),
    Int32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32) - 2 ** 31),
    Uint32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32)),
    BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 2 ** 53)) * 1021n - 2n ** 62n),
    Float32Array.from({ length: n }, () => (r() - 0.5) * 1e6),
    Float64Array.from({ length: n }, () => (r() - 0.5) * 1e-200),
  ];
  const header = new Header().set("OBSERVER", "me").add("COMMENT", "kept");
  const bytes = writeFits(arrays.map((data, i) => ({ data, axes: [w, h], header, name: `A${i}` })));
  assert.equal(bytes.length % 2880, 0);
  const file = await readFits(bytes);
  assert.equal(await file.count(), arrays.length);
  for (let i = 0; i < arrays.length; i++) {
    const img = await file.image(`a${i}`);
    assert.deepEqual(img.axes, [w, h]);
    assert.equal(img.data.constructor, arrays[i].constructor, `HDU ${i}`);
    assert.deepEqual(img.data, arrays[i]);
    const hdu = await file.hdu(i);
    assert.equal(hdu.header.get("OBSERVER"), "me");
    assert.deepEqual(hdu.header.comments(), ["kept"]);
  }
});

Deno.test("readImage applies BSCALE, BZERO and BLANK", async () => {
  const raw = new Uint8Array(8);
  const dv = new DataView(raw.buffer);
  [10, -5, 7, 0].forEach((v, i) => dv.setInt16(2 * i, v));
  const bytes = rawFits([
    "SIMPLE  =                    T",
    "BITPIX  =                   16",
    "NAXIS   =                    1",
    "NAXIS1  =                    4",
    "BSCALE  =                  0.5",
    "BZERO   =                100.0",
    "BLANK   =                    7",
    "END",
  ], raw);
  const img = await (await openFits(bytes)).image(0);
  assert.ok(img.data instanceof Float32Array);
  assert.deepEqual([...img.data].slice(0, 2), [105, 97.5]);
  assert.ok(Number.isNaN(img.data[2]));
  assert.equal(img.data[3], 100);
});

Deno.test("openFits reads one HDU of a multi-extension file with reads of its bytes only", async () => {
  const w = 200, h = 100;
  const hdus = Array.from({ length: 6 }, (_, k) => ({
    data: Float32Array.from({ length: w * h }, (_, i) => i * (k + 1)),
    axes: [w, h],
    name: `CCD${k}`,
  }));
  const bytes = writeFits(hdus);
  const src = recording(bytes);
  const file = await openFits(src);
  const hdu = await file.hdu("CCD3");
  const img = await hdu.readImage();
  assert.equal(img.data[123], 123 * 4);
  const dataReads = src.reads.filter(([, n]) => n === w * h * 4);
  assert.equal(dataReads.length, 1);
  assert.equal(dataReads[0][0], hdu.dataOffset);
  // every other read is a header read before CCD3's data, at most 4 blocks long
  const total = src.reads.reduce((s, [, n]) => s + n, 0);
  assert.ok(total < w * h * 4 + 8 * 4 * 2880, `read ${total} of ${bytes.length} bytes`);
  for (const [o, n] of src.reads) {
    if (n !== w * h * 4) assert.ok(n <= 4 * 2880 && o < hdu.dataOffset);
  }
});

Deno.test("openFits reads gzip-compressed files and local files", async () => {
  const data = Float64Array.from({ length: 1000 }, (_, i) => Math.sqrt(i));
  const bytes = writeFits([{ data, axes: [10, 100] }]);
  const gz = await gzip(bytes);
  assert.ok(gz[0] === 0x1f && gz[1] === 0x8b);
  assert.deepEqual((await (await openFits(gz)).image()).data, data);
  const path = await Deno.makeTempFile({ suffix: ".fits" });
  try {
    await Deno.writeFile(path, bytes);
    const file = await openFits(fileSource(path));
    assert.deepEqual((await file.image()).data, data);
    await file.close();
    assert.deepEqual((await (await readFits(path)).image()).data, data);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeFits and readTable round-trip binary tables", async () => {
  const n = 5;
  const bytes = writeFits([{
    type: "bintable",
    name: "CAT",
    columns: [
      { name: "RA", data: Float64Array.from({ length: n }, (_, i) => 10 + i / 7), unit: "deg" },
      { name: "FLUX", data: Float32Array.from({ length: n }, (_, i) => i * 1.5) },
      { name: "ID", data: BigInt64Array.from({ length: n }, (_, i) => 2n ** 40n + BigInt(i)) },
      { name: "N", data: Int32Array.from({ length: n }, (_, i) => -i) },
      { name: "S", data: Int16Array.from({ length: n }, (_, i) => i - 2) },
      { name: "U", data: Uint16Array.from({ length: n }, (_, i) => 65535 - i) },
      { name: "UJ", data: Uint32Array.from({ length: n }, (_, i) => 4e9 + i) },
      { name: "B", data: Uint8Array.from({ length: n }, (_, i) => 250 + i) },
      { name: "SB", data: Int8Array.from({ length: n }, (_, i) => -128 + i) },
      { name: "NAME", data: ["a", "bb", "", "d d", "eeeee"] },
      { name: "OK", data: [true, false, null, true, false] },
      {
        name: "STAMP",
        data: Float32Array.from({ length: n * 6 }, (_, i) => i),
        repeat: 6,
        dims: [3, 2],
      },
      {
        name: "SCALED",
        data: Int16Array.from([1, 2, -999, 4, 5]),
        tscal: 0.25,
        tzero: 10,
        tnull: -999,
      },
    ],
  }]);
  const file = await openFits(bytes);
  const hdu = await file.hdu(1);
  assert.equal(hdu.kind, "bintable");
  const t = await hdu.readTable();
  assert.equal(t.nrows, n);
  assert.equal(column(t, "ra")!.unit, "deg");
  assert.equal((column(t, "RA")!.data as Float64Array)[3], 10 + 3 / 7);
  assert.deepEqual(column(t, "FLUX")!.data, Float32Array.from({ length: n }, (_, i) => i * 1.5));
  assert.equal((column(t, "ID")!.data as BigInt64Array)[4], 2n ** 40n + 4n);
  assert.deepEqual(column(t, "U")!.data, Uint16Array.from({ length: n }, (_, i) => 65535 - i));
  assert.deepEqual(column(t, "UJ")!.data, Uint32Array.from({ length: n }, (_, i) => 4e9 + i));
  assert.deepEqual(column(t, "SB")!.data, Int8Array.from({ length: n }, (_, i) => -128 + i));
  assert.deepEqual(column(t, "B")!.data, Uint8Array.from({ length: n }, (_, i) => 250 + i));
  assert.deepEqual(column(t, "NAME")!.data, ["a", "bb", "", "d d", "eeeee"]);
  assert.deepEqual(column(t, "OK")!.data, [true, false, null, true, false]);
  const stamp = column(t, "STAMP")!;
  assert.deepEqual(stamp.dims, [3, 2]);
  assert.equal(stamp.repeat, 6);
  assert.equal((stamp.data as Float32Array)[6 * 2 + 5], 17);
  const scaled = column(t, "SCALED")!.data as Float64Array;
  assert.deepEqual([scaled[0], scaled[1], scaled[3]], [10.25, 10.5, 11]);
  assert.ok(Number.isNaN(scaled[2]));
});

Deno.test("writeFits compresses and readImage decompresses tiled images", async () => {
  const r = rng(9);
  const w = 130, h = 70, n = w * h;
  const noise = () => (r() + r() + r() + r() - 2) * 10;
  const i16 = Int16Array.from({ length: n }, () => Math.round(1000 + noise()));
  const u16 = Uint16Array.from({ length: n }, () => Math.round(60000 + noise()));
  const i32 = Int32Array.from({ length: n }, () => Math.round(1e8 + 1000 * noise()));
  const u8 = Uint8Array.from({ length: n }, () => Math.round(100 + noise()));
  const f32 = Float32Array.from({ length: n }, () => 500 + noise());
  f32[17] = NaN;
  const bytes = writeFits([
    { data: i16, axes: [w, h], compress: true, name: "I16" },
    { data: u16, axes: [w, h], compress: { tile: [32, 16] }, name: "U16" },
    { data: i32, axes: [w, h], compress: { cmptype: "GZIP_2" }, name: "I32" },
    { data: u8, axes: [w, h], compress: { cmptype: "RICE_1" }, name: "U8" },
    { data: f32, axes: [w, h], compress: { cmptype: "GZIP_1" }, name: "F32GZ" },
    { data: f32, axes: [w, h], compress: { quantizeLevel: 8, tile: [w, 7] }, name: "F32Q" },
  ]);
  assert.ok(bytes.length < 6 * n * 4);
  const file = await openFits(bytes);
  assert.equal((await file.hdu(0)).header.get("NAXIS"), 0);
  assert.deepEqual((await file.image("I16")).data, i16);
  assert.deepEqual((await file.image("U16")).data, u16);
  assert.deepEqual((await file.image("I32")).data, i32);
  assert.deepEqual((await file.image("U8")).data, u8);
  assert.deepEqual((await file.image("F32GZ")).data, f32);
  const q = await file.hdu("F32Q");
  assert.ok(q.compressed);
  assert.equal(q.header.get("BITPIX"), -32);
  assert.equal(q.header.get("NAXIS1"), w);
  const back = (await q.readImage()).data as Float32Array;
  assert.ok(Number.isNaN(back[17]));
  // quantization error is at most half a step; the step is noise / q (noise ~ 11.5)
  let maxErr = 0;
  for (let i = 0; i < n; i++) if (i !== 17) maxErr = Math.max(maxErr, Math.abs(back[i] - f32[i]));
  assert.ok(maxErr > 0 && maxErr < 11.5 / 8, `max error ${maxErr}`);
});

function expectFitsError(card: string | undefined, hdu: number, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof FitsError, String(e));
    assert.equal(e.file, "bad.fits");
    assert.equal(e.hdu, hdu);
    assert.equal(e.card, card);
    assert.match(e.message, pattern);
    return true;
  };
}

const IMG = [
  "SIMPLE  =                    T",
  "BITPIX  =                  -32",
  "NAXIS   =                    2",
  "NAXIS1  =                   30",
  "NAXIS2  =                   40",
];
const DATA = new Uint8Array(30 * 40 * 4);

async function openAll(bytes: Uint8Array) {
  const f = await openFits(bytes, { name: "bad.fits" });
  for (const h of await f.hdus()) if (h.kind === "image") await h.readImage();
  return f;
}

Deno.test("openFits raises FitsError on a truncated file", async () => {
  const good = rawFits([...IMG, "END"], DATA);
  await openAll(good);
  await assert.rejects(
    () => openAll(good.subarray(0, 2880 + 1000)),
    expectFitsError("NAXIS2", 0, /truncated/),
  );
  await assert.rejects(() => openAll(good.subarray(0, 300)), expectFitsError("END", 0, /no END/));
  await assert.rejects(
    () => openAll(good.subarray(0, 1600)),
    expectFitsError("END", 0, /ends inside/),
  );
});

Deno.test("openFits raises FitsError on a missing END card", async () => {
  await assert.rejects(() => openAll(rawFits(IMG, DATA)), expectFitsError("END", 0, /no END/));
});

Deno.test("openFits raises FitsError on wrong padding", async () => {
  const junk = rawFits([...IMG, "END", "JUNK    = 1"], DATA);
  await assert.rejects(() => openAll(junk), expectFitsError("END", 0, /padding/));
  const unpadded = rawFits([...IMG, "END"], DATA, false);
  const headerOnly = ascii([...IMG, "END"].map((l) => l.padEnd(80)).join("").padEnd(2880));
  const file = new Uint8Array(headerOnly.length + DATA.length);
  file.set(headerOnly);
  assert.equal(unpadded.length, 6 * 80 + DATA.length);
  await assert.rejects(() => openAll(unpadded), expectFitsError("END", 0, /END|padding/));
  await assert.rejects(() => openAll(file), expectFitsError("NAXIS2", 0, /not padded/));
});

Deno.test("openFits raises FitsError on a bad BITPIX", async () => {
  const bad = rawFits([IMG[0], "BITPIX  =                   12", ...IMG.slice(2), "END"], DATA);
  await assert.rejects(() => openAll(bad), expectFitsError("BITPIX", 0, /BITPIX/));
});

Deno.test("openFits raises FitsError when NAXISn disagree with the data size", async () => {
  const ext = rawFits([
    "XTENSION= 'IMAGE   '",
    "BITPIX  =                   16",
    "NAXIS   =                    1",
    "NAXIS1  =                   10",
    "PCOUNT  =                    0",
    "GCOUNT  =                    1",
    "END",
  ], new Uint8Array(20));
  // the lying primary claims 30 x 40 float pixels: two blocks of data where there is one
  const primary = rawFits(
    [...IMG.slice(0, 4), "NAXIS2  =                    8", "END"],
    new Uint8Array(30 * 8 * 4),
  );
  const lying = rawFits(
    [...IMG.slice(0, 4), "NAXIS2  =                   40", "END"],
    new Uint8Array(30 * 8 * 4),
  );
  const good = new Uint8Array([...primary, ...ext]);
  assert.equal(await (await openAll(good)).count(), 2);
  const bad = new Uint8Array([...lying, ...ext, ...new Uint8Array(2880 * 2)]);
  await assert.rejects(() => openAll(bad), expectFitsError("NAXIS2", 0, /XTENSION|disagree/));
});

Deno.test("readImage raises FitsError on an unknown compression", async () => {
  const bytes = writeFits([{ data: new Int16Array(100), axes: [10, 10], compress: true }]);
  const text = new TextDecoder("latin1").decode(bytes);
  const at = text.indexOf("ZCMPTYPE= 'RICE_1  '");
  assert.ok(at > 0);
  const bad = bytes.slice();
  bad.set(ascii("ZCMPTYPE= 'HCOMPRESS_1'"), at);
  const f = await openFits(bad, { name: "bad.fits" });
  await assert.rejects(() => f.image(1), expectFitsError("ZCMPTYPE", 1, /unsupported compression/));
});

Deno.test("objectSource reads one HDU through ranged GETs of a store", async () => {
  const bytes = writeFits([
    { data: new Float32Array(5000).fill(1), axes: [50, 100], name: "A" },
    { data: Float32Array.from({ length: 5000 }, (_, i) => i), axes: [50, 100], name: "B" },
  ]);
  const gets: Array<{ offset: number; length: number }> = [];
  const store = {
    head: (key: string) => Promise.resolve(key === "k" ? { size: bytes.length } : null),
    get: (_key: string, o?: { range?: { offset: number; length: number } }) => {
      gets.push(o!.range!);
      return Promise.resolve(bytes.slice(o!.range!.offset, o!.range!.offset + o!.range!.length));
    },
  };
  const f = await openFits(objectSource(store, "k"));
  const img = await f.image("B");
  assert.equal(img.data[4999], 4999);
  assert.ok(gets.every((g) => g.offset + g.length <= bytes.length));
  const fetched = gets.reduce((s, g) => s + g.length, 0);
  assert.ok(fetched < bytes.length, `${fetched} of ${bytes.length}`);
  await assert.rejects(() => openFits(objectSource(store, "missing")), /not found/);
});

Deno.test("compressed float tiles that cannot be quantized are stored losslessly", async () => {
  const w = 64, h = 6;
  const f = Float32Array.from({ length: w * h }, (_, i) => 100 + Math.sin(i) * 5);
  f.fill(42.5, w, 2 * w); // a constant row: no noise, no quantization step
  f.fill(NaN, 3 * w, 4 * w); // a row of NaN only
  const bytes = writeFits([{ data: f, axes: [w, h], compress: { quantizeLevel: 16 }, name: "F" }]);
  const hdu = await (await openFits(bytes)).hdu("F");
  const back = (await hdu.readImage()).data as Float32Array;
  assert.deepEqual(back.subarray(w, 2 * w), f.subarray(w, 2 * w));
  assert.ok(back.subarray(3 * w, 4 * w).every(Number.isNaN));
  for (let i = 0; i < w; i++) assert.ok(Math.abs(back[i] - f[i]) < 0.2);
});

Deno.test("readRows reads a band of rows with one ranged read", async () => {
  const w = 40, h = 30;
  const data = Uint16Array.from({ length: w * h }, (_, i) => i);
  const bytes = writeFits([{ data, axes: [w, h] }, {
    data,
    axes: [w, h],
    compress: true,
    name: "C",
  }]);
  const src = recording(bytes);
  const f = await openFits(src);
  const hdu = await f.hdu(0);
  src.reads.length = 0;
  const band = await hdu.readRows(10, 13);
  assert.deepEqual(band.axes, [w, 3]);
  assert.deepEqual(band.data, data.slice(10 * w, 13 * w));
  assert.deepEqual(src.reads, [[hdu.dataOffset + 10 * w * 2, 3 * w * 2]]);
  const c = await (await f.hdu("C")).readRows(28, 30);
  assert.deepEqual(c.data, data.slice(28 * w, 30 * w));
  await assert.rejects(() => hdu.readRows(5, 31), RangeError);
});

Deno.test("writeFits stores floats as scaled integers with BSCALE, BZERO and BLANK", async () => {
  const f = Float32Array.from({ length: 200 }, (_, i) => 1000 + i * 0.25);
  f[7] = NaN;
  const bytes = writeFits([{
    data: f,
    axes: [20, 10],
    scale: { bitpix: 16, bscale: 0.25, bzero: 1000, blank: -32768 },
  }]);
  const hdu = await (await openFits(bytes)).hdu(0);
  assert.equal(hdu.header.get("BITPIX"), 16);
  assert.equal(hdu.header.get("BSCALE"), 0.25);
  const img = await hdu.readImage();
  assert.ok(img.data instanceof Float32Array);
  assert.ok(Number.isNaN(img.data[7]));
  for (let i = 0; i < 200; i++) if (i !== 7) assert.equal(img.data[i], f[i]);
  assert.throws(
    () =>
      writeFits([{ data: f, axes: [20, 10], scale: { bitpix: 16, bscale: 0.25, bzero: 1000 } }]),
    FitsError,
  );
  assert.throws(
    () =>
      writeFits([{ data: new Float32Array([1e9]), scale: { bitpix: 16, bscale: 1, bzero: 0 } }]),
    /does not fit/,
  );
});

Deno.test("openFits and readImage raise only FitsError on corrupted files", async () => {
  const w = 30, h = 20;
  const base = writeFits([
    { data: Float32Array.from({ length: w * h }, (_, i) => i), axes: [w, h] },
    {
      data: Int16Array.from({ length: w * h }, (_, i) => i),
      axes: [w, h],
      compress: true,
      name: "C",
    },
    {
      data: Float32Array.from({ length: w * h }, (_, i) => Math.sin(i) * 10 + 100),
      axes: [w, h],
      compress: true,
      name: "Q",
    },
    {
      type: "bintable",
      columns: [{ name: "A", data: new Float64Array(5) }, {
        name: "S",
        data: ["x", "y", "z", "w", "v"],
      }],
    },
  ]);
  const r = rng(77);
  let raised = 0;
  for (let trial = 0; trial < 1500; trial++) {
    const b = base.slice();
    for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
      const pos = Math.floor(r() * b.length);
      b[pos] = r() < 0.5 ? Math.floor(r() * 256) : b[pos] ^ (1 << Math.floor(r() * 8));
    }
    const cut = r() < 0.2 ? Math.floor(r() * b.length) : b.length;
    try {
      const f = await openFits(b.subarray(0, cut), { name: "fuzz" });
      for (const hdu of await f.hdus()) {
        if (hdu.kind === "image") await hdu.readImage();
        else if (hdu.kind === "bintable") await hdu.readTable();
      }
    } catch (e) {
      assert.ok(e instanceof FitsError, `trial ${trial}: ${e}`);
      raised++;
    }
  }
  assert.ok(raised > 100);
});
