/* alard_lupton_test.c — sd_al_fit / sd_al_kernel / sd_al_convolve: a known Gaussian kernel and
 * background between two synthetic images, residual noise against the inputs. */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

#define NX 300
#define NY 260

static void add_gauss(float *img, double x0, double y0, double sig, double f) {
  const int32_t r = (int32_t)ceil(6 * sig);
  for (int32_t y = (int32_t)y0 - r; y <= (int32_t)y0 + r; y++)
    for (int32_t x = (int32_t)x0 - r; x <= (int32_t)x0 + r; x++) {
      if (x < 0 || y < 0 || x >= NX || y >= NY) continue;
      double dx = x - x0, dy = y - y0;
      img[y * NX + x] += (float)(f * exp(-(dx * dx + dy * dy) / (2 * sig * sig)) / (2 * M_PI * sig * sig));
    }
}

static void test_al_recovers_kernel(void) {
  sd_test_rng r = {21};
  const size_t np = (size_t)NX * NY;
  float *ref = calloc(np, 4), *newi = calloc(np, 4), *var = malloc(np * 4), *conv = malloc(np * 4);
  float *vconv = malloc(np * 4), *vref = malloc(np * 4);
  const int32_t nst = 120;
  double xs[120], ys[120];
  for (int32_t i = 0; i < nst; i++) {
    xs[i] = 20 + sd_test_uniform(&r) * (NX - 40), ys[i] = 20 + sd_test_uniform(&r) * (NY - 40);
    add_gauss(ref, xs[i], ys[i], 1.5, 5000.0 * pow(20.0, sd_test_uniform(&r)));
  }
  /* the true kernel: a Gaussian of sigma 1.3 shifted by (0.3, -0.2), times 0.8 (flux ratio) */
  const int32_t hw = 7, kw = 2 * hw + 1;
  float kt[15 * 15];
  double ks = 0;
  for (int32_t v = -hw; v <= hw; v++)
    for (int32_t u = -hw; u <= hw; u++) {
      double dx = u - 0.3, dy = v + 0.2;
      ks += kt[(v + hw) * kw + u + hw] = (float)exp(-(dx * dx + dy * dy) / (2 * 1.3 * 1.3));
    }
  for (int32_t i = 0; i < kw * kw; i++) kt[i] = (float)(0.8 * kt[i] / ks);
  CHECK_OK(sd_convolve(ref, NX, NY, kt, kw, kw, 0, 2, newi));
  const double sn = 4.0, sr = 1.0;
  for (size_t i = 0; i < np; i++) {
    const int32_t x = (int32_t)(i % NX), y = (int32_t)(i / NX);
    newi[i] += (float)(12.0 + 0.01 * x - 0.005 * y + sn * sd_test_normal(&r));
    ref[i] += (float)(sr * sd_test_normal(&r));
    var[i] = (float)(sn * sn), vref[i] = (float)(sr * sr);
  }
  /* a bad stamp: a cosmic ray in the new image on one star */
  newi[(int32_t)ys[5] * NX + (int32_t)xs[5]] += 30000.0f;
  sd_al_opts o = {0};
  o.sigma = 1.3, o.half_width = hw, o.spatial_order = 1, o.bg_order = 1;
  int32_t nc = 0;
  CHECK_OK(sd_al_coeff_count(&o, &nc));
  CHECK_EQ(nc, (28 + 15 + 6) * 3 + 3);
  double *coef = malloc(sizeof(double) * nc), info[SD_AL_NINFO];
  CHECK_OK(sd_al_fit(newi, ref, var, NX, NY, xs, ys, nst, &o, coef, nc, info));
  fprintf(stderr, "  stamps %g used %g chi2/pix %.3f ksum %.4f\n", info[SD_AL_NSTAMP],
          info[SD_AL_NUSED], info[SD_AL_CHI2], info[SD_AL_KSUM]);
  CHECK(info[SD_AL_NUSED] < info[SD_AL_NSTAMP]); /* the cosmic-ray stamp is clipped */
  CHECK(info[SD_AL_NUSED] > 0.8 * info[SD_AL_NSTAMP]);
  CHECK_CLOSE(info[SD_AL_KSUM], 0.8, 0.008);
  CHECK_CLOSE(info[SD_AL_CHI2], 1.0, 0.1);
  float k[15 * 15];
  CHECK_OK(sd_al_kernel(&o, coef, nc, NX, NY, 100, 200, k));
  /* moments of the kernel: sum 0.8, centroid (0.3, -0.2), sigma 1.3 (the high frequencies
   * of K are not constrained by band-limited stars, so compare moments, and K (x) PSF) */
  double m0 = 0, mx = 0, my = 0, mr = 0;
  for (int32_t v = -hw; v <= hw; v++)
    for (int32_t u = -hw; u <= hw; u++) {
      double kv = k[(v + hw) * kw + u + hw];
      m0 += kv, mx += kv * u, my += kv * v;
    }
  mx /= m0, my /= m0;
  for (int32_t v = -hw; v <= hw; v++)
    for (int32_t u = -hw; u <= hw; u++)
      mr += k[(v + hw) * kw + u + hw] * ((u - mx) * (u - mx) + (v - my) * (v - my));
  const double ksig = sqrt(mr / m0 / 2);
  fprintf(stderr, "  kernel at (100, 200): sum %.4f centroid (%.3f, %.3f) sigma %.3f\n", m0, mx, my, ksig);
  CHECK_CLOSE(m0, 0.8, 0.008);
  CHECK_CLOSE(mx, 0.3, 0.03);
  CHECK_CLOSE(my, -0.2, 0.03);
  CHECK_CLOSE(ksig, 1.3, 0.05);
  /* K (x) P_ref against K_true (x) P_ref: the part of K the data constrain */
  float *psf = calloc(41 * 41, 4), *a = malloc(41 * 41 * 4), *b = malloc(41 * 41 * 4);
  for (int32_t v = -20; v <= 20; v++)
    for (int32_t u = -20; u <= 20; u++)
      psf[(v + 20) * 41 + u + 20] = (float)(exp(-(u * u + v * v) / (2 * 1.5 * 1.5)) / (2 * M_PI * 1.5 * 1.5));
  CHECK_OK(sd_convolve(psf, 41, 41, k, kw, kw, 0, 1, a));
  CHECK_OK(sd_convolve(psf, 41, 41, kt, kw, kw, 0, 1, b));
  double l1 = 0.0;
  for (int32_t i = 0; i < 41 * 41; i++) l1 += fabs(a[i] - b[i]);
  fprintf(stderr, "  sum |K (x) P - K_true (x) P| = %.4f (of 0.8)\n", l1);
  CHECK(l1 < 0.02);
  free(psf), free(a), free(b);
  CHECK_OK(sd_al_convolve(ref, vref, NX, NY, &o, coef, nc, conv, vconv));
  /* residual noise away from the edges and the cosmic ray vs sqrt(var_new + K^2 (x) var_ref) */
  double s2 = 0, s = 0, e2 = 0, bias = 0;
  int32_t n = 0;
  for (int32_t y = 15; y < NY - 15; y++)
    for (int32_t x = 15; x < NX - 15; x++) {
      if (abs(x - (int32_t)xs[5]) < 10 && abs(y - (int32_t)ys[5]) < 10) continue;
      const size_t i = (size_t)y * NX + x;
      const double d = newi[i] - conv[i];
      s += d, s2 += d * d, e2 += var[i] + vconv[i], n++;
    }
  bias = s / n;
  const double ratio = sqrt(s2 / n - bias * bias) / sqrt(e2 / n);
  fprintf(stderr, "  residual std / predicted %.4f, mean %.4f\n", ratio, bias);
  CHECK_CLOSE(ratio, 1.0, 0.05);
  CHECK_CLOSE(bias, 0.0, 0.05);
  free(ref), free(newi), free(var), free(conv), free(vconv), free(vref), free(coef);
}

static void test_al_args(void) {
  sd_al_opts o = {0};
  o.deg0 = -1, o.deg1 = -1, o.deg2 = -1;
  int32_t n;
  CHECK_EQ(sd_al_coeff_count(&o, &n), SD_ERR_ARG);
  CHECK_OK(sd_al_coeff_count(NULL, &n));
  CHECK_EQ(n, 49 * 3 + 3);
  float img[100] = {0};
  double c[150], info[4], x = 5, y = 5;
  CHECK_EQ(sd_al_fit(img, img, NULL, 10, 10, &x, &y, 1, NULL, c, 150, info), SD_ERR_EMPTY);
}

int main(void) {
  RUN(test_al_recovers_kernel);
  RUN(test_al_args);
  return TEST_SUMMARY();
}
