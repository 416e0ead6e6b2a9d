/*
 * render.c — adds point sources with a Moffat or Gaussian profile (optionally elliptical,
 * FWHM optionally varying over the image as a polynomial) to an image, integrating the
 * profile over pixels and normalising each star to its flux within a truncation radius.
 */
#include <math.h>
#include <stdlib.h>

#include "phot_util.h"
#include "sd_core.h"

typedef struct {
  int gaussian;
  double beta, inv_s2; /* Moffat: 1 / alpha^2; Gaussian: 1 / sigma^2 (major axis) */
  int ibeta;           /* beta 2, 3, 4 -> 2, 3, 4; 2.5 -> 25; 4.5 -> 45; else 0 */
  double inv_q2, ct, st;
} profile;

static double profile_at(const profile *p, double dx, double dy) {
  double u = dx * p->ct + dy * p->st;
  double v = -dx * p->st + dy * p->ct;
  double r2 = (u * u + v * v * p->inv_q2) * p->inv_s2;
  if (p->gaussian) return exp(-0.5 * r2);
  double t = 1.0 + r2;
  switch (p->ibeta) { /* common betas without pow */
    case 2: return 1.0 / (t * t);
    case 3: return 1.0 / (t * t * t);
    case 4: return 1.0 / ((t * t) * (t * t));
    case 25: return 1.0 / (t * t * sqrt(t));
    case 45: return 1.0 / ((t * t) * (t * t) * sqrt(t));
    default: return exp(-p->beta * log1p(r2));
  }
}

sd_status sd_render_stars(float *img, int32_t nx, int32_t ny, const double *x, const double *y,
                          const double *flux, int32_t n, const sd_render_opts *opts,
                          const double *fwhm_poly, int32_t fwhm_degree) {
  if (img == NULL || nx <= 0 || ny <= 0 || n < 0 || (n > 0 && (!x || !y || !flux)) ||
      opts == NULL || (fwhm_poly != NULL && (fwhm_degree < 0 || fwhm_degree > 8))) {
    return SD_ERR_ARG;
  }
  sd_render_opts o = *opts;
  if (o.profile != 0.0 && o.profile != 1.0) return SD_ERR_ARG;
  if (o.beta == 0.0) o.beta = 3.0;
  if (o.fwhm == 0.0) o.fwhm = 3.0;
  if (o.axis_ratio == 0.0) o.axis_ratio = 1.0;
  if (o.oversample == 0.0) o.oversample = 5.0;
  if (!(o.beta > 1.0) || !(o.fwhm > 0.0) || !(o.axis_ratio > 0.0) || o.axis_ratio > 1.0 ||
      !(o.oversample >= 1.0) || !(o.oversample <= 64.0) || !(o.radius >= 0.0) ||
      !(o.radius <= 1e4) || !(o.core_radius >= 0.0) || !(o.core_radius <= 1e4)) {
    return SD_ERR_ARG;
  }
  int os = (int)o.oversample;
  double terms[45];
  double xc = 0.5 * (nx - 1), xs = 0.5 * nx, yc = 0.5 * (ny - 1), ys = 0.5 * ny;
  float *stamp = NULL;
  size_t stamp_cap = 0;
  sd_status st = SD_OK;
  for (int32_t s = 0; s < n; s++) {
    double fwhm = o.fwhm;
    if (fwhm_poly != NULL) {
      pu_terms(fwhm_degree, (x[s] - xc) / xs, (y[s] - yc) / ys, terms);
      fwhm = 0.0;
      for (int k = 0; k < pu_nterms(fwhm_degree); k++) fwhm += fwhm_poly[k] * terms[k];
    }
    if (!(fwhm > 0.1) || !(fwhm < 1e4) || !pu_pos_ok(x[s], y[s]) || !isfinite(flux[s])) {
      st = SD_ERR_ARG;
      goto done;
    }
    profile p;
    p.gaussian = o.profile == 1.0;
    p.beta = o.beta;
    p.ibeta = o.beta == 2.0 ? 2 : o.beta == 3.0 ? 3 : o.beta == 4.0 ? 4 : o.beta == 2.5 ? 25
              : o.beta == 4.5 ? 45 : 0;
    if (p.gaussian) {
      double sig = fwhm / (2.0 * sqrt(2.0 * log(2.0)));
      p.inv_s2 = 1.0 / (sig * sig);
    } else {
      double alpha = fwhm / (2.0 * sqrt(pow(2.0, 1.0 / o.beta) - 1.0));
      p.inv_s2 = 1.0 / (alpha * alpha);
    }
    p.inv_q2 = 1.0 / (o.axis_ratio * o.axis_ratio);
    p.ct = cos(o.theta);
    p.st = sin(o.theta);
    double rad = o.radius > 0.0 ? o.radius : 5.0 * fwhm;
    double core = o.core_radius > 0.0 ? o.core_radius : 2.0 * fwhm;
    int ix = (int)floor(x[s] + 0.5), iy = (int)floor(y[s] + 0.5);
    int h = (int)ceil(rad) + 1;
    if (ix + h < 0 || ix - h > nx - 1 || iy + h < 0 || iy - h > ny - 1) continue;
    int side = 2 * h + 1;
    if ((size_t)side * side > stamp_cap) {
      free(stamp);
      stamp_cap = (size_t)side * side;
      stamp = (float *)malloc(sizeof(float) * stamp_cap);
      if (stamp == NULL) {
        st = SD_ERR_NOMEM;
        goto done;
      }
    }
    double total = 0.0;
    for (int j = 0; j < side; j++) {
      double dy = iy - h + j - y[s];
      for (int i = 0; i < side; i++) {
        double dx = ix - h + i - x[s];
        double d2 = dx * dx + dy * dy;
        double v = 0.0;
        if (d2 <= rad * rad) {
          if (d2 <= core * core) {
            double acc = 0.0;
            for (int b = 0; b < os; b++) {
              double sy = dy + ((b + 0.5) / os - 0.5);
              for (int a = 0; a < os; a++) {
                acc += profile_at(&p, dx + ((a + 0.5) / os - 0.5), sy);
              }
            }
            v = acc / (os * os);
          } else {
            v = profile_at(&p, dx, dy);
          }
        }
        stamp[(size_t)j * side + i] = (float)v;
        total += v;
      }
    }
    if (!(total > 0.0)) continue;
    double scale = flux[s] / total;
    for (int j = 0; j < side; j++) {
      int yy = iy - h + j;
      if (yy < 0 || yy >= ny) continue;
      for (int i = 0; i < side; i++) {
        int xx = ix - h + i;
        if (xx < 0 || xx >= nx) continue;
        img[(size_t)yy * nx + xx] += (float)(scale * stamp[(size_t)j * side + i]);
      }
    }
  }
done:
  free(stamp);
  return st;
}
