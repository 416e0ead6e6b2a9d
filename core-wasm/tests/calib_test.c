/* calib_test.c — overscan subtraction/trimming and clipped combination (calib.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

/* Two amplifiers, each with its own overscan level per row; the trimmed image is the data
 * minus the row's level, times the gain; a flipped amplifier lands reversed. */
static void test_overscan_trim(void) {
  const int32_t rnx = 20, rny = 6, nx = 12, ny = 5;
  float raw[120];
  /* B: overscan cols 0..3, data cols 4..9 -> trim x 0..5; A: data 10..15 -> trim 6..11
   * (flipped), overscan 16..19; data rows 1..5 */
  for (int32_t y = 0; y < rny; y++)
    for (int32_t x = 0; x < rnx; x++) {
      float lb = 100.0f + y, la = 200.0f + 2 * y;
      float v = x < 10 ? lb : la;
      if (x >= 4 && x < 16 && y >= 1) v += (float)(10 * x + y);
      raw[y * rnx + x] = v;
    }
  raw[2 * rnx + 1] = 5000.0f; /* a hot overscan pixel: the median ignores it */
  int32_t amps[2 * SD_OSCAN_NCOL] = {4, 10, 1, 6, 0, 4, 0, 0, 0, 0,
                                     10, 16, 1, 6, 16, 20, 6, 0, 1, 0};
  double gains[2] = {2.0, 1.0}, levels[2];
  float out[60];
  CHECK_OK(sd_overscan_trim(raw, rnx, rny, amps, gains, NULL, 2, 0, out, nx, ny, levels));
  /* trimmed (x=2, y=1) is raw (6, 2): (10*6+2) * 2 */
  CHECK_CLOSE(out[1 * nx + 2], 62.0 * 2.0, 1e-4);
  /* trimmed x=6 is raw x=15 (flipped), x=11 is raw x=10 */
  CHECK_CLOSE(out[0 * nx + 6], 151.0, 1e-4);
  CHECK_CLOSE(out[3 * nx + 11], 104.0, 1e-4);
  CHECK_CLOSE(levels[0], 100.0 + 3.0, 1e-9);
  CHECK_CLOSE(levels[1], 200.0 + 6.0, 1e-9);
  /* a bias image is subtracted before the gain */
  float bias[60];
  for (int i = 0; i < 60; i++) bias[i] = 1.0f;
  CHECK_OK(sd_overscan_trim(raw, rnx, rny, amps, gains, bias, 2, 0, out, nx, ny, NULL));
  CHECK_CLOSE(out[1 * nx + 2], 61.0 * 2.0, 1e-4);
  CHECK_CLOSE(out[0 * nx + 6], 150.0, 1e-4);
  amps[SD_OSCAN_TRIM_X0] = 8;
  CHECK_EQ(sd_overscan_trim(raw, rnx, rny, amps, gains, NULL, 2, 0, out, nx, ny, levels), SD_ERR_ARG);
}

/* A stack with an outlier in one frame: the clipped mean ignores it; scales divide. */
static void test_combine(void) {
  const int32_t n = 7, npix = 1000;
  float *cube = malloc(sizeof(float) * n * npix), out[1000], err[1000];
  uint16_t used[1000];
  sd_test_rng r = {12345};
  for (int32_t k = 0; k < n; k++)
    for (int32_t p = 0; p < npix; p++) cube[k * npix + p] = (float)(100.0 + sd_test_normal(&r));
  cube[3 * npix + 10] = 1e6f;
  cube[5 * npix + 20] = NAN;
  CHECK_OK(sd_combine_clipped(cube, n, npix, NULL, 3, 3, out, err, used));
  CHECK_EQ(used[10], 6);
  CHECK_EQ(used[20], 6);
  CHECK(fabs(out[10] - 100.0) < 2.0);
  double s = 0, s2 = 0;
  for (int32_t p = 0; p < npix; p++) {
    s += out[p];
    s2 += (out[p] - 100.0) * (out[p] - 100.0);
  }
  CHECK_CLOSE(s / npix, 100.0, 0.05);
  /* the mean of ~7 values: rms about 1/sqrt(7) (a little more after clipping) */
  CHECK(sqrt(s2 / npix) < 0.45 && sqrt(s2 / npix) > 0.3);
  CHECK(err[0] > 0.2 && err[0] < 0.7);
  float scales[7] = {1, 2, 1, 1, 1, 1, 1};
  for (int32_t p = 0; p < npix; p++) cube[1 * npix + p] *= 2.0f;
  float out2[1000];
  CHECK_OK(sd_combine_clipped(cube, n, npix, scales, 3, 3, out2, NULL, NULL));
  CHECK_CLOSE(out2[500], out[500], 1e-4);
  CHECK_EQ(sd_combine_clipped(cube, 0, npix, NULL, 3, 3, out, NULL, NULL), SD_ERR_ARG);
  free(cube);
}

int main(void) {
  RUN(test_overscan_trim);
  RUN(test_combine);
  return TEST_SUMMARY();
}
