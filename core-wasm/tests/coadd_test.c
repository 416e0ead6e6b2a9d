/* coadd_test.c — inverse-variance weighted clipped mean (coadd.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

/* Four frames of one pixel each: the weighted mean of known values; a wild value in one
 * frame is rejected; a flagged or zero-weight value is not used; scales multiply values and
 * divide weights by their square. */
static void test_weighted_and_clipped(void) {
  /* pixel 0: 10, 12, 11, 11 with weights 1, 1, 2, 4 -> (10 + 12 + 22 + 44) / 8 = 11 */
  /* pixel 1: 10, 10.5, 1000 (a cosmic ray), 9.5, weights 4 each, flags in none */
  /* pixel 2: every frame flagged -> no value, flags OR-ed */
  float cube[12] = {10, 10, 5, 12, 10.5f, 5, 11, 1000, 5, 11, 9.5f, 5};
  float wcube[12] = {1, 4, 1, 1, 4, 1, 2, 4, 1, 4, 4, 1};
  uint16_t fcube[12] = {0, 0, 1, 0, 0, 8, 0, 0, 1, 0, 0, 8};
  float out[3], ow[3];
  uint16_t of[3], nu[3];
  CHECK_OK(sd_coadd_clipped(cube, wcube, fcube, 4, 3, NULL, 0xffff, 3.5f, 0.0f, 3, out, ow, of,
                            nu));
  CHECK_CLOSE(out[0], 11.0, 1e-5);
  CHECK_CLOSE(ow[0], 8.0, 1e-5);
  CHECK_EQ(nu[0], 4);
  CHECK_CLOSE(out[1], 10.0, 1e-5);
  CHECK_CLOSE(ow[1], 12.0, 1e-5);
  CHECK_EQ(nu[1], 3);
  CHECK_EQ(of[1], 0);
  CHECK_CLOSE(out[2], 0.0, 0);
  CHECK_CLOSE(ow[2], 0.0, 0);
  CHECK_EQ(of[2], 9);
  CHECK_EQ(nu[2], 0);
  /* scales: frame 1 doubled -> pixel 0 values 10, 24, 11, 11, weights 1, 0.25, 2, 4 */
  float scales[4] = {1, 2, 1, 1};
  CHECK_OK(sd_coadd_clipped(cube, wcube, NULL, 4, 3, scales, 0xffff, 100.0f, 0.0f, 3, out, ow,
                            of, nu));
  CHECK_CLOSE(out[0], (10 + 0.25 * 24 + 22 + 44) / 7.25, 1e-5);
  CHECK_CLOSE(ow[0], 7.25, 1e-5);
  /* bad arguments */
  CHECK_EQ(sd_coadd_clipped(cube, wcube, NULL, 0, 3, NULL, 0, 3, 0, 3, out, ow, of, nu), 1);
  CHECK_EQ(sd_coadd_clipped(cube, wcube, NULL, 4, 3, NULL, 0, -1, 0, 3, out, ow, of, nu), 1);
}

/* Pure noise: the clipped weighted mean of 8 frames with weights 1..8 has the variance
 * 1 / sum(w) (few false rejections at kappa 3.5) and no bias; a frac term keeps a
 * 20% mismatch of a bright value. */
static void test_noise(void) {
  const int32_t n = 8, npix = 20000;
  float *cube = malloc(sizeof(float) * n * npix), *wcube = malloc(sizeof(float) * n * npix);
  float *out = malloc(sizeof(float) * npix), *ow = malloc(sizeof(float) * npix);
  sd_test_rng rng = {12345};
  double sw = 0;
  for (int32_t k = 0; k < n; k++) sw += k + 1;
  for (int32_t k = 0; k < n; k++)
    for (int32_t p = 0; p < npix; p++) {
      double sigma = 1.0 / sqrt(k + 1.0);
      cube[k * npix + p] = (float)(5.0 + sigma * sd_test_normal(&rng));
      wcube[k * npix + p] = (float)(k + 1);
    }
  CHECK_OK(sd_coadd_clipped(cube, wcube, NULL, n, npix, NULL, 0, 3.5f, 0.0f, 3, out, ow, NULL,
                            NULL));
  double s = 0, s2 = 0;
  for (int32_t p = 0; p < npix; p++) {
    s += out[p] - 5.0;
    s2 += (out[p] - 5.0) * (out[p] - 5.0);
  }
  double mean = s / npix, var = s2 / npix - mean * mean;
  CHECK_CLOSE(mean, 0.0, 4.0 * sqrt(1.0 / sw / npix));
  CHECK_CLOSE(var * sw, 1.0, 0.05);
  /* bright pixel: 1000 +- 1 in three frames, 1200 in one; frac 0.3 keeps it, 0 rejects it */
  float b[4] = {1000, 1001, 999, 1200}, bw[4] = {1, 1, 1, 1}, bo, bow;
  uint16_t bn;
  CHECK_OK(sd_coadd_clipped(b, bw, NULL, 4, 1, NULL, 0, 3.5f, 0.3f, 3, &bo, &bow, NULL, &bn));
  CHECK_EQ(bn, 4);
  CHECK_CLOSE(bo, 1050.0, 1e-3);
  CHECK_OK(sd_coadd_clipped(b, bw, NULL, 4, 1, NULL, 0, 3.5f, 0.0f, 3, &bo, &bow, NULL, &bn));
  CHECK_EQ(bn, 3);
  CHECK_CLOSE(bo, 1000.0, 1e-3);
  free(cube);
  free(wcube);
  free(out);
  free(ow);
}

int main(void) {
  RUN(test_weighted_and_clipped);
  RUN(test_noise);
  return TEST_SUMMARY();
}
