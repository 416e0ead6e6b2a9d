/**
 * `deno task bench core`: the imaging core's kernels on the standard 2048 x 4096
 * field with 5000 stars (tests/crossval/_core_sim.ts): each kernel's time in WASM
 * SIMD (best of a few calls on data already in WASM memory) and in native C
 * (core-wasm/build/sd_bench, built by `make -C core-wasm native`, same calls on the
 * same file), their ratio, the scalar WASM time as an extra, and SEP's time for
 * background + extraction on the same image (`ref: "sep"`).
 *
 * Small mode (`--small`) uses the 1024 x 1024 field.
 *
 * @module
 */
import type { BenchFigure, FigureGroup } from "../figure.ts";
import { peakMemoryMb } from "../figure.ts";
import { background, detect, getCore } from "../../core-wasm/mod.ts";
import type { CoreVariant } from "../../core-wasm/mod.ts";
import { coreField, DETECT_THRESH, MIN_AREA, runSep } from "../crossval/core.ts";
import type { StarField } from "../crossval/_core_sim.ts";

const REPEAT = 3;
const ROUNDS = 3;
const KERNELS = [
  "stats_clipped",
  "background_mesh",
  "background_render",
  "convolve_3x3",
  "detect",
] as const;
type Kernel = typeof KERNELS[number];

function best(fn: () => void, repeat = REPEAT): number {
  let t = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

/** Times each kernel in WASM with the inputs already copied in (same calls as sd_bench.c). */
function timeWasm(field: StarField, variant: CoreVariant): Record<Kernel, number> {
  const core = getCore(variant);
  const { width: nx, height: ny, data } = field;
  const n = nx * ny, bw = 64, bh = 64;
  const nbx = Math.ceil(nx / bw), nby = Math.ceil(ny / bh);
  return core.scope((s) => {
    const img = s.copyIn(data);
    const mback = s.f32(nbx * nby), mrms = s.f32(nbx * nby);
    const back = s.f32(n), rms = s.f32(n), conv = s.f32(n);
    const stats = s.f64(7), glob = s.f64(3), count = s.i32(1);
    const kernel = s.copyIn(new Float32Array([1, 2, 1, 2, 4, 2, 1, 2, 1]));
    const cap = 200_000, objects = s.f64(cap * 22);
    const t: Partial<Record<Kernel, number>> = {};
    t.stats_clipped = best(() => core.call("sd_stats_clipped", img, 0, n, 0xffff, 3, 3, 5, stats));
    t.background_mesh = best(() =>
      core.call("sd_background_mesh", img, 0, nx, ny, 0xffff, bw, bh, 3, 3, 0, mback, mrms, glob)
    );
    t.background_render = best(() =>
      core.call("sd_background_render", mback, nbx, nby, bw, bh, nx, ny, back)
    );
    core.call("sd_background_render", mrms, nbx, nby, bw, bh, nx, ny, rms);
    const b = s.readF32(back, n);
    const sub = s.copyIn(data.map((v, i) => v - b[i]));
    t.convolve_3x3 = best(() =>
      core.call("sd_convolve_small", sub, 0, nx, ny, 0xffff, kernel, 3, 3, 1, conv)
    );
    t.detect = best(() =>
      core.call(
        "sd_detect",
        sub,
        rms,
        0,
        nx,
        ny,
        0,
        0xffff,
        4,
        0,
        kernel,
        3,
        3,
        DETECT_THRESH,
        MIN_AREA,
        32,
        0.005,
        cap,
        objects,
        0,
        count,
      )
    );
    return t as Record<Kernel, number>;
  });
}

async function timeNative(path: string, field: StarField): Promise<Record<Kernel, number>> {
  const exe = new URL("../../core-wasm/build/sd_bench", import.meta.url).pathname;
  const make = await new Deno.Command("make", {
    args: ["-C", new URL("../../core-wasm", import.meta.url).pathname, "native"],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!make.success) {
    throw new Error(`make native failed: ${new TextDecoder().decode(make.stderr)}`);
  }
  const out = await new Deno.Command(exe, {
    args: [path, String(field.width), String(field.height), String(REPEAT)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`sd_bench failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function minOf(a: Record<Kernel, number>, b: Record<Kernel, number>): Record<Kernel, number> {
  const out = { ...a };
  for (const k of KERNELS) out[k] = Math.min(a[k], b[k]);
  return out;
}

const round = (v: number) => Math.round(v * 100) / 100;

const group: FigureGroup = async function* ({ small, progress }) {
  const field = coreField(small);
  progress(`simulated ${field.width} x ${field.height} with ${field.stars.length} stars`);
  const dir = await Deno.makeTempDir({ prefix: "skydiff_bench_core_" });
  try {
    const sep = await runSep(field, dir, REPEAT);
    progress(
      `SEP: background ${sep.background_ms.toFixed(1)} ms, extract ${sep.extract_ms.toFixed(1)} ms`,
    );
    // native and WASM alternate for a few rounds and each keeps its best time, so that
    // load from other processes on the machine affects both alike
    let native = await timeNative(`${dir}/image.f32`, field);
    let simd = timeWasm(field, "simd");
    for (let round = 1; round < ROUNDS; round++) {
      native = minOf(native, await timeNative(`${dir}/image.f32`, field));
      simd = minOf(simd, timeWasm(field, "simd"));
    }
    const scalar = timeWasm(field, "scalar");
    for (const k of KERNELS) {
      yield {
        bench: `core/${k}`,
        wall_ms: round(simd[k]),
        peak_mb: peakMemoryMb(),
        native_ms: round(native[k]),
        ratio: round(simd[k] / native[k]),
        scalar_ms: round(scalar[k]),
      } satisfies BenchFigure;
    }
    // the whole chain through the TypeScript API, copies included, against SEP
    const image = { data: field.data, width: field.width, height: field.height };
    let nObjects = 0;
    const chain = best(() => {
      const bkg = background(image);
      const sub = new Float32Array(field.data.length);
      for (let i = 0; i < sub.length; i++) sub[i] = field.data[i] - bkg.backImage[i];
      nObjects = detect({ data: sub, width: field.width, height: field.height }, {
        noise: bkg.rmsImage,
        thresh: DETECT_THRESH,
        minArea: MIN_AREA,
      }).objects.length;
    });
    const refMs = sep.background_ms + sep.extract_ms;
    yield {
      bench: "core/background_detection",
      wall_ms: round(chain),
      peak_mb: peakMemoryMb(),
      ref: "sep",
      ref_ms: round(refMs),
      ref_ratio: round(chain / refMs),
      objects: nObjects,
      sep_objects: sep.objects.x.length,
    } satisfies BenchFigure;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

export default group;
