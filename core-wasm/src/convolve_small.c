/* convolve_small.c — direct convolution with a small kernel (detection filters). */
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"
#include "sd_detect_internal.h"

/* acc[x] += k * src[x] for x in [0, n). */
static void axpy(float *restrict acc, const float *restrict src, float k, int32_t n) {
  int32_t x = 0;
#if SD_SIMD
  const v128_t vk = wasm_f32x4_splat(k);
  for (; x + 8 <= n; x += 8) {
    v128_t a0 = wasm_v128_load(acc + x), a1 = wasm_v128_load(acc + x + 4);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(vk, wasm_v128_load(src + x)));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(vk, wasm_v128_load(src + x + 4)));
    wasm_v128_store(acc + x, a0);
    wasm_v128_store(acc + x + 4, a1);
  }
  for (; x + 4 <= n; x += 4) {
    v128_t a = wasm_v128_load(acc + x);
    wasm_v128_store(acc + x, wasm_f32x4_add(a, wasm_f32x4_mul(vk, wasm_v128_load(src + x))));
  }
#endif
  for (; x < n; x++) acc[x] += k * src[x];
}

/* out[x] = num[x] / den[x] where den > 0, else 0. */
static void divide_row(float *restrict out, const float *restrict num, const float *restrict den,
                       int32_t n) {
  int32_t x = 0;
#if SD_SIMD
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (; x + 4 <= n; x += 4) {
    v128_t d = wasm_v128_load(den + x);
    v128_t q = wasm_f32x4_div(wasm_v128_load(num + x), d);
    wasm_v128_store(out + x, wasm_v128_and(q, wasm_f32x4_gt(d, zero)));
  }
#endif
  for (; x < n; x++) out[x] = den[x] > 0.0f ? num[x] / den[x] : 0.0f;
}

/* Adds the taps of kernel row ky to acc for output row y, reading source rows of src. */
static void add_kernel_row(float *acc, const float *src, int32_t nx, int32_t yy,
                           const float *krow, int32_t kw) {
  const int32_t hx = kw / 2;
  const float *row = src + (size_t)yy * nx;
  for (int32_t kx = 0; kx < kw; kx++) {
    const float k = krow[kx];
    if (k == 0.0f) continue;
    const int32_t dx = kx - hx;
    const int32_t x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? nx - dx : nx;
    if (x1 > x0) axpy(acc + x0, row + x0 + dx, k, x1 - x0);
  }
}

/* Interior of an output row where every tap is inside the image and usable:
 * out[x] = sum_t k[t] src[off[t] + x] for x in [x0, x1), taps accumulated in registers. */
static void conv_row_interior(float *restrict out, const float *restrict src, const float *k,
                              const ptrdiff_t *off, int32_t ntap, int32_t x0, int32_t x1) {
#if SD_SIMD
  int32_t x = x0;
  for (; x + 8 <= x1; x += 8) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
    for (int32_t t = 0; t < ntap; t++) {
      const v128_t vk = wasm_f32x4_splat(k[t]);
      const float *p = src + off[t] + x;
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(vk, wasm_v128_load(p)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(vk, wasm_v128_load(p + 4)));
    }
    wasm_v128_store(out + x, a0);
    wasm_v128_store(out + x + 4, a1);
  }
  for (; x + 4 <= x1; x += 4) {
    v128_t a0 = wasm_f32x4_splat(0.0f);
    for (int32_t t = 0; t < ntap; t++)
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(k[t]), wasm_v128_load(src + off[t] + x)));
    wasm_v128_store(out + x, a0);
  }
  for (; x < x1; x++) {
    float a = 0.0f;
    for (int32_t t = 0; t < ntap; t++) a += k[t] * src[off[t] + x];
    out[x] = a;
  }
#else
  /* tap by tap over the row: compilers vectorise these loops for the native build */
  if (x1 <= x0) return;
  memset(out + x0, 0, sizeof(float) * (size_t)(x1 - x0));
  for (int32_t t = 0; t < ntap; t++) axpy(out + x0, src + off[t] + x0, k[t], x1 - x0);
#endif
}

sd_status sd_convolve_internal(const float *image, const uint16_t *mask, int32_t nx, int32_t ny,
                               uint16_t mask_bits, const float *kernel_in, int32_t kw, int32_t kh,
                               int32_t norm, float *out) {
  sd_status status = SD_OK;
  float *kernel = NULL, *num = NULL, *den = NULL, *vg = NULL, *g = NULL, *full = NULL;
  float *rowpart = NULL;
  const size_t npix = (size_t)nx * ny;
  const int32_t hx = kw / 2, hy = kh / 2;
  kernel = malloc(sizeof(float) * (size_t)kw * kh);
  num = malloc(sizeof(float) * (size_t)nx);
  den = malloc(sizeof(float) * (size_t)nx);
  if (!kernel || !num || !den) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  double ksum = 0.0;
  for (int32_t i = 0; i < kw * kh; i++) ksum += kernel_in[i];
  const int renorm = norm != 0;
  if (renorm && !(ksum > 0.0)) {
    status = SD_ERR_ARG;
    goto done;
  }
  for (int32_t i = 0; i < kw * kh; i++)
    kernel[i] = renorm ? (float)(kernel_in[i] / ksum) : kernel_in[i];

  if (sd_all_usable(image, mask, npix, mask_bits)) {
    /* every pixel usable: the normalisation only changes near the edges */
    rowpart = calloc((size_t)kh * nx, sizeof(float));
    full = calloc((size_t)nx, sizeof(float));
    if (!rowpart || !full) {
      status = SD_ERR_NOMEM;
      goto done;
    }
    for (int32_t ky = 0; ky < kh; ky++) {
      float *rp = rowpart + (size_t)ky * nx;
      for (int32_t x = 0; x < nx; x++) {
        float s = 0.0f;
        for (int32_t kx = 0; kx < kw; kx++) {
          int32_t xx = x + kx - hx;
          if (xx >= 0 && xx < nx) s += kernel[ky * kw + kx];
        }
        rp[x] = s;
      }
      for (int32_t x = 0; x < nx; x++) full[x] += rp[x];
    }
    /* non-zero taps, as offsets from the output pixel */
    float tk[31 * 31];
    ptrdiff_t toff[31 * 31];
    int32_t ntap = 0;
    for (int32_t ky = 0; ky < kh; ky++)
      for (int32_t kx = 0; kx < kw; kx++) {
        if (kernel[ky * kw + kx] == 0.0f) continue;
        tk[ntap] = kernel[ky * kw + kx];
        toff[ntap++] = (ptrdiff_t)(ky - hy) * nx + (kx - hx);
      }
    for (int32_t y = 0; y < ny; y++) {
      const int interior = y >= hy && y < ny - hy;
      if (interior && nx > 2 * hx) {
        /* blocked interior, edge columns with renormalisation */
        float *o = out + (size_t)y * nx;
        const float *src = image + (size_t)y * nx;
        conv_row_interior(o, src, tk, toff, ntap, hx, nx - hx);
        for (int32_t x = 0; x < nx; x = (x == hx - 1 ? nx - hx : x + 1)) {
          if (x >= hx && x < nx - hx) break;
          float a = 0.0f;
          for (int32_t ky = 0; ky < kh; ky++)
            for (int32_t kx = 0; kx < kw; kx++) {
              const int32_t xx = x + kx - hx;
              if (xx >= 0 && xx < nx) a += kernel[ky * kw + kx] * src[(ptrdiff_t)(ky - hy) * nx + xx];
            }
          o[x] = renorm ? (full[x] > 0.0f ? a / full[x] : 0.0f) : a;
        }
        continue;
      }
      memset(num, 0, sizeof(float) * (size_t)nx);
      if (!interior) memset(den, 0, sizeof(float) * (size_t)nx);
      for (int32_t ky = 0; ky < kh; ky++) {
        int32_t yy = y + ky - hy;
        if (yy < 0 || yy >= ny) continue;
        add_kernel_row(num, image, nx, yy, kernel + (size_t)ky * kw, kw);
        if (!interior)
          for (int32_t x = 0; x < nx; x++) den[x] += rowpart[(size_t)ky * nx + x];
      }
      float *o = out + (size_t)y * nx;
      if (renorm) {
        divide_row(o, num, interior ? full : den, nx);
      } else {
        memcpy(o, num, sizeof(float) * (size_t)nx);
      }
    }
  } else {
    /* missing pixels: convolve value*good and good, and divide */
    vg = malloc(sizeof(float) * npix);
    g = malloc(sizeof(float) * npix);
    if (!vg || !g) {
      status = SD_ERR_NOMEM;
      goto done;
    }
    for (size_t i = 0; i < npix; i++) {
      int ok = sd_usable(image[i], mask, i, mask_bits);
      vg[i] = ok ? image[i] : 0.0f;
      g[i] = ok ? 1.0f : 0.0f;
    }
    for (int32_t y = 0; y < ny; y++) {
      memset(num, 0, sizeof(float) * (size_t)nx);
      memset(den, 0, sizeof(float) * (size_t)nx);
      for (int32_t ky = 0; ky < kh; ky++) {
        int32_t yy = y + ky - hy;
        if (yy < 0 || yy >= ny) continue;
        add_kernel_row(num, vg, nx, yy, kernel + (size_t)ky * kw, kw);
        if (renorm) add_kernel_row(den, g, nx, yy, kernel + (size_t)ky * kw, kw);
      }
      float *o = out + (size_t)y * nx;
      if (renorm) {
        divide_row(o, num, den, nx);
      } else {
        memcpy(o, num, sizeof(float) * (size_t)nx);
      }
    }
  }
done:
  free(kernel);
  free(num);
  free(den);
  free(vg);
  free(g);
  free(full);
  free(rowpart);
  return status;
}

sd_status sd_convolve_small(const float *image, const uint16_t *mask, int32_t nx, int32_t ny,
                            uint16_t mask_bits, const float *kernel, int32_t kw, int32_t kh,
                            int32_t norm, float *out) {
  if (image == NULL || kernel == NULL || out == NULL || nx <= 0 || ny <= 0 || kw <= 0 ||
      kh <= 0 || kw % 2 == 0 || kh % 2 == 0 || kw > 31 || kh > 31)
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > (int64_t)INT32_MAX) return SD_ERR_ARG;
  return sd_convolve_internal(image, mask, nx, ny, mask_bits, kernel, kw, kh, norm, out);
}
