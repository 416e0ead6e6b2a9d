/**
 * `deno task bench fits`: FITS throughput on the standard 2048 x 4096 CCD
 * (512 x 1024 with --small), in memory unless said otherwise. Each figure is the
 * best of a few runs; `mb_per_s` is uncompressed image megabytes (2^20) per second.
 *
 * - fits/write_mef: writeFits of a MEF with IMAGE and WEIGHT (float32) and FLAGS (uint16).
 * - fits/read_mef: readFits + readImage of the three HDUs of that file.
 * - fits/read_one_hdu_file: openFits of a 4-CCD MEF on disk and readImage of its
 *   third CCD (headers and that CCD's bytes only).
 * - fits/decompress_fpack_rice: readImage of the float32 image fpack'ed by
 *   `fpack -q 4` (RICE_1, SUBTRACTIVE_DITHER_1); `ref: "funpack"` is funpack's time
 *   on the same file (one process, writing its output to disk).
 * - fits/compress_rice: writeFits of the float32 image with RICE_1 quantization.
 * - fits/rice_decode_kernel: sd_rice_decode_tiles alone on that file's tiles, in WASM
 *   SIMD with the inputs already in WASM memory; `native_ms` and `ratio` (WASM / native)
 *   when core-wasm/build/libsd_core.so exists (`make -C core-wasm native`), called
 *   through Deno FFI on the same inputs.
 *
 * @module
 */
import type { BenchFigure, FigureGroup } from "../figure.ts";
import { peakMemoryMb } from "../figure.ts";
import { openFits, readFits, writeFits } from "../../functions/_shared/fits/mod.ts";
import { getCore } from "../../core-wasm/mod.ts";

/** The Rice tiles of a tile-compressed HDU: heap, offsets, lengths, counts. */
async function riceTiles(fz: Uint8Array) {
  const hdu = await (await openFits(fz)).hdu("SCI");
  const h = hdu.storedHeader;
  const data = await hdu.readRawData();
  const naxis1 = h.getNumber("NAXIS1")!, nrows = h.getNumber("NAXIS2")!;
  const width = h.getNumber("ZNAXIS1")!;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offsets = new Uint32Array(nrows), lengths = new Uint32Array(nrows);
  const counts = new Uint32Array(nrows).fill(width);
  for (let t = 0; t < nrows; t++) {
    lengths[t] = dv.getUint32(t * naxis1);
    offsets[t] = dv.getUint32(t * naxis1 + 4);
  }
  return { heap: data.slice(naxis1 * nrows), offsets, lengths, counts, n: width * nrows };
}

/** Times sd_rice_decode_tiles in WASM (inputs already in memory) and natively through FFI. */
async function riceKernel(
  fz: Uint8Array,
  repeat: number,
): Promise<{ wasm: number; native?: number }> {
  const { heap, offsets, lengths, counts, n } = await riceTiles(fz);
  const core = getCore("simd");
  const u8 = (a: Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const wasm = await core.scope(async (s) => {
    const ph = s.copyIn(heap), po = s.copyIn(u8(offsets)), pl = s.copyIn(u8(lengths));
    const pc = s.copyIn(u8(counts)), out = s.i32(n);
    return await best(
      () =>
        core.call("sd_rice_decode_tiles", ph, heap.length, po, pl, pc, counts.length, 4, 32, out),
      repeat,
    );
  });
  const so = new URL("../../core-wasm/build/libsd_core.so", import.meta.url).pathname;
  let native: number | undefined;
  try {
    const lib = Deno.dlopen(so, {
      sd_rice_decode_tiles: {
        parameters: [
          "buffer",
          "usize",
          "buffer",
          "buffer",
          "buffer",
          "i32",
          "i32",
          "i32",
          "buffer",
        ],
        result: "i32",
      },
    });
    const out = new Int32Array(n);
    native = await best(() => {
      const st = lib.symbols.sd_rice_decode_tiles(
        heap,
        BigInt(heap.length),
        offsets,
        lengths,
        counts,
        counts.length,
        4,
        32,
        out,
      );
      if (st !== 0) throw new Error(`native sd_rice_decode_tiles: status ${st}`);
    }, repeat);
    lib.close();
  } catch (err) {
    if (
      !(err instanceof Error) ||
      !/cannot open|No such file|not found|undefined symbol/i.test(err.message)
    ) {
      throw err;
    }
  }
  return { wasm, native };
}

async function best(fn: () => unknown | Promise<unknown>, repeat: number): Promise<number> {
  let t = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

function figure(
  name: string,
  ms: number,
  mb: number,
  extra: Partial<BenchFigure> = {},
): BenchFigure {
  return {
    bench: `fits/${name}`,
    wall_ms: Math.round(ms * 10) / 10,
    peak_mb: peakMemoryMb(),
    mb_per_s: Math.round((mb / (ms / 1000)) * 10) / 10,
    ...extra,
  };
}

const benchFits: FigureGroup = async function* ({ small, progress }) {
  const [w, h] = small ? [512, 1024] : [2048, 4096];
  const n = w * h;
  const repeat = small ? 5 : 3;
  let s = 1;
  const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const image = Float32Array.from({ length: n }, () => 1000 + 10 * (r() + r() + r() - 1.5));
  const weight = Float32Array.from({ length: n }, () => 0.01 * (1 + r()));
  const flags = Uint16Array.from({ length: n }, () => (r() < 0.01 ? 1 : 0));
  const hdus = [
    { data: image, axes: [w, h], name: "IMAGE" },
    { data: weight, axes: [w, h], name: "WEIGHT" },
    { data: flags, axes: [w, h], name: "FLAGS" },
  ];
  const mefMb = (n * 10) / 2 ** 20;
  progress(`write/read a ${w} x ${h} MEF`);
  let bytes: Uint8Array = new Uint8Array(0);
  const tWrite = await best(() => (bytes = writeFits(hdus)), repeat);
  yield figure("write_mef", tWrite, mefMb);
  const tRead = await best(async () => {
    const f = await readFits(bytes);
    for (const hdu of await f.hdus()) await hdu.readImage();
  }, repeat);
  yield figure("read_mef", tRead, mefMb);

  const dir = await Deno.makeTempDir({ prefix: "skydiff_bench_fits_" });
  try {
    const ccds = writeFits([
      {},
      ...[1, 2, 3, 4].map((k) => ({ data: image, axes: [w, h], name: `CCD${k}` })),
    ]);
    await Deno.writeFile(`${dir}/ccds.fits`, ccds);
    const tOne = await best(async () => {
      const f = await openFits(`${dir}/ccds.fits`);
      await f.image("CCD3");
      await f.close();
    }, repeat);
    yield figure("read_one_hdu_file", tOne, (n * 4) / 2 ** 20);

    await Deno.writeFile(
      `${dir}/sci.fits`,
      writeFits([{}, { data: image, axes: [w, h], name: "SCI" }]),
    );
    const fpack = await new Deno.Command("fpack", {
      args: ["-q", "4", "-O", `${dir}/sci.fits.fz`, `${dir}/sci.fits`],
    })
      .output();
    if (!fpack.success) throw new Error("fpack failed");
    const fz = await Deno.readFile(`${dir}/sci.fits.fz`);
    progress(`decompress ${fz.length} bytes of RICE_1`);
    const tDec = await best(async () => {
      const f = await openFits(fz);
      await f.image("SCI");
    }, repeat);
    const tFunpack = await best(async () => {
      await Deno.remove(`${dir}/out.fits`).catch(() => {});
      const out = await new Deno.Command("funpack", {
        args: ["-O", `${dir}/out.fits`, `${dir}/sci.fits.fz`],
      }).output();
      if (!out.success) throw new Error("funpack failed");
    }, repeat);
    yield figure("decompress_fpack_rice", tDec, (n * 4) / 2 ** 20, {
      ref: "funpack",
      ref_ms: Math.round(tFunpack * 10) / 10,
      compressed_bytes: fz.length,
    });
    const tComp = await best(
      () => writeFits([{ data: image, axes: [w, h], name: "SCI", compress: { quantizeLevel: 4 } }]),
      repeat,
    );
    yield figure("compress_rice", tComp, (n * 4) / 2 ** 20);
    const k = await riceKernel(fz, repeat);
    yield figure("rice_decode_kernel", k.wasm, (n * 4) / 2 ** 20, {
      ...(k.native !== undefined
        ? {
          native_ms: Math.round(k.native * 10) / 10,
          ratio: Math.round((k.wasm / k.native) * 100) / 100,
        }
        : {}),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

export default benchFits;
