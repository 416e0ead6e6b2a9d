/**
 * Coaddition: the per-pixel inverse-variance weighted mean of aligned images with
 * sigma clipping against each value's own noise (sd_coadd_clipped).
 *
 * @module
 */
import { type CoreVariant, getCore } from "./_module.ts";

/** One aligned input frame of {@linkcode coaddClipped}. */
export interface CoaddFrame {
  data: Float32Array;
  /** Inverse-variance weights; 0 = not used. */
  weight: Float32Array;
  /** Flags per pixel; values with (flags & flagMask) != 0 are not used. */
  flags?: Uint16Array;
  /** Values are multiplied by it and weights divided by its square. @default 1 */
  scale?: number;
}

/** Options of {@linkcode coaddClipped}. */
export interface CoaddOptions {
  /** Flag bits that exclude a value. @default 0xFFFF */
  flagMask?: number;
  /** Rejection threshold in units of each value's standard deviation. @default 3.5 */
  kappa?: number;
  /** Fraction of the pixel's value added in quadrature to the noise (PSF and registration
   * differences on bright sources). @default 1 */
  frac?: number;
  /** Clipping iterations around the weighted mean after the pass around the median. @default 3 */
  maxIter?: number;
  /** Largest WASM input per call (bytes; frames are combined in pixel chunks). @default 64 MiB */
  chunkBytes?: number;
  /** Core build. @default "simd" */
  variant?: CoreVariant;
}

/** A coadded image. */
export interface Coadded {
  /** Weighted mean of the kept values (0 where none). */
  image: Float32Array;
  /** Sum of the kept weights. */
  weight: Float32Array;
  /** 0 where a value was kept, else the OR of the frames' flags. */
  flags: Uint16Array;
  /** Number of kept values per pixel. */
  nused: Uint16Array;
}

/** Weighted clipped mean of equally sized frames (see sd_coadd_clipped in sd_core.h). */
export function coaddClipped(frames: readonly CoaddFrame[], options: CoaddOptions = {}): Coadded {
  const n = frames.length;
  if (n === 0) throw new RangeError("coaddClipped: no frames");
  if (n > 1024) throw new RangeError("coaddClipped: more than 1024 frames");
  const npix = frames[0].data.length;
  for (const f of frames) {
    if (
      f.data.length !== npix || f.weight.length !== npix || (f.flags && f.flags.length !== npix)
    ) {
      throw new RangeError("coaddClipped: frames differ in size");
    }
  }
  const withFlags = frames.some((f) => f.flags);
  const core = getCore(options.variant);
  const out: Coadded = {
    image: new Float32Array(npix),
    weight: new Float32Array(npix),
    flags: new Uint16Array(npix),
    nused: new Uint16Array(npix),
  };
  const scales = Float32Array.from(frames, (f) => f.scale ?? 1);
  // pixels are independent: combine in chunks so the cube stays small in WASM memory
  const chunk = Math.max(1, Math.floor((options.chunkBytes ?? 64 * 2 ** 20) / (10 * n)));
  for (let p0 = 0; p0 < npix; p0 += chunk) {
    const m = Math.min(chunk, npix - p0);
    core.scope((s) => {
      const cube = s.f32(n * m), wcube = s.f32(n * m);
      const fcube = withFlags ? s.alloc(2 * n * m) : 0;
      const zeros = new Uint16Array(withFlags ? m : 0);
      frames.forEach((f, k) => {
        core.write(cube + 4 * k * m, f.data.subarray(p0, p0 + m));
        core.write(wcube + 4 * k * m, f.weight.subarray(p0, p0 + m));
        if (withFlags) core.write(fcube + 2 * k * m, f.flags?.subarray(p0, p0 + m) ?? zeros);
      });
      const o = s.f32(m), ow = s.f32(m), of = s.alloc(2 * m), nu = s.alloc(2 * m);
      core.call(
        "sd_coadd_clipped",
        cube,
        wcube,
        fcube,
        n,
        m,
        s.copyIn(scales),
        options.flagMask ?? 0xffff,
        options.kappa ?? 3.5,
        options.frac ?? 1,
        options.maxIter ?? 3,
        o,
        ow,
        of,
        nu,
      );
      out.image.set(s.readF32(o, m), p0);
      out.weight.set(s.readF32(ow, m), p0);
      out.flags.set(core.read(Uint16Array, of, m), p0);
      out.nused.set(core.read(Uint16Array, nu, m), p0);
    });
  }
  return out;
}
