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

/* sin and cos of a in [0, 1.05] by Taylor series in float (errors < 1e-7). */
static inline void sincos_small(float a, float *s, float *c) {
  const float a2 = a * a;
  *s = a * (1.0f + a2 * (-1.0f / 6 + a2 * (1.0f / 120 + a2 * (-1.0f / 5040 + a2 * (1.0f / 362880)))));
  *c = 1.0f + a2 * (-0.5f + a2 * (1.0f / 24 + a2 * (-1.0f / 720 + a2 * (1.0f / 40320 +
       a2 * (-1.0f / 3628800)))));
}

/* Lanczos-3 weights of the 6 taps floor(p) - 2 .. floor(p) + 3 around position p. */
static void lanczos_taps(double p, int32_t *i0, float *w) {
  const int32_t fl = (int32_t)floor(p);
  const float f = (float)(p - fl);
  *i0 = fl - 2;
  if (f < 1e-6f) {
    for (int k = 0; k < 6; k++) w[k] = k == 2 ? 1.0f : 0.0f;
    return;
  }
  float s3, c3;
  sincos_small((float)M_PI * f / 3.0f, &s3, &c3);
  const float sp = s3 * (3.0f - 4.0f * s3 * s3); /* sin(pi f) = sin(3a) */
  const float h = 0.86602540378443865f * c3, k3 = (float)(3.0 / (M_PI * M_PI));
  /* d = f - j for j = -2 .. 3; sin(pi d) = (-1)^j sin(pi f);
   * sin(pi d / 3) = sin(a - pi j / 3) with a = pi f / 3 */
  const float sn[6] = {-0.5f * s3 + h, 0.5f * s3 + h, s3, 0.5f * s3 - h, -0.5f * s3 - h, -s3};
  for (int k = 0; k < 6; k++) {
    const float d = f - (float)(k - 2);
    const float sj = (k & 1) ? -sp : sp; /* (-1)^j with j = k - 2 */
    w[k] = k3 * sj * sn[k] / (d * d);
  }
}

#define LZ_BINS 1024

/* Lanczos-3 weights at fractional offsets b / LZ_BINS, b = 0 .. LZ_BINS, 8 floats per bin
 * (6 taps, 2 zeros). */
static void lanczos_table(float *tab) {
  for (int32_t b = 0; b <= LZ_BINS; b++) {
    int32_t i0;
    float w[6];
    lanczos_taps(2.0 + (double)b / LZ_BINS, &i0, w);
    if (b == LZ_BINS) { /* f = 1: the taps of the next integer, shifted by one */
      for (int k = 0; k < 6; k++) w[k] = k == 3 ? 1.0f : 0.0f;
    }
    for (int k = 0; k < 8; k++) tab[8 * b + k] = k < 6 ? w[k] : 0.0f;
  }
}

/* Weights of the 6 taps floor(p) - 2 .. floor(p) + 3 by linear interpolation in the table. */
static inline void lanczos_lookup(const float *tab, double p, int32_t *i0, float *w) {
  const double fl = floor(p);
  *i0 = (int32_t)fl - 2;
  const float t = (float)(p - fl) * LZ_BINS;
  int32_t b = (int32_t)t;
  if (b >= LZ_BINS) b = LZ_BINS - 1;
  const float fr = t - (float)b;
  const float *a = tab + 8 * (size_t)b, *c = a + 8;
#if SD_SIMD
  const v128_t vf = wasm_f32x4_splat(fr);
  const v128_t a0 = wasm_v128_load(a), a1 = wasm_v128_load(a + 4);
  wasm_v128_store(w, wasm_f32x4_add(a0, wasm_f32x4_mul(vf, wasm_f32x4_sub(wasm_v128_load(c), a0))));
  wasm_v128_store(w + 4, wasm_f32x4_add(a1, wasm_f32x4_mul(vf, wasm_f32x4_sub(wasm_v128_load(c + 4), a1))));
#else
  for (int k = 0; k < 8; k++) w[k] = a[k] + fr * (c[k] - a[k]);
#endif
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
  /* per row: the map at every grid column (+ one extrapolated node each side), 4 quantities;
   * per output column: its grid cell and Catmull-Rom weights */
  double *col = malloc(sizeof(double) * 4 * (size_t)(gnx + 2));
  int32_t *cell = malloc(sizeof(int32_t) * (size_t)nx);
  double *cw = malloc(sizeof(double) * 8 * (size_t)nx);
  /* variance of every usable input pixel (1 without weights; 0 marks unusable ones) and the
   * values with unusable pixels set to 0, so that the tap sums need no branches */
  const size_t nin = (size_t)nx_in * ny_in;
  float *var = malloc(sizeof(float) * nin), *vm = malloc(sizeof(float) * nin);
  float *tab = malloc(sizeof(float) * 8 * (LZ_BINS + 1));
  if (col == NULL || cell == NULL || cw == NULL || var == NULL || vm == NULL || tab == NULL) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  lanczos_table(tab);
  for (size_t i = 0; i < nin; i++) {
    const int ok = isfinite(image[i]) && (weight == NULL || (weight[i] > 0.0f && isfinite(weight[i])));
    var[i] = ok ? (weight != NULL ? 1.0f / weight[i] : 1.0f) : 0.0f;
    vm[i] = ok ? image[i] : 0.0f;
  }
  const int32_t ge = gnx + 2;
  double *cx = col + 1, *cy = col + ge + 1, *dcx = col + 2 * ge + 1, *dcy = col + 3 * ge + 1;
  for (int32_t x = 0; x < nx; x++) {
    double tx;
    grid_pos(x, nx, gnx, &cell[x], &tx);
    cr_weights(tx, cw + 8 * (size_t)x, cw + 8 * (size_t)x + 4);
  }
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
    /* linear extrapolation beyond the outer nodes */
    for (double *a = col; a < col + 4 * ge; a += ge) {
      a[0] = 2 * a[1] - a[2];
      a[gnx + 1] = 2 * a[gnx] - a[gnx - 1];
    }
    for (int32_t x = 0; x < nx; x++) {
      const size_t o = (size_t)y * nx + x;
      const int32_t ci = cell[x];
      const double *wx = cw + 8 * (size_t)x, *dwx = wx + 4;
      double px = 0, py = 0, jxx = 0, jyx = 0, jxy = 0, jyy = 0;
      for (int k = 0; k < 4; k++) {
        const int32_t kk = ci - 1 + k;
        const double vx = cx[kk], vy = cy[kk];
        px += wx[k] * vx, py += wx[k] * vy;
        jxx += dwx[k] * vx, jyx += dwx[k] * vy;
        jxy += wx[k] * dcx[kk], jyy += wx[k] * dcy[kk];
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
        float lx[8] = {0}, ly[8] = {0};
        lanczos_lookup(tab, px, &ix0, lx);
        lanczos_lookup(tab, py, &iy0, ly);
        float sw = 0, sv = 0, svar = 0;
#if SD_SIMD
        if (ix0 >= 0 && ix0 + 8 <= nx_in && iy0 >= 0 && iy0 + 6 <= ny_in) {
          /* interior: 8 lanes per row (the last two with zero weight), masks for unusable */
          const v128_t kx0 = wasm_v128_load(lx), kx1 = wasm_f32x4_make(lx[4], lx[5], 0.0f, 0.0f);
          const v128_t zero = wasm_f32x4_splat(0.0f);
          v128_t aw = zero, av = zero, avar = zero;
          for (int j = 0; j < 6; j++) {
            const v128_t vy = wasm_f32x4_splat(ly[j]);
            const size_t r0 = (size_t)(iy0 + j) * nx_in + ix0;
            const v128_t v0 = wasm_v128_load(vm + r0), v1 = wasm_v128_load(vm + r0 + 4);
            const v128_t q0 = wasm_v128_load(var + r0), q1 = wasm_v128_load(var + r0 + 4);
            const v128_t g0 = wasm_f32x4_gt(q0, zero), g1 = wasm_f32x4_gt(q1, zero);
            const v128_t k0 = wasm_v128_and(wasm_f32x4_mul(kx0, vy), g0);
            const v128_t k1 = wasm_v128_and(wasm_f32x4_mul(kx1, vy), g1);
            aw = wasm_f32x4_add(aw, wasm_f32x4_add(k0, k1));
            av = wasm_f32x4_add(av, wasm_f32x4_add(wasm_f32x4_mul(k0, v0), wasm_f32x4_mul(k1, v1)));
            avar = wasm_f32x4_add(avar, wasm_f32x4_add(wasm_f32x4_mul(k0, q0), wasm_f32x4_mul(k1, q1)));
          }
          sw = wasm_f32x4_extract_lane(aw, 0) + wasm_f32x4_extract_lane(aw, 1) +
               wasm_f32x4_extract_lane(aw, 2) + wasm_f32x4_extract_lane(aw, 3);
          sv = wasm_f32x4_extract_lane(av, 0) + wasm_f32x4_extract_lane(av, 1) +
               wasm_f32x4_extract_lane(av, 2) + wasm_f32x4_extract_lane(av, 3);
          svar = wasm_f32x4_extract_lane(avar, 0) + wasm_f32x4_extract_lane(avar, 1) +
                 wasm_f32x4_extract_lane(avar, 2) + wasm_f32x4_extract_lane(avar, 3);
        } else
#endif
        if (ix0 >= 0 && ix0 + 6 <= nx_in && iy0 >= 0 && iy0 + 6 <= ny_in) {
          for (int j = 0; j < 6; j++) {
            const float *row = vm + (size_t)(iy0 + j) * nx_in + ix0;
            const float *vrow = var + (size_t)(iy0 + j) * nx_in + ix0;
            float rw = 0, rv = 0, rq = 0;
            for (int i = 0; i < 6; i++) {
              const float g = vrow[i] > 0.0f ? lx[i] : 0.0f;
              rw += g, rv += g * row[i], rq += g * vrow[i];
            }
            sw += ly[j] * rw, sv += ly[j] * rv, svar += ly[j] * rq;
          }
        } else {
          for (int j = 0; j < 6; j++) {
            const int32_t yy = iy0 + j;
            if (yy < 0 || yy >= ny_in || ly[j] == 0.0f) continue;
            const float *row = vm + (size_t)yy * nx_in, *vrow = var + (size_t)yy * nx_in;
            for (int i = 0; i < 6; i++) {
              const int32_t xx = ix0 + i;
              if (xx < 0 || xx >= nx_in || !(vrow[xx] > 0.0f)) continue;
              const float k = lx[i] * ly[j];
              sw += k, sv += k * row[xx], svar += k * vrow[xx];
            }
          }
        }
        if (sw >= 0.5) {
          const double jac = flux_conserve ? det : 1.0;
          val = (float)(sv / sw * jac);
          if (weight != NULL) {
            double vout = svar / sw;
            if (!(vout > 0)) {
              /* negative lobes over a steep variance: nearest pixel's variance */
              const int32_t xn = (int32_t)floor(px + 0.5), yn = (int32_t)floor(py + 0.5);
              const float wn = weight[(size_t)yn * nx_in + xn];
              vout = wn > 0 ? 1.0 / wn : 0.0;
            }
            wout = vout > 0 ? (float)(1.0 / (vout * jac * jac)) : 0.0f;
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
  free(cell);
  free(cw);
  free(var);
  free(vm);
  free(tab);
  return status;
}
