/* zogy_test.c — sd_zogy on synthetic images (transient S/N and flux, pure-noise S_corr,
 * PSF-width mismatch) and sd_subtract_naive. */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

#define N 256
#define PS 25

/* Adds a pixel-integrated circular Gaussian (5 x 5 subsamples) of total flux f at (x0, y0). */
static void add_gauss(float *img, int32_t nx, int32_t ny, double x0, double y0, double sig,
                      double f) {
  const int32_t r = (int32_t)ceil(6 * sig);
  for (int32_t y = (int32_t)y0 - r; y <= (int32_t)y0 + r; y++)
    for (int32_t x = (int32_t)x0 - r; x <= (int32_t)x0 + r; x++) {
      if (x < 0 || y < 0 || x >= nx || y >= ny) continue;
      double s = 0.0;
      for (int j = 0; j < 5; j++)
        for (int i = 0; i < 5; i++) {
          double dx = x - 0.4 + 0.2 * i - x0, dy = y - 0.4 + 0.2 * j - y0;
          s += exp(-(dx * dx + dy * dy) / (2 * sig * sig));
        }
      img[y * nx + x] += (float)(f * s / 25.0 / (2 * M_PI * sig * sig));
    }
}

static void stamps(float *p, int32_t ntiles, double sig) {
  for (int32_t t = 0; t < ntiles; t++) {
    memset(p + t * PS * PS, 0, sizeof(float) * PS * PS);
    add_gauss(p + t * PS * PS, PS, PS, PS / 2, PS / 2, sig, 1.0);
  }
}

typedef struct {
  float *n, *r, *vn, *vr, *d, *s, *sc, *fl, *fe, *pn, *pr, *pd;
  double table[64 * SD_ZOGY_NCOL];
} bufs;

static void alloc_bufs(bufs *b) {
  const size_t np = (size_t)N * N;
  b->n = calloc(np, 4), b->r = calloc(np, 4), b->vn = calloc(np, 4), b->vr = calloc(np, 4);
  b->d = calloc(np, 4), b->s = calloc(np, 4), b->sc = calloc(np, 4), b->fl = calloc(np, 4);
  b->fe = calloc(np, 4);
  b->pn = calloc(64 * PS * PS, 4), b->pr = calloc(64 * PS * PS, 4), b->pd = calloc(64 * PS * PS, 4);
}

static void free_bufs(bufs *b) {
  free(b->n), free(b->r), free(b->vn), free(b->vr), free(b->d), free(b->s), free(b->sc);
  free(b->fl), free(b->fe), free(b->pn), free(b->pr), free(b->pd);
}

/* Gaussian noise from the variance images. */
static void add_noise(float *img, const float *var, sd_test_rng *r) {
  for (size_t i = 0; i < (size_t)N * N; i++) img[i] += (float)(sqrt(var[i]) * sd_test_normal(r));
}

static double rms_interior(const float *x, int32_t border) {
  double s = 0, s2 = 0, n = 0;
  for (int32_t y = border; y < N - border; y++)
    for (int32_t xx = border; xx < N - border; xx++) {
      double v = x[y * N + xx];
      s += v, s2 += v * v, n++;
    }
  return sqrt(s2 / n - (s / n) * (s / n));
}

static void test_zogy_pure_noise(void) {
  bufs b;
  alloc_bufs(&b);
  sd_test_rng r = {11};
  const double sn = 5.0, sr = 3.0;
  for (size_t i = 0; i < (size_t)N * N; i++) b.vn[i] = (float)(sn * sn), b.vr[i] = (float)(sr * sr);
  add_noise(b.n, b.vn, &r);
  add_noise(b.r, b.vr, &r);
  sd_zogy_opts o = {128, 32, 1, 1, 0, 0};
  int32_t ntx, nty;
  CHECK_OK(sd_zogy_tiles(N, N, &o, &ntx, &nty));
  CHECK_EQ(ntx * nty, 4);
  stamps(b.pn, 4, 2.0);
  stamps(b.pr, 4, 1.5);
  CHECK_OK(sd_zogy(b.n, b.r, b.vn, b.vr, N, N, NULL, NULL, b.pn, b.pr, PS, &o, b.d, b.s, b.sc,
                   b.fl, b.fe, b.pd, b.table));
  const double rd = rms_interior(b.d, 8), rs = rms_interior(b.sc, 8);
  fprintf(stderr, "  pure noise: std D %.4f, std S_corr %.4f\n", rd, rs);
  CHECK_CLOSE(rd, 1.0, 0.05);
  CHECK_CLOSE(rs, 1.0, 0.05);
  CHECK_CLOSE(b.table[SD_ZOGY_SIGMA_N], sn, 1e-4);
  CHECK_CLOSE(b.table[SD_ZOGY_SIGMA_R], sr, 1e-4);
  /* P_D has unit sum and is wider than either PSF */
  double sum = 0.0;
  for (int i = 0; i < PS * PS; i++) sum += b.pd[i];
  CHECK_CLOSE(sum, 1.0, 1e-4);
  CHECK(b.pd[(PS / 2) * PS + PS / 2] < b.pr[(PS / 2) * PS + PS / 2]);
  /* the same with scalar sigmas per tile: identical within float rounding */
  float sig_n[4] = {5, 5, 5, 5}, sig_r[4] = {3, 3, 3, 3};
  float *sc2 = malloc(sizeof(float) * N * N);
  CHECK_OK(sd_zogy(b.n, b.r, NULL, NULL, N, N, sig_n, sig_r, b.pn, b.pr, PS, &o, NULL, NULL, sc2,
                   NULL, NULL, NULL, NULL));
  double maxd = 0.0;
  for (int32_t y = 8; y < N - 8; y++)
    for (int32_t x = 8; x < N - 8; x++) maxd = fmax(maxd, fabs(sc2[y * N + x] - b.sc[y * N + x]));
  CHECK(maxd < 1e-3);
  free(sc2);
  free_bufs(&b);
}

/* A transient in N only: S_corr at its position equals the PSF-fit S/N (noise-free-like
 * reference), flux image recovers the flux. */
static void test_zogy_transient(void) {
  bufs b;
  alloc_bufs(&b);
  sd_test_rng r = {12};
  const double sn = 5.0, sr = 0.5, sig_n = 2.0, sig_r = 1.4;
  for (size_t i = 0; i < (size_t)N * N; i++) b.vn[i] = (float)(sn * sn), b.vr[i] = (float)(sr * sr);
  add_noise(b.n, b.vn, &r);
  add_noise(b.r, b.vr, &r);
  /* expected S/N of PSF photometry of flux f on N: f sqrt(sum P^2) / sigma */
  float *p = calloc(PS * PS, sizeof(float));
  add_gauss(p, PS, PS, PS / 2, PS / 2, sig_n, 1.0);
  double sp2 = 0.0;
  for (int i = 0; i < PS * PS; i++) sp2 += (double)p[i] * p[i];
  free(p);
  const double f1 = 50.0 * sn / sqrt(sp2), f2 = 100.0 * sn / sqrt(sp2);
  const int32_t x1 = 70, y1 = 190, x2 = 180, y2 = 60; /* tile (0, 1), tile (1, 0) */
  add_gauss(b.n, N, N, x1, y1, sig_n, f1);
  add_gauss(b.n, N, N, x2, y2, sig_n, f2);
  sd_zogy_opts o = {128, 32, 1, 1, 0, 0};
  stamps(b.pn, 4, sig_n);
  stamps(b.pr, 4, sig_r);
  CHECK_OK(sd_zogy(b.n, b.r, b.vn, b.vr, N, N, NULL, NULL, b.pn, b.pr, PS, &o, b.d, b.s, b.sc,
                   b.fl, b.fe, NULL, b.table));
  const float snr1 = b.sc[y1 * N + x1], snr2 = b.sc[y2 * N + x2];
  fprintf(stderr, "  transient S/N 50 -> S_corr %.2f; S/N 100 -> %.2f; flux %.1f / %.1f (err %.1f)\n",
          snr1, snr2, b.fl[y2 * N + x2], f2, b.fe[y2 * N + x2]);
  CHECK_CLOSE(snr1, 50.0, 5.0);
  CHECK_CLOSE(snr2, 100.0, 10.0);
  CHECK_CLOSE(b.fl[y2 * N + x2] / f2, 1.0, 0.03);
  CHECK_CLOSE(b.fl[y1 * N + x1] / f1, 1.0, 0.04);
  /* the peak of S_corr is at the transient */
  int32_t best = 0;
  for (int32_t i = 1; i < N * N; i++)
    if (b.sc[i] > b.sc[best]) best = i;
  CHECK_EQ(best, y2 * N + x2);
  free_bufs(&b);
}

/* Constant stars with a 30% PSF-width mismatch leave S_corr at noise level. */
static void test_zogy_psf_mismatch(void) {
  bufs b;
  alloc_bufs(&b);
  sd_test_rng r = {13};
  const double sn = 5.0, sr = 2.0, sig_n = 2.0, sig_r = 2.0 / 1.3;
  float *mn = calloc(N * N, 4), *mr = calloc(N * N, 4);
  double sx[40], sy[40];
  for (int k = 0; k < 40; k++) {
    sx[k] = 12 + sd_test_uniform(&r) * (N - 24), sy[k] = 12 + sd_test_uniform(&r) * (N - 24);
    double f = 2000.0 * pow(50.0, sd_test_uniform(&r));
    add_gauss(mn, N, N, sx[k], sy[k], sig_n, f);
    add_gauss(mr, N, N, sx[k], sy[k], sig_r, f);
  }
  for (size_t i = 0; i < (size_t)N * N; i++) {
    b.vn[i] = (float)(sn * sn + mn[i]), b.vr[i] = (float)(sr * sr + mr[i] / 8.0);
    b.n[i] = mn[i], b.r[i] = mr[i];
  }
  add_noise(b.n, b.vn, &r);
  add_noise(b.r, b.vr, &r);
  sd_zogy_opts o = {128, 32, 1, 1, 0, 0};
  stamps(b.pn, 4, sig_n);
  stamps(b.pr, 4, sig_r);
  CHECK_OK(sd_zogy(b.n, b.r, b.vn, b.vr, N, N, NULL, NULL, b.pn, b.pr, PS, &o, NULL, b.s, b.sc,
                   NULL, NULL, NULL, NULL));
  double s2 = 0.0, maxabs = 0.0, s2raw = 0.0;
  int32_t n = 0;
  for (int k = 0; k < 40; k++) {
    int32_t x = (int32_t)floor(sx[k] + 0.5), y = (int32_t)floor(sy[k] + 0.5);
    for (int32_t dy = -2; dy <= 2; dy++)
      for (int32_t dx = -2; dx <= 2; dx++) {
        double v = b.sc[(y + dy) * N + x + dx];
        s2 += v * v, n++, maxabs = fmax(maxabs, fabs(v));
      }
    s2raw += (double)mn[y * N + x] * mn[y * N + x];
  }
  fprintf(stderr, "  PSF mismatch: S_corr rms at stars %.3f, max |S_corr| %.2f\n", sqrt(s2 / n), maxabs);
  CHECK(sqrt(s2 / n) < 1.3);
  CHECK(maxabs < 5.0);
  /* the same stars in a naive difference are far above the noise */
  float *diff = malloc(sizeof(float) * N * N);
  CHECK_OK(sd_subtract_naive(b.n, NULL, b.r, NULL, N, N, 1.0f, diff, NULL));
  double worst = 0.0;
  for (int k = 0; k < 40; k++) {
    int32_t x = (int32_t)floor(sx[k] + 0.5), y = (int32_t)floor(sy[k] + 0.5);
    worst = fmax(worst, fabs(diff[y * N + x]) / sqrt(b.vn[y * N + x] + b.vr[y * N + x]));
  }
  CHECK(worst > 10.0);
  free(diff), free(mn), free(mr);
  free_bufs(&b);
}

/* A 0.2 px misregistration of bright stars: large S_corr residuals without the astrometric
 * variance term, noise-level ones with astrom_x = astrom_y = 0.2. */
static void test_zogy_astrometric_term(void) {
  bufs b;
  alloc_bufs(&b);
  sd_test_rng r = {14};
  const double sn = 5.0, sr = 2.0;
  float *mn = calloc(N * N, 4), *mr = calloc(N * N, 4);
  double sx[30], sy[30];
  for (int k = 0; k < 30; k++) {
    sx[k] = 15 + sd_test_uniform(&r) * (N - 30), sy[k] = 15 + sd_test_uniform(&r) * (N - 30);
    add_gauss(mn, N, N, sx[k], sy[k], 2.0, 3e4);
    add_gauss(mr, N, N, sx[k] + 0.2, sy[k] - 0.2, 1.6, 3e4);
  }
  for (size_t i = 0; i < (size_t)N * N; i++) {
    b.vn[i] = (float)(sn * sn + mn[i]), b.vr[i] = (float)(sr * sr + mr[i] / 8.0);
    b.n[i] = mn[i], b.r[i] = mr[i];
  }
  add_noise(b.n, b.vn, &r);
  add_noise(b.r, b.vr, &r);
  stamps(b.pn, 4, 2.0);
  stamps(b.pr, 4, 1.6);
  double rms[2];
  for (int with = 0; with < 2; with++) {
    sd_zogy_opts o = {128, 32, 1, 1, with ? 0.2 : 0, with ? 0.2 : 0};
    CHECK_OK(sd_zogy(b.n, b.r, b.vn, b.vr, N, N, NULL, NULL, b.pn, b.pr, PS, &o, NULL, NULL, b.sc,
                     NULL, NULL, NULL, NULL));
    double s2 = 0;
    int32_t n = 0;
    for (int k = 0; k < 30; k++) {
      int32_t x = (int32_t)floor(sx[k] + 0.5), y = (int32_t)floor(sy[k] + 0.5);
      for (int32_t dy = -3; dy <= 3; dy++)
        for (int32_t dx = -3; dx <= 3; dx++) s2 += (double)b.sc[(y + dy) * N + x + dx] * b.sc[(y + dy) * N + x + dx], n++;
    }
    rms[with] = sqrt(s2 / n);
  }
  fprintf(stderr, "  0.2 px misregistration: S_corr rms at stars %.2f without, %.2f with the term\n",
          rms[0], rms[1]);
  CHECK(rms[0] > 3.0);
  CHECK(rms[1] < 1.5);
  free(mn), free(mr);
  free_bufs(&b);
}

static void test_subtract_naive(void) {
  float n[4] = {10, 20, NAN, 4}, r[4] = {2, 4, 1, 1}, wn[4] = {1, 0.5f, 1, 0}, wr[4] = {2, 2, 2, 2};
  float d[4], w[4];
  CHECK_OK(sd_subtract_naive(n, wn, r, wr, 2, 2, 2.0f, d, w));
  CHECK_CLOSE(d[0], 6.0, 0);
  CHECK_CLOSE(d[1], 12.0, 0);
  CHECK_CLOSE(w[0], 1.0 / (1.0 + 4.0 / 2.0), 1e-6);
  CHECK_CLOSE(w[1], 1.0 / (2.0 + 4.0 / 2.0), 1e-6);
  CHECK(w[2] == 0.0f && w[3] == 0.0f);
  CHECK_EQ(sd_subtract_naive(n, wn, r, wr, 0, 2, 1.0f, d, w), SD_ERR_ARG);
}

int main(void) {
  RUN(test_zogy_pure_noise);
  RUN(test_zogy_transient);
  RUN(test_zogy_psf_mismatch);
  RUN(test_zogy_astrometric_term);
  RUN(test_subtract_naive);
  return TEST_SUMMARY();
}
