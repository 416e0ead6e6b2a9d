/* sim_test.c — the simulator kernels (render_galaxy.c, noise.c) against their definitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

static double sum_f(const float *a, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += a[i];
  return s;
}

/* A galaxy well inside the image keeps its flux; its centroid is where it was put; an
 * elongated one has a larger second moment along its major axis. */
static void test_galaxy_flux_centroid_shape(void) {
  const int32_t nx = 128, ny = 96;
  float *img = calloc((size_t)nx * ny, sizeof(float));
  double p[SD_SIM_GAL_NCOL] = {60.3, 47.7, 1.0e5, 1.0, 4.0, 0.4, 0.0, 3.5};
  CHECK_OK(sd_sim_galaxies(img, nx, ny, p, 1, 0, 0, 0, 0));
  double s = 0, sx = 0, sy = 0;
  for (int32_t y = 0; y < ny; y++)
    for (int32_t x = 0; x < nx; x++) {
      double v = img[y * nx + x];
      s += v;
      sx += v * x;
      sy += v * y;
    }
  CHECK_CLOSE(s, 1.0e5, 1.0);
  CHECK_CLOSE(sx / s, 60.3, 0.02);
  CHECK_CLOSE(sy / s, 47.7, 0.02);
  double mxx = 0, myy = 0;
  for (int32_t y = 0; y < ny; y++)
    for (int32_t x = 0; x < nx; x++) {
      double v = img[y * nx + x];
      mxx += v * (x - sx / s) * (x - sx / s);
      myy += v * (y - sy / s) * (y - sy / s);
    }
  CHECK(mxx > 2.0 * myy);
  /* rotated by 90 degrees: the long axis is y */
  memset(img, 0, sizeof(float) * (size_t)nx * ny);
  p[SD_SIM_GAL_THETA] = 1.5707963267948966;
  CHECK_OK(sd_sim_galaxies(img, nx, ny, p, 1, 3.0, 5.0, 5.0, 0.05));
  double m2x = 0, m2y = 0;
  for (int32_t y = 0; y < ny; y++)
    for (int32_t x = 0; x < nx; x++) {
      double v = img[y * nx + x];
      m2x += v * (x - 60.3) * (x - 60.3);
      m2y += v * (y - 47.7) * (y - 47.7);
    }
  CHECK(m2y > 2.0 * m2x);
  /* off the edge: only the part on the image is added */
  memset(img, 0, sizeof(float) * (size_t)nx * ny);
  double q[SD_SIM_GAL_NCOL] = {-2.0, 40.0, 1000.0, 4.0, 2.0, 1.0, 0.0, 3.0};
  CHECK_OK(sd_sim_galaxies(img, nx, ny, q, 1, 0, 0, 0, 0));
  double s2 = sum_f(img, (size_t)nx * ny);
  CHECK(s2 > 100.0 && s2 < 600.0);
  q[SD_SIM_GAL_N] = 50.0;
  CHECK_EQ(sd_sim_galaxies(img, nx, ny, q, 1, 0, 0, 0, 0), SD_ERR_ARG);
  free(img);
}

/* Enclosed light of a round Sersic profile cut at 5 re, by direct integration. */
static double sersic_enclosed(double n, double rfrac) {
  double b = 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n);
  double in = 0.0, all = 0.0;
  const int steps = 200000;
  for (int k = 0; k < steps; k++) {
    double r = (k + 0.5) * 5.0 / steps;
    double w = exp(-b * (pow(r, 1.0 / n) - 1.0)) * r;
    all += w;
    if (r <= rfrac) in += w;
  }
  return in / all;
}

/* Half-light radius as drawn: the light within re (and 2 re) of a large round galaxy,
 * barely blurred, matches the Sersic profile, for an exponential and a de Vaucouleurs. */
static void test_galaxy_profile(void) {
  const int32_t nx = 160, ny = 160;
  float *img = malloc(sizeof(float) * nx * ny);
  const double ns[2] = {1.0, 4.0};
  for (int k = 0; k < 2; k++) {
    memset(img, 0, sizeof(float) * nx * ny);
    double p[SD_SIM_GAL_NCOL] = {80.0, 80.0, 1.0, ns[k], 12.0, 1.0, 0.0, 0.8};
    CHECK_OK(sd_sim_galaxies(img, nx, ny, p, 1, 3.0, 5.0, 5.0, 1e-9));
    for (int m = 1; m <= 2; m++) {
      double in = 0.0;
      for (int32_t y = 0; y < ny; y++)
        for (int32_t x = 0; x < nx; x++)
          if (hypot(x - 80.0, y - 80.0) <= 12.0 * m) in += img[y * nx + x];
      CHECK_CLOSE(in, sersic_enclosed(ns[k], m), 0.01);
    }
  }
  free(img);
}

/* Poisson deviates have mean and variance lam, small and large lam alike; reproducible. */
static void test_poisson_moments(void) {
  const int32_t n = 200000;
  float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
  const double lams[3] = {0.7, 6.0, 2500.0};
  for (int k = 0; k < 3; k++) {
    for (int32_t i = 0; i < n; i++) a[i] = b[i] = (float)lams[k];
    CHECK_OK(sd_sim_poisson(a, n, 42, 7));
    CHECK_OK(sd_sim_poisson(b, n, 42, 7));
    CHECK(memcmp(a, b, sizeof(float) * n) == 0);
    double m = sum_f(a, n) / n, v = 0;
    for (int32_t i = 0; i < n; i++) v += (a[i] - m) * (a[i] - m);
    v /= n - 1;
    CHECK_CLOSE(m, lams[k], 5.0 * sqrt(lams[k] / n));
    CHECK_CLOSE(v / lams[k], 1.0, 0.02);
    CHECK(a[0] == floor(a[0]) && a[0] >= 0);
  }
  free(a);
  free(b);
}

static void test_gaussian_and_flat(void) {
  const int32_t n = 100000;
  float *a = calloc(n, sizeof(float));
  CHECK_OK(sd_sim_gaussian(a, n, 3.0, 1, 2));
  double m = sum_f(a, n) / n, v = 0;
  for (int32_t i = 0; i < n; i++) v += (a[i] - m) * (a[i] - m);
  CHECK_CLOSE(m, 0.0, 0.05);
  CHECK_CLOSE(sqrt(v / n), 3.0, 0.03);
  free(a);
  const int32_t nx = 200, ny = 100;
  float *f = malloc(sizeof(float) * nx * ny);
  double poly[6] = {1.0, 0.05, 0, 0, 0, 0}; /* 1 + 0.05 u */
  CHECK_OK(sd_sim_flat(f, nx, ny, poly, 2, 0.01, 3, 4));
  double left = 0, right = 0;
  for (int32_t y = 0; y < ny; y++) {
    left += f[y * nx + 0];
    right += f[y * nx + nx - 1];
  }
  /* u = -0.995 at x = 0 and +0.995 at x = nx - 1 */
  CHECK_CLOSE(left / ny, 1.0 - 0.05 * 0.995, 0.004);
  CHECK_CLOSE(right / ny, 1.0 + 0.05 * 0.995, 0.004);
  float img[4] = {1, 2, 3, 4}, fl[4] = {1, 0.5f, 2, 1};
  CHECK_OK(sd_sim_expose(img, fl, 4, 10.0, 0.5));
  CHECK_CLOSE(img[0], 11.5, 1e-5);
  CHECK_CLOSE(img[1], 6.5, 1e-5);
  CHECK_CLOSE(img[2], 26.5, 1e-5);
  CHECK_CLOSE(img[3], 14.5, 1e-5);
  free(f);
}

/* Bleeding conserves charge away from the edges and caps every pixel at full well. */
static void test_bleed(void) {
  const int32_t nx = 5, ny = 50;
  float img[250];
  uint16_t flags[250];
  memset(flags, 0, sizeof flags);
  for (int i = 0; i < 250; i++) img[i] = 100.0f;
  img[25 * nx + 2] = 1000.0f; /* 900 above a full well of 200 -> 800 excess to spread */
  double before = sum_f(img, 250);
  CHECK_OK(sd_sim_bleed(img, nx, ny, 200.0, flags));
  CHECK_CLOSE(sum_f(img, 250), before, 1e-3);
  for (int i = 0; i < 250; i++) CHECK(img[i] <= 200.0f);
  /* 800 e- fill 8 pixels (100 e- room each), 4 up and 4 down */
  CHECK_CLOSE(img[29 * nx + 2], 200.0, 1e-4);
  CHECK_CLOSE(img[21 * nx + 2], 200.0, 1e-4);
  CHECK_CLOSE(img[30 * nx + 2], 100.0, 1e-4);
  CHECK(flags[25 * nx + 2] & 4);
  CHECK(flags[27 * nx + 2] & 32);
  CHECK(flags[25 * nx + 1] == 0);
}

static void test_lines(void) {
  const int32_t nx = 64, ny = 64;
  float *img = calloc(nx * ny, sizeof(float));
  uint16_t *flags = calloc(nx * ny, sizeof(uint16_t));
  double l[2 * SD_SIM_LINE_NCOL] = {10, 10, 30, 10, 50.0, 0.0, 5, 40, 55, 40, 20.0, 1.5};
  CHECK_OK(sd_sim_add_lines(img, nx, ny, l, 2, flags, 16));
  /* 20 px * 50 + 50 px * 20 */
  CHECK_CLOSE(sum_f(img, nx * ny), 2000.0, 0.5);
  CHECK(flags[10 * nx + 20] & 16);
  CHECK(img[40 * nx + 30] > img[43 * nx + 30]);
  /* a bad line anywhere in the list: nothing is drawn */
  float before = img[10 * nx + 20];
  double bad[2 * SD_SIM_LINE_NCOL] = {10, 10, 30, 10, 50.0, 0.0, 5, 40, 55, 40, 20.0, 11.0};
  CHECK_EQ(sd_sim_add_lines(img, nx, ny, bad, 2, NULL, 0), SD_ERR_ARG);
  CHECK_CLOSE(img[10 * nx + 20], before, 0);
  /* the widest trail allowed: its charge is all deposited (far from the edges) */
  float *w = calloc(128 * 128, sizeof(float));
  double wide[SD_SIM_LINE_NCOL] = {40, 64, 88, 64, 10.0, 10.0};
  CHECK_OK(sd_sim_add_lines(w, 128, 128, wide, 1, NULL, 0));
  CHECK_CLOSE(sum_f(w, 128 * 128), 480.0, 0.5);
  free(w);
  free(img);
  free(flags);
}

/* Readout: data = electrons / gain + bias (rounded), overscan = bias; noise as requested. */
static void test_readout(void) {
  const int32_t nx = 40, ny = 2000, rnx = 60, rny = 2010;
  float *e = malloc(sizeof(float) * nx * ny), *raw = calloc(rnx * rny, sizeof(float));
  for (int32_t i = 0; i < nx * ny; i++) e[i] = 4000.0f;
  /* amp B: electrons columns 0..19 at raw 10..29, overscan raw 0..9;
   * amp A: columns 20..39 at raw 30..49, overscan raw 50..59; data rows start at raw row 10 */
  int32_t gb[SD_SIM_GEOM_N] = {0, 20, 0, 30, 10, 10, 0};
  int32_t ga[SD_SIM_GEOM_N] = {20, 20, 30, 60, 30, 10, 0};
  CHECK_OK(sd_sim_readout(e, nx, ny, gb, raw, rnx, rny, NULL, NULL, 1000.0, 4.0, 6.0, 0, 1, 1));
  CHECK_OK(sd_sim_readout(e, nx, ny, ga, raw, rnx, rny, NULL, NULL, 1200.0, 5.0, 0.0, 0, 1, 2));
  /* amp A without read noise is exact */
  CHECK_CLOSE(raw[500 * rnx + 35], 1200.0 + 800.0, 1e-6);
  CHECK_CLOSE(raw[500 * rnx + 55], 1200.0, 1e-6);
  CHECK_CLOSE(raw[5 * rnx + 35], 1200.0, 1e-6);
  /* amp B overscan: mean 1000, sd 1.5 ADU (+ rounding) */
  double s = 0, s2 = 0;
  int32_t cnt = 0;
  for (int32_t y = 10; y < rny; y++)
    for (int32_t x = 0; x < 10; x++) {
      double v = raw[y * rnx + x];
      s += v;
      s2 += v * v;
      cnt++;
    }
  double m = s / cnt, sd = sqrt(s2 / cnt - m * m);
  CHECK_CLOSE(m, 1000.0, 0.1);
  CHECK_CLOSE(sd, sqrt(1.5 * 1.5 + 1.0 / 12.0), 0.05);
  CHECK_CLOSE(raw[500 * rnx + 15], 2000.0, 8.0);
  int32_t bad[SD_SIM_GEOM_N] = {30, 20, 30, 60, 30, 10, 0};
  CHECK_EQ(sd_sim_readout(e, nx, ny, bad, raw, rnx, rny, NULL, NULL, 0, 4, 6, 0, 1, 1), SD_ERR_ARG);
  free(e);
  free(raw);
}

int main(void) {
  RUN(test_galaxy_flux_centroid_shape);
  RUN(test_galaxy_profile);
  RUN(test_poisson_moments);
  RUN(test_gaussian_and_flat);
  RUN(test_bleed);
  RUN(test_lines);
  RUN(test_readout);
  return TEST_SUMMARY();
}
