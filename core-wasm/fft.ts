/**
 * Real 2-D FFT of the C core (mixed radix 2/3/5): sizes, forward and inverse transforms.
 *
 * @module
 */
import { checkImage, type CoreVariant, type FloatImage, getCore } from "./_module.ts";

/** The spectrum of a real image: height rows of width/2 + 1 complex values. */
export interface Spectrum {
  /** Real parts, height * (floor(width / 2) + 1), row-major. */
  re: Float32Array;
  /** Imaginary parts, same layout. */
  im: Float32Array;
  /** Width of the real image. */
  width: number;
  /** Height of the real image. */
  height: number;
}

/**
 * Smallest 2^a 3^b 5^c >= n (the sizes the FFT accepts).
 *
 * @param variant Which build of the core runs it. @default "simd"
 */
export function fftGoodSize(n: number, variant?: CoreVariant): number {
  const core = getCore(variant);
  return core.scope((s) => {
    const out = s.i32(1);
    core.call("sd_fft_good_size", n, out);
    return s.readI32(out, 1)[0];
  });
}

function withPlan<T>(
  width: number,
  height: number,
  variant: CoreVariant | undefined,
  fn: (plan: number, s: import("./_module.ts").Scope) => T,
): T {
  const core = getCore(variant);
  return core.scope((s) => {
    const lenPtr = s.i32(1);
    core.call("sd_fft_plan_length", width, height, lenPtr);
    const len = s.readI32(lenPtr, 1)[0];
    const plan = s.f32(len);
    core.call("sd_fft_plan", width, height, plan, len);
    return fn(plan, s);
  });
}

/**
 * Forward real-to-complex 2-D transform; width and height must be 2/3/5-smooth
 * (pad with {@linkcode fftGoodSize}).
 *
 * @param variant Which build of the core runs it. @default "simd"
 */
export function fft2(image: FloatImage, variant?: CoreVariant): Spectrum {
  const { data, width, height } = image;
  checkImage("fft2", data, width, height);
  const ns = height * (Math.floor(width / 2) + 1);
  return withPlan(width, height, variant, (plan, s) => {
    const out = s.f32(2 * ns);
    s.core.call("sd_fft_r2c", plan, s.copyIn(data), out);
    return { re: s.readF32(out, ns), im: s.readF32(out + 4 * ns, ns), width, height };
  });
}

/**
 * Inverse complex-to-real 2-D transform, normalised so that ifft2(fft2(x)) == x.
 *
 * @param variant Which build of the core runs it. @default "simd"
 */
export function ifft2(spectrum: Spectrum, variant?: CoreVariant): Float32Array {
  const { re, im, width, height } = spectrum;
  const ns = height * (Math.floor(width / 2) + 1);
  if (re.length !== ns || im.length !== ns) {
    throw new RangeError(`ifft2: spectrum of ${re.length} / ${im.length} values, want ${ns}`);
  }
  const both = new Float32Array(2 * ns);
  both.set(re, 0);
  both.set(im, ns);
  return withPlan(width, height, variant, (plan, s) => {
    const out = s.f32(width * height);
    s.core.call("sd_fft_c2r", plan, s.copyIn(both), out);
    return s.readF32(out, width * height);
  });
}
