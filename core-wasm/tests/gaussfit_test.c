/* gaussfit_test.c — elliptical Gaussian fit (gaussfit.c) against known truth. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

static uint64_t rng_state = 12345;
static double uniform(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform()); }

/* amp exp(-Q/2) + bkg, widths s1 (along theta) and s2, plus N(0, noise) */
static void render(float *img, int n, double amp, double x0, double y0, double s1, double s2,
                   double th, double bkg, double noise) {
  const double ct = cos(th), st = sin(th);
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++) {
      const double dx = x - x0, dy = y - y0;
      const double u = ct * dx + st * dy, v = -st * dx + ct * dy;
      img[y * n + x] = (float)(amp * exp(-0.5 * (u * u / (s1 * s1) + v * v / (s2 * s2))) + bkg +
                               noise * gauss());
    }
}

/* Noise-free: exact recovery from the automatic starting point. */
static void test_exact(void) {
  enum { N = 41 };
  float img[N * N];
  render(img, N, 1000, 20.3, 19.6, 3.0, 1.5, 0.6, 50, 0);
  double p[SD_GFIT_NPAR], e[SD_GFIT_NPAR], st[SD_GFIT_NSTAT];
  CHECK_OK(sd_gauss_fit(img, NULL, NULL, N, N, 0, NULL, 100, p, e, st));
  CHECK_CLOSE(p[SD_GFIT_AMP], 1000, 1e-2);
  CHECK_CLOSE(p[SD_GFIT_X], 20.3, 1e-5);
  CHECK_CLOSE(p[SD_GFIT_Y], 19.6, 1e-5);
  CHECK_CLOSE(p[SD_GFIT_SIGMA_MAJOR], 3.0, 1e-5);
  CHECK_CLOSE(p[SD_GFIT_SIGMA_MINOR], 1.5, 1e-5);
  CHECK_CLOSE(p[SD_GFIT_THETA], 0.6, 1e-5);
  CHECK_CLOSE(p[SD_GFIT_BKG], 50, 1e-3);
  CHECK_EQ(st[SD_GFIT_CONVERGED], 1);
  CHECK_EQ(st[SD_GFIT_NDOF], N * N - 7);
  /* theta wraps into (-pi/2, pi/2]: an angle of 2.0 is the same ellipse as 2.0 - pi */
  render(img, N, 500, 20, 20, 2.5, 1.0, 2.0, 0, 0);
  CHECK_OK(sd_gauss_fit(img, NULL, NULL, N, N, 0, NULL, 100, p, e, st));
  CHECK_CLOSE(p[SD_GFIT_THETA], 2.0 - M_PI, 1e-5);
  CHECK_CLOSE(p[SD_GFIT_SIGMA_MAJOR], 2.5, 1e-5);
}

/* Noisy stamps: the errors describe the scatter over many realisations (pull RMS ~1)
 * and the estimates are unbiased. */
static void test_noise_pulls(void) {
  enum { N = 31, TRIALS = 200 };
  float img[N * N], w[N * N];
  const double noise = 5.0, truth[SD_GFIT_NPAR] = {200, 15.2, 14.7, 2.2, 1.6, -0.4, 10};
  for (int i = 0; i < N * N; i++) w[i] = (float)(1 / (noise * noise));
  double sum[SD_GFIT_NPAR] = {0}, pull2[SD_GFIT_NPAR] = {0};
  for (int t = 0; t < TRIALS; t++) {
    render(img, N, truth[0], truth[1], truth[2], truth[3], truth[4], truth[5], truth[6], noise);
    double p[SD_GFIT_NPAR], e[SD_GFIT_NPAR], st[SD_GFIT_NSTAT];
    CHECK_OK(sd_gauss_fit(img, w, NULL, N, N, 0, NULL, 100, p, e, st));
    CHECK_EQ(st[SD_GFIT_CONVERGED], 1);
    for (int k = 0; k < SD_GFIT_NPAR; k++) {
      sum[k] += p[k] - truth[k];
      pull2[k] += (p[k] - truth[k]) * (p[k] - truth[k]) / (e[k] * e[k]);
    }
  }
  for (int k = 0; k < SD_GFIT_NPAR; k++) {
    const double pull_rms = sqrt(pull2[k] / TRIALS);
    CHECK(pull_rms > 0.8 && pull_rms < 1.25);
    if (!(pull_rms > 0.8 && pull_rms < 1.25)) fprintf(stderr, "param %d pull rms %g\n", k, pull_rms);
  }
  CHECK_CLOSE(sum[SD_GFIT_X] / TRIALS, 0, 0.01);
  CHECK_CLOSE(sum[SD_GFIT_SIGMA_MAJOR] / TRIALS, 0, 0.02);
  CHECK_CLOSE(sum[SD_GFIT_AMP] / TRIALS, 0, 2.0);
}

/* Masked pixels (a flagged cosmic ray, a zero-weight column, a NaN) are ignored. */
static void test_masked(void) {
  enum { N = 25 };
  float img[N * N], w[N * N];
  uint16_t fl[N * N];
  render(img, N, 300, 12.4, 11.8, 1.8, 1.8, 0, 5, 0);
  for (int i = 0; i < N * N; i++) {
    w[i] = 1;
    fl[i] = 0;
  }
  img[12 * N + 13] = 1e6f;
  fl[12 * N + 13] = 4;
  for (int y = 0; y < N; y++) {
    img[y * N + 10] = -500;
    w[y * N + 10] = 0;
  }
  img[3] = NAN;
  double p[SD_GFIT_NPAR], st[SD_GFIT_NSTAT];
  double init[SD_GFIT_NPAR] = {250, 12, 12, 2, 2, 0, 0};
  CHECK_OK(sd_gauss_fit(img, w, fl, N, N, 4, init, 100, p, NULL, st));
  CHECK_CLOSE(p[SD_GFIT_X], 12.4, 1e-4);
  CHECK_CLOSE(p[SD_GFIT_SIGMA_MAJOR], 1.8, 1e-4);
  CHECK_CLOSE(p[SD_GFIT_SIGMA_MINOR], 1.8, 1e-4);
  CHECK_EQ(st[SD_GFIT_NDOF], N * N - N - 2 - 7);
}

static void test_errors(void) {
  float img[16] = {0};
  double p[SD_GFIT_NPAR];
  uint16_t fl[16];
  for (int i = 0; i < 16; i++) fl[i] = i < 9 ? 1 : 0;
  CHECK_EQ(sd_gauss_fit(img, NULL, fl, 4, 4, 1, NULL, 10, p, NULL, NULL), SD_ERR_EMPTY);
  CHECK_EQ(sd_gauss_fit(img, NULL, NULL, 0, 4, 0, NULL, 10, p, NULL, NULL), SD_ERR_ARG);
  CHECK_EQ(sd_gauss_fit(NULL, NULL, NULL, 4, 4, 0, NULL, 10, p, NULL, NULL), SD_ERR_ARG);
  double bad[SD_GFIT_NPAR] = {1, 2, 2, -1, 1, 0, 0};
  CHECK_EQ(sd_gauss_fit(img, NULL, NULL, 4, 4, 0, bad, 10, p, NULL, NULL), SD_ERR_ARG);
}

int main(void) {
  RUN(test_exact);
  RUN(test_noise_pulls);
  RUN(test_masked);
  RUN(test_errors);
  return TEST_SUMMARY();
}
