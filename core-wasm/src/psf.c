/*
 * psf.c — PSF modelling in the manner of PSFEx: star selection on the stellar locus, a
 * pixel-basis PSF whose pixels vary over the CCD as a polynomial of (x, y), fitted by
 * least squares over Lanczos-3-recentred, unit-sum star stamps with outlier rejection;
 * evaluation at any position with a sub-pixel shift; FWHM of the model; PSF photometry
 * (linear at fixed positions, Gauss-Newton with positions fitted).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phot_util.h"
#include "sd_core.h"

#if defined(__wasm_simd128__) && !defined(SD_NO_SIMD)
#include <wasm_simd128.h>
#define PSF_SIMD 1
#else
#define PSF_SIMD 0
#endif

/* y += a * x over n floats. */
static void axpy(float *y, const float *x, float a, int n) {
  int i = 0;
#if PSF_SIMD
  v128_t va = wasm_f32x4_splat(a);
  for (; i + 4 <= n; i += 4) {
    v128_t vy = wasm_v128_load(y + i);
    wasm_v128_store(y + i, wasm_f32x4_add(vy, wasm_f32x4_mul(va, wasm_v128_load(x + i))));
  }
#endif
  for (; i < n; i++) y[i] += a * x[i];
}

/* Sum of squared differences and of squares of m over n floats. */
static void sqdiff(const float *v, const float *m, int n, double *d2, double *m2) {
  int i = 0;
  double sd = 0.0, sm = 0.0;
#if PSF_SIMD
  v128_t a = wasm_f32x4_splat(0.0f), b = a;
  for (; i + 4 <= n; i += 4) {
    v128_t vm = wasm_v128_load(m + i);
    v128_t d = wasm_f32x4_sub(wasm_v128_load(v + i), vm);
    a = wasm_f32x4_add(a, wasm_f32x4_mul(d, d));
    b = wasm_f32x4_add(b, wasm_f32x4_mul(vm, vm));
  }
  sd = (double)wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1) +
       wasm_f32x4_extract_lane(a, 2) + wasm_f32x4_extract_lane(a, 3);
  sm = (double)wasm_f32x4_extract_lane(b, 0) + wasm_f32x4_extract_lane(b, 1) +
       wasm_f32x4_extract_lane(b, 2) + wasm_f32x4_extract_lane(b, 3);
#endif
  for (; i < n; i++) {
    double d = (double)v[i] - m[i];
    sd += d * d;
    sm += (double)m[i] * m[i];
  }
  *d2 = sd;
  *m2 = sm;
}

typedef struct {
  int size, os, degree, nterms;
  double xc, xs, yc, ys, fwhm;
} psf_hdr;

static int read_hdr(const float *m, int32_t len, psf_hdr *h) {
  if (m == NULL || len < SD_PSF_HEADER) return 0;
  if ((int)m[0] != SD_PSF_VERSION) return 0;
  h->size = (int)m[1];
  h->os = (int)m[2];
  h->degree = (int)m[3];
  h->nterms = (int)m[4];
  h->xc = m[5];
  h->xs = m[6];
  h->yc = m[7];
  h->ys = m[8];
  h->fwhm = m[9];
  if (h->size < 3 || h->size % 2 == 0 || h->os < 1 || h->degree < 0 || h->degree > 8 ||
      h->nterms != pu_nterms(h->degree) || !(h->xs > 0) || !(h->ys > 0)) {
    return 0;
  }
  if ((int64_t)SD_PSF_HEADER + (int64_t)h->nterms * h->size * h->size > len) return 0;
  return 1;
}

sd_status sd_psf_model_length(int32_t size, int32_t degree, int32_t *length) {
  if (length == NULL || size < 3 || size % 2 == 0 || size > 1001 || degree < 0 || degree > 8) {
    return SD_ERR_ARG;
  }
  *length = SD_PSF_HEADER + pu_nterms(degree) * size * size;
  return SD_OK;
}

/* PSF grid at a position: P = sum_k term_k B_k. */
static void psf_grid(const psf_hdr *h, const float *basis, double x, double y, float *P) {
  double t[45];
  int s2 = h->size * h->size;
  pu_terms(h->degree, (x - h->xc) / h->xs, (y - h->yc) / h->ys, t);
  memset(P, 0, sizeof(float) * (size_t)s2);
  for (int k = 0; k < h->nterms; k++) axpy(P, basis + (size_t)k * s2, (float)t[k], s2);
}

/* Lanczos-3 value of grid P (S x S, zero outside) at grid coordinates (gx, gy). */
static double grid_interp(const float *P, int S, double gx, double gy) {
  double wx[6], wy[6];
  int bx = pu_lanczos3(gx, wx, NULL), by = pu_lanczos3(gy, wy, NULL);
  double v = 0.0;
  for (int b = 0; b < 6; b++) {
    int r = by + b;
    if (r < 0 || r >= S || wy[b] == 0.0) continue;
    double acc = 0.0;
    for (int a = 0; a < 6; a++) {
      int c = bx + a;
      if (c < 0 || c >= S) continue;
      acc += wx[a] * P[(size_t)r * S + c];
    }
    v += wy[b] * acc;
  }
  return v;
}

/* FWHM (image px) of the grid P: area above half maximum on a 1/8-grid-pixel lattice. */
static double grid_fwhm(const float *P, int S, int os) {
  int c = S / 2;
  float pm = 0.0f;
  for (int k = 0; k < S * S; k++) pm = P[k] > pm ? P[k] : pm;
  if (!(pm > 0.0f)) return NAN;
  int x0 = S, x1 = -1, y0 = S, y1 = -1;
  for (int j = 0; j < S; j++) {
    for (int i = 0; i < S; i++) {
      if (P[(size_t)j * S + i] < 0.25f * pm) continue;
      if (i < x0) x0 = i;
      if (i > x1) x1 = i;
      if (j < y0) y0 = j;
      if (j > y1) y1 = j;
    }
  }
  x0 = x0 > 0 ? x0 - 1 : 0;
  y0 = y0 > 0 ? y0 - 1 : 0;
  x1 = x1 < S - 1 ? x1 + 1 : S - 1;
  y1 = y1 < S - 1 ? y1 + 1 : S - 1;
  const int sub = 8;
  int nxs = (x1 - x0) * sub + 1, nys = (y1 - y0) * sub + 1;
  double peak = 0.0;
  /* peak: fine search near the centre */
  for (int j = -sub; j <= sub; j++) {
    for (int i = -sub; i <= sub; i++) {
      double v = grid_interp(P, S, c + (double)i / sub, c + (double)j / sub);
      if (v > peak) peak = v;
    }
  }
  if (pm > peak) peak = pm;
  long count = 0;
  for (int j = 0; j < nys; j++) {
    for (int i = 0; i < nxs; i++) {
      double v = grid_interp(P, S, x0 + (double)i / sub, y0 + (double)j / sub);
      if (v >= 0.5 * peak) count++;
    }
  }
  double area = (double)count / (sub * sub) / ((double)os * os);
  return 2.0 * sqrt(area / PU_PI);
}

/*
 * Renders grid P of a star at (x, y) onto image pixels X0..X0+L-1, Y0..Y0+L-1, divided by
 * norm; dmx / dmy (NULL allowed) get the derivatives with respect to x and y. tmp holds
 * 2 S L floats, taps 24 L doubles and 2 L ints.
 */
static void render_grid(const psf_hdr *h, const float *P, double norm, double x, double y, int X0,
                        int Y0, int L, float *out, float *dmx, float *dmy, float *tmp,
                        double *taps, int *bases) {
  int S = h->size, c = S / 2;
  double os = h->os;
  double *wx = taps, *dwx = taps + 6 * L, *wy = taps + 12 * L, *dwy = taps + 18 * L;
  int *bx = bases, *by = bases + L;
  int deriv = dmx != NULL;
  for (int i = 0; i < L; i++) {
    bx[i] = pu_lanczos3(c + (X0 + i - x) * os, wx + 6 * i, dwx + 6 * i);
    by[i] = pu_lanczos3(c + (Y0 + i - y) * os, wy + 6 * i, dwy + 6 * i);
  }
  float *t = tmp, *td = tmp + (size_t)S * L;
  int r0 = by[0] < 0 ? 0 : by[0], r1 = by[L - 1] + 5 > S - 1 ? S - 1 : by[L - 1] + 5;
  /* pass 1: interpolate the needed grid rows along x */
  float seg[1024];
  int constw = h->os == 1 && L + 8 <= 1024; /* one image px = one grid px: same taps for all i */
  float w6[6], dw6[6];
  for (int a = 0; a < 6; a++) {
    w6[a] = (float)wx[a];
    dw6[a] = (float)dwx[a];
  }
  for (int r = r0; r <= r1; r++) {
    const float *pr = P + (size_t)r * S;
    float *tr = t + (size_t)r * L, *tdr = td + (size_t)r * L;
    if (constw) {
      int b0 = bx[0];
      for (int k = 0; k < L + 8; k++) {
        int col = b0 + k;
        seg[k] = (col >= 0 && col < S) ? pr[col] : 0.0f;
      }
      int i = 0;
#if PSF_SIMD
      for (; i + 4 <= L; i += 4) {
        v128_t acc = wasm_f32x4_splat(0.0f), dacc = acc;
        for (int a = 0; a < 6; a++) {
          v128_t v = wasm_v128_load(seg + i + a);
          acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(w6[a]), v));
          dacc = wasm_f32x4_add(dacc, wasm_f32x4_mul(wasm_f32x4_splat(dw6[a]), v));
        }
        wasm_v128_store(tr + i, acc);
        wasm_v128_store(tdr + i, dacc);
      }
#endif
      for (; i < L; i++) {
        float acc = 0.0f, dacc = 0.0f;
        for (int a = 0; a < 6; a++) {
          acc += w6[a] * seg[i + a];
          dacc += dw6[a] * seg[i + a];
        }
        tr[i] = acc;
        tdr[i] = dacc;
      }
      continue;
    }
    for (int i = 0; i < L; i++) {
      double acc = 0.0, dacc = 0.0;
      for (int a = 0; a < 6; a++) {
        int col = bx[i] + a;
        if (col < 0 || col >= S) continue;
        acc += wx[6 * i + a] * pr[col];
        dacc += dwx[6 * i + a] * pr[col];
      }
      tr[i] = (float)acc;
      tdr[i] = (float)dacc;
    }
  }
  /* pass 2: combine rows along y (row axpy) */
  float inv = (float)(1.0 / norm), dinv = (float)(-os / norm);
  for (int j = 0; j < L; j++) {
    float *oj = out + (size_t)j * L;
    float *xj = deriv ? dmx + (size_t)j * L : NULL, *yj = deriv ? dmy + (size_t)j * L : NULL;
    memset(oj, 0, sizeof(float) * (size_t)L);
    if (deriv) {
      memset(xj, 0, sizeof(float) * (size_t)L);
      memset(yj, 0, sizeof(float) * (size_t)L);
    }
    for (int b = 0; b < 6; b++) {
      int r = by[j] + b;
      if (r < 0 || r >= S) continue;
      axpy(oj, t + (size_t)r * L, (float)wy[6 * j + b] * inv, L);
      if (deriv) {
        axpy(xj, td + (size_t)r * L, (float)wy[6 * j + b] * dinv, L);
        axpy(yj, t + (size_t)r * L, (float)dwy[6 * j + b] * dinv, L);
      }
    }
  }
}

static double grid_norm(const float *P, int S, int os) {
  double s = 0.0;
  for (int k = 0; k < S * S; k++) s += P[k];
  return s / ((double)os * os);
}

sd_status sd_psf_render(const float *model, int32_t model_len, double x, double y, int32_t side,
                        float *out) {
  psf_hdr h;
  if (!read_hdr(model, model_len, &h) || side < 1 || side % 2 == 0 || side > 4001 ||
      out == NULL || !pu_pos_ok(x, y)) {
    return SD_ERR_ARG;
  }
  sd_status st = SD_OK;
  int S = h.size, L = side;
  float *P = (float *)malloc(sizeof(float) * (size_t)S * S);
  float *tmp = (float *)malloc(sizeof(float) * 2 * (size_t)S * L);
  double *taps = (double *)malloc(sizeof(double) * 24 * (size_t)L);
  int *bases = (int *)malloc(sizeof(int) * 2 * (size_t)L);
  if (!P || !tmp || !taps || !bases) {
    st = SD_ERR_NOMEM;
    goto done;
  }
  psf_grid(&h, model + SD_PSF_HEADER, x, y, P);
  double norm = grid_norm(P, S, h.os);
  if (!(norm > 0.0)) {
    st = SD_ERR_EMPTY;
    goto done;
  }
  int ix = (int)floor(x + 0.5), iy = (int)floor(y + 0.5);
  render_grid(&h, P, norm, x, y, ix - L / 2, iy - L / 2, L, out, NULL, NULL, tmp, taps, bases);
done:
  free(P);
  free(tmp);
  free(taps);
  free(bases);
  return st;
}

sd_status sd_psf_fwhm(const float *model, int32_t model_len, double x, double y, double *fwhm) {
  psf_hdr h;
  if (!read_hdr(model, model_len, &h) || fwhm == NULL) return SD_ERR_ARG;
  float *P = (float *)malloc(sizeof(float) * (size_t)h.size * h.size);
  if (P == NULL) return SD_ERR_NOMEM;
  psf_grid(&h, model + SD_PSF_HEADER, x, y, P);
  *fwhm = grid_fwhm(P, h.size, h.os);
  free(P);
  return isfinite(*fwhm) ? SD_OK : SD_ERR_EMPTY;
}

/* ---- star selection ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

sd_status sd_psf_select(const double *snr, const double *fwhm, const double *peak,
                        const int32_t *src_flags, const double *x, const double *y,
                        const double *flux, int32_t n, const sd_psf_select_opts *opts,
                        uint8_t *selected, double *fwhm_mode) {
  if (snr == NULL || fwhm == NULL || n < 0 || selected == NULL || fwhm_mode == NULL) {
    return SD_ERR_ARG;
  }
  sd_psf_select_opts o = {0, 0, 0, 0, 0, 0, 0};
  if (opts != NULL) o = *opts;
  if (o.isolation_frac == 0.0) o.isolation_frac = 0.01;
  if (o.isolation < 0.0 || (o.isolation > 0.0 && (x == NULL || y == NULL || flux == NULL))) {
    return SD_ERR_ARG;
  }
  if (o.snr_min == 0.0) o.snr_min = 20.0;
  if (o.fwhm_tol == 0.0) o.fwhm_tol = 0.2;
  if (o.fwhm_min == 0.0) o.fwhm_min = 1.0;
  if (!(o.fwhm_tol > 0.0) || o.max_stars < 0.0) return SD_ERR_ARG;
  sd_status st = SD_OK;
  double *v = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  double *ord = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (v == NULL || ord == NULL) {
    st = SD_ERR_NOMEM;
    goto done;
  }
  int m = 0;
  for (int32_t i = 0; i < n; i++) {
    selected[i] = 0;
    int ok = snr[i] >= o.snr_min && isfinite(fwhm[i]) && fwhm[i] >= o.fwhm_min;
    if (src_flags != NULL && src_flags[i] != 0) ok = 0;
    if (o.saturation > 0.0 && peak != NULL && !(peak[i] < o.saturation)) ok = 0;
    if (ok) {
      selected[i] = 1;
      v[m++] = fwhm[i];
    }
  }
  if (m == 0) {
    *fwhm_mode = NAN;
    st = SD_ERR_EMPTY;
    goto done;
  }
  qsort(v, (size_t)m, sizeof(double), cmp_double);
  /* mode: the densest window of relative width fwhm_tol / 2 (shortest half-sample style) */
  int best_count = 0;
  double mode = v[m / 2];
  int hi = 0;
  for (int lo = 0; lo < m; lo++) {
    double lim = v[lo] * (1.0 + 0.5 * o.fwhm_tol);
    if (hi < lo) hi = lo;
    while (hi + 1 < m && v[hi + 1] <= lim) hi++;
    int count = hi - lo + 1;
    if (count > best_count) {
      best_count = count;
      mode = v[lo + (hi - lo) / 2];
    }
  }
  *fwhm_mode = mode;
  int kept = 0;
  for (int32_t i = 0; i < n; i++) {
    if (!selected[i]) continue;
    if (fabs(fwhm[i] / mode - 1.0) > o.fwhm_tol) {
      selected[i] = 0;
      continue;
    }
    if (o.isolation > 0.0) {
      /* any brighter-than-isolation_frac neighbour within the radius (O(n^2); n is a catalogue) */
      int crowded = 0;
      double r2 = o.isolation * o.isolation, fmin = o.isolation_frac * flux[i];
      for (int32_t j = 0; j < n && !crowded; j++) {
        if (j == i) continue;
        double dx = x[j] - x[i], dy = y[j] - y[i];
        if (dx * dx + dy * dy < r2 && !(flux[j] <= fmin)) crowded = 1;
      }
      if (crowded) {
        selected[i] = 0;
        continue;
      }
    }
    ord[kept++] = snr[i];
  }
  if (kept == 0) {
    st = SD_ERR_EMPTY;
    goto done;
  }
  if (o.max_stars > 0.0 && kept > (int)o.max_stars) {
    qsort(ord, (size_t)kept, sizeof(double), cmp_double);
    double cut = ord[kept - (int)o.max_stars];
    int left = (int)o.max_stars;
    for (int32_t i = 0; i < n; i++) {
      if (!selected[i]) continue;
      if (snr[i] > cut && left > 0) left--;
      else if (snr[i] == cut && left > 0) left--;
      else selected[i] = 0;
    }
  }
done:
  free(v);
  free(ord);
  return st;
}

/*
 * Samples src (image pixels; src pixel (i, j) is image pixel (ox + i, oy + j), row stride
 * stride) at the grid positions of a star at (x, y): grid pixel (gi, gj) is image position
 * (x + (gi - c) / os, y + (gj - c) / os), Lanczos-3. The caller guarantees the taps are
 * inside src. Returns the sum of the samples. wxs holds 6 S doubles, bxs S ints.
 */
static double sample_to_grid(const float *src, int stride, int ox, int oy, double x, double y,
                             int S, int os, float *v, double *wxs, int *bxs) {
  int c = S / 2;
  for (int gi = 0; gi < S; gi++) {
    bxs[gi] = pu_lanczos3(x + (double)(gi - c) / os, wxs + 6 * gi, NULL) - ox;
  }
  /* rows of src the y taps touch, interpolated along x first (separable) */
  double wy0[6];
  int row0 = pu_lanczos3(y + (double)(0 - c) / os, wy0, NULL) - oy;
  int row1 = pu_lanczos3(y + (double)(S - 1 - c) / os, wy0, NULL) - oy + 5;
  int nrows = row1 - row0 + 1;
  double rowbuf[4096];
  double *tx = nrows * S <= (int)(sizeof rowbuf / sizeof rowbuf[0])
                   ? rowbuf
                   : (double *)malloc(sizeof(double) * (size_t)nrows * S);
  if (tx == NULL) return NAN;
  for (int rr = 0; rr < nrows; rr++) {
    const float *row = src + (size_t)(row0 + rr) * stride;
    for (int gi = 0; gi < S; gi++) {
      const float *p = row + bxs[gi];
      const double *w = wxs + 6 * gi;
      tx[(size_t)rr * S + gi] = w[0] * p[0] + w[1] * p[1] + w[2] * p[2] + w[3] * p[3] +
                                w[4] * p[4] + w[5] * p[5];
    }
  }
  double sum = 0.0;
  for (int gj = 0; gj < S; gj++) {
    double wy[6];
    int by = pu_lanczos3(y + (double)(gj - c) / os, wy, NULL) - oy - row0;
    for (int gi = 0; gi < S; gi++) {
      double acc = 0.0;
      for (int b = 0; b < 6; b++) acc += wy[b] * tx[(size_t)(by + b) * S + gi];
      v[(size_t)gj * S + gi] = (float)acc;
      sum += acc;
    }
  }
  if (tx != rowbuf) free(tx);
  return sum;
}

/* ---- model fitting ---- */

sd_status sd_psf_fit(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                     int32_t ny, const double *x, const double *y, int32_t n,
                     const sd_psf_fit_opts *opts, float *model, int32_t model_len,
                     uint8_t *used) {
  if (img == NULL || nx <= 0 || ny <= 0 || n < 0 || (n > 0 && (!x || !y)) || model == NULL) {
    return SD_ERR_ARG;
  }
  sd_psf_fit_opts o = {0, 0, 0, 0, 0, 0};
  if (opts != NULL) o = *opts;
  if (o.size == 0.0) o.size = 25.0;
  if (o.oversample == 0.0) o.oversample = 1.0;
  if (o.fwhm == 0.0) o.fwhm = 3.0;
  if (o.reject_sigma == 0.0) o.reject_sigma = 4.0;
  if (o.iterations == 0.0) o.iterations = 3.0;
  int degree = opts != NULL && opts->degree != 0.0 ? (int)o.degree : 2;
  if (opts != NULL && opts->degree < 0.0) degree = 0; /* -1: explicitly constant */
  int os = (int)o.oversample;
  if (os < 1 || os > 8 || degree > 8 || !(o.fwhm > 0.0)) return SD_ERR_ARG;
  int S;
  if (o.size == -1.0) {
    S = (int)ceil(5.0 * o.fwhm * os);
    if (S % 2 == 0) S++;
    if (S < 11) S = 11;
  } else {
    S = (int)o.size;
    if (S < 3 || S % 2 == 0 || S != o.size) return SD_ERR_ARG;
  }
  int32_t need;
  if (sd_psf_model_length(S, degree, &need) != SD_OK) return SD_ERR_ARG;
  if (model_len < need) return SD_ERR_OVERFLOW;
  int S2 = S * S, c = S / 2;
  sd_status st = SD_OK;
  float *vals = (float *)malloc(sizeof(float) * (size_t)S2 * (n > 0 ? n : 1));
  double *wts = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  double *noise = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  double *res = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  double *tmpd = (double *)malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  uint8_t *keep = (uint8_t *)calloc((size_t)(n > 0 ? n : 1), 1);
  double *wxs = (double *)malloc(sizeof(double) * 6 * S);
  int *bxs = (int *)malloc(sizeof(int) * S);
  float *P = (float *)malloc(sizeof(float) * (size_t)S2);
  double *terms = (double *)malloc(sizeof(double) * 45 * (size_t)(n > 0 ? n : 1));
  double mat[45 * 45], work[2 * 45 * 45];
  /* buffers of the forward-model refinement: a W x W image stamp per star */
  int W = (S - 1 + os - 1) / os + 10;
  float *R = (float *)malloc(sizeof(float) * (size_t)W * W);
  float *g = (float *)malloc(sizeof(float) * (size_t)S2);
  float *corr = (float *)malloc(sizeof(float) * (size_t)pu_nterms(degree) * S2);
  float *rtmp = (float *)malloc(sizeof(float) * 2 * (size_t)S * W);
  double *rtaps = (double *)malloc(sizeof(double) * 24 * (size_t)W);
  int *rbases = (int *)malloc(sizeof(int) * 2 * (size_t)W);
  if (!vals || !wts || !noise || !res || !tmpd || !keep || !wxs || !bxs || !P || !terms || !R ||
      !g || !corr || !rtmp || !rtaps || !rbases) {
    st = SD_ERR_NOMEM;
    goto done;
  }
  double xc = 0.5 * (nx - 1), xs = 0.5 * nx, yc = 0.5 * (ny - 1), ys = 0.5 * ny;
  uint32_t mask = 0xFFFFu;
  int nkeep = 0;
  for (int32_t s = 0; s < n; s++) {
    float *v = vals + (size_t)s * S2;
    if (!pu_pos_ok(x[s], y[s])) continue;
    /* image pixels the Lanczos taps touch */
    int ax0 = (int)floor(x[s] + (double)(0 - c) / os) - 3;
    int ax1 = (int)floor(x[s] + (double)(S - 1 - c) / os) + 4;
    int ay0 = (int)floor(y[s] + (double)(0 - c) / os) - 3;
    int ay1 = (int)floor(y[s] + (double)(S - 1 - c) / os) + 4;
    if (ax0 < 0 || ay0 < 0 || ax1 > nx - 1 || ay1 > ny - 1) continue;
    int bad = 0;
    double var = 0.0;
    for (int j = ay0; j <= ay1 && !bad; j++) {
      for (int i = ax0; i <= ax1; i++) {
        size_t k = (size_t)j * nx + i;
        if (!pu_valid(weight, flags, mask, k) || !isfinite(img[k])) {
          bad = 1;
          break;
        }
      }
    }
    if (bad) continue;
    double sum = sample_to_grid(img, nx, 0, 0, x[s], y[s], S, os, v, wxs, bxs);
    if (!(sum > 0.0)) continue;
    double inv = 1.0 / sum;
    for (int p = 0; p < S2; p++) v[p] = (float)(v[p] * inv);
    /* per-pixel variance of the normalised stamp (image-pixel units) */
    if (weight != NULL) {
      int ix0 = (int)floor(x[s] - (double)c / os + 0.5), ix1 = (int)floor(x[s] + (double)c / os + 0.5);
      int iy0 = (int)floor(y[s] - (double)c / os + 0.5), iy1 = (int)floor(y[s] + (double)c / os + 0.5);
      int cnt = 0;
      for (int j = iy0; j <= iy1; j++) {
        for (int i = ix0; i <= ix1; i++) {
          var += 1.0 / weight[(size_t)j * nx + i];
          cnt++;
        }
      }
      var = var / cnt * inv * inv / ((double)os * os * os * os);
    } else {
      var = 1.0;
    }
    noise[s] = var;
    wts[s] = 1.0 / var;
    pu_terms(degree, (x[s] - xc) / xs, (y[s] - yc) / ys, terms + 45 * (size_t)s);
    keep[s] = 1;
    nkeep++;
  }
  if (nkeep == 0) {
    st = SD_ERR_EMPTY;
    goto done;
  }
  /* cap star weights at 10 x their median so a few bright stars cannot dominate */
  {
    int m = 0;
    for (int32_t s = 0; s < n; s++) {
      if (keep[s]) tmpd[m++] = wts[s];
    }
    double med = pu_median(tmpd, m);
    for (int32_t s = 0; s < n; s++) {
      if (keep[s] && wts[s] > 10.0 * med) wts[s] = 10.0 * med;
    }
  }
  float *basis = model + SD_PSF_HEADER;
  int deg = degree;
  for (int iter = 0; iter < (int)o.iterations; iter++) {
    while (deg > 0 && nkeep < 2 * pu_nterms(deg)) deg--;
    int T = pu_nterms(deg);
    if (nkeep < T) {
      st = SD_ERR_EMPTY;
      goto done;
    }
    /* normal matrix over the kept stars (terms of degree deg are a prefix-free subset: recompute) */
    for (int32_t s = 0; s < n; s++) {
      if (keep[s]) pu_terms(deg, (x[s] - xc) / xs, (y[s] - yc) / ys, terms + 45 * (size_t)s);
    }
    memset(mat, 0, sizeof(double) * (size_t)T * T);
    for (int32_t s = 0; s < n; s++) {
      if (!keep[s]) continue;
      const double *t = terms + 45 * (size_t)s;
      for (int a = 0; a < T; a++) {
        for (int b = 0; b < T; b++) mat[a * T + b] += wts[s] * t[a] * t[b];
      }
    }
    while (!pu_invert(mat, T, work)) {
      if (deg == 0) {
        st = SD_ERR_SINGULAR;
        goto done;
      }
      deg--;
      T = pu_nterms(deg);
      for (int32_t s = 0; s < n; s++) {
        if (keep[s]) pu_terms(deg, (x[s] - xc) / xs, (y[s] - yc) / ys, terms + 45 * (size_t)s);
      }
      memset(mat, 0, sizeof(double) * (size_t)T * T);
      for (int32_t s = 0; s < n; s++) {
        if (!keep[s]) continue;
        const double *t = terms + 45 * (size_t)s;
        for (int a = 0; a < T; a++) {
          for (int b = 0; b < T; b++) mat[a * T + b] += wts[s] * t[a] * t[b];
        }
      }
    }
    memset(basis, 0, sizeof(float) * (size_t)T * S2);
    for (int32_t s = 0; s < n; s++) {
      if (!keep[s]) continue;
      const double *t = terms + 45 * (size_t)s;
      for (int k = 0; k < T; k++) {
        double ck = 0.0;
        for (int m = 0; m < T; m++) ck += mat[k * T + m] * t[m];
        axpy(basis + (size_t)k * S2, vals + (size_t)s * S2, (float)(ck * wts[s]), S2);
      }
    }
    if (iter + 1 >= (int)o.iterations) break;
    /* residual of each kept star, in units of its noise (or raw without a weight map) */
    int m = 0;
    psf_hdr h = {S, os, deg, T, xc, xs, yc, ys, 0.0};
    double max_change = 0.0;
    for (int32_t s = 0; s < n; s++) {
      if (!keep[s]) continue;
      psf_grid(&h, basis, x[s], y[s], P);
      /*
       * Re-normalise the star by its amplitude against the model over the core (within
       * 2 FWHM): the first normalisation (stamp sum) includes neighbours in the wings.
       */
      {
        float *v = vals + (size_t)s * S2;
        double rc = 2.0 * o.fwhm * os, num = 0.0, den = 0.0;
        for (int gj = 0; gj < S; gj++) {
          for (int gi = 0; gi < S; gi++) {
            if ((gi - c) * (gi - c) + (gj - c) * (gj - c) > rc * rc) continue;
            size_t q = (size_t)gj * S + gi;
            num += (double)v[q] * P[q];
            den += (double)P[q] * P[q];
          }
        }
        double amp = den > 0.0 ? num / den : 1.0;
        if (amp > 0.2 && amp < 5.0) {
          float inv = (float)(1.0 / amp);
          for (int q = 0; q < S2; q++) v[q] *= inv;
          noise[s] /= amp * amp;
          if (fabs(amp - 1.0) > max_change) max_change = fabs(amp - 1.0);
        }
      }
      double d2, m2;
      sqdiff(vals + (size_t)s * S2, P, S2, &d2, &m2);
      res[s] = d2 / S2 / noise[s];
      tmpd[m++] = res[s];
    }
    double med = pu_median(tmpd, m);
    for (int i = 0; i < m; i++) tmpd[i] = fabs(tmpd[i] - med);
    m = 0;
    for (int32_t s = 0; s < n; s++) {
      if (keep[s]) tmpd[m++] = fabs(res[s] - med);
    }
    double mad = pu_median(tmpd, m) * 1.4826;
    /* a floor on the spread keeps noiseless or near-perfect fits from rejecting good stars */
    double spread = mad > 0.5 * med ? mad : 0.5 * med;
    double cut = med + o.reject_sigma * spread;
    int rejected = 0;
    for (int32_t s = 0; s < n; s++) {
      if (keep[s] && res[s] > cut && nkeep - rejected > pu_nterms(deg) + 1) {
        keep[s] = 0;
        rejected++;
      }
    }
    nkeep -= rejected;
    if (rejected == 0 && max_change < 1e-4) break;
  }
  /*
   * Forward-model refinement: the stars were interpolated once onto the grid, and rendering
   * interpolates again, which blurs. Fit the residual between each star's grid samples and
   * the model rendered at the star then sampled back the same way, and add it (a few rounds).
   */
  {
    int T = pu_nterms(deg);
    psf_hdr h = {S, os, deg, T, xc, xs, yc, ys, 0.0};
    for (int it = 0; it < 10; it++) {
      memset(corr, 0, sizeof(float) * (size_t)T * S2);
      for (int32_t s = 0; s < n; s++) {
        if (!keep[s]) continue;
        psf_grid(&h, basis, x[s], y[s], P);
        int ox = (int)floor(x[s] - (double)c / os) - 4, oy = (int)floor(y[s] - (double)c / os) - 4;
        render_grid(&h, P, 1.0, x[s], y[s], ox, oy, W, R, NULL, NULL, rtmp, rtaps, rbases);
        sample_to_grid(R, W, ox, oy, x[s], y[s], S, os, g, wxs, bxs);
        const float *v = vals + (size_t)s * S2;
        for (int p = 0; p < S2; p++) g[p] = v[p] - g[p];
        const double *t = terms + 45 * (size_t)s;
        for (int k = 0; k < T; k++) {
          double ck = 0.0;
          for (int m = 0; m < T; m++) ck += mat[k * T + m] * t[m];
          axpy(corr + (size_t)k * S2, g, (float)(ck * wts[s]), S2);
        }
      }
      for (int k = 0; k < T * S2; k++) basis[k] += corr[k];
    }
  }
  {
    int T = pu_nterms(deg);
    memset(basis + (size_t)T * S2, 0, sizeof(float) * (size_t)(model_len - SD_PSF_HEADER - T * S2));
    memset(model, 0, sizeof(float) * SD_PSF_HEADER);
    model[0] = SD_PSF_VERSION;
    model[1] = (float)S;
    model[2] = (float)os;
    model[3] = (float)deg;
    model[4] = (float)T;
    model[5] = (float)xc;
    model[6] = (float)xs;
    model[7] = (float)yc;
    model[8] = (float)ys;
    psf_hdr h = {S, os, deg, T, xc, xs, yc, ys, 0.0};
    psf_grid(&h, basis, xc, yc, P);
    model[9] = (float)grid_fwhm(P, S, os);
    model[10] = (float)nkeep;
    model[11] = (float)n;
  }
  if (used != NULL) {
    for (int32_t s = 0; s < n; s++) used[s] = keep[s];
  }
done:
  free(vals);
  free(wts);
  free(noise);
  free(res);
  free(tmpd);
  free(keep);
  free(wxs);
  free(bxs);
  free(P);
  free(terms);
  free(R);
  free(g);
  free(corr);
  free(rtmp);
  free(rtaps);
  free(rbases);
  return st;
}

/* ---- PSF photometry ---- */

typedef struct {
  float *m, *dmx, *dmy, *tmp, *P;
  double *taps;
  int *bases;
  double *d, *pm, *px, *py, *v0;
  int L;
} phot_buf;

/* Renders the PSF at (x, y) and collects the fit pixels; returns their number (-1: no PSF). */
static int collect(const float *img, const float *weight, const uint16_t *flags, uint32_t mask,
                   int nx, int ny, const psf_hdr *h, const float *basis, phot_buf *pb, double x,
                   double y, double rfit, int deriv, int32_t *fl) {
  int L = pb->L;
  psf_grid(h, basis, x, y, pb->P);
  double norm = grid_norm(pb->P, h->size, h->os);
  if (!(norm > 0.0)) return -1;
  int X0 = (int)floor(x + 0.5) - L / 2, Y0 = (int)floor(y + 0.5) - L / 2;
  render_grid(h, pb->P, norm, x, y, X0, Y0, L, pb->m, deriv ? pb->dmx : NULL,
              deriv ? pb->dmy : NULL, pb->tmp, pb->taps, pb->bases);
  int np = 0;
  for (int j = 0; j < L; j++) {
    int yy = Y0 + j;
    double dy = yy - y;
    for (int i = 0; i < L; i++) {
      int xx = X0 + i;
      double dx = xx - x;
      if (dx * dx + dy * dy > rfit * rfit) continue;
      if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) {
        *fl |= SD_PHOT_TRUNCATED;
        continue;
      }
      size_t k = (size_t)yy * nx + xx;
      if (!pu_valid(weight, flags, mask, k) || !isfinite(img[k])) {
        *fl |= SD_PHOT_MASKED;
        continue;
      }
      size_t q = (size_t)j * L + i;
      pb->d[np] = img[k];
      pb->pm[np] = pb->m[q];
      if (deriv) {
        pb->px[np] = pb->dmx[q];
        pb->py[np] = pb->dmy[q];
      }
      pb->v0[np] = weight != NULL ? 1.0 / weight[k] : 1.0;
      np++;
    }
  }
  return np;
}

/*
 * One weighted least-squares step over the collected pixels. Parameters p = (x, y, F, B);
 * free ones: position when fitpos, F always, B when fitbkg. With fitpos it is a
 * Gauss-Newton step about p (written back as p + step); otherwise the exact linear solution.
 * cov gets the inverse normal matrix (np x np) and *chi2 the weighted sum of squares at p
 * before the step (linear: after). Returns 0 when singular.
 */
static int lsq_step(const phot_buf *pb, int npix, int fitpos, int fitbkg, double gain, double *p,
                    double *cov, double *chi2) {
  int np = (fitpos ? 2 : 0) + 1 + (fitbkg ? 1 : 0);
  double A[16], b[4], work[32];
  memset(A, 0, sizeof A);
  memset(b, 0, sizeof b);
  double F = p[2], B = fitbkg ? p[3] : 0.0;
  for (int q = 0; q < npix; q++) {
    double m = pb->pm[q];
    double var = pb->v0[q];
    if (gain > 0.0 && F > 0.0 && m > 0.0) var += F * m / gain;
    double w = 1.0 / var, J[4];
    int c = 0;
    if (fitpos) {
      J[c++] = F * pb->px[q];
      J[c++] = F * pb->py[q];
    }
    J[c++] = m;
    if (fitbkg) J[c++] = 1.0;
    double r = fitpos ? pb->d[q] - F * m - B : pb->d[q];
    for (int a = 0; a < np; a++) {
      b[a] += w * J[a] * r;
      for (int e = 0; e < np; e++) A[a * np + e] += w * J[a] * J[e];
    }
  }
  if (npix <= np || !pu_invert(A, np, work)) return 0;
  double sol[4] = {0, 0, 0, 0};
  for (int a = 0; a < np; a++) {
    for (int e = 0; e < np; e++) sol[a] += A[a * np + e] * b[e];
  }
  memcpy(cov, A, sizeof(double) * (size_t)np * np);
  if (fitpos) {
    double sx = sol[0], sy = sol[1];
    double lim = 1.0; /* at most one pixel per step */
    double len = sqrt(sx * sx + sy * sy);
    if (len > lim) {
      sx *= lim / len;
      sy *= lim / len;
    }
    p[0] += sx;
    p[1] += sy;
    p[2] += sol[2];
    if (fitbkg) p[3] += sol[3];
  } else {
    p[2] = sol[0];
    p[3] = fitbkg ? sol[1] : 0.0;
  }
  double c2 = 0.0;
  F = p[2];
  B = fitbkg ? p[3] : 0.0;
  for (int q = 0; q < npix; q++) {
    double m = pb->pm[q];
    double var = pb->v0[q];
    if (gain > 0.0 && F > 0.0 && m > 0.0) var += F * m / gain;
    double r = pb->d[q] - F * m - B;
    c2 += r * r / var;
  }
  *chi2 = c2;
  return 1;
}

sd_status sd_psf_phot(const float *img, const float *weight, const uint16_t *flags, int32_t nx,
                      int32_t ny, const float *model, int32_t model_len, const double *x,
                      const double *y, int32_t n, const sd_psf_phot_opts *opts, double *out) {
  psf_hdr h;
  if (img == NULL || nx <= 0 || ny <= 0 || n < 0 || (n > 0 && (!x || !y)) || out == NULL ||
      !read_hdr(model, model_len, &h)) {
    return SD_ERR_ARG;
  }
  sd_psf_phot_opts o = {0, 0, 0, 0, 0, 0};
  if (opts != NULL) o = *opts;
  double fwhm = h.fwhm > 0.0 ? h.fwhm : (double)h.size / (5.0 * h.os);
  if (o.fit_radius == 0.0) o.fit_radius = 1.5 * fwhm > 3.0 ? 1.5 * fwhm : 3.0;
  if (o.max_iter == 0.0) o.max_iter = 20.0;
  if (!(o.fit_radius > 0.0) || o.fit_radius > 200.0) return SD_ERR_ARG;
  int fitpos = o.fit_position > 0.0;
  int fitbkg = o.fit_bkg >= 0.0;
  uint32_t mask = pu_mask(o.mask_bits);
  const float *basis = model + SD_PSF_HEADER;
  phot_buf pb;
  memset(&pb, 0, sizeof pb);
  int L = 2 * (int)ceil(o.fit_radius) + 3;
  pb.L = L;
  size_t L2 = (size_t)L * L, S = (size_t)h.size;
  sd_status st = SD_OK;
  pb.m = (float *)malloc(sizeof(float) * L2);
  pb.dmx = (float *)malloc(sizeof(float) * L2);
  pb.dmy = (float *)malloc(sizeof(float) * L2);
  pb.tmp = (float *)malloc(sizeof(float) * 2 * S * L);
  pb.P = (float *)malloc(sizeof(float) * S * S);
  pb.taps = (double *)malloc(sizeof(double) * 24 * (size_t)L);
  pb.bases = (int *)malloc(sizeof(int) * 2 * (size_t)L);
  pb.d = (double *)malloc(sizeof(double) * L2);
  pb.pm = (double *)malloc(sizeof(double) * L2);
  pb.px = (double *)malloc(sizeof(double) * L2);
  pb.py = (double *)malloc(sizeof(double) * L2);
  pb.v0 = (double *)malloc(sizeof(double) * L2);
  if (!pb.m || !pb.dmx || !pb.dmy || !pb.tmp || !pb.P || !pb.taps || !pb.bases || !pb.d ||
      !pb.pm || !pb.px || !pb.py || !pb.v0) {
    st = SD_ERR_NOMEM;
    goto done;
  }
  for (int32_t s = 0; s < n; s++) {
    double *row = out + (size_t)s * SD_PSFPHOT_NCOL;
    for (int c = 0; c < SD_PSFPHOT_NCOL; c++) row[c] = NAN;
    if (!pu_pos_ok(x[s], y[s])) {
      row[SD_PSFPHOT_FLAGS] = SD_PHOT_EMPTY;
      continue;
    }
    int32_t fl = 0;
    double p[4] = {x[s], y[s], 0.0, 0.0}, cov[16], chi2 = NAN;
    int npl = (fitbkg ? 1 : 0) + 1;
    int npix = collect(img, weight, flags, mask, nx, ny, &h, basis, &pb, x[s], y[s], o.fit_radius,
                       0, &fl);
    int ok = npix > npl && lsq_step(&pb, npix, 0, fitbkg, 0.0, p, cov, &chi2);
    if (ok && o.gain > 0.0) ok = lsq_step(&pb, npix, 0, fitbkg, o.gain, p, cov, &chi2);
    if (!ok) {
      row[SD_PSFPHOT_FLAGS] = fl | SD_PHOT_EMPTY;
      continue;
    }
    int npar = npl;
    if (fitpos) {
      double q[4] = {p[0], p[1], p[2], p[3]}, qcov[16], qchi2 = NAN;
      int conv = 0, gn_ok = 1, qpix = 0;
      int32_t qfl = 0;
      for (int it = 0; it < (int)o.max_iter; it++) {
        qfl = 0;
        qpix = collect(img, weight, flags, mask, nx, ny, &h, basis, &pb, q[0], q[1], o.fit_radius,
                       1, &qfl);
        double x0 = q[0], y0 = q[1];
        if (qpix <= 4 || !(q[2] > 0.0) ||
            !lsq_step(&pb, qpix, 1, fitbkg, o.gain, q, qcov, &qchi2)) {
          gn_ok = 0;
          break;
        }
        if ((q[0] - x[s]) * (q[0] - x[s]) + (q[1] - y[s]) * (q[1] - y[s]) >
            o.fit_radius * o.fit_radius) {
          gn_ok = 0;
          break;
        }
        if (fabs(q[0] - x0) < 1e-4 && fabs(q[1] - y0) < 1e-4) {
          conv = 1;
          break;
        }
      }
      if (gn_ok && conv) {
        /* final linear solve at the fitted position for flux, background and chi^2 */
        qfl = 0;
        qpix = collect(img, weight, flags, mask, nx, ny, &h, basis, &pb, q[0], q[1], o.fit_radius,
                       1, &qfl);
        double lin[4] = {q[0], q[1], q[2], q[3]}, lcov[16], lchi2;
        if (qpix > 4 && lsq_step(&pb, qpix, 0, fitbkg, o.gain, lin, lcov, &lchi2) &&
            lsq_step(&pb, qpix, 1, fitbkg, o.gain, q, qcov, &qchi2)) {
          /* q moved by a last tiny GN step; report the linear flux at the converged position */
          p[0] = q[0];
          p[1] = q[1];
          p[2] = lin[2];
          p[3] = lin[3];
          memcpy(cov, qcov, sizeof qcov);
          chi2 = lchi2;
          npix = qpix;
          fl = qfl;
          npar = npl + 2;
        } else {
          fl |= SD_PHOT_NOCONVERGE;
        }
      } else {
        fl |= SD_PHOT_NOCONVERGE;
      }
    }
    double scale = weight == NULL ? chi2 / (npix - npar) : 1.0;
    int iF = npar == npl ? 0 : 2;
    row[SD_PSFPHOT_FLUX] = p[2];
    row[SD_PSFPHOT_FLUXERR] = sqrt(cov[iF * npar + iF] * scale);
    row[SD_PSFPHOT_BKG] = fitbkg ? p[3] : 0.0;
    row[SD_PSFPHOT_X] = p[0];
    row[SD_PSFPHOT_Y] = p[1];
    if (npar > npl) {
      row[SD_PSFPHOT_XERR] = sqrt(cov[0] * scale);
      row[SD_PSFPHOT_YERR] = sqrt(cov[npar + 1] * scale);
    }
    row[SD_PSFPHOT_CHI2] = chi2 / (npix - npar);
    row[SD_PSFPHOT_NPIX] = npix;
    row[SD_PSFPHOT_FLAGS] = fl;
  }
done:
  free(pb.m);
  free(pb.dmx);
  free(pb.dmy);
  free(pb.tmp);
  free(pb.P);
  free(pb.taps);
  free(pb.bases);
  free(pb.d);
  free(pb.pm);
  free(pb.px);
  free(pb.py);
  free(pb.v0);
  return st;
}
