/**
 * `deno task bench core_diff`: the core's FFT, convolution, resampling and subtraction kernels
 * on a 2048 x 4096 CCD with ~5000 stars (small: 512 x 1024, 600 stars), in WASM SIMD (kernel
 * calls only, inputs already in WASM memory) and in native C (core-wasm/build/sd_bench_diff,
 * `make -C core-wasm native`, the same calls on the same files), best of 3 alternating
 * rounds, with the ratio. Kernels: fft2 (r2c + c2r of the full CCD), convolve_fft41 (41 x 41
 * kernel by FFT), resample_lanczos3 (image + weight + flags through a 33 x 33 distortion
 * grid), zogy (512 px tiles, 32 px overlap, variance images, astrometric term), al_fit (300
 * stamps, 49 basis functions x order 1), al_convolve; plus subtraction = resample + zogy
 * against the 1.5 s target of DESIGN.md.
 *
 * @module
 */
import type { Figure, FigureOptions } from "../figure.ts";
import { peakMemoryMb } from "../figure.ts";
import { getCore, Scope } from "../../core-wasm/_module.ts";
import { diffField } from "./_diff_field.ts";

const CORE_DIR = new URL("../../core-wasm/", import.meta.url).pathname;
const NATIVE = `${CORE_DIR}build/sd_bench_diff`;
const ROUNDS = 3;
const GRID = 33;
const KERNELS = [
  "fft2",
  "convolve_fft41",
  "resample_lanczos3",
  "zogy",
  "al_fit",
  "al_convolve",
] as const;

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Writes a typed array as raw bytes. */
function bytes(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Bench figures of the subtraction kernels (group "core_diff"). */
export default async function* coreDiffBench(opts: FigureOptions): AsyncIterable<Figure> {
  const width = opts.small ? 512 : 2048, height = opts.small ? 1024 : 4096;
  const nStars = opts.small ? 600 : 5000;
  opts.progress(`simulating ${width}x${height} with ${nStars} stars`);
  const f = diffField(width, height, nStars, 17);
  const tile = 512, ps = f.psfSize;
  const nt = Math.ceil(width / tile) * Math.ceil(height / tile);
  const psfN = new Float32Array(nt * ps * ps), psfR = new Float32Array(nt * ps * ps);
  for (let t = 0; t < nt; t++) {
    psfN.set(f.psfNew, t * ps * ps);
    psfR.set(f.psfRef, t * ps * ps);
  }
  // distortion: shift, 0.05 deg rotation, 0.1% scale and a quadratic term
  const grid = new Float64Array(2 * GRID * GRID);
  for (let j = 0; j < GRID; j++) {
    for (let i = 0; i < GRID; i++) {
      const x = (i * (width - 1)) / (GRID - 1), y = (j * (height - 1)) / (GRID - 1);
      const th = 0.05 * Math.PI / 180, s = 1.001;
      grid[j * GRID + i] = 1.3 + s * (Math.cos(th) * x - Math.sin(th) * y) + 2e-7 * x * y;
      grid[GRID * GRID + j * GRID + i] = -0.7 + s * (Math.sin(th) * x + Math.cos(th) * y) +
        1e-7 * x * x;
    }
  }
  const kernel = new Float32Array(41 * 41);
  for (let v = -20; v <= 20; v++) {
    for (let u = -20; u <= 20; u++) {
      kernel[(v + 20) * 41 + u + 20] = Math.exp(-(u * u + v * v) / 50);
    }
  }
  // the brightest 300 stars away from the edges for the Alard-Lupton fit
  const order = Array.from(f.xs.keys()).filter((i) =>
    f.xs[i] > 30 && f.xs[i] < width - 30 && f.ys[i] > 30 && f.ys[i] < height - 30 &&
    f.fluxes[i] < 3e4
  ).sort((a, b) => f.fluxes[b] - f.fluxes[a]).slice(0, 300);
  const alX = Float64Array.from(order, (i) => f.xs[i]),
    alY = Float64Array.from(order, (i) => f.ys[i]);
  const pos = new Float64Array(2 * alX.length);
  pos.set(alX, 0);
  pos.set(alY, alX.length);

  opts.progress("make -C core-wasm native wasm");
  await run("make", ["-C", CORE_DIR, "native", "wasm"]);
  const dir = await Deno.makeTempDir({ prefix: "sd_bench_diff_" });
  try {
    const files: [string, Float32Array | Float64Array][] = [
      ["new.f32", f.newData],
      ["ref.f32", f.refData],
      ["varn.f32", f.varNew],
      ["varr.f32", f.varRef],
      ["pos.f64", pos],
      ["psfn.f32", psfN],
      ["psfr.f32", psfR],
      ["grid.f64", grid],
      ["kernel.f32", kernel],
    ];
    for (const [name, data] of files) await Deno.writeFile(`${dir}/${name}`, bytes(data));
    const core = getCore("simd");
    const native: Record<string, number> = {}, wasm: Record<string, number> = {};
    // a scope held across the awaits of the native rounds (core.scope would free at the first)
    const s = new Scope(core);
    try {
      const n = width * height;
      const img = s.copyIn(f.newData), ref = s.copyIn(f.refData);
      const vn = s.copyIn(f.varNew), vr = s.copyIn(f.varRef);
      const wr = s.copyIn(Float32Array.from(f.varRef, (v) => 1 / v));
      const fl = s.alloc(2 * n), ofl = s.alloc(2 * n);
      const o = [s.f32(n), s.f32(n), s.f32(n), s.f32(n), s.f32(n)];
      const spec = s.f32(2 * height * (width / 2 + 1));
      const lenPtr = s.i32(1);
      core.call("sd_fft_plan_length", width, height, lenPtr);
      const plen = s.readI32(lenPtr, 1)[0];
      const plan = s.f32(plen);
      core.call("sd_fft_plan", width, height, plan, plen);
      const kern = s.copyIn(kernel), g = s.copyIn(grid);
      const pn = s.copyIn(psfN), pr = s.copyIn(psfR);
      const zo = s.copyIn(new Float64Array([tile, 32, 1, 1, 0.02, 0.02]));
      const ao = s.copyIn(new Float64Array([1.2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 300]));
      const ncPtr = s.i32(1);
      core.call("sd_al_coeff_count", ao, ncPtr);
      const nc = s.readI32(ncPtr, 1)[0];
      const coef = s.f64(nc), info = s.f64(4), table = s.f64(4 * nt);
      const px = s.copyIn(alX), py = s.copyIn(alY);
      const calls: Record<string, () => void> = {
        fft2: () => {
          core.call("sd_fft_r2c", plan, img, spec);
          core.call("sd_fft_c2r", plan, spec, o[0]);
        },
        convolve_fft41: () =>
          core.call("sd_convolve", img, width, height, kern, 41, 41, 0, 2, o[0]),
        resample_lanczos3: () =>
          core.call(
            "sd_resample_lanczos3",
            ref,
            wr,
            fl,
            width,
            height,
            g,
            g + 8 * GRID * GRID,
            GRID,
            GRID,
            width,
            height,
            0,
            o[0],
            o[1],
            ofl,
          ),
        zogy: () =>
          core.call(
            "sd_zogy",
            img,
            ref,
            vn,
            vr,
            width,
            height,
            0,
            0,
            pn,
            pr,
            ps,
            zo,
            o[0],
            o[1],
            o[2],
            o[3],
            o[4],
            0,
            table,
          ),
        al_fit: () =>
          core.call(
            "sd_al_fit",
            img,
            ref,
            vn,
            width,
            height,
            px,
            py,
            alX.length,
            ao,
            coef,
            nc,
            info,
          ),
        al_convolve: () =>
          core.call("sd_al_convolve", ref, vr, width, height, ao, coef, nc, o[0], o[1]),
      };
      const args = [
        dir,
        `${width}`,
        `${height}`,
        `${alX.length}`,
        `${ps}`,
        `${nt}`,
        `${GRID}`,
        "1",
      ];
      for (let round = 0; round < ROUNDS; round++) {
        opts.progress(`round ${round + 1}/${ROUNDS}: native`);
        const nat = JSON.parse(await run(NATIVE, args)) as Record<string, number>;
        opts.progress(`round ${round + 1}/${ROUNDS}: wasm`);
        for (const k of KERNELS) {
          const t0 = performance.now();
          calls[k]();
          const dt = performance.now() - t0;
          wasm[k] = Math.min(wasm[k] ?? Infinity, dt);
          native[k] = Math.min(native[k] ?? Infinity, nat[k]);
        }
      }
    } finally {
      s.freeAll();
    }
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    for (const k of KERNELS) {
      yield {
        bench: `core_diff/${k}`,
        wall_ms: r3(wasm[k]),
        peak_mb: peakMemoryMb(),
        native_ms: native[k],
        ratio: r3(wasm[k] / native[k]),
        image: `${width}x${height}`,
        stars: k.startsWith("al_") ? alX.length : nStars,
      };
    }
    const sub = wasm.resample_lanczos3 + wasm.zogy;
    const subNative = native.resample_lanczos3 + native.zogy;
    yield {
      bench: "core_diff/subtraction",
      wall_ms: r3(sub),
      peak_mb: peakMemoryMb(),
      native_ms: r3(subNative),
      ratio: r3(sub / subNative),
      target_ms: 1500,
      image: `${width}x${height}`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
