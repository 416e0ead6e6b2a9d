/*
 * measure.c — per-source measurement: peak, first moments, isophotal flux (with a segment
 * map), adaptive Gaussian-windowed centroid and shape (XWIN/YWIN style), FWHM, Kron radius
 * and Kron flux (through sd_sum_ellipse), a local annulus background.
 */
#include <math.h>
#include <stdlib.h>

#include "phot_util.h"
#include "sd_core.h"

typedef struct {
  int x0, x1, y0, y1;
} bbox;

/* Adaptive windowed moments. Returns 1 when converged. */
static int windowed(const float *img, const float *weight, const uint16_t *flags, uint32_t mask,
                    int nx, int ny, double bkg, double x_start, double y_start, double s0,
                    double rmax, int max_iter, double *xo, double *yo, double *cov, int *bad) {
  double x = x_start, y = y_start;
  double wxx = s0 * s0, wyy = s0 * s0, wxy = 0.0;
  int converged = 0;
  *bad = 0;
  for (int it = 0; it < max_iter; it++) {
    double det = wxx * wyy - wxy * wxy;
    double ixx = wyy / det, iyy = wxx / det, ixy = -wxy / det;
    double lmax = 0.5 * (wxx + wyy) + sqrt(0.25 * (wxx - wyy) * (wxx - wyy) + wxy * wxy);
    double half = 4.0 * sqrt(lmax);
    if (half > rmax) half = rmax;
    if (half < 3.0) half = 3.0;
    int x0 = (int)floor(x - half), x1 = (int)ceil(x + half);
    int y0 = (int)floor(y - half), y1 = (int)ceil(y + half);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > nx - 1) x1 = nx - 1;
    if (y1 > ny - 1) y1 = ny - 1;
    double s = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0;
    double kstep = exp(-ixx);
    for (int j = y0; j <= y1; j++) {
      double dy = j - y;
      /* the Gaussian along a row by recurrence: g(dx + 1) = g(dx) r(dx), r(dx + 1) = r(dx) k */
      double dx0 = x0 - x;
      double g = exp(-0.5 * (dx0 * dx0 * ixx + 2.0 * dx0 * dy * ixy + dy * dy * iyy));
      double rr = exp(-0.5 * (ixx * (2.0 * dx0 + 1.0) + 2.0 * ixy * dy));
      for (int i = x0; i <= x1; i++, g *= rr, rr *= kstep) {
        size_t k = (size_t)j * nx + i;
        if (!pu_valid(weight, flags, mask, k)) continue;
        double dx = i - x;
        double q = dx * dx * ixx + 2.0 * dx * dy * ixy + dy * dy * iyy;
        if (q > 16.0) continue;
        double wv = g * (img[k] - bkg);
        s += wv;
        sx += wv * dx;
        sy += wv * dy;
        sxx += wv * dx * dx;
        syy += wv * dy * dy;
        sxy += wv * dx * dy;
      }
    }
    if (!(s > 0.0)) {
      *bad = 1;
      break;
    }
    double mx = sx / s, my = sy / s;
    double mxx = sxx / s - mx * mx, myy = syy / s - my * my, mxy = sxy / s - mx * my;
    double nx_ = x + 2.0 * mx, ny_ = y + 2.0 * my;
    double nxx = 2.0 * mxx, nyy = 2.0 * myy, nxy = 2.0 * mxy;
    double ndet = nxx * nyy - nxy * nxy;
    if (!(nxx > 0.0) || !(nyy > 0.0) || !(ndet > 0.0)) {
      *bad = 1;
      break;
    }
    /* keep the window within sane sizes */
    double lim_lo = 0.09, lim_hi = rmax * rmax / 4.0;
    if (nxx < lim_lo) nxx = lim_lo;
    if (nyy < lim_lo) nyy = lim_lo;
    if (nxx > lim_hi) nxx = lim_hi;
    if (nyy > lim_hi) nyy = lim_hi;
    if (nxy * nxy >= 0.98 * nxx * nyy) nxy = (nxy > 0 ? 1.0 : -1.0) * sqrt(0.98 * nxx * nyy);
    if ((nx_ - x_start) * (nx_ - x_start) + (ny_ - y_start) * (ny_ - y_start) > rmax * rmax) {
      *bad = 1;
      break;
    }
    double shift = fabs(nx_ - x) + fabs(ny_ - y);
    double dsize = fabs(nxx - wxx) + fabs(nyy - wyy) + fabs(nxy - wxy);
    x = nx_;
    y = ny_;
    wxx = nxx;
    wyy = nyy;
    wxy = nxy;
    if (shift < 1e-4 && dsize < 1e-3 * (wxx + wyy)) {
      converged = 1;
      break;
    }
  }
  if (*bad) {
    x = x_start;
    y = y_start;
    wxx = wyy = s0 * s0;
    wxy = 0.0;
  }
  *xo = x;
  *yo = y;
  cov[0] = wxx;
  cov[1] = wyy;
  cov[2] = wxy;
  return converged;
}

sd_status sd_measure(const float *img, const float *weight, const uint16_t *flags,
                     const int32_t *seg, int32_t nx, int32_t ny, const double *x, const double *y,
                     const int32_t *ids, int32_t n, const sd_measure_opts *opts, double *out) {
  if (img == NULL || nx <= 0 || ny <= 0 || n < 0 || (n > 0 && (!x || !y)) || out == NULL) {
    return SD_ERR_ARG;
  }
  sd_measure_opts o = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  if (opts != NULL) o = *opts;
  if (o.radius == 0.0) o.radius = 8.0;
  if (o.win_sigma == 0.0) o.win_sigma = 1.5;
  if (o.kron_fact == 0.0) o.kron_fact = 2.5;
  if (o.kron_min == 0.0) o.kron_min = 3.5;
  if (o.max_iter == 0.0) o.max_iter = 20.0;
  if (!(o.radius > 0.0) || !(o.radius <= 1e3) || !(o.win_sigma > 0.0) || !(o.win_sigma <= 1e3) ||
      !(o.kron_fact > 0.0) || !(o.kron_fact <= 100.0) || !(o.kron_min >= 0.0) ||
      !(o.kron_min <= 1e3) || !(o.annulus_in >= 0.0) || !(o.annulus_out >= 0.0) ||
      !(o.annulus_out <= 1e4) || (o.annulus_out > 0.0 && !(o.annulus_out > o.annulus_in)) ||
      !(o.max_iter >= 1.0) || !(o.max_iter <= 1000.0)) {
    return SD_ERR_ARG;
  }
  uint32_t mask = pu_mask(o.mask_bits);
  sd_aper_opts ao = {o.gain, o.annulus_in, o.annulus_out, o.mask_bits};
  sd_status st = SD_OK;
  bbox *boxes = NULL;
  double *buf = NULL;
  int32_t maxlab = 0;
  if (seg != NULL) {
    size_t np = (size_t)nx * ny;
    for (size_t k = 0; k < np; k++) maxlab = seg[k] > maxlab ? seg[k] : maxlab;
    boxes = (bbox *)malloc(sizeof(bbox) * ((size_t)maxlab + 1));
    if (boxes == NULL) {
      st = SD_ERR_NOMEM;
      goto done;
    }
    for (int32_t l = 0; l <= maxlab; l++) {
      boxes[l].x0 = nx;
      boxes[l].x1 = -1;
      boxes[l].y0 = ny;
      boxes[l].y1 = -1;
    }
    for (int32_t j = 0; j < ny; j++) {
      for (int32_t i = 0; i < nx; i++) {
        int32_t l = seg[(size_t)j * nx + i];
        if (l <= 0) continue;
        bbox *b = &boxes[l];
        if (i < b->x0) b->x0 = i;
        if (i > b->x1) b->x1 = i;
        if (j < b->y0) b->y0 = j;
        if (j > b->y1) b->y1 = j;
      }
    }
  }
  if (o.annulus_out > 0.0) {
    buf = (double *)malloc(sizeof(double) * (size_t)pu_annulus_cap(o.annulus_out));
    if (buf == NULL) {
      st = SD_ERR_NOMEM;
      goto done;
    }
  }
  for (int32_t s = 0; s < n; s++) {
    double *row = out + (size_t)s * SD_MEAS_NCOL;
    int32_t fl = 0;
    double bk = 0.0, bvar = 0.0;
    for (int c = 0; c < SD_MEAS_NCOL; c++) row[c] = NAN;
    if (!pu_pos_ok(x[s], y[s])) {
      row[SD_MEAS_FLAGS] = SD_PHOT_EMPTY;
      continue;
    }
    if (buf != NULL) {
      int ok = 0;
      bk = pu_annulus_bkg(img, weight, flags, mask, nx, ny, x[s], y[s], o.annulus_in,
                          o.annulus_out, buf, &bvar, &ok);
      if (!ok) fl |= SD_PHOT_NOBKG;
    }
    /* region: segment bbox or circle */
    int32_t lab = 0;
    int x0, x1, y0, y1;
    if (seg != NULL) {
      lab = ids != NULL ? ids[s] : s + 1;
      if (lab <= 0 || lab > maxlab || boxes[lab].x1 < 0) {
        lab = -1;
        x0 = nx;
        x1 = -1;
        y0 = ny;
        y1 = -1;
      } else {
        x0 = boxes[lab].x0;
        x1 = boxes[lab].x1;
        y0 = boxes[lab].y0;
        y1 = boxes[lab].y1;
      }
    } else {
      x0 = (int)floor(x[s] - o.radius);
      x1 = (int)ceil(x[s] + o.radius);
      y0 = (int)floor(y[s] - o.radius);
      y1 = (int)ceil(y[s] + o.radius);
      if (x0 < 0 || y0 < 0 || x1 > nx - 1 || y1 > ny - 1) fl |= SD_PHOT_TRUNCATED;
      if (x0 < 0) x0 = 0;
      if (y0 < 0) y0 = 0;
      if (x1 > nx - 1) x1 = nx - 1;
      if (y1 > ny - 1) y1 = ny - 1;
    }
    double peak = -INFINITY, s0 = 0.0, sx = 0.0, sy = 0.0, siso = 0.0, viso = 0.0;
    int npix = 0, nmask = 0;
    for (int j = y0; j <= y1; j++) {
      for (int i = x0; i <= x1; i++) {
        size_t k = (size_t)j * nx + i;
        if (seg != NULL) {
          if (seg[k] != lab) continue;
        } else if ((i - x[s]) * (i - x[s]) + (j - y[s]) * (j - y[s]) > o.radius * o.radius) {
          continue;
        }
        if (!pu_valid(weight, flags, mask, k)) {
          nmask++;
          continue;
        }
        double v = img[k] - bk;
        npix++;
        if (v > peak) peak = v;
        siso += v;
        if (weight != NULL) viso += 1.0 / weight[k];
        if (v > 0.0) {
          s0 += v;
          sx += v * i;
          sy += v * j;
        }
      }
    }
    if (nmask > 0) fl |= SD_PHOT_MASKED;
    if (npix > 0) {
      row[SD_MEAS_PEAK] = peak;
      if (s0 > 0.0) {
        row[SD_MEAS_X_MOM] = sx / s0;
        row[SD_MEAS_Y_MOM] = sy / s0;
      }
      if (seg != NULL) {
        if (o.gain > 0.0 && siso > 0.0) viso += siso / o.gain;
        viso += (double)npix * npix * bvar;
        row[SD_MEAS_FLUX_ISO] = siso;
        row[SD_MEAS_FLUXERR_ISO] = sqrt(viso);
      }
    } else {
      fl |= SD_PHOT_EMPTY;
    }
    row[SD_MEAS_NPIX_ISO] = seg != NULL ? npix : 0;
    /* adaptive windowed centroid and shape */
    double xw, yw, cov[3];
    int bad = 0;
    int conv = windowed(img, weight, flags, mask, nx, ny, bk, x[s], y[s], o.win_sigma, o.radius,
                        (int)o.max_iter, &xw, &yw, cov, &bad);
    if (bad) fl |= SD_PHOT_BADSHAPE;
    else if (!conv) fl |= SD_PHOT_NOCONVERGE;
    double tr = 0.5 * (cov[0] + cov[1]);
    double dd = sqrt(0.25 * (cov[0] - cov[1]) * (cov[0] - cov[1]) + cov[2] * cov[2]);
    double a = sqrt(tr + dd), b = sqrt(tr - dd > 1e-6 ? tr - dd : 1e-6);
    double theta = 0.5 * atan2(2.0 * cov[2], cov[0] - cov[1]);
    row[SD_MEAS_X] = xw;
    row[SD_MEAS_Y] = yw;
    row[SD_MEAS_A] = a;
    row[SD_MEAS_B] = b;
    row[SD_MEAS_THETA] = theta;
    row[SD_MEAS_FWHM] = 2.0 * sqrt(2.0 * log(2.0)) * sqrt(a * b);
    /* Kron radius over the ellipse of 6 (a, b) */
    double ct = cos(theta), stt = sin(theta);
    double ext = 6.0 * a;
    int kx0 = (int)floor(xw - ext), kx1 = (int)ceil(xw + ext);
    int ky0 = (int)floor(yw - ext), ky1 = (int)ceil(yw + ext);
    if (kx0 < 0) kx0 = 0;
    if (ky0 < 0) ky0 = 0;
    if (kx1 > nx - 1) kx1 = nx - 1;
    if (ky1 > ny - 1) ky1 = ny - 1;
    double sr = 0.0, sf = 0.0;
    for (int j = ky0; j <= ky1; j++) {
      for (int i = kx0; i <= kx1; i++) {
        size_t k = (size_t)j * nx + i;
        if (!pu_valid(weight, flags, mask, k)) continue;
        double dx = i - xw, dy = j - yw;
        double u = (dx * ct + dy * stt) / a, v = (-dx * stt + dy * ct) / b;
        double re = sqrt(u * u + v * v);
        if (re > 6.0) continue;
        double val = img[k] - bk;
        sr += re * val;
        sf += val;
      }
    }
    double kr = (sf > 0.0 && sr > 0.0) ? sr / sf : NAN;
    row[SD_MEAS_KRON_R] = kr;
    double rk = isfinite(kr) ? o.kron_fact * kr : o.kron_min;
    if (rk < o.kron_min) rk = o.kron_min;
    double kf = NAN, kerr = NAN, kbk = 0.0;
    int32_t kfl = 0;
    sd_status ks = sd_sum_ellipse(img, weight, flags, nx, ny, &xw, &yw, &a, &b, &theta, 1, rk, &ao,
                                  &kf, &kerr, &kbk, &kfl);
    if (ks != SD_OK) {
      st = ks;
      goto done;
    }
    fl |= kfl & (SD_PHOT_TRUNCATED | SD_PHOT_MASKED);
    row[SD_MEAS_FLUX_KRON] = kf;
    row[SD_MEAS_FLUXERR_KRON] = kerr;
    row[SD_MEAS_BKG] = bk;
    row[SD_MEAS_FLAGS] = fl;
  }
done:
  free(boxes);
  free(buf);
  return st;
}
