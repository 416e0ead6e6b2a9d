/*
 * photometry.c — circular and elliptical aperture sums with exact pixel overlap, a local
 * annulus background (clipped median), errors from the weight map plus a Poisson term.
 */
#include <math.h>
#include <stdlib.h>

#include "phot_util.h"
#include "sd_core.h"

#if defined(__wasm_simd128__) && !defined(SD_NO_SIMD)
#include <wasm_simd128.h>
#define PH_SIMD 1
#else
#define PH_SIMD 0
#endif

/* Sums of value and variance over the usable pixels of a row span fully inside an aperture. */
typedef struct {
  double sum, var;
  int nvalid, nmasked;
} span_acc;

static void span_sum(const float *img, const float *w, const uint16_t *fl, uint32_t mask, int n,
                     span_acc *acc) {
  int i = 0;
  int nvalid = 0;
  double sum = 0.0, var = 0.0;
#if PH_SIMD
  {
    const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
    const v128_t vmask = wasm_i32x4_splat((int32_t)mask), izero = wasm_i32x4_splat(0);
    v128_t s = zero, sv = zero, cnt = izero;
    for (; i + 4 <= n; i += 4) {
      v128_t v = wasm_v128_load(img + i);
      v128_t valid = wasm_i32x4_splat(-1);
      v128_t ww = one;
      if (w != NULL) {
        ww = wasm_v128_load(w + i);
        valid = wasm_f32x4_gt(ww, zero);
      }
      if (fl != NULL) {
        v128_t f = wasm_u32x4_load16x4(fl + i);
        valid = wasm_v128_and(valid, wasm_i32x4_eq(wasm_v128_and(f, vmask), izero));
      }
      if (w != NULL) {
        v128_t inv = wasm_f32x4_div(one, wasm_v128_bitselect(ww, one, valid));
        sv = wasm_f32x4_add(sv, wasm_v128_and(inv, valid));
      }
      s = wasm_f32x4_add(s, wasm_v128_and(v, valid));
      cnt = wasm_i32x4_sub(cnt, valid);
    }
    sum = (double)wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) +
          wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
    var = (double)wasm_f32x4_extract_lane(sv, 0) + wasm_f32x4_extract_lane(sv, 1) +
          wasm_f32x4_extract_lane(sv, 2) + wasm_f32x4_extract_lane(sv, 3);
    nvalid = wasm_i32x4_extract_lane(cnt, 0) + wasm_i32x4_extract_lane(cnt, 1) +
             wasm_i32x4_extract_lane(cnt, 2) + wasm_i32x4_extract_lane(cnt, 3);
  }
#endif
  for (; i < n; i++) {
    if (w != NULL && !(w[i] > 0.0f)) continue;
    if (fl != NULL && (fl[i] & mask) != 0) continue;
    sum += img[i];
    if (w != NULL) var += 1.0 / w[i];
    nvalid++;
  }
  acc->sum += sum;
  acc->var += var;
  acc->nvalid += nvalid;
  acc->nmasked += n - nvalid;
}

/* Shape of one aperture: circle (a == b, ct = 1, st = 0) or ellipse. */
typedef struct {
  double a, b, ct, st;
  int circle;
} aperture;

/* x-interval [*lo, *hi] (offsets from the centre) of the aperture on the line at offset ey. */
static int chord(const aperture *ap, double ey, double *lo, double *hi) {
  double ia2 = 1.0 / (ap->a * ap->a), ib2 = 1.0 / (ap->b * ap->b);
  double A = ap->ct * ap->ct * ia2 + ap->st * ap->st * ib2;
  double B = 2.0 * ap->ct * ap->st * (ia2 - ib2);
  double C = ap->st * ap->st * ia2 + ap->ct * ap->ct * ib2;
  double D = B * B * ey * ey - 4.0 * A * (C * ey * ey - 1.0);
  if (D <= 0.0) return 0;
  double sq = sqrt(D);
  *lo = (-B * ey - sq) / (2.0 * A);
  *hi = (-B * ey + sq) / (2.0 * A);
  return 1;
}

/*
 * Offsets (from the centre) of the pixel centres on row offset dy whose pixels lie fully
 * inside the aperture (the ellipse is convex: all four corners inside); 0 when none.
 */
static int inner_span(const aperture *ap, double dy, double *lo, double *hi) {
  double l1, h1, l2, h2;
  if (!chord(ap, dy - 0.5, &l1, &h1) || !chord(ap, dy + 0.5, &l2, &h2)) return 0;
  *lo = (l1 > l2 ? l1 : l2) + 0.5;
  *hi = (h1 < h2 ? h1 : h2) - 0.5;
  return *hi >= *lo;
}

static double pixel_overlap(const aperture *ap, double dx, double dy) {
  if (ap->circle) return pu_circle_overlap(dx, dy, ap->a);
  return pu_ellipse_overlap(dx, dy, ap->a, ap->b, ap->ct, ap->st);
}

/*
 * Sums one aperture around (x, y) after subtracting bkg per pixel. Writes flux and its
 * variance (without Poisson and background terms), total area and flags.
 */
static void aperture_sum(const float *img, const float *weight, const uint16_t *flags,
                         uint32_t mask, int nx, int ny, double x, double y, const aperture *ap,
                         double bkg, double *flux, double *var, double *area, int32_t *fl) {
  /* bounding box of the ellipse: half-widths sqrt(a^2 c^2 + b^2 s^2) and sqrt(a^2 s^2 + b^2 c^2) */
  double ex = sqrt(ap->a * ap->a * ap->ct * ap->ct + ap->b * ap->b * ap->st * ap->st);
  double ey = sqrt(ap->a * ap->a * ap->st * ap->st + ap->b * ap->b * ap->ct * ap->ct);
  int x0 = (int)ceil(x - ex - 0.5), x1 = (int)floor(x + ex + 0.5);
  int y0 = (int)ceil(y - ey - 0.5), y1 = (int)floor(y + ey + 0.5);
  if (x0 < 0 || y0 < 0 || x1 > nx - 1 || y1 > ny - 1) *fl |= SD_PHOT_TRUNCATED;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > nx - 1) x1 = nx - 1;
  if (y1 > ny - 1) y1 = ny - 1;
  double tot_area = 0.0, good_area = 0.0, sum = 0.0, sv = 0.0;
  for (int j = y0; j <= y1; j++) {
    double dy = j - y;
    double lo, hi;
    int i0 = x1 + 1, i1 = x1; /* inner span [i0, i1] */
    if (inner_span(ap, dy, &lo, &hi)) {
      i0 = (int)ceil(x + lo);
      i1 = (int)floor(x + hi);
      if (i0 < x0) i0 = x0;
      if (i1 > x1) i1 = x1;
      if (i1 < i0) {
        i0 = x1 + 1;
        i1 = x1;
      }
    }
    size_t row = (size_t)j * nx;
    if (i1 >= i0) {
      span_acc acc = {0.0, 0.0, 0, 0};
      int len = i1 - i0 + 1;
      span_sum(img + row + i0, weight ? weight + row + i0 : NULL, flags ? flags + row + i0 : NULL,
               mask, len, &acc);
      tot_area += len;
      good_area += acc.nvalid;
      sum += acc.sum - bkg * acc.nvalid;
      sv += acc.var;
    }
    for (int i = x0; i <= x1; i++) {
      if (i == i0 && i1 >= i0) {
        i = i1;
        continue;
      }
      double o = pixel_overlap(ap, i - x, dy);
      if (o <= 0.0) continue;
      tot_area += o;
      size_t k = row + i;
      if (!pu_valid(weight, flags, mask, k)) continue;
      good_area += o;
      sum += o * (img[k] - bkg);
      if (weight != NULL) sv += o / weight[k];
    }
  }
  if (good_area < tot_area - 1e-9) {
    *fl |= SD_PHOT_MASKED;
    if (good_area > 0.0) {
      double s = tot_area / good_area;
      sum *= s;
      sv *= s * s;
    }
  }
  if (!(good_area > 0.0)) {
    *fl |= SD_PHOT_EMPTY;
    sum = NAN;
    sv = NAN;
  }
  *flux = sum;
  *var = sv;
  *area = tot_area;
}

static sd_status aperture_common(const float *img, const float *weight, const uint16_t *flags,
                                 int32_t nx, int32_t ny, const double *x, const double *y,
                                 const double *a, const double *b, const double *theta, int32_t n,
                                 const double *r, int32_t nr, const sd_aper_opts *opts,
                                 double *flux, double *fluxerr, double *bkg, int32_t *oflags) {
  if (img == NULL || nx <= 0 || ny <= 0 || n < 0 || x == NULL || y == NULL || r == NULL ||
      nr <= 0 || flux == NULL) {
    return SD_ERR_ARG;
  }
  for (int k = 0; k < nr; k++) {
    if (!(r[k] > 0.0) || !(r[k] <= 1e4)) return SD_ERR_ARG;
  }
  sd_aper_opts o = {0.0, 0.0, 0.0, 0.0};
  if (opts != NULL) o = *opts;
  if (o.annulus_out > 0.0 && !(o.annulus_out > o.annulus_in)) return SD_ERR_ARG;
  if (!(o.annulus_in >= 0.0) || !(o.annulus_out >= 0.0) || !(o.annulus_out <= 1e4)) {
    return SD_ERR_ARG;
  }
  uint32_t mask = pu_mask(o.mask_bits);
  double *buf = NULL;
  sd_status st = SD_OK;
  if (o.annulus_out > 0.0) {
    buf = (double *)malloc(sizeof(double) * (size_t)pu_annulus_cap(o.annulus_out));
    if (buf == NULL) {
      st = SD_ERR_NOMEM;
      goto done;
    }
  }
  for (int32_t i = 0; i < n; i++) {
    int32_t fl = 0;
    double bk = 0.0, bvar = 0.0;
    if (!pu_pos_ok(x[i], y[i])) {
      for (int k = 0; k < nr; k++) {
        flux[(size_t)i * nr + k] = NAN;
        if (fluxerr != NULL) fluxerr[(size_t)i * nr + k] = NAN;
      }
      if (bkg != NULL) bkg[i] = NAN;
      if (oflags != NULL) oflags[i] = SD_PHOT_EMPTY;
      continue;
    }
    if (buf != NULL) {
      int ok = 0;
      bk = pu_annulus_bkg(img, weight, flags, mask, nx, ny, x[i], y[i], o.annulus_in,
                          o.annulus_out, buf, &bvar, &ok);
      if (!ok) fl |= SD_PHOT_NOBKG;
    }
    for (int k = 0; k < nr; k++) {
      aperture ap;
      if (a != NULL) {
        ap.a = a[i] * r[k];
        ap.b = b[i] * r[k];
        ap.ct = cos(theta[i]);
        ap.st = sin(theta[i]);
        ap.circle = 0;
        if (!(ap.a > 0.0) || !(ap.b > 0.0) || !(ap.a <= 1e4) || !(ap.b <= 1e4) ||
            !isfinite(theta[i])) {
          st = SD_ERR_ARG;
          goto done;
        }
      } else {
        ap.a = ap.b = r[k];
        ap.ct = 1.0;
        ap.st = 0.0;
        ap.circle = 1;
      }
      double f, v, area;
      aperture_sum(img, weight, flags, mask, nx, ny, x[i], y[i], &ap, bk, &f, &v, &area, &fl);
      if (o.gain > 0.0 && f > 0.0) v += f / o.gain;
      v += area * area * bvar;
      flux[(size_t)i * nr + k] = f;
      if (fluxerr != NULL) fluxerr[(size_t)i * nr + k] = sqrt(v);
    }
    if (bkg != NULL) bkg[i] = bk;
    if (oflags != NULL) oflags[i] = fl;
  }
done:
  free(buf);
  return st;
}

sd_status sd_sum_circle(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                        int32_t ny, const double *x, const double *y, int32_t n, const double *r,
                        int32_t nr, const sd_aper_opts *opts, double *flux, double *fluxerr,
                        double *bkg, int32_t *oflags) {
  return aperture_common(img, weight, flags, nx, ny, x, y, NULL, NULL, NULL, n, r, nr, opts, flux,
                         fluxerr, bkg, oflags);
}

sd_status sd_sum_ellipse(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                         int32_t ny, const double *x, const double *y, const double *a,
                         const double *b, const double *theta, int32_t n, double r,
                         const sd_aper_opts *opts, double *flux, double *fluxerr, double *bkg,
                         int32_t *oflags) {
  if (a == NULL || b == NULL || theta == NULL) return SD_ERR_ARG;
  return aperture_common(img, weight, flags, nx, ny, x, y, a, b, theta, n, &r, 1, opts, flux,
                         fluxerr, bkg, oflags);
}
