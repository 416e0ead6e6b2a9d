/* detect_fuzz_test.c — random images, sizes, masks, NaNs and parameters through the
 * background and detection kernels (run under the sanitizers), checking invariants. */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

static void test_random_inputs_keep_invariants(void) {
  sd_test_rng r = {2024};
  for (int trial = 0; trial < 150; trial++) {
    const int nx = 1 + (int)(sd_test_next(&r) % 90), ny = 1 + (int)(sd_test_next(&r) % 70);
    const size_t n = (size_t)nx * ny;
    float *img = malloc(sizeof(float) * n), *noise = malloc(sizeof(float) * n);
    uint16_t *mask = calloc(n, sizeof(uint16_t));
    int32_t *seg = malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < n; i++) {
      img[i] = (float)(sd_test_normal(&r) + (sd_test_uniform(&r) < 0.05 ? 50.0 : 0.0));
      noise[i] = (float)(0.5 + sd_test_uniform(&r));
      if (sd_test_uniform(&r) < 0.03) mask[i] = (uint16_t)(1 + sd_test_next(&r) % 8);
      if (sd_test_uniform(&r) < 0.01) img[i] = NAN;
    }
    const int use_mask = trial % 2, use_noise = trial % 3 == 0, use_kernel = trial % 4 != 1;
    const int kw = 1 + 2 * (int)(sd_test_next(&r) % 3), kh = 1 + 2 * (int)(sd_test_next(&r) % 3);
    float kernel[25];
    for (int i = 0; i < kw * kh; i++) kernel[i] = (float)(0.1 + sd_test_uniform(&r));
    const int min_area = 1 + (int)(sd_test_next(&r) % 4);
    const int nthresh = 1 + (int)(sd_test_next(&r) % 40);
    int32_t need = -1;
    sd_status st = sd_detect(img, use_noise ? noise : NULL, use_mask ? mask : NULL, nx, ny, 1.0f,
                             0xFFFF, 4, 0.0f, use_kernel ? kernel : NULL, kw, kh, 2.0f, min_area,
                             nthresh, 0.005f, 0, NULL, NULL, &need);
    CHECK(st == SD_OK || st == SD_ERR_OVERFLOW);
    CHECK(need >= 0);
    double *obj = malloc(sizeof(double) * SD_DET_NCOLS * (size_t)(need > 0 ? need : 1));
    int32_t count = -1;
    CHECK_OK(sd_detect(img, use_noise ? noise : NULL, use_mask ? mask : NULL, nx, ny, 1.0f, 0xFFFF,
                       4, 0.0f, use_kernel ? kernel : NULL, kw, kh, 2.0f, min_area, nthresh,
                       0.005f, need, obj, seg, &count));
    CHECK_EQ(count, need);
    long long sum_npix = 0, seg_npix = 0;
    for (int i = 0; i < count; i++) {
      const double *o = obj + (size_t)i * SD_DET_NCOLS;
      sum_npix += (long long)o[SD_DET_NPIX];
      CHECK(o[SD_DET_X] >= o[SD_DET_XMIN] - 1e-6 && o[SD_DET_X] <= o[SD_DET_XMAX] + 1e-6);
      CHECK(o[SD_DET_Y] >= o[SD_DET_YMIN] - 1e-6 && o[SD_DET_Y] <= o[SD_DET_YMAX] + 1e-6);
      CHECK(o[SD_DET_A] >= o[SD_DET_B] && o[SD_DET_B] >= 0.0);
      CHECK(o[SD_DET_NPIX] >= 1);
    }
    for (size_t i = 0; i < n; i++) {
      CHECK(seg[i] >= 0 && seg[i] <= count);
      seg_npix += seg[i] > 0;
      if (seg[i] > 0 && use_mask) CHECK(mask[i] == 0);
    }
    CHECK_EQ(seg_npix, sum_npix);

    /* background on the same inputs: any box size, masks, NaNs */
    const int bw = 1 + (int)(sd_test_next(&r) % 40), bh = 1 + (int)(sd_test_next(&r) % 40);
    const int nbx = (nx - 1) / bw + 1, nby = (ny - 1) / bh + 1;
    float *mb = malloc(sizeof(float) * nbx * nby), *mr = malloc(sizeof(float) * nbx * nby);
    double out[SD_BKG_N];
    st = sd_background_mesh(img, use_mask ? mask : NULL, nx, ny, 0xFFFF, bw, bh, 3, 3, 0.0f, mb, mr,
                            out);
    CHECK(st == SD_OK || st == SD_ERR_EMPTY);
    if (st == SD_OK) {
      CHECK_OK(sd_background_render(mb, nbx, nby, bw, bh, nx, ny, noise));
      for (size_t i = 0; i < n; i++) CHECK(isfinite(noise[i]));
    }
    double stats[SD_STATS_N];
    st = sd_stats_clipped(img, use_mask ? mask : NULL, (int32_t)n, 0xFFFF, 2.5f, 3.0f, 5, stats);
    CHECK(st == SD_OK || st == SD_ERR_EMPTY);
    free(mb);
    free(mr);
    free(obj);
    free(img);
    free(noise);
    free(mask);
    free(seg);
  }
}

int main(void) {
  RUN(test_random_inputs_keep_invariants);
  return TEST_SUMMARY();
}
