/* phot_test.c — apertures, measurement, star rendering, PSF model and PSF photometry. */
#include <string.h>

#include "phot_util.h"
#include "sd_core.h"
#include "test_util.h"

static void test_overlap_sums_to_area(void) {
  const double cx = 10.3, cy = 12.6;
  double rs[3] = {0.4, 3.7, 7.25};
  for (int k = 0; k < 3; k++) {
    double r = rs[k], s = 0.0, se = 0.0;
    double a = r * 1.3, b = r * 0.6, th = 0.7;
    for (int j = -20; j <= 40; j++) {
      for (int i = -20; i <= 40; i++) {
        double o = pu_circle_overlap(i - cx, j - cy, r);
        CHECK(o >= 0.0 && o <= 1.0);
        s += o;
        se += pu_ellipse_overlap(i - cx, j - cy, a, b, cos(th), sin(th));
      }
    }
    CHECK_CLOSE(s, PU_PI * r * r, 1e-9);
    CHECK_CLOSE(se, PU_PI * a * b, 1e-9);
  }
  /* a quarter of a circle centred on a pixel corner lies in that pixel */
  CHECK_CLOSE(pu_circle_overlap(0.5, 0.5, 1.0), PU_PI / 4.0, 1e-12);
}

/* The merged-run walk equals the plain per-edge triangle sum on random pixels and circles. */
static void test_overlap_runs_match_per_edge(void) {
  sd_test_rng r = {4242};
  for (int trial = 0; trial < 20000; trial++) {
    double rad = 0.2 + 8.0 * sd_test_uniform(&r);
    double dx = (2.0 * sd_test_uniform(&r) - 1.0) * (rad + 1.0);
    double dy = (2.0 * sd_test_uniform(&r) - 1.0) * (rad + 1.0);
    double px[4] = {dx - 0.5, dx + 0.5, dx + 0.5, dx - 0.5};
    double py[4] = {dy - 0.5, dy - 0.5, dy + 0.5, dy + 0.5};
    double ref = 0.0;
    for (int k = 0; k < 4; k++) {
      ref += pu_tri_area(px[k], py[k], px[(k + 1) % 4], py[(k + 1) % 4], rad * rad);
    }
    CHECK_CLOSE(pu_poly_circle_area(px, py, 4, rad), ref, 1e-12);
  }
}

static void test_sum_circle_constant(void) {
  int nx = 60, ny = 50;
  float *img = malloc(sizeof(float) * nx * ny), *w = malloc(sizeof(float) * nx * ny);
  uint16_t *fl = calloc((size_t)nx * ny, 2);
  for (int k = 0; k < nx * ny; k++) {
    img[k] = 2.0f;
    w[k] = 4.0f;
  }
  double x[3] = {30.2, 20.7, 1.0}, y[3] = {25.4, 20.1, 25.0}, r[2] = {3.0, 5.5};
  double flux[6], err[6], bkg[3];
  int32_t ofl[3];
  fl[20 * nx + 21] = 1; /* masked pixel inside source 1 */
  CHECK_OK(sd_sum_circle(img, w, fl, nx, ny, x, y, 3, r, 2, NULL, flux, err, bkg, ofl));
  CHECK_CLOSE(flux[0], 2.0 * PU_PI * 9.0, 1e-4);
  CHECK_CLOSE(flux[1], 2.0 * PU_PI * 5.5 * 5.5, 1e-3);
  CHECK_CLOSE(err[0], sqrt(PU_PI * 9.0 / 4.0), 1e-5);
  CHECK_EQ(ofl[0], 0);
  CHECK_EQ(ofl[1], SD_PHOT_MASKED);
  CHECK_CLOSE(flux[2], 2.0 * PU_PI * 9.0, 1e-3); /* area-corrected */
  CHECK(ofl[2] & SD_PHOT_TRUNCATED);
  /* local annulus background on a constant sky plus a star */
  for (int k = 0; k < nx * ny; k++) img[k] = 5.0f;
  img[25 * nx + 30] += 100.0f;
  sd_aper_opts o = {2.0, 8.0, 12.0, 0.0};
  CHECK_OK(sd_sum_circle(img, w, NULL, nx, ny, x, y, 1, r, 1, &o, flux, err, bkg, ofl));
  CHECK_CLOSE(bkg[0], 5.0, 1e-6);
  CHECK_CLOSE(flux[0], 100.0, 1e-3);
  /* error: pixel variance + Poisson (flux / gain); background term is 0 on a flat sky */
  CHECK_CLOSE(err[0], sqrt(PU_PI * 9.0 / 4.0 + 100.0 / 2.0), 1e-4);
  /* ellipse with a = b = r equals the circle */
  double a = 2.0, b = 2.0, th = 0.3, fe, ee;
  CHECK_OK(sd_sum_ellipse(img, w, NULL, nx, ny, x, y, &a, &b, &th, 1, 1.5, &o, &fe, &ee, bkg, ofl));
  CHECK_CLOSE(fe, flux[0], 1e-3);
  free(img);
  free(w);
  free(fl);
}

/* Flat image: an ellipse's sum is value x pi a b r^2 for any angle (inner spans + exact edges). */
static void test_sum_ellipse_flat(void) {
  int nx = 80, ny = 80;
  float *img = malloc(sizeof(float) * nx * ny), *w = malloc(sizeof(float) * nx * ny);
  for (int k = 0; k < nx * ny; k++) {
    img[k] = 1.5f;
    w[k] = 2.0f;
  }
  sd_test_rng r = {31};
  for (int t = 0; t < 200; t++) {
    double x = 30 + 20 * sd_test_uniform(&r), y = 30 + 20 * sd_test_uniform(&r);
    double a = 0.5 + 6 * sd_test_uniform(&r), b = a * (0.2 + 0.8 * sd_test_uniform(&r));
    double th = (sd_test_uniform(&r) - 0.5) * 2 * PU_PI, rr = 0.5 + 2 * sd_test_uniform(&r);
    double f, e;
    int32_t fl;
    CHECK_OK(sd_sum_ellipse(img, w, NULL, nx, ny, &x, &y, &a, &b, &th, 1, rr, NULL, &f, &e, NULL,
                            &fl));
    double area = PU_PI * a * b * rr * rr;
    CHECK_CLOSE(f, 1.5 * area, 1e-6 * area);
    CHECK_CLOSE(e, sqrt(area / 2.0), 1e-6 * sqrt(area));
    CHECK_EQ(fl, 0);
  }
  free(img);
  free(w);
}

static void test_render_flux_and_centroid(void) {
  int nx = 64, ny = 64;
  float *img = calloc((size_t)nx * ny, sizeof(float));
  double x = 30.3, y = 33.8, f = 1000.0;
  sd_render_opts o = {0, 2.5, 3.0, 0.7, 0.4, 20.0, 5, 0};
  CHECK_OK(sd_render_stars(img, nx, ny, &x, &y, &f, 1, &o, NULL, 0));
  double s = 0.0, sx = 0.0, sy = 0.0;
  for (int j = 0; j < ny; j++) {
    for (int i = 0; i < nx; i++) {
      double v = img[j * nx + i];
      s += v;
      sx += v * i;
      sy += v * j;
    }
  }
  CHECK_CLOSE(s, f, 1e-3);
  CHECK_CLOSE(sx / s, x, 2e-3);
  CHECK_CLOSE(sy / s, y, 2e-3);
  /* Gaussian: pixel-integrated peak at an exact pixel centre ~ analytic */
  memset(img, 0, sizeof(float) * nx * ny);
  sd_render_opts g = {1, 0, 4.0, 1.0, 0, 30.0, 11, 0};
  x = 32.0;
  y = 32.0;
  CHECK_OK(sd_render_stars(img, nx, ny, &x, &y, &f, 1, &g, NULL, 0));
  double sig = 4.0 / 2.354820045, e = erf(0.5 / (sqrt(2.0) * sig));
  CHECK_CLOSE(img[32 * nx + 32], f * e * e, 1e-3 * f * e * e);
  free(img);
}

static void test_measure_gaussian(void) {
  int nx = 100, ny = 90;
  float *img = calloc((size_t)nx * ny, sizeof(float));
  int32_t *seg = calloc((size_t)nx * ny, sizeof(int32_t));
  double x = 50.3, y = 40.7, f = 5000.0;
  sd_render_opts g = {1, 0, 5.0, 0.6, 0.5, 40.0, 7, 0};
  CHECK_OK(sd_render_stars(img, nx, ny, &x, &y, &f, 1, &g, NULL, 0));
  for (int j = 0; j < ny; j++) {
    for (int i = 0; i < nx; i++) {
      if ((i - 50) * (i - 50) + (j - 41) * (j - 41) <= 36) seg[j * nx + i] = 1;
    }
  }
  double out[SD_MEAS_NCOL];
  double x0 = 51.0, y0 = 40.0;
  CHECK_OK(sd_measure(img, NULL, NULL, seg, nx, ny, &x0, &y0, NULL, 1, NULL, out));
  CHECK_CLOSE(out[SD_MEAS_X], x, 1e-3);
  CHECK_CLOSE(out[SD_MEAS_Y], y, 1e-3);
  double sa = 5.0 / 2.354820045, sb = 0.6 * sa;
  /* pixel integration adds 1/12 px^2 to each variance */
  CHECK_CLOSE(out[SD_MEAS_A], sqrt(sa * sa + 1.0 / 12.0), 0.01);
  CHECK_CLOSE(out[SD_MEAS_B], sqrt(sb * sb + 1.0 / 12.0), 0.01);
  CHECK_CLOSE(out[SD_MEAS_THETA], 0.5, 0.01);
  CHECK_CLOSE(out[SD_MEAS_FLUX_KRON] / f, 1.0, 0.01);
  CHECK_CLOSE(out[SD_MEAS_X_MOM], x, 0.05);
  double iso = 0.0;
  for (int k = 0; k < nx * ny; k++) iso += seg[k] == 1 ? img[k] : 0.0;
  CHECK_CLOSE(out[SD_MEAS_FLUX_ISO], iso, 1e-3);
  CHECK_EQ((int)out[SD_MEAS_FLAGS], 0);
  CHECK(out[SD_MEAS_PEAK] > 0.0);
  /* without a segment map: isophotal flux is NaN, the windowed centroid the same */
  CHECK_OK(sd_measure(img, NULL, NULL, NULL, nx, ny, &x0, &y0, NULL, 1, NULL, out));
  CHECK(isnan(out[SD_MEAS_FLUX_ISO]));
  CHECK_CLOSE(out[SD_MEAS_X], x, 1e-3);
  free(img);
  free(seg);
}

/* Simulated field: Moffat stars whose FWHM varies linearly across the image. */
static void make_field(float *img, int nx, int ny, int nstar, double *xs, double *ys, double *fs,
                       sd_test_rng *r) {
  for (int s = 0; s < nstar; s++) {
    xs[s] = 20.0 + sd_test_uniform(r) * (nx - 40);
    ys[s] = 20.0 + sd_test_uniform(r) * (ny - 40);
    fs[s] = 1e4 * (1.0 + 4.0 * sd_test_uniform(r));
  }
  sd_render_opts o = {0, 3.0, 0, 1.0, 0, 15.0, 5, 0};
  double poly[3] = {3.5, 0.4, 0.3}; /* 3.5 + 0.4 u + 0.3 v */
  sd_render_stars(img, nx, ny, xs, ys, fs, nstar, &o, poly, 1);
}

static void test_psf_model_and_phot(void) {
  int nx = 400, ny = 400, nstar = 120;
  sd_test_rng r = {777};
  float *img = calloc((size_t)nx * ny, sizeof(float));
  double xs[120], ys[120], fs[120];
  make_field(img, nx, ny, nstar, xs, ys, fs, &r);
  /* isolated stars only for the model */
  uint8_t iso[120];
  for (int a = 0; a < nstar; a++) {
    iso[a] = 1;
    for (int b = 0; b < nstar; b++) {
      if (a != b && hypot(xs[a] - xs[b], ys[a] - ys[b]) < 20.0) iso[a] = 0;
    }
  }
  double px[120], py[120];
  int np = 0;
  for (int a = 0; a < nstar; a++) {
    if (iso[a]) {
      px[np] = xs[a];
      py[np] = ys[a];
      np++;
    }
  }
  CHECK(np >= 30);
  sd_psf_fit_opts fo = {25, 1, 2, 3.5, 4, 3};
  int32_t len;
  CHECK_OK(sd_psf_model_length(25, 2, &len));
  float *model = calloc((size_t)len, sizeof(float));
  uint8_t used[120];
  CHECK_OK(sd_psf_fit(img, NULL, NULL, nx, ny, px, py, np, &fo, model, len, used));
  CHECK_EQ((int)model[0], SD_PSF_VERSION);
  double fw;
  CHECK_OK(sd_psf_fwhm(model, len, 0.5 * (nx - 1), 0.5 * (ny - 1), &fw));
  CHECK_CLOSE(fw, 3.5, 0.15);
  CHECK_OK(sd_psf_fwhm(model, len, nx - 1, 0.5 * (ny - 1), &fw));
  CHECK_CLOSE(fw, 3.9, 0.15);
  /* model vs truth at a new position */
  float truth[25 * 25], stamp[25 * 25];
  memset(truth, 0, sizeof truth);
  double tx = 12.37, ty = 11.81, tf = 1.0;
  double poly[3] = {3.5, 0.4, 0.3};
  double gx = 300.37, gy = 100.81;
  /* render truth directly onto a 25x25 stamp whose pixel (0,0) is image pixel (288, 89) */
  sd_render_opts o = {0, 3.0, 0, 1.0, 0, 15.0, 5, 0};
  double u = (gx - 0.5 * (nx - 1)) / (0.5 * nx), v = (gy - 0.5 * (ny - 1)) / (0.5 * ny);
  double fwhm = poly[0] + poly[1] * u + poly[2] * v;
  o.fwhm = fwhm;
  CHECK_OK(sd_render_stars(truth, 25, 25, &tx, &ty, &tf, 1, &o, NULL, 0));
  CHECK_OK(sd_psf_render(model, len, gx, gy, 25, stamp));
  double peak = 0.0, worst = 0.0, ssum = 0.0;
  for (int k = 0; k < 625; k++) {
    peak = truth[k] > peak ? truth[k] : peak;
    ssum += stamp[k];
  }
  for (int k = 0; k < 625; k++) {
    double d = fabs(stamp[k] - truth[k]);
    worst = d > worst ? d : worst;
  }
  fprintf(stderr, "psf worst residual / peak = %g, sum %g\n", worst / peak, ssum);
  CHECK(worst < 0.01 * peak);
  CHECK_CLOSE(ssum, 1.0, 2e-3);
  /* PSF photometry at fixed (true) positions and with positions fitted from offsets */
  double out[120 * SD_PSFPHOT_NCOL];
  sd_psf_phot_opts po = {0, 0, 1, 0, 0, 0};
  CHECK_OK(sd_psf_phot(img, NULL, NULL, nx, ny, model, len, px, py, np, &po, out));
  double worst_f = 0.0;
  for (int a = 0; a < np; a++) {
    double truef = 0.0;
    for (int b = 0; b < nstar; b++) {
      if (xs[b] == px[a] && ys[b] == py[a]) truef = fs[b];
    }
    double e = fabs(out[a * SD_PSFPHOT_NCOL + SD_PSFPHOT_FLUX] / truef - 1.0);
    worst_f = e > worst_f ? e : worst_f;
  }
  fprintf(stderr, "psf phot worst flux error = %g\n", worst_f);
  CHECK(worst_f < 0.01);
  double qx[120], qy[120];
  for (int a = 0; a < np; a++) {
    qx[a] = px[a] + 0.4;
    qy[a] = py[a] - 0.3;
  }
  po.fit_position = 1;
  CHECK_OK(sd_psf_phot(img, NULL, NULL, nx, ny, model, len, qx, qy, np, &po, out));
  double worst_p = 0.0;
  for (int a = 0; a < np; a++) {
    double d = hypot(out[a * SD_PSFPHOT_NCOL + SD_PSFPHOT_X] - px[a],
                     out[a * SD_PSFPHOT_NCOL + SD_PSFPHOT_Y] - py[a]);
    worst_p = d > worst_p ? d : worst_p;
    CHECK_EQ((int)out[a * SD_PSFPHOT_NCOL + SD_PSFPHOT_FLAGS] & SD_PHOT_NOCONVERGE, 0);
  }
  CHECK(worst_p < 0.02);
  free(img);
  free(model);
}

static void test_psf_phot_noise_errors(void) {
  /* Gaussian PSF model from noiseless stars; then one noisy star many times: error ~ scatter */
  int nx = 200, ny = 200;
  sd_test_rng r = {99};
  float *img = calloc((size_t)nx * ny, sizeof(float));
  double xs[36], ys[36], fs[36];
  for (int k = 0; k < 36; k++) {
    xs[k] = 20.0 + (k % 6) * 32.0 + 0.37 * (k % 3);
    ys[k] = 20.0 + (k / 6) * 32.0 + 0.21 * (k % 4);
    fs[k] = 1000.0;
  }
  sd_render_opts g = {1, 0, 3.0, 1.0, 0, 12.0, 5, 0};
  CHECK_OK(sd_render_stars(img, nx, ny, xs, ys, fs, 36, &g, NULL, 0));
  sd_psf_fit_opts fo = {21, 1, -1, 3.0, 4, 2};
  int32_t len;
  CHECK_OK(sd_psf_model_length(21, 0, &len));
  float *model = calloc((size_t)len, sizeof(float));
  CHECK_OK(sd_psf_fit(img, NULL, NULL, nx, ny, xs, ys, 36, &fo, model, len, NULL));
  float *w = malloc(sizeof(float) * nx * ny);
  float *noisy = malloc(sizeof(float) * nx * ny);
  double sigma = 2.0, fluxes[36], errs[36];
  for (int k = 0; k < nx * ny; k++) w[k] = (float)(1.0 / (sigma * sigma));
  for (int k = 0; k < nx * ny; k++) noisy[k] = img[k] + (float)(sigma * sd_test_normal(&r));
  double out[36 * SD_PSFPHOT_NCOL];
  sd_psf_phot_opts po = {0, 0, 1, 0, 0, 0};
  CHECK_OK(sd_psf_phot(noisy, w, NULL, nx, ny, model, len, xs, ys, 36, &po, out));
  double m = 0.0, s2 = 0.0, e = 0.0;
  for (int k = 0; k < 36; k++) {
    fluxes[k] = out[k * SD_PSFPHOT_NCOL + SD_PSFPHOT_FLUX];
    errs[k] = out[k * SD_PSFPHOT_NCOL + SD_PSFPHOT_FLUXERR];
    m += fluxes[k] / 36.0;
    e += errs[k] / 36.0;
  }
  for (int k = 0; k < 36; k++) s2 += (fluxes[k] - m) * (fluxes[k] - m) / 35.0;
  CHECK_CLOSE(m, 1000.0, 4.0 * e / 6.0);
  CHECK(sqrt(s2) > 0.6 * e && sqrt(s2) < 1.5 * e);
  free(img);
  free(model);
  free(w);
  free(noisy);
}

/* Few stars: the degree drops until there are 2 x nterms stars; size -1 = 5 x FWHM, odd. */
static void test_psf_fit_few_stars(void) {
  int nx = 200, ny = 200;
  float *img = calloc((size_t)nx * ny, sizeof(float));
  double xs[5] = {40.2, 160.7, 100.1, 45.5, 150.3}, ys[5] = {40.6, 50.2, 100.9, 160.4, 150.8};
  double fs[5] = {1e4, 2e4, 3e4, 4e4, 5e4};
  sd_render_opts g = {0, 3.0, 3.0, 1.0, 0, 12.0, 5, 0};
  CHECK_OK(sd_render_stars(img, nx, ny, xs, ys, fs, 5, &g, NULL, 0));
  int32_t len;
  CHECK_OK(sd_psf_model_length(15, 2, &len));
  float *model = calloc((size_t)len, sizeof(float));
  uint8_t used[5];
  sd_psf_fit_opts fo = {-1, 1, 2, 3.0, 4, 3};
  CHECK_OK(sd_psf_fit(img, NULL, NULL, nx, ny, xs, ys, 5, &fo, model, len, used));
  CHECK_EQ((int)model[1], 15);
  CHECK_EQ((int)model[3], 0);
  CHECK_EQ((int)model[4], 1);
  CHECK_EQ(used[0] + used[1] + used[2] + used[3] + used[4], 5);
  double fw;
  CHECK_OK(sd_psf_fwhm(model, len, 100, 100, &fw));
  CHECK_CLOSE(fw, 3.0, 0.15);
  /* too small a buffer */
  CHECK_EQ(sd_psf_fit(img, NULL, NULL, nx, ny, xs, ys, 5, &fo, model, len - 1, used), SD_ERR_OVERFLOW);
  /* no usable star (all too close to the edge) */
  double ex[2] = {2, 197}, ey[2] = {3, 196};
  CHECK_EQ(sd_psf_fit(img, NULL, NULL, nx, ny, ex, ey, 2, &fo, model, len, used), SD_ERR_EMPTY);
  free(img);
  free(model);
}

static void test_psf_select(void) {
  double snr[8] = {50, 60, 70, 80, 90, 5, 100, 100};
  double fwhm[8] = {3.0, 3.1, 2.95, 3.05, 6.0, 3.0, 1.2, 3.02};
  double peak[8] = {1, 1, 1, 1, 1, 1, 1, 9e9};
  int32_t fl[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint8_t sel[8];
  double mode;
  sd_psf_select_opts o = {20, 0.2, 1.0, 1e6, 0, 0, 0};
  CHECK_OK(sd_psf_select(snr, fwhm, peak, fl, NULL, NULL, NULL, 8, &o, sel, &mode));
  CHECK_CLOSE(mode, 3.0, 0.1);
  uint8_t want[8] = {1, 1, 1, 1, 0, 0, 0, 0};
  for (int k = 0; k < 8; k++) CHECK_EQ(sel[k], want[k]);
  o.max_stars = 2;
  CHECK_OK(sd_psf_select(snr, fwhm, peak, fl, NULL, NULL, NULL, 8, &o, sel, &mode));
  CHECK_EQ(sel[0] + sel[1] + sel[2] + sel[3], 2);
  CHECK_EQ(sel[3], 1);
  /* isolation: star 1 has a 5% neighbour (star 7) 10 px away; star 2 only a 0.5% one */
  double xs[8] = {0, 100, 200, 300, 400, 500, 600, 110};
  double ys[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  double fl2[8] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 50};
  o.max_stars = 0;
  o.isolation = 15;
  CHECK_OK(sd_psf_select(snr, fwhm, peak, fl, xs, ys, fl2, 8, &o, sel, &mode));
  CHECK_EQ(sel[1], 0);
  CHECK_EQ(sel[0] + sel[2] + sel[3], 3);
  fl2[7] = 5;
  CHECK_OK(sd_psf_select(snr, fwhm, peak, fl, xs, ys, fl2, 8, &o, sel, &mode));
  CHECK_EQ(sel[1], 1);
  CHECK_EQ(sd_psf_select(snr, fwhm, peak, fl, NULL, NULL, NULL, 8, &o, sel, &mode), SD_ERR_ARG);
}

/* Odd positions (NaN, far outside, edges) never crash or read out of bounds (ASan, UBSan). */
static void test_odd_positions(void) {
  int nx = 64, ny = 48;
  float *img = calloc((size_t)nx * ny, sizeof(float)), *w = malloc(sizeof(float) * nx * ny);
  for (int k = 0; k < nx * ny; k++) w[k] = 1.0f;
  double xs[6] = {NAN, 1e30, -5.0, 63.9, 0.0, 32.0}, ys[6] = {1.0, 2.0, 3.0, 47.9, 0.0, INFINITY};
  double r[2] = {2.0, 30.0}, flux[12], err[12], bkg[6], meas[6 * SD_MEAS_NCOL];
  int32_t fl[6];
  sd_aper_opts ao = {1.0, 5.0, 9.0, 0};
  CHECK_OK(sd_sum_circle(img, w, NULL, nx, ny, xs, ys, 6, r, 2, &ao, flux, err, bkg, fl));
  CHECK_EQ(fl[0], SD_PHOT_EMPTY);
  CHECK_EQ(fl[1], SD_PHOT_EMPTY);
  CHECK(isnan(flux[0]));
  CHECK(fl[3] & SD_PHOT_TRUNCATED);
  double a[6] = {3, 3, 3, 3, 3, 3}, b[6] = {1, 1, 1, 1, 1, 1}, th[6] = {0, 1, 2, 3, 4, 5};
  CHECK_OK(sd_sum_ellipse(img, w, NULL, nx, ny, xs, ys, a, b, th, 6, 2.0, &ao, flux, err, bkg, fl));
  CHECK_OK(sd_measure(img, w, NULL, NULL, nx, ny, xs, ys, NULL, 6, NULL, meas));
  CHECK_EQ((int)meas[SD_MEAS_FLAGS], SD_PHOT_EMPTY);
  sd_render_opts ro = {0, 3.0, 3.0, 1.0, 0, 0, 5, 0};
  double f[6] = {1, 1, 1, 1, 1, 1};
  CHECK_EQ(sd_render_stars(img, nx, ny, xs, ys, f, 6, &ro, NULL, 0), SD_ERR_ARG);
  CHECK_OK(sd_render_stars(img, nx, ny, xs + 2, ys + 2, f, 3, &ro, NULL, 0));
  int32_t len;
  CHECK_OK(sd_psf_model_length(11, 0, &len));
  float *model = calloc((size_t)len, sizeof(float));
  double cx = 32.0, cy = 24.0;
  CHECK_OK(sd_render_stars(img, nx, ny, &cx, &cy, f, 1, &ro, NULL, 0));
  sd_psf_fit_opts fo = {11, 1, -1, 3.0, 4, 2};
  CHECK_OK(sd_psf_fit(img, w, NULL, nx, ny, &cx, &cy, 1, &fo, model, len, NULL));
  double out[6 * SD_PSFPHOT_NCOL];
  sd_psf_phot_opts po = {0, 1, 1, 0, 0, 0};
  CHECK_OK(sd_psf_phot(img, w, NULL, nx, ny, model, len, xs, ys, 6, &po, out));
  CHECK_EQ((int)out[SD_PSFPHOT_FLAGS], SD_PHOT_EMPTY);
  float stamp[9];
  CHECK_EQ(sd_psf_render(model, len, NAN, 0, 3, stamp), SD_ERR_ARG);
  CHECK_OK(sd_psf_render(model, len, -1e5, 1e5, 3, stamp));
  free(img);
  free(w);
  free(model);
}

static void test_bad_arguments(void) {
  float img[4] = {0, 0, 0, 0};
  double x = 0, y = 0, r = -1.0, f;
  CHECK_EQ(sd_sum_circle(img, NULL, NULL, 2, 2, &x, &y, 1, &r, 1, NULL, &f, NULL, NULL, NULL),
           SD_ERR_ARG);
  float model[SD_PSF_HEADER] = {0};
  float out[9];
  CHECK_EQ(sd_psf_render(model, SD_PSF_HEADER, 0, 0, 3, out), SD_ERR_ARG);
}

int main(void) {
  RUN(test_overlap_sums_to_area);
  RUN(test_overlap_runs_match_per_edge);
  RUN(test_sum_circle_constant);
  RUN(test_sum_ellipse_flat);
  RUN(test_render_flux_and_centroid);
  RUN(test_measure_gaussian);
  RUN(test_psf_model_and_phot);
  RUN(test_psf_phot_noise_errors);
  RUN(test_psf_fit_few_stars);
  RUN(test_psf_select);
  RUN(test_odd_positions);
  RUN(test_bad_arguments);
  return TEST_SUMMARY();
}
