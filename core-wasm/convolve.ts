/**
 * Convolution with a kernel of any size: direct for small kernels, FFT for large ones.
 *
 * @module
 */
import { checkImage, type CoreVariant, type FloatImage, getCore } from "./_module.ts";

/** Options of {@linkcode convolveImage}. */
export interface ConvolveImageOptions {
  /** Data outside the image: zeros or a mirror image. @default "zero" */
  pad?: "zero" | "reflect";
  /** Direct sum, FFT, or automatic by kernel size (direct up to 13 x 13 taps). @default "auto" */
  method?: "auto" | "direct" | "fft";
  /** Which build of the core runs it. @default "simd" */
  variant?: CoreVariant;
}

/**
 * Convolves an image with an odd-sized, centred kernel:
 * out(x, y) = sum kernel(u, v) image(x - u, y - v). Non-finite pixels count as 0.
 */
export function convolveImage(
  image: FloatImage,
  kernel: FloatImage,
  options: ConvolveImageOptions = {},
): Float32Array {
  const { data, width, height } = image;
  checkImage("convolveImage", data, width, height);
  checkImage("convolveImage kernel", kernel.data, kernel.width, kernel.height);
  const pad = (options.pad ?? "zero") === "reflect" ? 1 : 0;
  const method = { auto: 0, direct: 1, fft: 2 }[options.method ?? "auto"];
  const core = getCore(options.variant);
  return core.scope((s) => {
    const out = s.f32(width * height);
    core.call(
      "sd_convolve",
      s.copyIn(data),
      width,
      height,
      s.copyIn(kernel.data),
      kernel.width,
      kernel.height,
      pad,
      method,
      out,
    );
    return s.readF32(out, width * height);
  });
}
