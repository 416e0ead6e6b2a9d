/* convolve.c — convolution of an image with a kernel of any size: direct (through the small
 * convolution of convolve_small.c on a padded copy) or by FFT, with zero or reflect padding. */
#include <stdlib.h>
#include <string.h>

#include "sd_detect_internal.h"
#include "sd_internal.h"

/* Index i reflected into [0, n) (d c b a | a b c d | d c b a). */
static int32_t reflect(int32_t i, int32_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}

/* Copies image into a px x py buffer at (ox, oy), padding a margin of (hx, hy) around it by
 * reflection (pad 1) or zeros (pad 0); everything else zero; non-finite values become 0. */
static void pad_into(const float *image, int32_t nx, int32_t ny, int32_t pad, int32_t hx,
                     int32_t hy, float *dst, int32_t px, int32_t py, int32_t ox, int32_t oy) {
  memset(dst, 0, sizeof(float) * (size_t)px * py);
  for (int32_t y = -hy; y < ny + hy; y++) {
    const int inside_y = y >= 0 && y < ny;
    if (!inside_y && pad == 0) continue;
    const float *src = image + (size_t)reflect(y, ny) * nx;
    float *row = dst + (size_t)(y + oy) * px + ox;
    for (int32_t x = -hx; x < nx + hx; x++) {
      if (pad == 0 && (x < 0 || x >= nx)) continue;
      const float v = src[x >= 0 && x < nx ? x : reflect(x, nx)];
      row[x] = isfinite(v) ? v : 0.0f;
    }
  }
}

sd_status sd_convolve_fft_internal(const float *image, int32_t nx, int32_t ny,
                                   const float *kernel, int32_t kw, int32_t kh, int32_t pad,
                                   float *out) {
  sd_status status = SD_OK;
  const int32_t hx = kw / 2, hy = kh / 2;
  int32_t px = 0, py = 0, plen = 0;
  float *plan = NULL, *buf = NULL, *kbuf = NULL, *si = NULL, *sk = NULL;
  if ((status = sd_fft_good_size(nx + 2 * hx, &px)) != SD_OK) goto done;
  if ((status = sd_fft_good_size(ny + 2 * hy, &py)) != SD_OK) goto done;
  if ((status = sd_fft_plan_length(px, py, &plen)) != SD_OK) goto done;
  const size_t np = (size_t)px * py, ns = (size_t)py * (px / 2 + 1);
  plan = malloc(sizeof(float) * (size_t)plen);
  buf = malloc(sizeof(float) * np);
  kbuf = calloc(np, sizeof(float));
  si = malloc(sizeof(float) * 2 * ns);
  sk = malloc(sizeof(float) * 2 * ns);
  if (!plan || !buf || !kbuf || !si || !sk) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  sd_fft_plan(px, py, plan, plen);
  pad_into(image, nx, ny, pad, hx, hy, buf, px, py, hx, hy);
  /* kernel centred on (0, 0), wrapped around */
  for (int32_t v = -hy; v <= hy; v++)
    for (int32_t u = -hx; u <= hx; u++) {
      const float k = kernel[(size_t)(v + hy) * kw + (u + hx)];
      kbuf[(size_t)((v + py) % py) * px + (size_t)((u + px) % px)] += isfinite(k) ? k : 0.0f;
    }
  sd_fft_r2c(plan, buf, si);
  sd_fft_r2c(plan, kbuf, sk);
  float *ar = si, *ai = si + ns;
  const float *br = sk, *bi = sk + ns;
  for (size_t i = 0; i < ns; i++) {
    const float r = ar[i] * br[i] - ai[i] * bi[i];
    ai[i] = ar[i] * bi[i] + ai[i] * br[i];
    ar[i] = r;
  }
  sd_fft_c2r(plan, si, buf);
  for (int32_t y = 0; y < ny; y++)
    memcpy(out + (size_t)y * nx, buf + (size_t)(y + hy) * px + hx, sizeof(float) * (size_t)nx);
done:
  free(plan);
  free(buf);
  free(kbuf);
  free(si);
  free(sk);
  return status;
}

static sd_status convolve_direct(const float *image, int32_t nx, int32_t ny, const float *kernel,
                                 int32_t kw, int32_t kh, int32_t pad, float *out) {
  sd_status status = SD_OK;
  const int32_t hx = kw / 2, hy = kh / 2, px = nx + 2 * hx, py = ny + 2 * hy;
  float *buf = malloc(sizeof(float) * (size_t)px * py);
  float *res = malloc(sizeof(float) * (size_t)px * py);
  float *flip = malloc(sizeof(float) * (size_t)kw * kh);
  if (!buf || !res || !flip) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  /* sd_convolve_internal correlates: flip the kernel to convolve */
  for (int32_t i = 0; i < kw * kh; i++) {
    const float k = kernel[kw * kh - 1 - i];
    flip[i] = isfinite(k) ? k : 0.0f;
  }
  pad_into(image, nx, ny, pad, hx, hy, buf, px, py, hx, hy);
  status = sd_convolve_internal(buf, NULL, px, py, 0, flip, kw, kh, 0, res);
  if (status != SD_OK) goto done;
  for (int32_t y = 0; y < ny; y++)
    memcpy(out + (size_t)y * nx, res + (size_t)(y + hy) * px + hx, sizeof(float) * (size_t)nx);
done:
  free(buf);
  free(res);
  free(flip);
  return status;
}

sd_status sd_convolve(const float *image, int32_t nx, int32_t ny, const float *kernel, int32_t kw,
                      int32_t kh, int32_t pad, int32_t method, float *out) {
  if (image == NULL || kernel == NULL || out == NULL || nx <= 0 || ny <= 0 || kw <= 0 ||
      kh <= 0 || kw % 2 == 0 || kh % 2 == 0 || (pad != 0 && pad != 1) || method < 0 ||
      method > 2 || kw > 2 * nx + 1 || kh > 2 * ny + 1)
    return SD_ERR_ARG;
  if ((int64_t)(nx + kw) * (ny + kh) > (int64_t)INT32_MAX / 2) return SD_ERR_ARG;
  if (method == 1 && (kw > 31 || kh > 31)) return SD_ERR_ARG;
  const int direct = method == 1 || (method == 0 && kw <= 31 && kh <= 31 && kw * kh <= SD_CONVOLVE_DIRECT_MAX);
  return direct ? convolve_direct(image, nx, ny, kernel, kw, kh, pad, out)
                : sd_convolve_fft_internal(image, nx, ny, kernel, kw, kh, pad, out);
}
