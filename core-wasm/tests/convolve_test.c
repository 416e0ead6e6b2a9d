/* convolve_test.c — sd_convolve (direct and FFT) against a naive double-precision sum. */
#include "sd_core.h"
#include "test_util.h"

static int32_t refl(int32_t i, int32_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}

static void check_case(int32_t nx, int32_t ny, int32_t kw, int32_t kh, int32_t pad, int32_t method,
                       uint64_t seed) {
  sd_test_rng r = {seed};
  float *img = malloc(sizeof(float) * nx * ny), *out = malloc(sizeof(float) * nx * ny);
  float *k = malloc(sizeof(float) * kw * kh);
  for (int32_t i = 0; i < nx * ny; i++) img[i] = (float)sd_test_normal(&r) + 2.0f;
  for (int32_t i = 0; i < kw * kh; i++) k[i] = (float)sd_test_uniform(&r);
  CHECK_OK(sd_convolve(img, nx, ny, k, kw, kh, pad, method, out));
  double maxerr = 0.0, scale = 0.0;
  for (int32_t y = 0; y < ny; y++)
    for (int32_t x = 0; x < nx; x++) {
      double s = 0.0;
      for (int32_t v = -kh / 2; v <= kh / 2; v++)
        for (int32_t u = -kw / 2; u <= kw / 2; u++) {
          int32_t xx = x - u, yy = y - v;
          if (pad == 0 && (xx < 0 || xx >= nx || yy < 0 || yy >= ny)) continue;
          xx = refl(xx, nx), yy = refl(yy, ny);
          s += (double)k[(v + kh / 2) * kw + (u + kw / 2)] * img[yy * nx + xx];
        }
      maxerr = fmax(maxerr, fabs(s - out[y * nx + x]));
      scale = fmax(scale, fabs(s));
    }
  CHECK(maxerr <= 1e-5 * scale);
  if (!(maxerr <= 1e-5 * scale))
    fprintf(stderr, "  %dx%d k %dx%d pad %d method %d: err %g of %g\n", nx, ny, kw, kh, pad, method,
            maxerr, scale);
  free(img);
  free(out);
  free(k);
}

static void test_convolve_matches_naive(void) {
  for (int32_t pad = 0; pad <= 1; pad++) {
    check_case(37, 23, 5, 3, pad, 1, 1);
    check_case(37, 23, 5, 3, pad, 2, 2);
    check_case(37, 23, 7, 9, pad, 0, 3);
    check_case(64, 50, 41, 41, pad, 0, 4);
    check_case(30, 20, 25, 31, pad, 1, 5);
    check_case(30, 20, 25, 31, pad, 2, 6);
    check_case(9, 5, 15, 9, pad, 2, 7); /* kernel larger than the image */
  }
}

static void test_convolve_args(void) {
  float img[16] = {0}, k[4] = {0}, out[16];
  CHECK_EQ(sd_convolve(img, 4, 4, k, 2, 1, 0, 0, out), SD_ERR_ARG);
  CHECK_EQ(sd_convolve(img, 4, 4, k, 1, 1, 2, 0, out), SD_ERR_ARG);
  CHECK_EQ(sd_convolve(img, 4, 4, k, 1, 1, 0, 3, out), SD_ERR_ARG);
  CHECK_EQ(sd_convolve(NULL, 4, 4, k, 1, 1, 0, 0, out), SD_ERR_ARG);
}

int main(void) {
  RUN(test_convolve_matches_naive);
  RUN(test_convolve_args);
  return TEST_SUMMARY();
}
