/* detect_test.c — sd_convolve_small, sd_detect (labelling, deblending, flags, moments). */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

static const float SEP_KERNEL[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1};

/* Adds an elliptical Gaussian (sigma_a along angle theta) of total flux, 3x3 subsampled. */
static void add_gauss(float *img, int nx, int ny, double x0, double y0, double sa, double sb,
                      double theta, double flux) {
  const double c = cos(theta), s = sin(theta);
  const int r = (int)ceil(6 * sa);
  for (int y = (int)y0 - r; y <= (int)y0 + r; y++)
    for (int x = (int)x0 - r; x <= (int)x0 + r; x++) {
      if (x < 0 || y < 0 || x >= nx || y >= ny) continue;
      double acc = 0;
      for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++) {
          double dx = x - 1.0 / 3 + i / 3.0 - x0, dy = y - 1.0 / 3 + j / 3.0 - y0;
          double u = c * dx + s * dy, v = -s * dx + c * dy;
          acc += exp(-0.5 * (u * u / (sa * sa) + v * v / (sb * sb)));
        }
      img[y * nx + x] += (float)(flux * acc / 9.0 / (2 * M_PI * sa * sb));
    }
}

static void test_convolve_matches_brute_force(void) {
  const int nx = 37, ny = 23, kw = 5, kh = 3;
  sd_test_rng r = {5};
  float img[37 * 23], out[37 * 23], k[15];
  uint16_t mask[37 * 23];
  for (int i = 0; i < nx * ny; i++) {
    img[i] = (float)sd_test_normal(&r);
    mask[i] = (i % 11 == 3) ? 2 : 0;
  }
  for (int i = 0; i < kw * kh; i++) k[i] = (float)(0.2 + sd_test_uniform(&r));
  for (int pass = 0; pass < 2; pass++) {
    const uint16_t *m = pass ? mask : NULL;
    CHECK_OK(sd_convolve_small(img, m, nx, ny, 0xFFFF, k, kw, kh, 1, out));
    double worst = 0;
    for (int y = 0; y < ny; y++)
      for (int x = 0; x < nx; x++) {
        double num = 0, den = 0;
        for (int j = 0; j < kh; j++)
          for (int i = 0; i < kw; i++) {
            int xx = x + i - kw / 2, yy = y + j - kh / 2;
            if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
            if (m && m[yy * nx + xx]) continue;
            num += k[j * kw + i] * img[yy * nx + xx];
            den += k[j * kw + i];
          }
        double e = fabs(out[y * nx + x] - num / den);
        if (e > worst) worst = e;
      }
    CHECK(worst < 1e-5);
  }
  /* unnormalised: zero padding */
  CHECK_OK(sd_convolve_small(img, NULL, nx, ny, 0xFFFF, k, kw, kh, 0, out));
  double want = 0;
  for (int j = 0; j < kh; j++)
    for (int i = 0; i < kw; i++) {
      int xx = i - kw / 2, yy = j - kh / 2;
      if (xx >= 0 && yy >= 0) want += k[j * kw + i] * img[yy * nx + xx];
    }
  CHECK_CLOSE(out[0], want, 1e-5);
  CHECK_EQ(sd_convolve_small(img, NULL, nx, ny, 0xFFFF, k, 4, 3, 1, out), SD_ERR_ARG);
}

static void test_detect_finds_injected_sources(void) {
  const int nx = 300, ny = 200;
  float *img = calloc(nx * ny, sizeof(float));
  sd_test_rng r = {99};
  for (int i = 0; i < nx * ny; i++) img[i] = (float)sd_test_normal(&r);
  double truth[12][2];
  for (int k = 0; k < 12; k++) {
    truth[k][0] = 20 + (k % 4) * 80 + 0.37 * k;
    truth[k][1] = 30 + (k / 4) * 70 - 0.21 * k;
    add_gauss(img, nx, ny, truth[k][0], truth[k][1], 1.6, 1.6, 0, 3000.0);
  }
  double obj[64 * SD_DET_NCOLS];
  int32_t *seg = malloc(sizeof(int32_t) * nx * ny);
  int32_t n = -1;
  CHECK_OK(sd_detect(img, NULL, NULL, nx, ny, 1.0f, 0xFFFF, 4, 0.0f, SEP_KERNEL, 3, 3, 3.0f, 5,
                     32, 0.005f, 64, obj, seg, &n));
  CHECK_EQ(n, 12);
  for (int k = 0; k < 12; k++) {
    int found = 0;
    for (int i = 0; i < n; i++) {
      const double *o = obj + i * SD_DET_NCOLS;
      if (fabs(o[SD_DET_X] - truth[k][0]) < 0.1 && fabs(o[SD_DET_Y] - truth[k][1]) < 0.1) {
        found++;
        CHECK_EQ((int)o[SD_DET_FLAGS], 0);
        CHECK(o[SD_DET_FLUX] > 2700 && o[SD_DET_FLUX] < 3050);
        CHECK_CLOSE(o[SD_DET_A], o[SD_DET_B], 0.15);
      }
    }
    CHECK_EQ(found, 1);
  }
  /* segmentation map: label i+1 covers exactly npix pixels */
  for (int i = 0; i < n; i++) {
    int cnt = 0;
    for (int p = 0; p < nx * ny; p++) cnt += seg[p] == i + 1;
    CHECK_EQ(cnt, (int)obj[i * SD_DET_NCOLS + SD_DET_NPIX]);
  }
  /* capacity: too small -> overflow with the needed count */
  int32_t need = 0;
  CHECK_EQ(sd_detect(img, NULL, NULL, nx, ny, 1.0f, 0xFFFF, 4, 0.0f, SEP_KERNEL, 3, 3, 3.0f, 5, 32,
                     0.005f, 3, obj, NULL, &need),
           SD_ERR_OVERFLOW);
  CHECK_EQ(need, 12);
  CHECK_EQ(sd_detect(img, NULL, NULL, nx, ny, 1.0f, 0xFFFF, 4, 0.0f, SEP_KERNEL, 3, 3, 3.0f, 5, 32,
                     0.005f, 0, NULL, NULL, &need),
           SD_ERR_OVERFLOW);
  CHECK_EQ(need, 12);
  free(seg);
  free(img);
}

static void test_detect_deblends_pair(void) {
  const int nx = 80, ny = 60;
  float *img = calloc(nx * ny, sizeof(float));
  add_gauss(img, nx, ny, 35.0, 30.0, 2.0, 2.0, 0, 10000.0);
  add_gauss(img, nx, ny, 43.0, 31.0, 2.0, 2.0, 0, 5000.0);
  double obj[8 * SD_DET_NCOLS];
  int32_t n = 0;
  CHECK_OK(sd_detect(img, NULL, NULL, nx, ny, 1.0f, 0xFFFF, 4, 0.0f, NULL, 0, 0, 2.0f, 5, 32,
                     0.005f, 8, obj, NULL, &n));
  CHECK_EQ(n, 2);
  for (int i = 0; i < n; i++) {
    const double *o = obj + i * SD_DET_NCOLS;
    CHECK((int)o[SD_DET_FLAGS] & SD_OBJ_BLENDED);
    CHECK_EQ((int)o[SD_DET_PARENT], 0);
    const int bright = o[SD_DET_FLUX] > 7000;
    CHECK_CLOSE(o[SD_DET_X], bright ? 35.0 : 43.0, 0.12);
    CHECK_CLOSE(o[SD_DET_Y], bright ? 30.0 : 31.0, 0.12);
  }
  CHECK_CLOSE(obj[SD_DET_FLUX] + obj[SD_DET_NCOLS + SD_DET_FLUX], 15000.0, 150.0);
  /* contrast 1 disables deblending */
  CHECK_OK(sd_detect(img, NULL, NULL, nx, ny, 1.0f, 0xFFFF, 4, 0.0f, NULL, 0, 0, 2.0f, 5, 32, 1.0f,
                     8, obj, NULL, &n));
  CHECK_EQ(n, 1);
  CHECK_EQ((int)obj[SD_DET_FLAGS] & SD_OBJ_BLENDED, 0);
  /* a faint companion below the contrast is not split off */
  memset(img, 0, sizeof(float) * nx * ny);
  add_gauss(img, nx, ny, 35.0, 30.0, 2.0, 2.0, 0, 10000.0);
  add_gauss(img, nx, ny, 43.0, 31.0, 2.0, 2.0, 0, 20.0);
  CHECK_OK(sd_detect(img, NULL, NULL, nx, ny, 1.0f, 0xFFFF, 4, 0.0f, NULL, 0, 0, 0.02f, 5, 32,
                     0.005f, 8, obj, NULL, &n));
  CHECK_EQ(n, 1);
  free(img);
}

static void test_detect_moments_and_flags(void) {
  const int nx = 120, ny = 100;
  float *img = calloc(nx * ny, sizeof(float));
  uint16_t *mask = calloc(nx * ny, sizeof(uint16_t));
  const double th = 0.5;
  add_gauss(img, nx, ny, 60.3, 50.6, 4.0, 2.0, th, 1e6);
  add_gauss(img, nx, ny, 1.0, 80.0, 1.5, 1.5, 0, 5000.0); /* at the left edge */
  add_gauss(img, nx, ny, 100.0, 15.0, 1.5, 1.5, 0, 5000.0);
  mask[16 * nx + 101] = 1;                                   /* masked pixel in it */
  add_gauss(img, nx, ny, 20.0, 20.0, 1.5, 1.5, 0, 5000.0);
  mask[20 * nx + 20] = 4;                                    /* saturated flag bit */
  double obj[8 * SD_DET_NCOLS];
  int32_t n = 0;
  CHECK_OK(sd_detect(img, NULL, mask, nx, ny, 1.0f, 1, 4, 0.0f, NULL, 0, 0, 0.01f, 3, 32, 0.005f, 8,
                     obj, NULL, &n));
  CHECK_EQ(n, 4);
  int seen = 0;
  for (int i = 0; i < n; i++) {
    const double *o = obj + i * SD_DET_NCOLS;
    const int f = (int)o[SD_DET_FLAGS];
    if (fabs(o[SD_DET_X] - 60.3) < 0.05 && fabs(o[SD_DET_Y] - 50.6) < 0.05) {
      seen |= 1;
      /* the isophote at 1e-8 of the peak holds nearly all the light */
      CHECK_CLOSE(o[SD_DET_A], 4.0, 0.1);
      CHECK_CLOSE(o[SD_DET_B], 2.0, 0.1);
      CHECK_CLOSE(o[SD_DET_THETA], th, 0.01);
      double c = cos(th), s = sin(th);
      CHECK_CLOSE(o[SD_DET_X2], 16 * c * c + 4 * s * s, 0.3);
      CHECK_CLOSE(o[SD_DET_XY], 12 * c * s, 0.3);
      CHECK_EQ(f, 0);
    } else if (o[SD_DET_X] < 5) {
      seen |= 2;
      CHECK(f & SD_OBJ_TRUNCATED);
    } else if (o[SD_DET_X] > 90) {
      seen |= 4;
      CHECK(f & SD_OBJ_MASKED);
      CHECK(!(f & SD_OBJ_SATURATED));
    } else {
      seen |= 8;
      CHECK(f & SD_OBJ_SATURATED);
      CHECK(!(f & SD_OBJ_MASKED));
    }
  }
  CHECK_EQ(seen, 15);
  /* saturation by value */
  CHECK_OK(sd_detect(img, NULL, NULL, nx, ny, 1.0f, 1, 4, 100.0f, NULL, 0, 0, 0.01f, 3, 32, 0.005f,
                     8, obj, NULL, &n));
  for (int i = 0; i < n; i++) CHECK((int)obj[i * SD_DET_NCOLS + SD_DET_FLAGS] & SD_OBJ_SATURATED);
  free(mask);
  free(img);
}

static void test_detect_noise_map_and_min_area(void) {
  const int nx = 50, ny = 40;
  float *img = calloc(nx * ny, sizeof(float)), *noise = malloc(sizeof(float) * nx * ny);
  for (int i = 0; i < nx * ny; i++) noise[i] = (i % nx) < 25 ? 1.0f : 10.0f;
  img[10 * nx + 10] = 50.0f;                                 /* single pixel: below min_area */
  for (int y = 20; y < 23; y++)
    for (int x = 5; x < 8; x++) img[y * nx + x] = 5.0f;     /* 9 px at 5 sigma (left) */
  for (int y = 20; y < 23; y++)
    for (int x = 35; x < 38; x++) img[y * nx + x] = 5.0f;   /* 9 px at 0.5 sigma (right) */
  double obj[4 * SD_DET_NCOLS];
  int32_t n = 0;
  CHECK_OK(sd_detect(img, noise, NULL, nx, ny, 0.0f, 0xFFFF, 4, 0.0f, NULL, 0, 0, 3.0f, 5, 32,
                     0.005f, 4, obj, NULL, &n));
  CHECK_EQ(n, 1);
  CHECK_CLOSE(obj[SD_DET_X], 6.0, 1e-9);
  CHECK_CLOSE(obj[SD_DET_Y], 21.0, 1e-9);
  CHECK_EQ((int)obj[SD_DET_NPIX], 9);
  CHECK_CLOSE(obj[SD_DET_THRESH], 3.0, 1e-6);
  CHECK_OK(sd_detect(img, noise, NULL, nx, ny, 0.0f, 0xFFFF, 4, 0.0f, NULL, 0, 0, 3.0f, 1, 32,
                     0.005f, 4, obj, NULL, &n));
  CHECK_EQ(n, 2);
  CHECK_EQ(sd_detect(img, NULL, NULL, nx, ny, 0.0f, 0xFFFF, 4, 0.0f, NULL, 0, 0, 3.0f, 1, 32,
                     0.005f, 4, obj, NULL, &n),
           SD_ERR_ARG);
  /* images of more than 2^31 pixels are refused before anything is allocated */
  CHECK_EQ(sd_detect(img, noise, NULL, 50000, 50000, 1.0f, 0xFFFF, 4, 0.0f, NULL, 0, 0, 3.0f, 1,
                     32, 0.005f, 4, obj, NULL, &n),
           SD_ERR_ARG);
  float mb[4], mr[4];
  double g[SD_BKG_N];
  CHECK_EQ(sd_background_mesh(img, NULL, 50000, 50000, 0xFFFF, 64, 64, 3, 3, 0.0f, mb, mr, g),
           SD_ERR_ARG);
  free(img);
  free(noise);
}

int main(void) {
  RUN(test_convolve_matches_brute_force);
  RUN(test_detect_finds_injected_sources);
  RUN(test_detect_deblends_pair);
  RUN(test_detect_moments_and_flags);
  RUN(test_detect_noise_map_and_min_area);
  return TEST_SUMMARY();
}
