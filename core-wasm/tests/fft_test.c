/* fft_test.c — sd_fft_*: good sizes, r2c against a naive DFT, round trips. */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

static void test_good_size(void) {
  int32_t g = 0;
  CHECK_OK(sd_fft_good_size(1, &g));
  CHECK_EQ(g, 1);
  CHECK_OK(sd_fft_good_size(7, &g));
  CHECK_EQ(g, 8);
  CHECK_OK(sd_fft_good_size(2089, &g));
  CHECK_EQ(g, 2160);
  CHECK_OK(sd_fft_good_size(4097, &g));
  CHECK_EQ(g, 4320);
  CHECK_OK(sd_fft_good_size(121, &g));
  CHECK_EQ(g, 125);
  CHECK_EQ(sd_fft_good_size(0, &g), SD_ERR_ARG);
  int32_t len = 0;
  CHECK_EQ(sd_fft_plan_length(14, 8, &len), SD_ERR_ARG);
}

/* r2c of an nx x ny random image against a double-precision DFT. */
static void check_dft(int32_t nx, int32_t ny, uint64_t seed) {
  sd_test_rng r = {seed};
  int32_t len = 0;
  CHECK_OK(sd_fft_plan_length(nx, ny, &len));
  float *plan = malloc(sizeof(float) * len);
  CHECK_OK(sd_fft_plan(nx, ny, plan, len));
  const int32_t nxh = nx / 2 + 1;
  const size_t n = (size_t)nx * ny, ns = (size_t)ny * nxh;
  float *img = malloc(sizeof(float) * n), *spec = malloc(sizeof(float) * 2 * ns);
  float *back = malloc(sizeof(float) * n);
  for (size_t i = 0; i < n; i++) img[i] = (float)sd_test_normal(&r);
  CHECK_OK(sd_fft_r2c(plan, img, spec));
  double maxerr = 0.0, maxabs = 0.0;
  for (int32_t ky = 0; ky < ny; ky++)
    for (int32_t kx = 0; kx < nxh; kx++) {
      double sr = 0.0, si = 0.0;
      for (int32_t y = 0; y < ny; y++)
        for (int32_t x = 0; x < nx; x++) {
          double a = -2.0 * M_PI * ((double)kx * x / nx + (double)ky * y / ny);
          sr += img[(size_t)y * nx + x] * cos(a);
          si += img[(size_t)y * nx + x] * sin(a);
        }
      double er = spec[(size_t)ky * nxh + kx] - sr, ei = spec[ns + (size_t)ky * nxh + kx] - si;
      double e = sqrt(er * er + ei * ei), m = sqrt(sr * sr + si * si);
      if (e > maxerr) maxerr = e;
      if (m > maxabs) maxabs = m;
    }
  /* relative to the largest coefficient (white noise: all are ~ sqrt(n)) */
  CHECK(maxerr <= 1e-5 * maxabs);
  if (!(maxerr <= 1e-5 * maxabs)) fprintf(stderr, "nx %d ny %d err %g max %g\n", nx, ny, maxerr, maxabs);
  CHECK_OK(sd_fft_c2r(plan, spec, back));
  double rt = 0.0;
  for (size_t i = 0; i < n; i++) rt = fmax(rt, fabs(back[i] - img[i]));
  CHECK(rt < 2e-5 * sqrt(log((double)n) + 1.0) * 4);
  free(plan);
  free(img);
  free(spec);
  free(back);
}

static void test_against_dft(void) {
  const int32_t sizes[][2] = {{1, 1}, {2, 3}, {4, 4}, {5, 6}, {8, 9}, {12, 10}, {15, 16},
                              {16, 15}, {30, 20}, {27, 25}, {60, 45}, {64, 1}, {1, 40},
                              {48, 50}, {3, 7 * 0 + 5}};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    check_dft(sizes[i][0], sizes[i][1], 100 + i);
}

/* A large round trip and Parseval's theorem. */
static void test_round_trip_large(void) {
  const int32_t nx = 360, ny = 240;
  sd_test_rng r = {7};
  int32_t len = 0;
  CHECK_OK(sd_fft_plan_length(nx, ny, &len));
  float *plan = malloc(sizeof(float) * len);
  CHECK_OK(sd_fft_plan(nx, ny, plan, len));
  CHECK_EQ(sd_fft_plan(nx, ny, plan, len - 1), SD_ERR_OVERFLOW);
  const int32_t nxh = nx / 2 + 1;
  const size_t n = (size_t)nx * ny, ns = (size_t)ny * nxh;
  float *img = malloc(sizeof(float) * n), *spec = malloc(sizeof(float) * 2 * ns);
  float *back = malloc(sizeof(float) * n);
  double e_img = 0.0, e_spec = 0.0;
  for (size_t i = 0; i < n; i++) {
    img[i] = (float)(sd_test_normal(&r) + 3.0);
    e_img += (double)img[i] * img[i];
  }
  CHECK_OK(sd_fft_r2c(plan, img, spec));
  for (int32_t ky = 0; ky < ny; ky++)
    for (int32_t kx = 0; kx < nxh; kx++) {
      double re = spec[(size_t)ky * nxh + kx], im = spec[ns + (size_t)ky * nxh + kx];
      double w = (kx == 0 || (nx % 2 == 0 && kx == nx / 2)) ? 1.0 : 2.0;
      e_spec += w * (re * re + im * im);
    }
  CHECK_CLOSE(e_spec / n / e_img, 1.0, 1e-5);
  CHECK_OK(sd_fft_c2r(plan, spec, back));
  double rt = 0.0;
  for (size_t i = 0; i < n; i++) rt = fmax(rt, fabs(back[i] - img[i]));
  CHECK(rt < 1e-4);
  free(plan);
  free(img);
  free(spec);
  free(back);
}

int main(void) {
  RUN(test_good_size);
  RUN(test_against_dft);
  RUN(test_round_trip_large);
  return TEST_SUMMARY();
}
