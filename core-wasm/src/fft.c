/* fft.c — real 2-D FFT, mixed radix 2/3/4/5 (Stockham autosort, batched, SIMD butterflies).
 *
 * The 1-D transforms run on batches of B interleaved signals held in split re/im planes
 * ([n][B] layout), so every butterfly is a loop over contiguous lanes with one twiddle.
 * Rows are transformed two at a time (row a + i row b) and separated afterwards; columns
 * in blocks of B after a gather. Twiddles live in a caller-owned plan (no globals). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

#define PLAN_HEADER 64
#define MAX_FACTORS 24
#define BATCH 16 /* lanes of a batch (multiple of 4) */

#if SD_SIMD
typedef v128_t vf;
#define VW 4
#define VLD(p) wasm_v128_load(p)
#define VST(p, v) wasm_v128_store((p), (v))
#define VSPLAT(x) wasm_f32x4_splat(x)
#define VADD(a, b) wasm_f32x4_add((a), (b))
#define VSUB(a, b) wasm_f32x4_sub((a), (b))
#define VMUL(a, b) wasm_f32x4_mul((a), (b))
#define VNEG(a) wasm_f32x4_neg(a)
#elif defined(__GNUC__) && !defined(__wasm__) && !defined(SD_NO_SIMD)
/* native builds: GCC/Clang vector extensions (SSE/NEON), same butterflies */
typedef float vf __attribute__((vector_size(16)));
#define VW 4
static inline vf vld(const float *p) {
  vf v;
  memcpy(&v, p, sizeof(v));
  return v;
}
static inline void vst(float *p, vf v) { memcpy(p, &v, sizeof(v)); }
#define VLD(p) vld(p)
#define VST(p, v) vst((p), (v))
#define VSPLAT(x) ((vf){(x), (x), (x), (x)})
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VNEG(a) (-(a))
#else
typedef float vf;
#define VW 1
#define VLD(p) (*(p))
#define VST(p, v) (*(p) = (v))
#define VSPLAT(x) (x)
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VNEG(a) (-(a))
#endif

/* Factors n into 4, 2, 3, 5 (largest first: 4s, then one 2, 3s, 5s); returns the count or
 * -1 when n has another prime factor. */
static int factorize(int32_t n, int32_t *f) {
  int nf = 0;
  while (n % 4 == 0 && nf < MAX_FACTORS) f[nf++] = 4, n /= 4;
  while (n % 2 == 0 && nf < MAX_FACTORS) f[nf++] = 2, n /= 2;
  while (n % 3 == 0 && nf < MAX_FACTORS) f[nf++] = 3, n /= 3;
  while (n % 5 == 0 && nf < MAX_FACTORS) f[nf++] = 5, n /= 5;
  return n == 1 ? nf : -1;
}

/* Floats of twiddles for a length-n transform with these factors. */
static size_t twiddle_len(int32_t n, const int32_t *f, int nf) {
  size_t len = 0;
  int32_t cur = n;
  for (int i = 0; i < nf; i++) {
    int32_t m = cur / f[i];
    len += 2 * (size_t)m * (size_t)(f[i] - 1);
    cur = m;
  }
  return len;
}

static void fill_twiddles(int32_t n, const int32_t *f, int nf, float *tw) {
  int32_t cur = n;
  for (int i = 0; i < nf; i++) {
    int32_t r = f[i], m = cur / r;
    for (int32_t p = 0; p < m; p++)
      for (int32_t k = 1; k < r; k++) {
        double a = -2.0 * M_PI * (double)p * (double)k / (double)cur;
        *tw++ = (float)cos(a);
        *tw++ = (float)sin(a);
      }
    cur = m;
  }
}

sd_status sd_fft_good_size(int32_t n, int32_t *out) {
  if (out == NULL || n <= 0 || n > (1 << 28)) return SD_ERR_ARG;
  int32_t best = INT32_MAX;
  for (int64_t a = 1; a < 2 * (int64_t)n; a *= 2)
    for (int64_t b = a; b < 2 * (int64_t)n; b *= 3)
      for (int64_t c = b; c < 2 * (int64_t)n; c *= 5)
        if (c >= n && c < best) best = (int32_t)c;
  *out = best;
  return SD_OK;
}

sd_status sd_fft_plan_length(int32_t nx, int32_t ny, int32_t *len) {
  int32_t fx[MAX_FACTORS], fy[MAX_FACTORS];
  if (len == NULL || nx <= 0 || ny <= 0) return SD_ERR_ARG;
  int nfx = factorize(nx, fx), nfy = factorize(ny, fy);
  if (nfx < 0 || nfy < 0) return SD_ERR_ARG;
  *len = (int32_t)(PLAN_HEADER + twiddle_len(nx, fx, nfx) + twiddle_len(ny, fy, nfy));
  return SD_OK;
}

sd_status sd_fft_plan(int32_t nx, int32_t ny, float *plan, int32_t len) {
  int32_t need = 0, fx[MAX_FACTORS], fy[MAX_FACTORS];
  sd_status st = sd_fft_plan_length(nx, ny, &need);
  if (st != SD_OK) return st;
  if (plan == NULL || len < need) return SD_ERR_OVERFLOW;
  int nfx = factorize(nx, fx), nfy = factorize(ny, fy);
  memset(plan, 0, sizeof(float) * PLAN_HEADER);
  plan[0] = (float)nx;
  plan[1] = (float)ny;
  plan[2] = (float)nfx;
  plan[3] = (float)nfy;
  for (int i = 0; i < nfx; i++) plan[8 + i] = (float)fx[i];
  for (int i = 0; i < nfy; i++) plan[8 + MAX_FACTORS + i] = (float)fy[i];
  size_t offx = PLAN_HEADER, offy = offx + twiddle_len(nx, fx, nfx);
  plan[4] = (float)offx;
  plan[5] = (float)offy;
  plan[6] = (float)need;
  fill_twiddles(nx, fx, nfx, plan + offx);
  fill_twiddles(ny, fy, nfy, plan + offy);
  return SD_OK;
}

/* One transform length of a plan. */
typedef struct {
  int32_t n, nf, f[MAX_FACTORS];
  const float *tw;
} axis_plan;

/* Reads the plan header; 0 when it is not a plan. */
static int read_plan(const float *plan, axis_plan *ax, axis_plan *ay) {
  if (plan == NULL) return 0;
  int32_t nx = (int32_t)plan[0], ny = (int32_t)plan[1];
  if (nx <= 0 || ny <= 0 || plan[2] < 0 || plan[2] > MAX_FACTORS || plan[3] < 0 ||
      plan[3] > MAX_FACTORS)
    return 0;
  ax->n = nx;
  ay->n = ny;
  ax->nf = (int32_t)plan[2];
  ay->nf = (int32_t)plan[3];
  int64_t px = 1, py = 1;
  for (int i = 0; i < ax->nf; i++) px *= ax->f[i] = (int32_t)plan[8 + i];
  for (int i = 0; i < ay->nf; i++) py *= ay->f[i] = (int32_t)plan[8 + MAX_FACTORS + i];
  if (px != nx || py != ny) return 0;
  ax->tw = plan + (size_t)plan[4];
  ay->tw = plan + (size_t)plan[5];
  return 1;
}

/* Complex multiply of (cr, ci) by (wr, wi). */
#define CMUL(cr, ci, wr, wi, outr, outi)                    \
  do {                                                      \
    vf t_r = VSUB(VMUL(cr, wr), VMUL(ci, wi));              \
    outi = VADD(VMUL(cr, wi), VMUL(ci, wr));                \
    outr = t_r;                                             \
  } while (0)

/* One Stockham stage of radix r: x holds m*r elements of L lanes (L = s*B), y receives
 * y[r p + k] = (sum_j x[p + j m] w_r^{jk}) w_n^{pk}. */
static void stage(int32_t r, int32_t m, size_t L, const float *tw, const float *restrict xr,
                  const float *restrict xi, float *restrict yr, float *restrict yi) {
  for (int32_t p = 0; p < m; p++) {
    const float *w = tw + 2 * (size_t)p * (r - 1);
    const int twiddle = p != 0;
    if (r == 2) {
      const vf w1r = VSPLAT(w[0]), w1i = VSPLAT(w[1]);
      const float *a0r = xr + L * p, *a0i = xi + L * p;
      const float *a1r = xr + L * (p + m), *a1i = xi + L * (p + m);
      float *y0r = yr + L * (2 * p), *y0i = yi + L * (2 * p);
      float *y1r = y0r + L, *y1i = y0i + L;
      for (size_t q = 0; q < L; q += VW) {
        vf ar = VLD(a0r + q), ai = VLD(a0i + q), br = VLD(a1r + q), bi = VLD(a1i + q);
        vf c1r = VSUB(ar, br), c1i = VSUB(ai, bi);
        VST(y0r + q, VADD(ar, br));
        VST(y0i + q, VADD(ai, bi));
        if (twiddle) CMUL(c1r, c1i, w1r, w1i, c1r, c1i);
        VST(y1r + q, c1r);
        VST(y1i + q, c1i);
      }
    } else if (r == 4) {
      const vf w1r = VSPLAT(w[0]), w1i = VSPLAT(w[1]), w2r = VSPLAT(w[2]), w2i = VSPLAT(w[3]);
      const vf w3r = VSPLAT(w[4]), w3i = VSPLAT(w[5]);
      const float *a0r = xr + L * p, *a0i = xi + L * p;
      const float *a1r = xr + L * (p + m), *a1i = xi + L * (p + m);
      const float *a2r = xr + L * (p + 2 * m), *a2i = xi + L * (p + 2 * m);
      const float *a3r = xr + L * (p + 3 * m), *a3i = xi + L * (p + 3 * m);
      float *y0r = yr + L * (4 * p), *y0i = yi + L * (4 * p);
      for (size_t q = 0; q < L; q += VW) {
        vf x0r = VLD(a0r + q), x0i = VLD(a0i + q), x1r = VLD(a1r + q), x1i = VLD(a1i + q);
        vf x2r = VLD(a2r + q), x2i = VLD(a2i + q), x3r = VLD(a3r + q), x3i = VLD(a3i + q);
        vf t0r = VADD(x0r, x2r), t0i = VADD(x0i, x2i), t1r = VSUB(x0r, x2r), t1i = VSUB(x0i, x2i);
        vf t2r = VADD(x1r, x3r), t2i = VADD(x1i, x3i);
        /* (x1 - x3) * (-i) */
        vf t3r = VSUB(x1i, x3i), t3i = VSUB(x3r, x1r);
        vf c0r = VADD(t0r, t2r), c0i = VADD(t0i, t2i), c2r = VSUB(t0r, t2r), c2i = VSUB(t0i, t2i);
        vf c1r = VADD(t1r, t3r), c1i = VADD(t1i, t3i), c3r = VSUB(t1r, t3r), c3i = VSUB(t1i, t3i);
        if (twiddle) {
          CMUL(c1r, c1i, w1r, w1i, c1r, c1i);
          CMUL(c2r, c2i, w2r, w2i, c2r, c2i);
          CMUL(c3r, c3i, w3r, w3i, c3r, c3i);
        }
        VST(y0r + q, c0r);
        VST(y0i + q, c0i);
        VST(y0r + L + q, c1r);
        VST(y0i + L + q, c1i);
        VST(y0r + 2 * L + q, c2r);
        VST(y0i + 2 * L + q, c2i);
        VST(y0r + 3 * L + q, c3r);
        VST(y0i + 3 * L + q, c3i);
      }
    } else if (r == 3) {
      const vf w1r = VSPLAT(w[0]), w1i = VSPLAT(w[1]), w2r = VSPLAT(w[2]), w2i = VSPLAT(w[3]);
      const vf half = VSPLAT(0.5f), s3 = VSPLAT(0.86602540378443865f);
      const float *a0r = xr + L * p, *a0i = xi + L * p;
      const float *a1r = xr + L * (p + m), *a1i = xi + L * (p + m);
      const float *a2r = xr + L * (p + 2 * m), *a2i = xi + L * (p + 2 * m);
      float *y0r = yr + L * (3 * p), *y0i = yi + L * (3 * p);
      for (size_t q = 0; q < L; q += VW) {
        vf x0r = VLD(a0r + q), x0i = VLD(a0i + q), x1r = VLD(a1r + q), x1i = VLD(a1i + q);
        vf x2r = VLD(a2r + q), x2i = VLD(a2i + q);
        vf tr = VADD(x1r, x2r), ti = VADD(x1i, x2i);
        vf m1r = VSUB(x0r, VMUL(half, tr)), m1i = VSUB(x0i, VMUL(half, ti));
        /* (x1 - x2) * (-i sqrt(3)/2) */
        vf m2r = VMUL(s3, VSUB(x1i, x2i)), m2i = VMUL(s3, VSUB(x2r, x1r));
        vf c1r = VADD(m1r, m2r), c1i = VADD(m1i, m2i), c2r = VSUB(m1r, m2r), c2i = VSUB(m1i, m2i);
        if (twiddle) {
          CMUL(c1r, c1i, w1r, w1i, c1r, c1i);
          CMUL(c2r, c2i, w2r, w2i, c2r, c2i);
        }
        VST(y0r + q, VADD(x0r, tr));
        VST(y0i + q, VADD(x0i, ti));
        VST(y0r + L + q, c1r);
        VST(y0i + L + q, c1i);
        VST(y0r + 2 * L + q, c2r);
        VST(y0i + 2 * L + q, c2i);
      }
    } else { /* r == 5 */
      const vf w1r = VSPLAT(w[0]), w1i = VSPLAT(w[1]), w2r = VSPLAT(w[2]), w2i = VSPLAT(w[3]);
      const vf w3r = VSPLAT(w[4]), w3i = VSPLAT(w[5]), w4r = VSPLAT(w[6]), w4i = VSPLAT(w[7]);
      const vf c1 = VSPLAT(0.30901699437494742f), c2 = VSPLAT(-0.80901699437494742f);
      const vf s1 = VSPLAT(0.95105651629515357f), s2 = VSPLAT(0.58778525229247313f);
      const float *a0r = xr + L * p, *a0i = xi + L * p;
      const float *a1r = xr + L * (p + m), *a1i = xi + L * (p + m);
      const float *a2r = xr + L * (p + 2 * m), *a2i = xi + L * (p + 2 * m);
      const float *a3r = xr + L * (p + 3 * m), *a3i = xi + L * (p + 3 * m);
      const float *a4r = xr + L * (p + 4 * m), *a4i = xi + L * (p + 4 * m);
      float *y0r = yr + L * (5 * p), *y0i = yi + L * (5 * p);
      for (size_t q = 0; q < L; q += VW) {
        vf x0r = VLD(a0r + q), x0i = VLD(a0i + q);
        vf x1r = VLD(a1r + q), x1i = VLD(a1i + q), x4r = VLD(a4r + q), x4i = VLD(a4i + q);
        vf x2r = VLD(a2r + q), x2i = VLD(a2i + q), x3r = VLD(a3r + q), x3i = VLD(a3i + q);
        vf t1r = VADD(x1r, x4r), t1i = VADD(x1i, x4i), t2r = VADD(x2r, x3r), t2i = VADD(x2i, x3i);
        vf t3r = VSUB(x1r, x4r), t3i = VSUB(x1i, x4i), t4r = VSUB(x2r, x3r), t4i = VSUB(x2i, x3i);
        vf b1r = VADD(x0r, VADD(VMUL(c1, t1r), VMUL(c2, t2r)));
        vf b1i = VADD(x0i, VADD(VMUL(c1, t1i), VMUL(c2, t2i)));
        vf b2r = VADD(x0r, VADD(VMUL(c2, t1r), VMUL(c1, t2r)));
        vf b2i = VADD(x0i, VADD(VMUL(c2, t1i), VMUL(c1, t2i)));
        /* d1 = -i (s1 t3 + s2 t4), d2 = -i (s2 t3 - s1 t4); -i (u + iv) = v - iu */
        vf e1r = VADD(VMUL(s1, t3r), VMUL(s2, t4r)), e1i = VADD(VMUL(s1, t3i), VMUL(s2, t4i));
        vf e2r = VSUB(VMUL(s2, t3r), VMUL(s1, t4r)), e2i = VSUB(VMUL(s2, t3i), VMUL(s1, t4i));
        vf d1r = e1i, d1i = VNEG(e1r), d2r = e2i, d2i = VNEG(e2r);
        vf o1r = VADD(b1r, d1r), o1i = VADD(b1i, d1i), o4r = VSUB(b1r, d1r), o4i = VSUB(b1i, d1i);
        vf o2r = VADD(b2r, d2r), o2i = VADD(b2i, d2i), o3r = VSUB(b2r, d2r), o3i = VSUB(b2i, d2i);
        if (twiddle) {
          CMUL(o1r, o1i, w1r, w1i, o1r, o1i);
          CMUL(o2r, o2i, w2r, w2i, o2r, o2i);
          CMUL(o3r, o3i, w3r, w3i, o3r, o3i);
          CMUL(o4r, o4i, w4r, w4i, o4r, o4i);
        }
        VST(y0r + q, VADD(x0r, VADD(t1r, t2r)));
        VST(y0i + q, VADD(x0i, VADD(t1i, t2i)));
        VST(y0r + L + q, o1r);
        VST(y0i + L + q, o1i);
        VST(y0r + 2 * L + q, o2r);
        VST(y0i + 2 * L + q, o2i);
        VST(y0r + 3 * L + q, o3r);
        VST(y0i + 3 * L + q, o3i);
        VST(y0r + 4 * L + q, o4r);
        VST(y0i + 4 * L + q, o4i);
      }
    }
  }
}

/* Forward transform of BATCH signals of length ax->n held in (xr, xi) ([n][BATCH]); the
 * result is written back to (xr, xi); (wr, wi) is scratch of the same size. */
static void fft_batch(const axis_plan *ax, float *xr, float *xi, float *wr, float *wi) {
  float *ar = xr, *ai = xi, *br = wr, *bi = wi;
  int32_t cur = ax->n;
  size_t s = 1;
  const float *tw = ax->tw;
  for (int i = 0; i < ax->nf; i++) {
    int32_t r = ax->f[i], m = cur / r;
    stage(r, m, s * BATCH, tw, ar, ai, br, bi);
    tw += 2 * (size_t)m * (size_t)(r - 1);
    float *t = ar;
    ar = br, br = t;
    t = ai, ai = bi, bi = t;
    s *= (size_t)r;
    cur = m;
  }
  if (ar != xr) {
    memcpy(xr, ar, sizeof(float) * (size_t)ax->n * BATCH);
    memcpy(xi, ai, sizeof(float) * (size_t)ax->n * BATCH);
  }
}

/* Column transforms of the spectrum planes (re, im), ny rows of nxh values; inverse when
 * inv (by swapping real and imaginary parts around a forward transform). */
static void columns(const axis_plan *ay, float *re, float *im, int32_t nxh, int inv, float *buf) {
  const int32_t ny = ay->n;
  float *xr = buf, *xi = xr + (size_t)ny * BATCH, *wr = xi + (size_t)ny * BATCH,
        *wi = wr + (size_t)ny * BATCH;
  float *pr = inv ? im : re, *pi = inv ? re : im;
  for (int32_t c0 = 0; c0 < nxh; c0 += BATCH) {
    const int32_t nb = nxh - c0 < BATCH ? nxh - c0 : BATCH;
    if (nb < BATCH) {
      memset(xr, 0, sizeof(float) * (size_t)ny * BATCH);
      memset(xi, 0, sizeof(float) * (size_t)ny * BATCH);
    }
    for (int32_t y = 0; y < ny; y++) {
      memcpy(xr + (size_t)y * BATCH, pr + (size_t)y * nxh + c0, sizeof(float) * (size_t)nb);
      memcpy(xi + (size_t)y * BATCH, pi + (size_t)y * nxh + c0, sizeof(float) * (size_t)nb);
    }
    fft_batch(ay, xr, xi, wr, wi);
    for (int32_t y = 0; y < ny; y++) {
      memcpy(pr + (size_t)y * nxh + c0, xr + (size_t)y * BATCH, sizeof(float) * (size_t)nb);
      memcpy(pi + (size_t)y * nxh + c0, xi + (size_t)y * BATCH, sizeof(float) * (size_t)nb);
    }
  }
}

sd_status sd_fft_r2c(const float *plan, const float *in, float *out) {
  axis_plan ax, ay;
  if (in == NULL || out == NULL || !read_plan(plan, &ax, &ay)) return SD_ERR_ARG;
  const int32_t nx = ax.n, ny = ay.n, nxh = nx / 2 + 1;
  const size_t nmax = (size_t)(nx > ny ? nx : ny);
  float *buf = malloc(sizeof(float) * 4 * nmax * BATCH);
  if (buf == NULL) return SD_ERR_NOMEM;
  float *re = out, *im = out + (size_t)ny * nxh;
  float *xr = buf, *xi = xr + nmax * BATCH, *wr = xi + nmax * BATCH, *wi = wr + nmax * BATCH;
  /* rows: BATCH pairs (a + i b) per batch */
  for (int32_t y0 = 0; y0 < ny; y0 += 2 * BATCH) {
    memset(xr, 0, sizeof(float) * (size_t)nx * BATCH);
    memset(xi, 0, sizeof(float) * (size_t)nx * BATCH);
    for (int32_t b = 0; b < BATCH; b++) {
      const int32_t ya = y0 + 2 * b, yb = ya + 1;
      if (ya >= ny) break;
      const float *ra = in + (size_t)ya * nx;
      for (int32_t k = 0; k < nx; k++) xr[(size_t)k * BATCH + b] = ra[k];
      if (yb < ny) {
        const float *rb = in + (size_t)yb * nx;
        for (int32_t k = 0; k < nx; k++) xi[(size_t)k * BATCH + b] = rb[k];
      }
    }
    fft_batch(&ax, xr, xi, wr, wi);
    for (int32_t b = 0; b < BATCH; b++) {
      const int32_t ya = y0 + 2 * b, yb = ya + 1;
      if (ya >= ny) break;
      float *oar = re + (size_t)ya * nxh, *oai = im + (size_t)ya * nxh;
      for (int32_t k = 0; k < nxh; k++) {
        const size_t i = (size_t)k * BATCH + b, j = (size_t)((nx - k) % nx) * BATCH + b;
        const float zr = xr[i], zi = xi[i], nr = xr[j], ni = xi[j];
        oar[k] = 0.5f * (zr + nr);
        oai[k] = 0.5f * (zi - ni);
        if (yb < ny) {
          re[(size_t)yb * nxh + k] = 0.5f * (zi + ni);
          im[(size_t)yb * nxh + k] = -0.5f * (zr - nr);
        }
      }
    }
  }
  columns(&ay, re, im, nxh, 0, buf);
  free(buf);
  return SD_OK;
}

sd_status sd_fft_c2r(const float *plan, const float *in, float *out) {
  axis_plan ax, ay;
  if (in == NULL || out == NULL || !read_plan(plan, &ax, &ay)) return SD_ERR_ARG;
  const int32_t nx = ax.n, ny = ay.n, nxh = nx / 2 + 1;
  const size_t nmax = (size_t)(nx > ny ? nx : ny), nspec = (size_t)ny * nxh;
  float *buf = malloc(sizeof(float) * 4 * nmax * BATCH), *spec = malloc(sizeof(float) * 2 * nspec);
  sd_status status = SD_OK;
  if (buf == NULL || spec == NULL) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  memcpy(spec, in, sizeof(float) * 2 * nspec);
  float *re = spec, *im = spec + nspec;
  columns(&ay, re, im, nxh, 1, buf);
  float *xr = buf, *xi = xr + nmax * BATCH, *wr = xi + nmax * BATCH, *wi = wr + nmax * BATCH;
  const float scale = 1.0f / ((float)nx * (float)ny);
  for (int32_t y0 = 0; y0 < ny; y0 += 2 * BATCH) {
    memset(xr, 0, sizeof(float) * (size_t)nx * BATCH);
    memset(xi, 0, sizeof(float) * (size_t)nx * BATCH);
    for (int32_t b = 0; b < BATCH; b++) {
      const int32_t ya = y0 + 2 * b, yb = ya + 1;
      if (ya >= ny) break;
      const float *ar = re + (size_t)ya * nxh, *ai = im + (size_t)ya * nxh;
      const float *br = yb < ny ? re + (size_t)yb * nxh : NULL;
      const float *bi = yb < ny ? im + (size_t)yb * nxh : NULL;
      for (int32_t k = 0; k < nx; k++) {
        const int mirror = k >= nxh;
        const int32_t kk = mirror ? nx - k : k;
        const float s = mirror ? -1.0f : 1.0f;
        const float Ar = ar[kk], Ai = s * ai[kk];
        const float Br = br ? br[kk] : 0.0f, Bi = bi ? s * bi[kk] : 0.0f;
        /* Z = A + i B; stored swapped (re <-> im) for the inverse */
        xi[(size_t)k * BATCH + b] = Ar - Bi;
        xr[(size_t)k * BATCH + b] = Ai + Br;
      }
    }
    fft_batch(&ax, xr, xi, wr, wi);
    for (int32_t b = 0; b < BATCH; b++) {
      const int32_t ya = y0 + 2 * b, yb = ya + 1;
      if (ya >= ny) break;
      float *oa = out + (size_t)ya * nx;
      for (int32_t k = 0; k < nx; k++) oa[k] = scale * xi[(size_t)k * BATCH + b];
      if (yb < ny) {
        float *ob = out + (size_t)yb * nx;
        for (int32_t k = 0; k < nx; k++) ob[k] = scale * xr[(size_t)k * BATCH + b];
      }
    }
  }
done:
  free(buf);
  free(spec);
  return status;
}
