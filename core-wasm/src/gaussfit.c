/*
 * gaussfit.c — weighted 2-D elliptical Gaussian fit to a stamp (Levenberg-Marquardt).
 *
 * Internally the model is amp exp(-(a dx^2 + 2 b dx dy + c dy^2) / 2) + bkg with
 * dx = x - x0, dy = y - y0: the inverse covariance (a, b; b, c) enters linearly in the
 * exponent, so the derivatives are simple; it is converted to the major/minor sigmas and
 * the angle at the end (errors by propagation through a numerical Jacobian). Steps that
 * leave (a, b; b, c) not positive definite are rejected like steps that raise chi^2.
 *
 * Per row, the model and its 7 derivatives are evaluated pixel by pixel (exp is scalar),
 * then the normal matrix and gradient are accumulated with f64x2 SIMD dot products over
 * the row (scalar fallback).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

#define NP 7
/* internal parameter order */
enum { P_AMP, P_X, P_Y, P_A, P_B, P_C, P_BKG };

/* Sum of w[i] u[i] v[i] over i < n. */
static double dot3(const double *w, const double *u, const double *v, int32_t n) {
  int32_t i = 0;
  double s = 0.0;
#if SD_SIMD
  v128_t acc = wasm_f64x2_splat(0.0);
  for (; i + 2 <= n; i += 2) {
    v128_t p = wasm_f64x2_mul(wasm_v128_load(w + i), wasm_v128_load(u + i));
    acc = wasm_f64x2_add(acc, wasm_f64x2_mul(p, wasm_v128_load(v + i)));
  }
  s = wasm_f64x2_extract_lane(acc, 0) + wasm_f64x2_extract_lane(acc, 1);
#endif
  for (; i < n; i++) s += w[i] * u[i] * v[i];
  return s;
}

typedef struct {
  const float *img, *weight;
  const uint16_t *flags;
  int32_t nx, ny;
  uint16_t mask;
  double *w, *r, *d[NP]; /* row buffers, nx each */
} fit_ctx;

/* chi^2 at p; with h and g non-NULL also the normal matrix (upper triangle filled, then
 * mirrored) and the gradient J^T W r. */
static double accumulate(fit_ctx *c, const double *p, double *h, double *g) {
  double chi2 = 0.0;
  if (h) {
    memset(h, 0, sizeof(double) * NP * NP);
    memset(g, 0, sizeof(double) * NP);
  }
  for (int32_t y = 0; y < c->ny; y++) {
    const double dy = y - p[P_Y];
    for (int32_t x = 0; x < c->nx; x++) {
      const size_t k = (size_t)y * c->nx + x;
      const float v = c->img[k];
      const double wt = c->weight ? c->weight[k] : 1.0;
      const int ok = isfinite(v) && wt > 0 && isfinite(wt) &&
                     !(c->flags != NULL && (c->flags[k] & c->mask) != 0);
      if (!ok) {
        c->w[x] = 0.0;
        c->r[x] = 0.0;
        if (h)
          for (int j = 0; j < NP; j++) c->d[j][x] = 0.0;
        continue;
      }
      const double dx = x - p[P_X];
      const double e = exp(-0.5 * (p[P_A] * dx * dx + 2.0 * p[P_B] * dx * dy + p[P_C] * dy * dy));
      const double ae = p[P_AMP] * e;
      c->w[x] = wt;
      c->r[x] = v - (ae + p[P_BKG]);
      if (h) {
        c->d[P_AMP][x] = e;
        c->d[P_X][x] = ae * (p[P_A] * dx + p[P_B] * dy);
        c->d[P_Y][x] = ae * (p[P_B] * dx + p[P_C] * dy);
        c->d[P_A][x] = -0.5 * ae * dx * dx;
        c->d[P_B][x] = -ae * dx * dy;
        c->d[P_C][x] = -0.5 * ae * dy * dy;
        c->d[P_BKG][x] = 1.0;
      }
    }
    chi2 += dot3(c->w, c->r, c->r, c->nx);
    if (h) {
      for (int i = 0; i < NP; i++) {
        g[i] += dot3(c->w, c->d[i], c->r, c->nx);
        for (int j = i; j < NP; j++) h[i * NP + j] += dot3(c->w, c->d[i], c->d[j], c->nx);
      }
    }
  }
  if (h)
    for (int i = 0; i < NP; i++)
      for (int j = 0; j < i; j++) h[i * NP + j] = h[j * NP + i];
  return chi2;
}

/* Cholesky factorisation in place (lower triangle); 0 when not positive definite. */
static int cholesky(double *m, int n) {
  for (int j = 0; j < n; j++) {
    double s = m[j * n + j];
    for (int k = 0; k < j; k++) s -= m[j * n + k] * m[j * n + k];
    if (!(s > 0.0) || !isfinite(s)) return 0;
    const double d = sqrt(s);
    m[j * n + j] = d;
    for (int i = j + 1; i < n; i++) {
      double t = m[i * n + j];
      for (int k = 0; k < j; k++) t -= m[i * n + k] * m[j * n + k];
      m[i * n + j] = t / d;
    }
  }
  return 1;
}

static void chol_solve(const double *l, int n, const double *b, double *x) {
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= l[i * n + k] * x[k];
    x[i] = s / l[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = x[i];
    for (int k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
}

static int valid(const double *p) {
  for (int i = 0; i < NP; i++)
    if (!isfinite(p[i])) return 0;
  return p[P_A] > 0 && p[P_C] > 0 && p[P_A] * p[P_C] - p[P_B] * p[P_B] > 0;
}

/* (a, b, c) -> (sigma_major, sigma_minor, theta). */
static void to_shape(double a, double b, double c, double *out) {
  const double tr = 0.5 * (a + c);
  const double q = sqrt(0.25 * (a - c) * (a - c) + b * b);
  const double lmin = tr - q, lmax = tr + q;
  out[0] = lmin > 0 ? 1.0 / sqrt(lmin) : INFINITY;
  out[1] = 1.0 / sqrt(lmax);
  out[2] = 0.5 * atan2(-2.0 * b, c - a);
}

/* (sigma_major, sigma_minor, theta) -> (a, b, c). */
static void from_shape(double s1, double s2, double th, double *abc) {
  const double ct = cos(th), st = sin(th);
  const double i1 = 1.0 / (s1 * s1), i2 = 1.0 / (s2 * s2);
  abc[0] = ct * ct * i1 + st * st * i2;
  abc[1] = ct * st * (i1 - i2);
  abc[2] = st * st * i1 + ct * ct * i2;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Starting point from the stamp: border median, peak, area above half maximum. */
static int estimate(const fit_ctx *c, double *buf, double *p) {
  int32_t nb = 0;
  for (int32_t y = 0; y < c->ny; y++)
    for (int32_t x = 0; x < c->nx; x++) {
      if (y != 0 && y != c->ny - 1 && x != 0 && x != c->nx - 1) continue;
      const size_t k = (size_t)y * c->nx + x;
      if (!sd_usable(c->img[k], c->flags, k, c->mask)) continue;
      if (c->weight && !(c->weight[k] > 0)) continue;
      buf[nb++] = c->img[k];
    }
  double bkg = 0.0;
  if (nb > 0) {
    qsort(buf, (size_t)nb, sizeof(double), cmp_double);
    bkg = nb % 2 ? buf[nb / 2] : 0.5 * (buf[nb / 2 - 1] + buf[nb / 2]);
  }
  double peak = -INFINITY;
  int32_t px = c->nx / 2, py = c->ny / 2;
  for (int32_t y = 0; y < c->ny; y++)
    for (int32_t x = 0; x < c->nx; x++) {
      const size_t k = (size_t)y * c->nx + x;
      if (!sd_usable(c->img[k], c->flags, k, c->mask)) continue;
      if (c->weight && !(c->weight[k] > 0)) continue;
      if (c->img[k] - bkg > peak) {
        peak = c->img[k] - bkg;
        px = x;
        py = y;
      }
    }
  if (!isfinite(peak)) return 0;
  /* centroid over the 3x3 box around the peak, positive values only */
  double sw = 0, sx = 0, sy = 0;
  for (int32_t y = py - 1; y <= py + 1; y++)
    for (int32_t x = px - 1; x <= px + 1; x++) {
      if (x < 0 || y < 0 || x >= c->nx || y >= c->ny) continue;
      const size_t k = (size_t)y * c->nx + x;
      if (!sd_usable(c->img[k], c->flags, k, c->mask)) continue;
      const double v = c->img[k] - bkg;
      if (v <= 0) continue;
      sw += v;
      sx += v * x;
      sy += v * y;
    }
  int32_t nhalf = 0;
  for (size_t k = 0; k < (size_t)c->nx * c->ny; k++)
    if (sd_usable(c->img[k], c->flags, k, c->mask) && c->img[k] - bkg >= 0.5 * peak) nhalf++;
  /* area above half maximum = pi (1.1774 sigma)^2 */
  double s = sqrt(nhalf / M_PI) / 1.1774;
  const double smax = 0.5 * (c->nx > c->ny ? c->nx : c->ny);
  if (!(s >= 0.5)) s = 0.5;
  if (s > smax) s = smax;
  p[P_AMP] = peak;
  p[P_X] = sw > 0 ? sx / sw : px;
  p[P_Y] = sw > 0 ? sy / sw : py;
  p[P_A] = p[P_C] = 1.0 / (s * s);
  p[P_B] = 0.0;
  p[P_BKG] = bkg;
  return 1;
}

sd_status sd_gauss_fit(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                       int32_t ny, uint16_t flag_mask, const double *init, int32_t max_iter,
                       double *params, double *errors, double *stats) {
  if (!img || !params || nx < 1 || ny < 1 || max_iter < 1 || (int64_t)nx * ny > (1 << 26))
    return SD_ERR_ARG;
  sd_status status = SD_OK;
  double *buf = malloc(sizeof(double) * ((size_t)(NP + 2) * nx + 2 * ((size_t)nx + ny)));
  if (!buf) return SD_ERR_NOMEM;
  fit_ctx c = {img, weight, flags, nx, ny, flag_mask, buf, buf + nx, {0}};
  for (int i = 0; i < NP; i++) c.d[i] = buf + (size_t)(2 + i) * nx;
  double *scratch = buf + (size_t)(NP + 2) * nx;

  int32_t nused = 0;
  for (size_t k = 0; k < (size_t)nx * ny; k++)
    if (sd_usable(img[k], flags, k, flag_mask) && (!weight || (weight[k] > 0 && isfinite(weight[k]))))
      nused++;
  double p[NP], trial[NP], h[NP * NP], g[NP], m[NP * NP], step[NP];
  if (nused < NP + 1) {
    status = SD_ERR_EMPTY;
    goto done;
  }
  if (init) {
    if (!(init[SD_GFIT_SIGMA_MAJOR] > 0) || !(init[SD_GFIT_SIGMA_MINOR] > 0)) {
      status = SD_ERR_ARG;
      goto done;
    }
    double abc[3];
    from_shape(init[SD_GFIT_SIGMA_MAJOR], init[SD_GFIT_SIGMA_MINOR], init[SD_GFIT_THETA], abc);
    p[P_AMP] = init[SD_GFIT_AMP];
    p[P_X] = init[SD_GFIT_X];
    p[P_Y] = init[SD_GFIT_Y];
    p[P_A] = abc[0];
    p[P_B] = abc[1];
    p[P_C] = abc[2];
    p[P_BKG] = init[SD_GFIT_BKG];
    if (!valid(p)) {
      status = SD_ERR_ARG;
      goto done;
    }
  } else if (!estimate(&c, scratch, p)) {
    status = SD_ERR_EMPTY;
    goto done;
  }

  double chi2 = accumulate(&c, p, h, g);
  double lambda = 1e-3;
  int32_t iter = 0;
  int converged = 0;
  while (iter < max_iter && !converged) {
    iter++;
    memcpy(m, h, sizeof m);
    for (int i = 0; i < NP; i++) m[i * NP + i] = h[i * NP + i] * (1.0 + lambda) + 1e-300;
    int ok = cholesky(m, NP);
    if (ok) {
      chol_solve(m, NP, g, step);
      for (int i = 0; i < NP; i++) trial[i] = p[i] + step[i];
      ok = valid(trial);
    }
    double chi2t = ok ? accumulate(&c, trial, NULL, NULL) : INFINITY;
    if (ok && chi2t <= chi2) {
      const double drop = chi2 - chi2t;
      memcpy(p, trial, sizeof p);
      chi2 = accumulate(&c, p, h, g);
      lambda = lambda * 0.1 > 1e-12 ? lambda * 0.1 : 1e-12;
      if (drop <= 1e-9 * chi2 || drop <= 1e-300) converged = 1;
    } else {
      lambda *= 10.0;
      /* no step improves chi^2 any more: at the minimum to numerical precision */
      if (lambda > 1e12) converged = 1;
    }
  }

  double shape[3];
  to_shape(p[P_A], p[P_B], p[P_C], shape);
  params[SD_GFIT_AMP] = p[P_AMP];
  params[SD_GFIT_X] = p[P_X];
  params[SD_GFIT_Y] = p[P_Y];
  params[SD_GFIT_SIGMA_MAJOR] = shape[0];
  params[SD_GFIT_SIGMA_MINOR] = shape[1];
  params[SD_GFIT_THETA] = shape[2];
  params[SD_GFIT_BKG] = p[P_BKG];
  if (errors) {
    for (int i = 0; i < NP; i++) errors[i] = NAN;
    memcpy(m, h, sizeof m);
    if (cholesky(m, NP)) {
      double cov[NP * NP], e[NP];
      for (int j = 0; j < NP; j++) {
        for (int i = 0; i < NP; i++) e[i] = i == j;
        chol_solve(m, NP, e, cov + j * NP); /* column j (symmetric) */
      }
      errors[SD_GFIT_AMP] = sqrt(cov[P_AMP * NP + P_AMP]);
      errors[SD_GFIT_X] = sqrt(cov[P_X * NP + P_X]);
      errors[SD_GFIT_Y] = sqrt(cov[P_Y * NP + P_Y]);
      errors[SD_GFIT_BKG] = sqrt(cov[P_BKG * NP + P_BKG]);
      /* Jacobian of (major, minor, theta) w.r.t. (a, b, c) by central differences */
      double jac[3][3];
      const double abc[3] = {p[P_A], p[P_B], p[P_C]};
      for (int q = 0; q < 3; q++) {
        const double hstep = 1e-6 * (fabs(p[P_A]) + fabs(p[P_C]));
        double lo[3] = {abc[0], abc[1], abc[2]}, hi[3] = {abc[0], abc[1], abc[2]};
        lo[q] -= hstep;
        hi[q] += hstep;
        double slo[3], shi[3];
        to_shape(lo[0], lo[1], lo[2], slo);
        to_shape(hi[0], hi[1], hi[2], shi);
        double dth = shi[2] - slo[2];
        if (dth > M_PI / 2) dth -= M_PI;
        if (dth < -M_PI / 2) dth += M_PI;
        jac[0][q] = (shi[0] - slo[0]) / (2 * hstep);
        jac[1][q] = (shi[1] - slo[1]) / (2 * hstep);
        jac[2][q] = dth / (2 * hstep);
      }
      for (int o = 0; o < 3; o++) {
        double var = 0.0;
        for (int q = 0; q < 3; q++)
          for (int r = 0; r < 3; r++) var += jac[o][q] * jac[o][r] * cov[(P_A + q) * NP + P_A + r];
        errors[SD_GFIT_SIGMA_MAJOR + o] = var >= 0 ? sqrt(var) : NAN;
      }
    }
  }
  if (stats) {
    stats[SD_GFIT_CHI2] = chi2;
    stats[SD_GFIT_NDOF] = nused - NP;
    stats[SD_GFIT_NITER] = iter;
    stats[SD_GFIT_CONVERGED] = converged;
  }
done:
  free(buf);
  return status;
}
