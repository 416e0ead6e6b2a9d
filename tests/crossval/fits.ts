/**
 * `deno task crossval fits`: the FITS module against astropy (python3-astropy)
 * and fpack/funpack (libcfitsio-bin), on images of 256 x 128 (small) or
 * 2048 x 4096 (full) pixels.
 *
 * Figures (each a count of differing values; tolerance 0 — the comparisons are exact,
 * NaN equal to NaN):
 * (astropy 5.2 misreads a string whose escaped quote is followed by a blank, e.g.
 * 'field ''A'' / x', so the test strings avoid that pattern.)
 * - fits/ours_read_by_astropy_data, _header: a MEF we write (uint8, int8, int16, uint16,
 *   int32, uint32, int64, float32, float64 images, float32 stored as int16 with BSCALE,
 *   BZERO and BLANK; a BINTABLE with D, E, K, J+TNULL, I,
 *   A, L, TDIM array, uint16 and TSCAL/TZERO columns; CONTINUE, HIERARCH, COMMENT,
 *   HISTORY cards) read by astropy: every pixel, column value, header value and
 *   commentary text must be identical. `_gz_data`: the same file gzipped.
 * - fits/astropy_read_by_ours_data, _header: the reverse, with astropy's own file
 *   (including an int16 image with BSCALE/BZERO/BLANK).
 * - fits/funpack_<variant>: pixels where our decompression of an fpack'ed file differs
 *   from funpack's output, for RICE_1 float with SUBTRACTIVE_DITHER_1 (fpack -q 4),
 *   SUBTRACTIVE_DITHER_2 (-qz 4), NO_DITHER (-q0 4), GZIP_1 (-g), GZIP_2 (-g2), lossless
 *   GZIP float (-g -q 0); each file also holds int16 and uint16 images (lossless
 *   Rice / GZIP). fits/funpack_rice_int16 counts the int16 image of the RICE_1 file alone.
 * - fits/astropy_rice_2d_tiles: fpack with 2-D tiles (-t 64,32) against astropy's
 *   decompression, on every pixel that is not NaN in the original; funpack 1.7.0
 *   returns wrong values for 2-D tiles that hold a NaN, and cfitsio (astropy) returns
 *   numbers at the NaN pixels, so fits/rice_2d_tiles_nan_restored counts the original
 *   NaN pixels that our decompression does not return as NaN (ZBLANK).
 * - fits/ours_compressed_vs_funpack: a file we tile-compress (RICE_1 quantized float with
 *   a constant row that goes to GZIP_COMPRESSED_DATA, RICE_1 int16, GZIP_2 int32)
 *   decompressed by funpack equals our own decompression, and the integers are lossless.
 *
 * @module
 */
import type { CrossvalFigure, FigureGroup } from "../figure.ts";
import { within } from "../figure.ts";
import {
  type FitsFile,
  gzip,
  Header,
  type ImageArray,
  openFits,
  readFits,
  writeFits,
} from "../../functions/_shared/fits/mod.ts";
import type { TableColumn } from "../../functions/_shared/fits/mod.ts";

const PY = new URL("./py/astropy_fits.py", import.meta.url).pathname;

interface DumpColumn {
  name: string;
  dtype: string;
  shape: number[];
  file?: string;
  values?: Array<string | boolean>;
}

interface DumpHdu {
  index: number;
  kind: string;
  header: { cards: Array<[string, unknown]>; comments: string[]; history: string[] };
  dtype?: string;
  shape?: number[];
  file?: string;
  columns?: DumpColumn[];
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function astropyDump(path: string, dir: string): Promise<DumpHdu[]> {
  await Deno.mkdir(dir, { recursive: true });
  return JSON.parse(await run("/usr/bin/python3", [PY, "dump", path, dir])).hdus;
}

/** Reads a little-endian dump file as the typed array of its numpy dtype. */
async function loadArray(path: string, dtype: string): Promise<ImageArray> {
  const bytes = await Deno.readFile(path);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const code = dtype.slice(1);
  switch (code) {
    case "f4":
      return new Float32Array(buf);
    case "f8":
      return new Float64Array(buf);
    case "i1":
      return new Int8Array(buf);
    case "u1":
      return new Uint8Array(buf);
    case "i2":
      return new Int16Array(buf);
    case "u2":
      return new Uint16Array(buf);
    case "i4":
      return new Int32Array(buf);
    case "u4":
      return new Uint32Array(buf);
    case "i8":
      return new BigInt64Array(buf);
    case "u8":
      return new BigUint64Array(buf);
  }
  throw new Error(`unexpected dtype ${dtype}`);
}

/** Values that differ (NaN equals NaN; also counts a type or length difference). */
function mismatches(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let bad = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number" && Number.isNaN(x) && Number.isNaN(y)) {
      continue;
    }
    bad++;
  }
  return bad;
}

function sameKind(ours: ImageArray, theirs: ImageArray): boolean {
  return ours.constructor === theirs.constructor;
}

/** Compares our reading of every HDU with astropy's dump: [data mismatches, header mismatches]. */
async function compareWithDump(
  file: FitsFile,
  dump: DumpHdu[],
  dir: string,
): Promise<[number, number, string[]]> {
  let data = 0, header = 0;
  const notes: string[] = [];
  const hdus = await file.hdus();
  if (hdus.length !== dump.length) {
    notes.push(`HDU count ${hdus.length} vs ${dump.length}`);
    return [1, 1, notes];
  }
  for (const d of dump) {
    const hdu = hdus[d.index];
    const h = hdu.header;
    for (const [key, value] of d.header.cards) {
      const ours = h.get(key);
      const v = typeof ours === "bigint" ? Number(ours) : ours;
      if (v !== value) {
        header++;
        notes.push(`HDU ${d.index} ${key}: ours ${String(ours)} astropy ${String(value)}`);
      }
    }
    header += mismatches(h.comments(), d.header.comments) +
      mismatches(h.history(), d.header.history);
    if (d.file) {
      const img = await hdu.readImage();
      const theirs = await loadArray(`${dir}/${d.file}`, d.dtype!);
      const bad = mismatches(img.data, theirs) + (sameKind(img.data, theirs) ? 0 : 1);
      if (bad) {
        notes.push(
          `HDU ${d.index}: ${bad} pixels differ (${img.data.constructor.name} vs ${d.dtype})`,
        );
      }
      data += bad;
    }
    if (d.columns) {
      const t = await hdu.readTable();
      for (const [j, c] of d.columns.entries()) {
        const col: TableColumn = t.columns[j];
        let bad: number;
        if (c.values) bad = mismatches(col.data as ArrayLike<unknown>, c.values);
        else {
          const theirs = await loadArray(`${dir}/${c.file}`, c.dtype);
          bad = mismatches(col.data as ArrayLike<unknown>, theirs) +
            (sameKind(col.data as ImageArray, theirs) ? 0 : 1);
        }
        if (bad) notes.push(`HDU ${d.index} column ${c.name}: ${bad} values differ`);
        data += bad;
      }
    }
  }
  return [data, header, notes];
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
}

/** A noisy float32 sky with a few NaN and exact-zero pixels. */
function skyImage(w: number, h: number, seed: number): Float32Array {
  const r = rng(seed);
  const f = Float32Array.from({ length: w * h }, (_, i) => 1000 + 0.01 * (i % w) + 12 * gauss(r));
  for (let k = 0; k < 20; k++) f[Math.floor(r() * f.length)] = NaN;
  f.fill(0, 3 * w, 3 * w + 40);
  return f;
}

function ourMef(w: number, h: number): Uint8Array {
  const r = rng(42);
  const n = w * h;
  const header = new Header()
    .set("OBJECT", "it's field A / east", "a quote and a slash")
    .set("EXPTIME", 90, "[s]", { float: true })
    .set("AIRMASS", 1.2345678901234567)
    .set("TINY", -3.25e-12)
    .set("NIGHT", 20240102)
    .set("PHOTOM", true)
    .set("LONGSTR", "a long string that needs CONTINUE cards, ".repeat(5).trim(), "long")
    .set("ESO DET CHIP NAME", "CCD-44", "HIERARCH")
    .add("COMMENT", "written by skydiff")
    .add("HISTORY", "step one")
    .add("HISTORY", "step two");
  const ncat = 60;
  return writeFits([
    { data: skyImage(w, h, 1), axes: [w, h], header },
    { data: Uint8Array.from({ length: n }, () => Math.floor(r() * 256)), axes: [w, h], name: "U8" },
    {
      data: Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128),
      axes: [w, h],
      name: "I8",
    },
    {
      data: Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768),
      axes: [w, h],
      name: "I16",
    },
    {
      data: Uint16Array.from({ length: n }, () => Math.floor(r() * 65536)),
      axes: [w, h],
      name: "U16",
    },
    {
      data: Int32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32) - 2 ** 31),
      axes: [w, h],
      name: "I32",
    },
    {
      data: Uint32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32)),
      axes: [w, h],
      name: "U32",
    },
    {
      data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 2 ** 40)) - 2n ** 39n),
      axes: [w, h],
      name: "I64",
    },
    { data: Float64Array.from({ length: n }, () => gauss(r) * 1e-3), axes: [w, h], name: "F64" },
    {
      data: Float32Array.from(
        skyImage(w, h, 5),
        (v) => (Number.isNaN(v) ? v : Math.round(v * 2) / 2),
      ),
      axes: [w, h],
      name: "SCALED16",
      scale: { bitpix: 16, bscale: 0.5, bzero: 1000, blank: -32768 },
    },
    {
      type: "bintable",
      name: "CAT",
      columns: [
        { name: "RA", data: Float64Array.from({ length: ncat }, () => r() * 360), unit: "deg" },
        { name: "MAG", data: Float32Array.from({ length: ncat }, () => 15 + 10 * r()) },
        {
          name: "ID",
          data: BigInt64Array.from({ length: ncat }, (_, i) => BigInt(i) * 10n ** 12n),
        },
        {
          name: "NPIX",
          data: Int32Array.from({ length: ncat }, (_, i) => (i % 7 ? i : -1)),
          tnull: -1,
        },
        { name: "FLAGS", data: Int16Array.from({ length: ncat }, (_, i) => i % 5) },
        { name: "NAME", data: Array.from({ length: ncat }, (_, i) => `src${i}`) },
        { name: "GOOD", data: Array.from({ length: ncat }, (_, i) => i % 3 === 0) },
        {
          name: "STAMP",
          data: Float32Array.from({ length: ncat * 6 }, () => gauss(r)),
          repeat: 6,
          dims: [3, 2],
        },
        { name: "U16", data: Uint16Array.from({ length: ncat }, (_, i) => i * 1000) },
        {
          name: "SCALED",
          data: Int32Array.from({ length: ncat }, (_, i) => i * 500 - 7000),
          tscal: 0.001,
          tzero: 5,
        },
      ],
    },
  ]);
}

const fitsGroup: FigureGroup = async function* ({ small, progress }) {
  const [w, h] = small ? [256, 128] : [2048, 4096];
  const dir = await Deno.makeTempDir({ prefix: "skydiff_crossval_fits_" });
  const figure = (name: string, value: number, notes: string[] = []): CrossvalFigure => ({
    ...within(`fits/${name}`, value, 0),
    ...(notes.length ? { notes: notes.slice(0, 5) } : {}),
  });
  try {
    // 1. files we write, read by astropy
    progress(`writing our MEF (${w} x ${h})`);
    const ours = ourMef(w, h);
    await Deno.writeFile(`${dir}/ours.fits`, ours);
    let [data, header, notes] = await compareWithDump(
      await readFits(ours),
      await astropyDump(`${dir}/ours.fits`, `${dir}/ours`),
      `${dir}/ours`,
    );
    yield figure("ours_read_by_astropy_data", data, notes);
    yield figure("ours_read_by_astropy_header", header, notes);
    await Deno.writeFile(`${dir}/ours.fits.gz`, await gzip(ours));
    [data, header, notes] = await compareWithDump(
      await readFits(ours),
      await astropyDump(`${dir}/ours.fits.gz`, `${dir}/oursgz`),
      `${dir}/oursgz`,
    );
    yield figure("ours_read_by_astropy_gz_data", data + header, notes);

    // 2. files astropy writes, read by us
    progress("astropy writes its MEF");
    await run("/usr/bin/python3", [PY, "make", `${dir}/astropy.fits`, String(w), String(h), "3"]);
    [data, header, notes] = await compareWithDump(
      await openFits(`${dir}/astropy.fits`),
      await astropyDump(`${dir}/astropy.fits`, `${dir}/astropy`),
      `${dir}/astropy`,
    );
    yield figure("astropy_read_by_ours_data", data, notes);
    yield figure("astropy_read_by_ours_header", header, notes);

    // 3. fpack'ed files: our decompression against funpack's output
    const input = writeFits([
      { data: skyImage(w, h, 7), axes: [w, h], name: "SCI" },
      {
        data: Int16Array.from(
          { length: w * h },
          (_, i) => Math.round(500 + 30 * Math.sin(i / 17) + (i % 13)),
        ),
        axes: [w, h],
        name: "I16",
      },
      {
        data: Uint16Array.from({ length: w * h }, (_, i) => 60000 + ((i * 7919) % 5000)),
        axes: [w, h],
        name: "U16",
      },
    ]);
    await Deno.writeFile(`${dir}/in.fits`, input);
    const variants: Array<[string, string[]]> = [
      ["rice_dither1", ["-q", "4"]],
      ["rice_dither2", ["-qz", "4"]],
      ["rice_nodither", ["-q0", "4"]],
      ["gzip1", ["-g"]],
      ["gzip2", ["-g2"]],
      ["gzip_lossless_float", ["-g", "-q", "0"]],
    ];
    for (const [name, opts] of variants) {
      progress(`fpack ${opts.join(" ")}`);
      const fz = `${dir}/${name}.fits.fz`, out = `${dir}/${name}.fits`;
      await run("fpack", [...opts, "-O", fz, `${dir}/in.fits`]);
      await run("funpack", ["-O", out, fz]);
      const a = await openFits(fz), b = await openFits(out);
      let bad = 0;
      const why: string[] = [];
      for (const ext of ["SCI", "I16", "U16"]) {
        const ha = await a.hdu(ext);
        if (!ha.compressed) why.push(`${ext} not compressed`);
        const x = (await ha.readImage()).data, y = (await b.image(ext)).data;
        const n = mismatches(x, y) + (sameKind(x, y) ? 0 : 1) + (ha.compressed ? 0 : 1);
        if (n) why.push(`${ext}: ${n} differ (${ha.storedHeader.get("ZCMPTYPE")})`);
        bad += n;
        if (name === "rice_dither1" && ext === "I16") {
          yield figure("funpack_rice_int16", n);
        }
      }
      yield {
        ...figure(`funpack_${name}`, bad, why),
        zquantiz: String((await a.hdu("SCI")).storedHeader.get("ZQUANTIZ")),
      };
    }
    progress("fpack -t 64,32 (2-D tiles) against astropy");
    await run("fpack", ["-t", "64,32", "-q", "4", "-O", `${dir}/tiles.fits.fz`, `${dir}/in.fits`]);
    const tilesDump = await astropyDump(`${dir}/tiles.fits.fz`, `${dir}/tiles`);
    const tiles = await openFits(`${dir}/tiles.fits.fz`);
    const original = await openFits(input);
    let tileBad = 0, nanLost = 0, nanSkipped = 0;
    for (const d of tilesDump) {
      if (!d.file) continue;
      const x = (await tiles.image(d.index)).data as ArrayLike<number>;
      const y = (await loadArray(`${dir}/tiles/${d.file}`, d.dtype!)) as ArrayLike<number>;
      const extname = String(d.header.cards.find(([k]) => k === "EXTNAME")?.[1]);
      const truth = (await original.image(extname)).data as ArrayLike<number>;
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(truth[i])) {
          // cfitsio (astropy, funpack) does not restore NaN in 2-D tiles; we must
          nanSkipped++;
          if (!Number.isNaN(x[i])) nanLost++;
        } else if (x[i] !== y[i]) {
          tileBad++;
        }
      }
    }
    yield { ...figure("astropy_rice_2d_tiles", tileBad), nan_pixels_not_compared: nanSkipped };
    yield figure("rice_2d_tiles_nan_restored", nanLost);

    // 4. files we compress, decompressed by funpack
    progress("our tile compression through funpack");
    const sci = skyImage(w, h, 11);
    sci.fill(7.25, 5 * w, 6 * w); // a constant row: stored as GZIP_COMPRESSED_DATA
    const i16 = Int16Array.from({ length: w * h }, (_, i) => (i * 31) % 2000 - 1000);
    const i32 = Int32Array.from({ length: w * h }, (_, i) => i * 1013 - 5_000_000);
    const packed = writeFits([
      { data: sci, axes: [w, h], name: "SCI", compress: { cmptype: "RICE_1", quantizeLevel: 4 } },
      { data: i16, axes: [w, h], name: "I16", compress: true },
      { data: i32, axes: [w, h], name: "I32", compress: { cmptype: "GZIP_2" } },
    ]);
    await Deno.writeFile(`${dir}/ours.fits.fz`, packed);
    await run("funpack", ["-O", `${dir}/ours_unpacked.fits`, `${dir}/ours.fits.fz`]);
    const mine = await openFits(packed), theirs = await openFits(`${dir}/ours_unpacked.fits`);
    let packedBad = 0;
    for (const ext of ["SCI", "I16", "I32"]) {
      const x = (await mine.image(ext)).data, y = (await theirs.image(ext)).data;
      packedBad += mismatches(x, y) + (sameKind(x, y) ? 0 : 1);
    }
    packedBad += mismatches((await mine.image("I16")).data, i16) +
      mismatches((await mine.image("I32")).data, i32);
    yield figure("ours_compressed_vs_funpack", packedBad);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

export default fitsGroup;
