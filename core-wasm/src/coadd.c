/*
 * coadd.c — coaddition: the per-pixel inverse-variance weighted mean of a stack of
 * aligned images with sigma clipping against each value's own noise (see
 * sd_coadd_clipped in sd_core.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

#define SD_COADD_MAX 1024

static void sort_f64(double *v, int32_t n) {
  for (int32_t i = 1; i < n; i++) {
    double x = v[i];
    int32_t j = i - 1;
    while (j >= 0 && v[j] > x) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = x;
  }
}

sd_status sd_coadd_clipped(const float *cube, const float *wcube, const uint16_t *fcube,
                           int32_t n, int32_t npix, const float *scales, uint16_t flag_mask,
                           float kappa, float frac, int32_t max_iter, float *out, float *out_w,
                           uint16_t *out_flags, uint16_t *nused) {
  if (!cube || !wcube || !out || !out_w || n <= 0 || n > SD_COADD_MAX || npix <= 0 ||
      !(kappa > 0) || !(frac >= 0) || max_iter < 0)
    return SD_ERR_ARG;
  double v[SD_COADD_MAX], w[SD_COADD_MAX], srt[SD_COADD_MAX];
  uint8_t keep[SD_COADD_MAX];
  const double k2 = (double)kappa * (double)kappa, f2 = (double)frac * (double)frac;
  for (int32_t p = 0; p < npix; p++) {
    int32_t m = 0;
    uint16_t any_flags = 0;
    for (int32_t k = 0; k < n; k++) {
      size_t i = (size_t)k * (size_t)npix + (size_t)p;
      uint16_t f = fcube ? fcube[i] : 0;
      any_flags |= f;
      double s = scales ? (double)scales[k] : 1.0;
      double x = (double)cube[i] * s, wt = (double)wcube[i] / (s * s);
      if ((f & flag_mask) || !(wt > 0) || !isfinite(x) || !isfinite(wt)) continue;
      v[m] = x;
      w[m] = wt;
      keep[m] = 1;
      m++;
    }
    if (m == 0) {
      out[p] = 0.0f;
      out_w[p] = 0.0f;
      if (out_flags) out_flags[p] = any_flags;
      if (nused) nused[p] = 0;
      continue;
    }
    if (m >= 3) {
      /* first pass: residuals from the median, each against its own variance */
      memcpy(srt, v, sizeof(double) * (size_t)m);
      sort_f64(srt, m);
      double c = m % 2 ? srt[m / 2] : 0.5 * (srt[m / 2 - 1] + srt[m / 2]);
      int32_t nk = 0;
      for (int32_t k = 0; k < m; k++) {
        double d = v[k] - c, var = 1.0 / w[k] + f2 * c * c;
        keep[k] = d * d <= k2 * var;
        nk += keep[k];
      }
      /* then residuals from the weighted mean of the kept values, values re-admitted */
      for (int32_t it = 0; it < max_iter && nk > 0; it++) {
        double sw = 0, swx = 0;
        for (int32_t k = 0; k < m; k++)
          if (keep[k]) {
            sw += w[k];
            swx += w[k] * v[k];
          }
        double mean = swx / sw;
        int32_t changed = 0, nk2 = 0;
        for (int32_t k = 0; k < m; k++) {
          double d = v[k] - mean;
          /* variance of v_k - mean: 1/w_k - 1/W when v_k is in the mean, + 1/W otherwise */
          double var = keep[k] ? fmax(1.0 / w[k] - 1.0 / sw, 0.05 / w[k]) : 1.0 / w[k] + 1.0 / sw;
          var += f2 * mean * mean;
          uint8_t kk = d * d <= k2 * var;
          changed |= kk != keep[k];
          keep[k] = kk;
          nk2 += kk;
        }
        nk = nk2;
        if (!changed) break;
      }
      if (nk == 0) {
        /* nothing agrees: the value nearest the median stands alone */
        int32_t best = 0;
        for (int32_t k = 1; k < m; k++)
          if (fabs(v[k] - c) < fabs(v[best] - c)) best = k;
        keep[best] = 1;
      }
    }
    double sw = 0, swx = 0;
    int32_t nk = 0;
    for (int32_t k = 0; k < m; k++)
      if (keep[k]) {
        sw += w[k];
        swx += w[k] * v[k];
        nk++;
      }
    out[p] = (float)(swx / sw);
    out_w[p] = (float)sw;
    if (out_flags) out_flags[p] = 0;
    if (nused) nused[p] = (uint16_t)nk;
  }
  return SD_OK;
}
