/*
 * calib.c — calibration frames: per-amplifier overscan subtraction and trimming of a raw
 * CCD frame, and the per-pixel sigma-clipped combination of a stack of frames (master
 * bias, master flat).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

/* Sorts a small array in place (insertion sort: n is the number of frames or an overscan
 * row, tens of values). */
static void sort_small(float *v, int32_t n) {
  for (int32_t i = 1; i < n; i++) {
    float x = v[i];
    int32_t j = i - 1;
    while (j >= 0 && v[j] > x) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = x;
  }
}

static double median_sorted(const float *v, int32_t n) {
  return n % 2 ? (double)v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + (double)v[n / 2]);
}

sd_status sd_overscan_trim(const float *raw, int32_t raw_nx, int32_t raw_ny, const int32_t *amps,
                           const double *gains, const float *bias, int32_t n_amps,
                           int32_t method, float *out, int32_t nx, int32_t ny, double *levels) {
  if (raw == NULL || amps == NULL || out == NULL || raw_nx <= 0 || raw_ny <= 0 || n_amps <= 0 ||
      nx <= 0 || ny <= 0 || (method != 0 && method != 1))
    return SD_ERR_ARG;
  int32_t max_bias = 0;
  for (int32_t a = 0; a < n_amps; a++) {
    const int32_t *g = amps + (size_t)a * SD_OSCAN_NCOL;
    int32_t w = g[SD_OSCAN_DATA_X1] - g[SD_OSCAN_DATA_X0];
    int32_t h = g[SD_OSCAN_DATA_Y1] - g[SD_OSCAN_DATA_Y0];
    int32_t bw = g[SD_OSCAN_BIAS_X1] - g[SD_OSCAN_BIAS_X0];
    if (w <= 0 || h <= 0 || bw <= 0 || g[SD_OSCAN_DATA_X0] < 0 || g[SD_OSCAN_DATA_Y0] < 0 ||
        g[SD_OSCAN_DATA_X1] > raw_nx || g[SD_OSCAN_DATA_Y1] > raw_ny ||
        g[SD_OSCAN_BIAS_X0] < 0 || g[SD_OSCAN_BIAS_X1] > raw_nx || g[SD_OSCAN_TRIM_X0] < 0 ||
        g[SD_OSCAN_TRIM_Y0] < 0 || g[SD_OSCAN_TRIM_X0] + w > nx ||
        g[SD_OSCAN_TRIM_Y0] + h > ny || (gains != NULL && !(gains[a] > 0.0)))
      return SD_ERR_ARG;
    if (bw > max_bias) max_bias = bw;
  }
  float *row = (float *)malloc(sizeof(float) * (size_t)max_bias);
  if (row == NULL) return SD_ERR_NOMEM;
  for (int32_t a = 0; a < n_amps; a++) {
    const int32_t *g = amps + (size_t)a * SD_OSCAN_NCOL;
    int32_t dx0 = g[SD_OSCAN_DATA_X0], dy0 = g[SD_OSCAN_DATA_Y0];
    int32_t w = g[SD_OSCAN_DATA_X1] - dx0, h = g[SD_OSCAN_DATA_Y1] - dy0;
    int32_t bx0 = g[SD_OSCAN_BIAS_X0], bw = g[SD_OSCAN_BIAS_X1] - bx0;
    int32_t tx0 = g[SD_OSCAN_TRIM_X0], ty0 = g[SD_OSCAN_TRIM_Y0];
    int32_t flip_x = g[SD_OSCAN_FLIP_X], flip_y = g[SD_OSCAN_FLIP_Y];
    float gain = gains != NULL ? (float)gains[a] : 1.0f;
    double level_sum = 0.0;
    for (int32_t j = 0; j < h; j++) {
      const float *r = raw + (size_t)(dy0 + j) * raw_nx;
      double level;
      if (method == 0) {
        memcpy(row, r + bx0, sizeof(float) * (size_t)bw);
        sort_small(row, bw);
        level = median_sorted(row, bw);
      } else {
        double s = 0.0;
        for (int32_t i = 0; i < bw; i++) s += r[bx0 + i];
        level = s / bw;
      }
      level_sum += level;
      int32_t ty = flip_y ? ty0 + h - 1 - j : ty0 + j;
      float *o = out + (size_t)ty * nx;
      const float lv = (float)level;
      const float *b = bias != NULL ? bias + (size_t)ty * nx : NULL;
      if (!flip_x) {
        int32_t i = 0;
        float *dst = o + tx0;
        const float *src = r + dx0;
        const float *bb = b != NULL ? b + tx0 : NULL;
#if SD_SIMD
        const v128_t vl = wasm_f32x4_splat(lv), vg = wasm_f32x4_splat(gain);
        if (bb == NULL) {
          for (; i + 4 <= w; i += 4)
            wasm_v128_store(dst + i,
                            wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(src + i), vl), vg));
        } else {
          for (; i + 4 <= w; i += 4) {
            v128_t v = wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(src + i), vl),
                                      wasm_v128_load(bb + i));
            wasm_v128_store(dst + i, wasm_f32x4_mul(v, vg));
          }
        }
#endif
        for (; i < w; i++) dst[i] = (src[i] - lv - (bb != NULL ? bb[i] : 0.0f)) * gain;
      } else {
        for (int32_t i = 0; i < w; i++) {
          int32_t tx = tx0 + w - 1 - i;
          o[tx] = (r[dx0 + i] - lv - (b != NULL ? b[tx] : 0.0f)) * gain;
        }
      }
    }
    if (levels != NULL) levels[a] = level_sum / h;
  }
  free(row);
  return SD_OK;
}

sd_status sd_combine_clipped(const float *cube, int32_t n, int32_t npix, const float *scales,
                             float kappa, int32_t max_iter, float *out, float *out_err,
                             uint16_t *nused) {
  if (cube == NULL || out == NULL || n <= 0 || n > 1024 || npix <= 0) return SD_ERR_ARG;
  if (kappa == 0.0f) kappa = 3.0f;
  if (max_iter == 0) max_iter = 3;
  if (!(kappa > 0.0f) || max_iter < 0) return SD_ERR_ARG;
  if (scales != NULL)
    for (int32_t k = 0; k < n; k++)
      if (!(scales[k] != 0.0f) || !isfinite(scales[k])) return SD_ERR_ARG;
  float *v = (float *)malloc(sizeof(float) * 2 * (size_t)n);
  if (v == NULL) return SD_ERR_NOMEM;
  float *dev = v + n;
  for (int32_t p = 0; p < npix; p++) {
    int32_t m = 0;
    for (int32_t k = 0; k < n; k++) {
      float x = cube[(size_t)k * npix + p];
      if (scales != NULL) x /= scales[k];
      if (isfinite(x)) v[m++] = x;
    }
    if (m == 0) {
      out[p] = NAN;
      if (out_err != NULL) out_err[p] = NAN;
      if (nused != NULL) nused[p] = 0;
      continue;
    }
    sort_small(v, m);
    /* clip around the median with sigma = 1.4826 MAD (1.2533 x mean |dev| when the MAD is 0) */
    int32_t lo = 0, hi = m;
    for (int32_t it = 0; it < max_iter && hi - lo >= 3; it++) {
      int32_t k = hi - lo;
      double med = median_sorted(v + lo, k);
      for (int32_t i = 0; i < k; i++) dev[i] = fabsf(v[lo + i] - (float)med);
      sort_small(dev, k);
      double sig = 1.4826 * median_sorted(dev, k);
      if (!(sig > 0.0)) {
        /* more than half the values equal: 1.2533 x the mean absolute deviation */
        double s = 0.0;
        for (int32_t i = 0; i < k; i++) s += dev[i];
        sig = 1.2533 * s / k;
      }
      if (!(sig > 0.0)) break;
      int32_t nlo = lo, nhi = hi;
      while (nlo < nhi && v[nlo] < med - kappa * sig) nlo++;
      while (nhi > nlo && v[nhi - 1] > med + kappa * sig) nhi--;
      if (nlo == lo && nhi == hi) break;
      lo = nlo;
      hi = nhi;
    }
    int32_t k = hi - lo;
    double s = 0.0, s2 = 0.0;
    for (int32_t i = lo; i < hi; i++) s += v[i];
    double mu = s / k;
    for (int32_t i = lo; i < hi; i++) s2 += (v[i] - mu) * (v[i] - mu);
    out[p] = (float)mu;
    if (out_err != NULL) out_err[p] = k > 1 ? (float)sqrt(s2 / (k - 1) / k) : NAN;
    if (nused != NULL) nused[p] = (uint16_t)k;
  }
  free(v);
  return SD_OK;
}
