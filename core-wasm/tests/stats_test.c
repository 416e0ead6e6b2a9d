/* stats_test.c — sd_stats_clipped and the selection helpers. */
#include <string.h>

#include "sd_core.h"
#include "sd_internal.h"
#include "test_util.h"

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void test_select_matches_sort(void) {
  sd_test_rng r = {12345};
  for (int trial = 0; trial < 200; trial++) {
    size_t n = 1 + sd_test_next(&r) % 300;
    float *x = malloc(n * sizeof(float)), *s = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)(sd_test_next(&r) % 17); /* many ties */
    memcpy(s, x, n * sizeof(float));
    qsort(s, n, sizeof(float), cmp_float);
    size_t k = sd_test_next(&r) % n;
    float v = sd_select(x, n, k);
    CHECK_EQ((long long)v, (long long)s[k]);
    for (size_t i = 0; i < k; i++) CHECK(x[i] <= v);
    for (size_t i = k; i < n; i++) CHECK(x[i] >= v);
    memcpy(x, s, n * sizeof(float));
    double med = sd_median_inplace(x, n);
    double want = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    CHECK_CLOSE(med, want, 0);
    free(x);
    free(s);
  }
}

static void test_median_split_matches_sort(void) {
  sd_test_rng r = {4321};
  for (int trial = 0; trial < 200; trial++) {
    size_t n = 2 + sd_test_next(&r) % 200;
    float *x = malloc(n * sizeof(float)), *s = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)(sd_test_next(&r) % 23);
    memcpy(s, x, n * sizeof(float));
    qsort(s, n, sizeof(float), cmp_float);
    size_t split = 1 + sd_test_next(&r) % (n - 1);
    sd_select(x, n, split); /* x[0..split) <= x[split..n) */
    double want = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    CHECK_CLOSE(sd_median_split(x, n, split), want, 0);
    free(x);
    free(s);
  }
}

static void test_stats_gaussian_with_outliers(void) {
  sd_test_rng r = {777};
  const int n = 200000;
  float *x = malloc(n * sizeof(float));
  uint16_t *mask = calloc(n, sizeof(uint16_t));
  for (int i = 0; i < n; i++) x[i] = (float)(100.0 + 5.0 * sd_test_normal(&r));
  for (int i = 0; i < n; i += 50) x[i] = 1e4f;      /* 2% bright outliers */
  for (int i = 7; i < n; i += 100) mask[i] = 2;     /* masked junk */
  for (int i = 7; i < n; i += 100) x[i] = -1e6f;
  x[3] = NAN;
  double out[SD_STATS_N];
  CHECK_OK(sd_stats_clipped(x, mask, n, 0xFFFF, 3.0f, 3.0f, 10, out));
  /* clipping at 3 sigma cuts the Gaussian tails: std is 0.9866 sigma */
  CHECK_CLOSE(out[SD_STATS_MEAN], 100.0, 0.05);
  CHECK_CLOSE(out[SD_STATS_MEDIAN], 100.0, 0.05);
  CHECK_CLOSE(out[SD_STATS_STD], 5.0 * 0.9866, 0.05);
  CHECK_CLOSE(out[SD_STATS_MAD] * 1.4826, 5.0, 0.06);
  CHECK_CLOSE(out[SD_STATS_MODE], 100.0, 0.1);
  CHECK(out[SD_STATS_NUSED] < n * 0.975 && out[SD_STATS_NUSED] > n * 0.96);
  CHECK(out[SD_STATS_NITER] >= 2);
  /* the mask bit is honoured only when selected */
  CHECK_OK(sd_stats_clipped(x, mask, n, 1, 3.0f, 3.0f, 0, out));
  CHECK(out[SD_STATS_MEAN] < 0.0);
  free(x);
  free(mask);
}

static void test_stats_small_exact(void) {
  float x[] = {1, 2, 3, 4, 100};
  double out[SD_STATS_N];
  CHECK_OK(sd_stats_clipped(x, NULL, 5, 0xFFFF, 3.0f, 3.0f, 0, out));
  CHECK_CLOSE(out[SD_STATS_MEAN], 22.0, 1e-9);
  CHECK_CLOSE(out[SD_STATS_MEDIAN], 3.0, 0);
  CHECK_CLOSE(out[SD_STATS_MAD], 1.0, 0);
  CHECK_CLOSE(out[SD_STATS_MODE], 3.0, 0); /* skewed: median */
  /* with clipping: std(1..100) = 39.0, median 3: 100 is at 2.49 sigma with kappa 2 -> cut */
  CHECK_OK(sd_stats_clipped(x, NULL, 5, 0xFFFF, 2.0f, 2.0f, 5, out));
  CHECK_CLOSE(out[SD_STATS_NUSED], 4, 0);
  CHECK_CLOSE(out[SD_STATS_MEAN], 2.5, 1e-9);
  CHECK_CLOSE(out[SD_STATS_MEDIAN], 2.5, 0);
  CHECK_CLOSE(out[SD_STATS_STD], sqrt(1.25), 1e-7);
  CHECK_CLOSE(out[SD_STATS_MODE], 2.5, 1e-9);
}

static void test_stats_errors(void) {
  float x[] = {NAN, INFINITY};
  double out[SD_STATS_N];
  CHECK_EQ(sd_stats_clipped(x, NULL, 2, 0xFFFF, 3.0f, 3.0f, 5, out), SD_ERR_EMPTY);
  CHECK_EQ(sd_stats_clipped(x, NULL, 0, 0xFFFF, 3.0f, 3.0f, 5, out), SD_ERR_EMPTY);
  CHECK_EQ(sd_stats_clipped(x, NULL, 2, 0xFFFF, 0.0f, 3.0f, 5, out), SD_ERR_ARG);
  CHECK_EQ(sd_stats_clipped(NULL, NULL, 2, 0xFFFF, 3.0f, 3.0f, 5, out), SD_ERR_ARG);
}

int main(void) {
  RUN(test_select_matches_sort);
  RUN(test_median_split_matches_sort);
  RUN(test_stats_gaussian_with_outliers);
  RUN(test_stats_small_exact);
  RUN(test_stats_errors);
  return TEST_SUMMARY();
}
