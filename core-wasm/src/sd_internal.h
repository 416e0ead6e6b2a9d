/*
 * sd_internal.h — private helpers shared by the core's .c files (not exported):
 * SIMD selection, masked/ranged sums, and selection of the k-th smallest value.
 */
#ifndef SD_INTERNAL_H
#define SD_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "sd_core.h"

#if defined(__wasm_simd128__) && !defined(SD_NO_SIMD)
#define SD_SIMD 1
#include <wasm_simd128.h>
#else
#define SD_SIMD 0
#endif

/* True when pixel i is usable: finite and not masked. */
static inline int sd_usable(float v, const uint16_t *mask, size_t i, uint16_t bits) {
  return isfinite(v) && !(mask != NULL && (mask[i] & bits) != 0);
}

/* True when every value of x[0..n) is finite and no mask[i] & bits is set (mask may be NULL). */
static inline int sd_all_usable(const float *x, const uint16_t *mask, size_t n, uint16_t bits) {
  size_t i = 0;
#if SD_SIMD
  const v128_t inf = wasm_f32x4_splat(INFINITY);
  v128_t bad = wasm_i32x4_splat(0);
  for (; i + 4 <= n; i += 4)
    bad = wasm_v128_or(bad, wasm_f32x4_ge(wasm_f32x4_abs(wasm_v128_load(x + i)), inf));
  if (wasm_v128_any_true(bad)) return 0;
#endif
  for (; i < n; i++)
    if (!isfinite(x[i])) return 0;
  if (mask != NULL && bits != 0) {
    size_t j = 0;
#if SD_SIMD
    const v128_t vb = wasm_i16x8_splat((int16_t)bits);
    v128_t acc = wasm_i16x8_splat(0);
    for (; j + 8 <= n; j += 8) acc = wasm_v128_or(acc, wasm_v128_and(wasm_v128_load(mask + j), vb));
    if (wasm_v128_any_true(acc)) return 0;
#endif
    for (; j < n; j++)
      if (mask[j] & bits) return 0;
  }
  return 1;
}

/* Moments of the values of x[0..n) within [lo, hi]: count, sum and sum of squares of
 * (x - pivot). Accumulates in float over short blocks and in double across blocks. */
typedef struct {
  double n, s1, s2;
} sd_moments;

static inline sd_moments sd_moments_range(const float *x, size_t n, float lo, float hi,
                                          float pivot) {
  sd_moments m = {0.0, 0.0, 0.0};
  size_t i = 0;
  const size_t block = 512;
#if SD_SIMD
  const v128_t vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi);
  const v128_t vp = wasm_f32x4_splat(pivot);
  while (i + 4 <= n) {
    size_t end = i + block;
    if (end > n) end = n;
    v128_t c = wasm_i32x4_splat(0), a1 = wasm_f32x4_splat(0.0f), a2 = a1;
    for (; i + 4 <= end; i += 4) {
      v128_t v = wasm_v128_load(x + i);
      v128_t in = wasm_v128_and(wasm_f32x4_ge(v, vlo), wasm_f32x4_le(v, vhi));
      v128_t d = wasm_v128_and(wasm_f32x4_sub(v, vp), in);
      c = wasm_i32x4_sub(c, in);
      a1 = wasm_f32x4_add(a1, d);
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(d, d));
    }
    m.n += (double)(wasm_i32x4_extract_lane(c, 0) + wasm_i32x4_extract_lane(c, 1) +
                    wasm_i32x4_extract_lane(c, 2) + wasm_i32x4_extract_lane(c, 3));
    m.s1 += (double)wasm_f32x4_extract_lane(a1, 0) + wasm_f32x4_extract_lane(a1, 1) +
            wasm_f32x4_extract_lane(a1, 2) + wasm_f32x4_extract_lane(a1, 3);
    m.s2 += (double)wasm_f32x4_extract_lane(a2, 0) + wasm_f32x4_extract_lane(a2, 1) +
            wasm_f32x4_extract_lane(a2, 2) + wasm_f32x4_extract_lane(a2, 3);
  }
#endif
  while (i < n) {
    size_t end = i + block;
    if (end > n) end = n;
    float c = 0.0f, a1 = 0.0f, a2 = 0.0f;
    for (; i < end; i++) {
      float v = x[i];
      if (v >= lo && v <= hi) {
        float d = v - pivot;
        c += 1.0f;
        a1 += d;
        a2 += d * d;
      }
    }
    m.n += c;
    m.s1 += a1;
    m.s2 += a2;
  }
  return m;
}

/* Mean and population standard deviation from moments about pivot. */
static inline void sd_moments_mean_std(sd_moments m, float pivot, double *mean, double *std) {
  if (m.n <= 0) {
    *mean = 0.0;
    *std = 0.0;
    return;
  }
  double mu = m.s1 / m.n;
  double var = m.s2 / m.n - mu * mu;
  *mean = pivot + mu;
  *std = var > 0.0 ? sqrt(var) : 0.0;
}

/* Rearranges x[0..n) so that x[k] is the k-th smallest value (Hoare selection with a
 * median-of-three pivot); returns it. n > 0, k < n. */
static inline float sd_select_within(float *x, size_t k, size_t lo, size_t hi);
static inline float sd_select(float *x, size_t n, size_t k) { return sd_select_within(x, k, 0, n - 1); }

/* As sd_select, when x is already partitioned so that the k-th smallest lies in x[lo..hi]
 * (everything before lo is <= it, everything after hi is >= it). */
static inline float sd_select_within(float *x, size_t k, size_t lo, size_t hi) {
  while (hi > lo) {
    size_t mid = lo + (hi - lo) / 2;
    float a = x[lo], b = x[mid], c = x[hi];
    float p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    size_t i = lo, j = hi;
    while (i <= j) {
      while (x[i] < p) i++;
      while (x[j] > p) j--;
      if (i <= j) {
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j) {
      hi = j;
    } else if (k >= i) {
      lo = i;
    } else {
      return x[k];
    }
  }
  return x[k];
}

/* Median of x[0..n) (rearranges x); mean of the two middle values when n is even.
 * split: x[0..split) <= x[split..n) already holds (0 when nothing is known). */
static inline double sd_median_split(float *x, size_t n, size_t split) {
  if (n == 0) return 0.0;
  size_t k = n / 2;
  float hi = (split > 0 && split < n) ? (k < split ? sd_select_within(x, k, 0, split - 1)
                                                  : sd_select_within(x, k, split, n - 1))
                                      : sd_select(x, n, k);
  if (n % 2 == 1) return hi;
  /* the largest of x[0..k) is the other middle value */
  float lo = x[0];
  for (size_t i = 1; i < k; i++)
    if (x[i] > lo) lo = x[i];
  return 0.5 * ((double)lo + (double)hi);
}

/* Median of x[0..n) (rearranges x). */
static inline double sd_median_inplace(float *x, size_t n) { return sd_median_split(x, n, 0); }

#endif /* SD_INTERNAL_H */
