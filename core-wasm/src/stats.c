/* stats.c — sigma-clipped statistics, MAD and mode of a float array. */
#include <stdlib.h>

#include "sd_internal.h"

/* Keeps the values of x[0..n) within [lo, hi], in place and in order; returns how many,
 * and in *split how many of the kept ones came from x[0..split). */
static size_t compact_range(float *x, size_t n, float lo, float hi, size_t *split) {
  size_t k = 0, before = 0;
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    x[k] = v;
    k += (v >= lo && v <= hi);
    if (i + 1 == *split) before = k;
  }
  *split = before;
  return k;
}

sd_status sd_stats_clipped(const float *data, const uint16_t *mask, int32_t n, uint16_t mask_bits,
                           float kappa_lo, float kappa_hi, int32_t max_iter, double *out) {
  sd_status status = SD_OK;
  float *buf = NULL;
  if (data == NULL || out == NULL || n < 0 || max_iter < 0 || !(kappa_lo > 0.0f) ||
      !(kappa_hi > 0.0f))
    return SD_ERR_ARG;
  for (int i = 0; i < SD_STATS_N; i++) out[i] = 0.0;

  buf = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  if (buf == NULL) return SD_ERR_NOMEM;
  size_t m = 0;
  for (size_t i = 0; i < (size_t)n; i++) {
    float v = data[i];
    buf[m] = v;
    m += sd_usable(v, mask, i, mask_bits);
  }
  if (m == 0) {
    status = SD_ERR_EMPTY;
    goto done;
  }

  double median = 0.0, mean = 0.0, std = 0.0;
  int32_t iter = 0;
  size_t split = 0; /* buf[0..split) <= buf[split..m) after each selection */
  for (;;) {
    median = sd_median_split(buf, m, split);
    split = m / 2;
    sd_moments mo = sd_moments_range(buf, m, -INFINITY, INFINITY, (float)median);
    sd_moments_mean_std(mo, (float)median, &mean, &std);
    if (iter >= max_iter) break;
    float lo = (float)(median - kappa_lo * std), hi = (float)(median + kappa_hi * std);
    sd_moments kept = sd_moments_range(buf, m, lo, hi, (float)median);
    iter++;
    if ((size_t)kept.n == m || kept.n == 0) break;
    m = compact_range(buf, m, lo, hi, &split);
  }

  /* buf holds the kept values; MAD from their absolute deviations */
  for (size_t i = 0; i < m; i++) buf[i] = fabsf(buf[i] - (float)median);
  double mad = sd_median_inplace(buf, m);

  out[SD_STATS_MEAN] = mean;
  out[SD_STATS_MEDIAN] = median;
  out[SD_STATS_STD] = std;
  out[SD_STATS_MAD] = mad;
  out[SD_STATS_MODE] =
      (std > 0.0 && fabs(mean - median) < 0.3 * std) ? 2.5 * median - 1.5 * mean : median;
  out[SD_STATS_NUSED] = (double)m;
  out[SD_STATS_NITER] = (double)iter;
done:
  free(buf);
  return status;
}
