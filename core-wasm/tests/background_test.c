/* background_test.c — sd_background_mesh and sd_background_render. */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

/* Sky 1000 + 0.02 x + 0.01 y with Gaussian noise of rms 10, plus bright square "stars". */
static float *make_sky(int nx, int ny, uint64_t seed) {
  sd_test_rng r = {seed};
  float *img = malloc(sizeof(float) * nx * ny);
  for (int y = 0; y < ny; y++)
    for (int x = 0; x < nx; x++)
      img[y * nx + x] = (float)(1000.0 + 0.02 * x + 0.01 * y + 10.0 * sd_test_normal(&r));
  for (int k = 0; k < 60; k++) {
    int cx = 3 + (int)(sd_test_next(&r) % (nx - 6)), cy = 3 + (int)(sd_test_next(&r) % (ny - 6));
    for (int dy = -2; dy <= 2; dy++)
      for (int dx = -2; dx <= 2; dx++) img[(cy + dy) * nx + cx + dx] += 500.0f;
  }
  return img;
}

static void test_mesh_recovers_sky(void) {
  const int nx = 512, ny = 384, bw = 64, bh = 64;
  float *img = make_sky(nx, ny, 42);
  const int nbx = 8, nby = 6;
  float back[48], rms[48];
  double out[SD_BKG_N];
  CHECK_OK(sd_background_mesh(img, NULL, nx, ny, 0xFFFF, bw, bh, 3, 3, 0.0f, back, rms, out));
  double worst = 0.0, worst_rms = 0.0;
  for (int by = 0; by < nby; by++)
    for (int bx = 0; bx < nbx; bx++) {
      double cx = bx * bw + 31.5, cy = by * bh + 31.5;
      double truth = 1000.0 + 0.02 * cx + 0.01 * cy;
      double e = fabs(back[by * nbx + bx] - truth);
      if (e > worst) worst = e;
      double er = fabs(rms[by * nbx + bx] - 10.0);
      if (er > worst_rms) worst_rms = er;
    }
  /* a box of 4096 pixels: mode noise ~ 0.3 rms / sqrt(box) * ~3 -> well under 1 */
  CHECK(worst < 1.0);
  CHECK(worst_rms < 0.5);
  CHECK_CLOSE(out[SD_BKG_GLOBAL], 1000.0 + 0.02 * 255.5 + 0.01 * 191.5, 1.5);
  CHECK_CLOSE(out[SD_BKG_GLOBALRMS], 10.0, 0.3);
  CHECK_EQ((int)out[SD_BKG_NBAD], 0);
  free(img);
}

static void test_mesh_masked_box_is_replaced(void) {
  const int nx = 256, ny = 256;
  float *img = make_sky(nx, ny, 7);
  uint16_t *mask = calloc(nx * ny, sizeof(uint16_t));
  for (int y = 64; y < 128; y++)
    for (int x = 64; x < 128; x++) {
      mask[y * nx + x] = 1;
      img[y * nx + x] = 1e6f; /* garbage under the mask */
    }
  float back[16], rms[16];
  double out[SD_BKG_N];
  CHECK_OK(sd_background_mesh(img, mask, nx, ny, 1, 64, 64, 1, 1, 0.0f, back, rms, out));
  CHECK_EQ((int)out[SD_BKG_NBAD], 1);
  /* box (1,1) = mean of its 4 nearest neighbours (1,0), (0,1), (2,1), (1,2) */
  double want = 0.25 * (back[1] + back[4] + back[6] + back[9]);
  CHECK_CLOSE(back[5], want, 1e-3);
  CHECK(rms[5] > 9.0 && rms[5] < 11.0);
  /* all masked: empty */
  for (int i = 0; i < nx * ny; i++) mask[i] = 1;
  CHECK_EQ(sd_background_mesh(img, mask, nx, ny, 1, 64, 64, 3, 3, 0.0f, back, rms, out),
           SD_ERR_EMPTY);
  free(mask);
  free(img);
}

static void test_median_filter_removes_outlier_box(void) {
  const int nx = 320, ny = 320;
  float *img = make_sky(nx, ny, 9);
  for (int y = 128; y < 192; y++)
    for (int x = 128; x < 192; x++) img[y * nx + x] += 200.0f; /* a box sitting on a galaxy */
  float back[25], rms[25];
  double out[SD_BKG_N];
  CHECK_OK(sd_background_mesh(img, NULL, nx, ny, 0xFFFF, 64, 64, 1, 1, 0.0f, back, rms, out));
  CHECK(back[12] > 1150.0);
  CHECK_OK(sd_background_mesh(img, NULL, nx, ny, 0xFFFF, 64, 64, 3, 3, 0.0f, back, rms, out));
  CHECK_CLOSE(back[12], 1000.0 + 0.02 * 159.5 + 0.01 * 159.5, 1.5);
  /* fthresh larger than the jump keeps the raw value */
  CHECK_OK(sd_background_mesh(img, NULL, nx, ny, 0xFFFF, 64, 64, 3, 3, 500.0f, back, rms, out));
  CHECK(back[12] > 1150.0);
  free(img);
}

static void test_render_reproduces_linear_and_smooth(void) {
  const int nbx = 7, nby = 5, bw = 32, bh = 40, nx = 7 * 32 - 10, ny = 5 * 40 - 3;
  float mesh[35];
  for (int j = 0; j < nby; j++)
    for (int i = 0; i < nbx; i++) {
      double cx = (i + 0.5) * bw - 0.5, cy = (j + 0.5) * bh - 0.5;
      mesh[j * nbx + i] = (float)(5.0 + 0.3 * cx - 0.2 * cy);
    }
  float *out = malloc(sizeof(float) * nx * ny);
  CHECK_OK(sd_background_render(mesh, nbx, nby, bw, bh, nx, ny, out));
  double worst = 0.0;
  for (int y = 0; y < ny; y++)
    for (int x = 0; x < nx; x++) {
      double e = fabs(out[y * nx + x] - (5.0 + 0.3 * x - 0.2 * y));
      if (e > worst) worst = e;
    }
  CHECK(worst < 2e-3); /* natural splines are exact on a plane, also when extrapolating */
  /* a smooth function: the spline is close to it away from the outer intervals, where
   * the natural end condition (zero curvature) departs from it */
  for (int j = 0; j < nby; j++)
    for (int i = 0; i < nbx; i++) {
      double cx = (i + 0.5) * bw - 0.5, cy = (j + 0.5) * bh - 0.5;
      mesh[j * nbx + i] = (float)(100.0 * sin(cx / 60.0) * cos(cy / 70.0));
    }
  CHECK_OK(sd_background_render(mesh, nbx, nby, bw, bh, nx, ny, out));
  worst = 0.0;
  for (int y = 60; y <= 140; y++)
    for (int x = 48; x <= 176; x++) {
      double e = fabs(out[y * nx + x] - 100.0 * sin(x / 60.0) * cos(y / 70.0));
      if (e > worst) worst = e;
    }
  CHECK(worst < 0.6);
  /* node (3, 2) sits at pixel (111.5, 99.5): the mean of the 4 pixels around it */
  double at_node = 0.25 * (out[99 * nx + 111] + out[99 * nx + 112] + out[100 * nx + 111] +
                           out[100 * nx + 112]);
  CHECK_CLOSE(at_node, mesh[2 * nbx + 3], 0.05);
  /* one box: constant */
  float one = 3.5f;
  CHECK_OK(sd_background_render(&one, 1, 1, 64, 64, 10, 10, out));
  CHECK_CLOSE(out[99], 3.5, 0);
  CHECK_EQ(sd_background_render(&one, 1, 1, 0, 64, 10, 10, out), SD_ERR_ARG);
  free(out);
}

int main(void) {
  RUN(test_mesh_recovers_sky);
  RUN(test_mesh_masked_box_is_replaced);
  RUN(test_median_filter_removes_outlier_box);
  RUN(test_render_reproduces_linear_and_smooth);
  return TEST_SUMMARY();
}
