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
 *
 * @module
 */
import type { BenchFigure, FigureGroup } from "../figure.ts";
import { peakMemoryMb } from "../figure.ts";
import { openFits, readFits, writeFits } from "../../functions/_shared/fits/mod.ts";

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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

export default benchFits;
