/* resample.c — Lanczos-3 resampling of image and weight through a pixel map given on a grid. */
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

/* Catmull-Rom weights (and their derivatives) for fraction t of [0, 1). */
static void cr_weights(double t, double *w, double *dw) {
  const double t2 = t * t, t3 = t2 * t;
  w[0] = 0.5 * (-t3 + 2 * t2 - t);
  w[1] = 0.5 * (3 * t3 - 5 * t2 + 2);
  w[2] = 0.5 * (-3 * t3 + 4 * t2 + t);
  w[3] = 0.5 * (t3 - t2);
  dw[0] = 0.5 * (-3 * t2 + 4 * t - 1);
  dw[1] = 0.5 * (9 * t2 - 10 * t);
  dw[2] = 0.5 * (-9 * t2 + 8 * t + 1);
  dw[3] = 0.5 * (3 * t2 - 2 * t);
}

/* Node k of a line of n values (stride st), linearly extrapolated beyond both ends. */
static double node(const double *v, int32_t n, ptrdiff_t st, int32_t k) {
  if (k < 0) return 2 * v[0] - v[st];
  if (k >= n) return 2 * v[(ptrdiff_t)(n - 1) * st] - v[(ptrdiff_t)(n - 2) * st];
  return v[(ptrdiff_t)k * st];
}

/* Position of output coordinate c in grid units: cell index and fraction. */
static void grid_pos(int32_t c, int32_t n, int32_t gn, int32_t *cell, double *t) {
  double g = n > 1 ? (double)c * (gn - 1) / (n - 1) : 0.0;
  int32_t i = (int32_t)floor(g);
  if (i > gn - 2) i = gn - 2;
  if (i < 0) i = 0;
  *cell = i;
  *t = g - i;
}

/* Lanczos-3 weights of the 6 taps floor(p) - 2 .. floor(p) + 3 around position p. */
static void lanczos_taps(double p, int32_t *i0, float *w) {
  const int32_t fl = (int32_t)floor(p);
  const double f = p - fl;
  *i0 = fl - 2;
  if (f < 1e-7) {
    for (int k = 0; k < 6; k++) w[k] = k == 2 ? 1.0f : 0.0f;
    return;
  }
  const double sp = sin(M_PI * f), s3 = sin(M_PI * f / 3.0), c3 = cos(M_PI * f / 3.0);
  const double sq3 = 0.86602540378443865;
  for (int k = 0; k < 6; k++) {
    const int j = k - 2;        /* tap at fl + j, distance d = f - j */
    const double d = f - j;
    /* sin(pi (f - j)) = (-1)^j sin(pi f); sin(pi (f - j)/3) by angle subtraction */
    const double sj = (j & 1) ? -sp : sp;
    double cj, sn;
    switch (j) {
      case -2: cj = -0.5, sn = -sq3; break;
      case -1: cj = 0.5, sn = -sq3; break;
      case 0: cj = 1.0, sn = 0.0; break;
      case 1: cj = 0.5, sn = sq3; break;
      case 2: cj = -0.5, sn = sq3; break;
      default: cj = -1.0, sn = 0.0; break;
    }
    const double s3j = s3 * cj - c3 * sn; /* sin(pi f/3 - pi j/3) */
    w[k] = (float)(3.0 * sj * s3j / (M_PI * M_PI * d * d));
  }
}

sd_status sd_resample_lanczos3(const float *image, const float *weight, const uint16_t *flags,
                               int32_t nx_in, int32_t ny_in, const double *grid_x,
                               const double *grid_y, int32_t gnx, int32_t gny, int32_t nx,
                               int32_t ny, int32_t flux_conserve, float *out_image,
                               float *out_weight, uint16_t *out_flags) {
  if (image == NULL || grid_x == NULL || grid_y == NULL || out_image == NULL || nx_in <= 0 ||
      ny_in <= 0 || nx <= 0 || ny <= 0 || gnx < 2 || gny < 2)
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > INT32_MAX || (int64_t)nx_in * ny_in > INT32_MAX) return SD_ERR_ARG;
  sd_status status = SD_OK;
  /* per output row: the map and its y-derivative interpolated at every grid column */
  double *col = malloc(sizeof(double) * 4 * (size_t)gnx);
  if (col == NULL) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  double *cx = col, *cy = col + gnx, *dcx = col + 2 * gnx, *dcy = col + 3 * gnx;
  /* grid units per output pixel (chain rule for the Jacobian) */
  const double gsx = nx > 1 ? (double)(gnx - 1) / (nx - 1) : 0.0;
  const double gsy = ny > 1 ? (double)(gny - 1) / (ny - 1) : 0.0;
  for (int32_t y = 0; y < ny; y++) {
    int32_t cj;
    double ty, wy[4], dwy[4];
    grid_pos(y, ny, gny, &cj, &ty);
    cr_weights(ty, wy, dwy);
    for (int32_t i = 0; i < gnx; i++) {
      double ax = 0, ay = 0, bx = 0, by = 0;
      for (int k = 0; k < 4; k++) {
        const double vx = node(grid_x + i, gny, gnx, cj - 1 + k);
        const double vy = node(grid_y + i, gny, gnx, cj - 1 + k);
        ax += wy[k] * vx, ay += wy[k] * vy, bx += dwy[k] * vx, by += dwy[k] * vy;
      }
      cx[i] = ax, cy[i] = ay, dcx[i] = bx * gsy, dcy[i] = by * gsy;
    }
    for (int32_t x = 0; x < nx; x++) {
      const size_t o = (size_t)y * nx + x;
      int32_t ci;
      double tx, wx[4], dwx[4];
      grid_pos(x, nx, gnx, &ci, &tx);
      cr_weights(tx, wx, dwx);
      double px = 0, py = 0, jxx = 0, jyx = 0, jxy = 0, jyy = 0;
      for (int k = 0; k < 4; k++) {
        const int32_t kk = ci - 1 + k;
        const double vx = node(cx, gnx, 1, kk), vy = node(cy, gnx, 1, kk);
        px += wx[k] * vx, py += wx[k] * vy;
        jxx += dwx[k] * vx, jyx += dwx[k] * vy;
        jxy += wx[k] * node(dcx, gnx, 1, kk), jyy += wx[k] * node(dcy, gnx, 1, kk);
      }
      const double det = fabs(gsx * jxx * jyy - gsx * jyx * jxy);
      uint16_t fl = 0;
      float val = 0.0f, wout = 0.0f;
      if (!(px >= -0.5 && px < nx_in - 0.5 && py >= -0.5 && py < ny_in - 0.5)) {
        fl = SD_FLAG_OUT_OF_BOUNDS;
      } else {
        if (flags != NULL) {
          const int32_t x0 = (int32_t)floor(px), y0 = (int32_t)floor(py);
          for (int32_t yy = y0; yy <= y0 + 1; yy++)
            for (int32_t xx = x0; xx <= x0 + 1; xx++)
              if (xx >= 0 && xx < nx_in && yy >= 0 && yy < ny_in)
                fl |= flags[(size_t)yy * nx_in + xx];
        }
        int32_t ix0, iy0;
        float lx[6], ly[6];
        lanczos_taps(px, &ix0, lx);
        lanczos_taps(py, &iy0, ly);
        double sw = 0, sv = 0, svar = 0;
        for (int j = 0; j < 6; j++) {
          const int32_t yy = iy0 + j;
          if (yy < 0 || yy >= ny_in || ly[j] == 0.0f) continue;
          const float *row = image + (size_t)yy * nx_in;
          const float *wrow = weight ? weight + (size_t)yy * nx_in : NULL;
          for (int i = 0; i < 6; i++) {
            const int32_t xx = ix0 + i;
            if (xx < 0 || xx >= nx_in) continue;
            const float v = row[xx];
            if (!isfinite(v) || (wrow != NULL && !(wrow[xx] > 0.0f))) continue;
            const double k = (double)lx[i] * ly[j];
            sw += k, sv += k * v;
            if (wrow != NULL) svar += k / wrow[xx];
          }
        }
        if (sw >= 0.5) {
          const double jac = flux_conserve ? det : 1.0;
          val = (float)(sv / sw * jac);
          if (weight != NULL) {
            double var = svar / sw;
            if (!(var > 0)) {
              /* negative lobes over a steep variance: nearest pixel's variance */
              const int32_t xn = (int32_t)floor(px + 0.5), yn = (int32_t)floor(py + 0.5);
              const float wn = weight[(size_t)yn * nx_in + xn];
              var = wn > 0 ? 1.0 / wn : 0.0;
            }
            wout = var > 0 ? (float)(1.0 / (var * jac * jac)) : 0.0f;
          } else {
            wout = (float)(1.0 / (jac * jac));
          }
        }
      }
      out_image[o] = val;
      if (out_weight != NULL) out_weight[o] = wout;
      if (out_flags != NULL) out_flags[o] = fl;
    }
  }
done:
  free(col);
  return status;
}
