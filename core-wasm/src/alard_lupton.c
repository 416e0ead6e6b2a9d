/* alard_lupton.c — Alard-Lupton kernel fit (Gaussians x polynomials, spatially varying, with a
 * differential background) from star stamps, with stamp clipping; block-wise application. */
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

#define AL_BLOCK 64

/* Resolved options. */
typedef struct {
  double sig[3];
  int32_t deg[3], ng, hw, so, bo, sh, max_iter, max_stamps;
  int32_t nb, nt, nbg, nu;
  double kappa;
} al_cfg;

static double dflt(double v, double d) { return v != 0.0 && isfinite(v) ? v : d; }

static int32_t nterms(int32_t order) { return order < 0 ? 0 : (order + 1) * (order + 2) / 2; }

static sd_status resolve(const sd_al_opts *o, al_cfg *c) {
  const sd_al_opts z = {0};
  if (o == NULL) o = &z;
  const double s = dflt(o->sigma, 1.5);
  const double deg[3] = {dflt(o->deg0, 6), dflt(o->deg1, 4), dflt(o->deg2, 2)};
  if (!(s > 0.05 && s < 50)) return SD_ERR_ARG;
  c->ng = 0;
  for (int g = 0; g < 3; g++) {
    if (deg[g] < 0) continue;
    if (deg[g] > 10) return SD_ERR_ARG;
    c->sig[c->ng] = s * (0.5 + 0.5 * g);
    c->deg[c->ng++] = (int32_t)deg[g];
  }
  if (c->ng == 0) return SD_ERR_ARG;
  const double hw = dflt(o->half_width, ceil(4.5 * s));
  const double so = dflt(o->spatial_order, 1), bo = dflt(o->bg_order, 1);
  if (!(hw >= 1 && hw <= 50) || !(so >= -1 && so <= 2) || !(bo >= -1 && bo <= 2)) return SD_ERR_ARG;
  c->hw = (int32_t)hw;
  c->so = so < 0 ? 0 : (int32_t)so;
  c->bo = (int32_t)bo;
  const double sh = dflt(o->stamp_half, c->hw + 3);
  if (!(sh >= 1 && sh <= 100)) return SD_ERR_ARG;
  c->sh = (int32_t)sh;
  c->kappa = dflt(o->kappa, 3);
  c->max_iter = (int32_t)dflt(o->max_iter, 3);
  c->max_stamps = (int32_t)dflt(o->max_stamps, 300);
  if (!(c->kappa > 0) || c->max_iter < 0 || c->max_stamps < 1) return SD_ERR_ARG;
  c->nb = 0;
  for (int g = 0; g < c->ng; g++) c->nb += nterms(c->deg[g]);
  c->nt = nterms(c->so);
  c->nbg = nterms(c->bo);
  c->nu = c->nb * c->nt + c->nbg;
  return SD_OK;
}

/* Monomials x^i y^j, i + j <= order, ordered by total degree then by j. */
static void monomials(double x, double y, int32_t order, double *out) {
  int32_t k = 0;
  for (int32_t d = 0; d <= order; d++)
    for (int32_t j = 0; j <= d; j++) out[k++] = pow(x, d - j) * pow(y, j);
}

/* 1-D factors of the basis: for Gaussian g and power i, f[(g, i)][u + hw] = e^{-u^2/2s^2} u^i,
 * and the normalisation of each 2-D basis function (so that sum B^2 = 1). Basis b runs over
 * g, then (i, j) with i + j <= deg[g]; bi[b], bj[b] index the factors. */
static void basis_factors(const al_cfg *c, float *f, int32_t *bi, int32_t *bj, double *norm) {
  const int32_t kw = 2 * c->hw + 1;
  int32_t row = 0, b = 0;
  for (int g = 0; g < c->ng; g++) {
    const int32_t r0 = row;
    for (int32_t i = 0; i <= c->deg[g]; i++, row++)
      for (int32_t u = -c->hw; u <= c->hw; u++)
        f[(size_t)row * kw + (u + c->hw)] =
            (float)(exp(-(double)u * u / (2 * c->sig[g] * c->sig[g])) * pow(u / c->sig[g], i));
    for (int32_t d = 0; d <= c->deg[g]; d++)
      for (int32_t j = 0; j <= d; j++, b++) {
        bi[b] = r0 + d - j, bj[b] = r0 + j;
        double sx = 0, sy = 0;
        for (int32_t u = 0; u < kw; u++) {
          sx += (double)f[(size_t)bi[b] * kw + u] * f[(size_t)bi[b] * kw + u];
          sy += (double)f[(size_t)bj[b] * kw + u] * f[(size_t)bj[b] * kw + u];
        }
        norm[b] = 1.0 / sqrt(sx * sy);
      }
  }
}

static int32_t factor_rows(const al_cfg *c) {
  int32_t r = 0;
  for (int g = 0; g < c->ng; g++) r += c->deg[g] + 1;
  return r;
}

/* Cholesky solve of the n x n SPD system a x = b (a, b overwritten); 0 when singular. */
static int cholesky_solve(double *a, double *b, int32_t n) {
  for (int32_t j = 0; j < n; j++) {
    double d = a[(size_t)j * n + j];
    for (int32_t k = 0; k < j; k++) d -= a[(size_t)j * n + k] * a[(size_t)j * n + k];
    if (!(d > 0)) return 0;
    d = sqrt(d);
    a[(size_t)j * n + j] = d;
    for (int32_t i = j + 1; i < n; i++) {
      double s = a[(size_t)i * n + j];
      for (int32_t k = 0; k < j; k++) s -= a[(size_t)i * n + k] * a[(size_t)j * n + k];
      a[(size_t)i * n + j] = s / d;
    }
  }
  for (int32_t i = 0; i < n; i++) {
    double s = b[i];
    for (int32_t k = 0; k < i; k++) s -= a[(size_t)i * n + k] * b[k];
    b[i] = s / a[(size_t)i * n + i];
  }
  for (int32_t i = n - 1; i >= 0; i--) {
    double s = b[i];
    for (int32_t k = i + 1; k < n; k++) s -= a[(size_t)k * n + i] * b[k];
    b[i] = s / a[(size_t)i * n + i];
  }
  return 1;
}

/* sum a[i] b[i] with products and sums in double (f64x2 lanes under SIMD). */
static double dot(const float *a, const float *b, int32_t n) {
  double s = 0.0;
  int32_t i = 0;
#if SD_SIMD
  v128_t acc0 = wasm_f64x2_splat(0.0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  for (; i + 8 <= n; i += 8) {
    const v128_t va = wasm_v128_load(a + i), vb = wasm_v128_load(b + i);
    const v128_t vc = wasm_v128_load(a + i + 4), vd = wasm_v128_load(b + i + 4);
    const v128_t ha = wasm_i32x4_shuffle(va, va, 2, 3, 0, 1), hb = wasm_i32x4_shuffle(vb, vb, 2, 3, 0, 1);
    const v128_t hc = wasm_i32x4_shuffle(vc, vc, 2, 3, 0, 1), hd = wasm_i32x4_shuffle(vd, vd, 2, 3, 0, 1);
    acc0 = wasm_f64x2_add(acc0, wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(va),
                                               wasm_f64x2_promote_low_f32x4(vb)));
    acc1 = wasm_f64x2_add(acc1, wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(ha),
                                               wasm_f64x2_promote_low_f32x4(hb)));
    acc2 = wasm_f64x2_add(acc2, wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(vc),
                                               wasm_f64x2_promote_low_f32x4(vd)));
    acc3 = wasm_f64x2_add(acc3, wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(hc),
                                               wasm_f64x2_promote_low_f32x4(hd)));
  }
  acc0 = wasm_f64x2_add(wasm_f64x2_add(acc0, acc1), wasm_f64x2_add(acc2, acc3));
  s = wasm_f64x2_extract_lane(acc0, 0) + wasm_f64x2_extract_lane(acc0, 1);
#else
  /* four independent sums, so the additions pipeline */
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  for (; i + 4 <= n; i += 4) {
    s0 += (double)a[i] * b[i];
    s1 += (double)a[i + 1] * b[i + 1];
    s2 += (double)a[i + 2] * b[i + 2];
    s3 += (double)a[i + 3] * b[i + 3];
  }
  s = (s0 + s1) + (s2 + s3);
#endif
  for (; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

sd_status sd_al_coeff_count(const sd_al_opts *opts, int32_t *n) {
  al_cfg c;
  if (n == NULL) return SD_ERR_ARG;
  sd_status st = resolve(opts, &c);
  if (st == SD_OK) *n = c.nu;
  return st;
}

/* Coefficient of every basis function at (x, y), and the background there. */
static void local_coeffs(const al_cfg *c, const double *coeffs, int32_t nx, int32_t ny, double x,
                         double y, double *a, double *bg) {
  double t[6], q[6];
  const double xn = (x - 0.5 * nx) / (0.5 * nx), yn = (y - 0.5 * ny) / (0.5 * ny);
  monomials(xn, yn, c->so, t);
  for (int32_t b = 0; b < c->nb; b++) {
    double s = 0;
    for (int32_t k = 0; k < c->nt; k++) s += coeffs[(size_t)b * c->nt + k] * t[k];
    a[b] = s;
  }
  *bg = 0;
  if (c->nbg > 0) {
    monomials(xn, yn, c->bo, q);
    for (int32_t k = 0; k < c->nbg; k++) *bg += coeffs[(size_t)c->nb * c->nt + k] * q[k];
  }
}

/* Kernel image at (x, y) from the factors. */
static void build_kernel(const al_cfg *c, const float *f, const int32_t *bi, const int32_t *bj,
                         const double *norm, const double *a, float *k) {
  const int32_t kw = 2 * c->hw + 1;
  for (int32_t i = 0; i < kw * kw; i++) k[i] = 0.0f;
  for (int32_t b = 0; b < c->nb; b++) {
    const float *fx = f + (size_t)bi[b] * kw, *fy = f + (size_t)bj[b] * kw;
    const double s = a[b] * norm[b];
    for (int32_t v = 0; v < kw; v++)
      for (int32_t u = 0; u < kw; u++) k[(size_t)v * kw + u] += (float)(s * fx[u] * fy[v]);
  }
}

sd_status sd_al_kernel(const sd_al_opts *opts, const double *coeffs, int32_t ncoeff, int32_t nx,
                       int32_t ny, double x, double y, float *kernel) {
  al_cfg c;
  sd_status st = resolve(opts, &c);
  if (st != SD_OK) return st;
  if (coeffs == NULL || kernel == NULL || ncoeff != c.nu || nx <= 0 || ny <= 0) return SD_ERR_ARG;
  const int32_t kw = 2 * c.hw + 1, nr = factor_rows(&c);
  float *f = malloc(sizeof(float) * (size_t)nr * kw);
  int32_t *bi = malloc(sizeof(int32_t) * 2 * (size_t)c.nb);
  double *norm = malloc(sizeof(double) * (size_t)c.nb * 2);
  if (!f || !bi || !norm) {
    st = SD_ERR_NOMEM;
    goto done;
  }
  basis_factors(&c, f, bi, bi + c.nb, norm);
  double bg;
  local_coeffs(&c, coeffs, nx, ny, x, y, norm + c.nb, &bg);
  build_kernel(&c, f, bi, bi + c.nb, norm, norm + c.nb, kernel);
done:
  free(f);
  free(bi);
  free(norm);
  return st;
}

/* acc[i] += k * src[i], i < n. */
static void axpy(float *restrict acc, const float *restrict src, float k, int32_t n) {
  int32_t i = 0;
#if SD_SIMD
  const v128_t vk = wasm_f32x4_splat(k);
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(acc + i, wasm_f32x4_add(wasm_v128_load(acc + i),
                                            wasm_f32x4_mul(vk, wasm_v128_load(src + i))));
#endif
  for (; i < n; i++) acc[i] += k * src[i];
}

sd_status sd_al_fit(const float *new_img, const float *ref_img, const float *var_new, int32_t nx,
                    int32_t ny, const double *x, const double *y, int32_t n,
                    const sd_al_opts *opts, double *coeffs, int32_t ncoeff, double *info) {
  al_cfg c;
  sd_status st = resolve(opts, &c);
  if (st != SD_OK) return st;
  if (new_img == NULL || ref_img == NULL || x == NULL || y == NULL || coeffs == NULL ||
      info == NULL || ncoeff != c.nu || nx <= 0 || ny <= 0 || n < 0)
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > INT32_MAX) return SD_ERR_ARG;
  const int32_t kw = 2 * c.hw + 1, nr = factor_rows(&c), nb = c.nb, nm = nb + 1;
  const int32_t sw = 2 * c.sh + 1, th = sw + 2 * c.hw; /* stamp side, row-conv height */
  const int32_t ns_max = n < c.max_stamps ? n : c.max_stamps;
  float *f = malloc(sizeof(float) * (size_t)nr * kw);
  int32_t *bi = malloc(sizeof(int32_t) * 2 * (size_t)nb);
  double *norm = malloc(sizeof(double) * (size_t)nb);
  float *tconv = malloc(sizeof(float) * (size_t)nr * th * sw);
  float *cb = malloc(sizeof(float) * (size_t)nb * sw * sw);
  double *ms = malloc(sizeof(double) * (size_t)(ns_max > 0 ? ns_max : 1) * ((size_t)nm * nm + nm + 2));
  double *pos = malloc(sizeof(double) * 2 * (size_t)(ns_max > 0 ? ns_max : 1));
  int32_t *keep = malloc(sizeof(int32_t) * (size_t)(ns_max > 0 ? ns_max : 1));
  double *chi = malloc(sizeof(double) * (size_t)(ns_max > 0 ? ns_max : 1) * 2);
  double *A = malloc(sizeof(double) * (size_t)c.nu * c.nu), *rhs = malloc(sizeof(double) * c.nu);
  double *al = malloc(sizeof(double) * (size_t)nm);
  float *wcb = malloc(sizeof(float) * (size_t)nb * sw * sw);
  float *region = malloc(sizeof(float) * (size_t)th * th);
  float *wq = malloc(sizeof(float) * (size_t)sw * sw), *wn = malloc(sizeof(float) * (size_t)sw * sw);
  if (!f || !bi || !norm || !tconv || !cb || !ms || !pos || !keep || !chi || !A || !rhs || !al ||
      !wcb || !wq || !wn || !region) {
    st = SD_ERR_NOMEM;
    goto done;
  }
  basis_factors(&c, f, bi, bi + nb, norm);
  /* per-stamp normal matrices [M (nm x nm) | v (nm) | sum N^2 w, npix] */
  int32_t ns = 0;
  const size_t per = (size_t)nm * nm + nm + 2;
  for (int32_t s = 0; s < n && ns < ns_max; s++) {
    if (!isfinite(x[s]) || !isfinite(y[s])) continue;
    const int32_t xc = (int32_t)floor(x[s] + 0.5), yc = (int32_t)floor(y[s] + 0.5);
    const int32_t m = c.sh + c.hw;
    if (xc - m < 0 || yc - m < 0 || xc + m >= nx || yc + m >= ny) continue;
    /* the ref region the stamp needs, non-finite values as 0: th rows of th columns */
    for (int32_t ty = 0; ty < th; ty++) {
      const float *row = ref_img + (size_t)(yc - m + ty) * nx + (xc - m);
      float *dst = region + (size_t)ty * th;
      for (int32_t i = 0; i < th; i++) dst[i] = isfinite(row[i]) ? row[i] : 0.0f;
    }
    /* row convolutions: tconv[r][ty][sx] = sum_u f_r(u) ref[ty][sx + hw - u] (contiguous in sx) */
    for (int32_t r = 0; r < nr; r++) {
      const float *fr = f + (size_t)r * kw;
      for (int32_t ty = 0; ty < th; ty++) {
        const float *row = region + (size_t)ty * th + c.hw;
        float *out = tconv + ((size_t)r * th + ty) * sw;
        memset(out, 0, sizeof(float) * (size_t)sw);
        for (int32_t u = -c.hw; u <= c.hw; u++) axpy(out, row - u, fr[u + c.hw], sw);
      }
    }
    /* column convolutions: c_b[sy][sx] = norm_b sum_v f_j(v) tconv[i][sy + hw - v][sx] */
    for (int32_t b = 0; b < nb; b++) {
      const float *fy = f + (size_t)bi[nb + b] * kw;
      const float *tc = tconv + (size_t)bi[b] * th * sw;
      float *o = cb + (size_t)b * sw * sw;
      memset(o, 0, sizeof(float) * (size_t)sw * sw);
      for (int32_t sy = 0; sy < sw; sy++)
        for (int32_t v = -c.hw; v <= c.hw; v++)
          axpy(o + (size_t)sy * sw, tc + (size_t)(sy + c.hw - v) * sw, (float)(fy[v + c.hw] * norm[b]), sw);
    }
    double *M = ms + (size_t)ns * per, *v = M + (size_t)nm * nm;
    memset(M, 0, sizeof(double) * per);
    /* weights and weighted data per stamp pixel (0 for unusable pixels) */
    const int32_t sq = sw * sw;
    for (int32_t sy = 0; sy < sw; sy++)
      for (int32_t sx = 0; sx < sw; sx++) {
        const size_t ip = (size_t)(yc - c.sh + sy) * nx + (xc - c.sh + sx);
        const float nv = new_img[ip];
        const float var = var_new ? var_new[ip] : 1.0f;
        const int ok = isfinite(nv) && var > 0.0f && isfinite(var);
        const size_t q = (size_t)sy * sw + sx;
        /* square roots of the weights, so that M is the exact Gram matrix of sqrt(w) c */
        wq[q] = ok ? 1.0f / sqrtf(var) : 0.0f;
        wn[q] = ok ? nv / sqrtf(var) : 0.0f;
        if (ok) v[nm] += (double)nv * nv / var, v[nm + 1] += 1.0;
      }
    /* M[a][b] = sum w c_a c_b, v[a] = sum w c_a N, with c_nb = 1 (in wcb, wq, wn: times sqrt w) */
    for (int32_t b = 0; b < nb; b++) {
      const float *cbb = cb + (size_t)b * sq;
      float *wb = wcb + (size_t)b * sq;
      for (int32_t q = 0; q < sq; q++) wb[q] = wq[q] * cbb[q];
    }
    for (int32_t a = 0; a < nb; a++) {
      const float *ca = wcb + (size_t)a * sq;
      for (int32_t b = 0; b <= a; b++) M[(size_t)a * nm + b] = dot(ca, wcb + (size_t)b * sq, sq);
      M[(size_t)nb * nm + a] = dot(ca, wq, sq);
      v[a] = dot(ca, wn, sq);
    }
    M[(size_t)nb * nm + nb] = dot(wq, wq, sq);
    v[nb] = dot(wq, wn, sq);
    for (int32_t a = 0; a < nm; a++)
      for (int32_t b = a + 1; b < nm; b++) M[(size_t)a * nm + b] = M[(size_t)b * nm + a];
    pos[2 * ns] = (x[s] - 0.5 * nx) / (0.5 * nx);
    pos[2 * ns + 1] = (y[s] - 0.5 * ny) / (0.5 * ny);
    keep[ns] = v[nm + 1] > 0;
    ns++;
  }
  info[SD_AL_NSTAMP] = ns;
  const int32_t nt = c.nt, nbg = c.nbg, nu = c.nu;
  for (int32_t iter = 0; iter <= c.max_iter; iter++) {
    int32_t nkeep = 0;
    for (int32_t s = 0; s < ns; s++) nkeep += keep[s];
    if (nkeep < nt + nbg || nkeep < 2) {
      st = SD_ERR_EMPTY;
      goto done;
    }
    memset(A, 0, sizeof(double) * (size_t)nu * nu);
    memset(rhs, 0, sizeof(double) * nu);
    for (int32_t s = 0; s < ns; s++) {
      if (!keep[s]) continue;
      const double *M = ms + (size_t)s * per, *v = M + (size_t)nm * nm;
      double t[6], q[6] = {0};
      monomials(pos[2 * s], pos[2 * s + 1], c.so, t);
      if (nbg > 0) monomials(pos[2 * s], pos[2 * s + 1], c.bo, q);
      /* column of unknown u: basis and spatial term (or background term) */
      for (int32_t u1 = 0; u1 < nu; u1++) {
        const int bg1 = u1 >= nb * nt;
        const int32_t a1 = bg1 ? nb : u1 / nt;
        const double s1 = bg1 ? q[u1 - nb * nt] : t[u1 % nt];
        rhs[u1] += v[a1] * s1;
        for (int32_t u2 = 0; u2 <= u1; u2++) {
          const int bg2 = u2 >= nb * nt;
          const int32_t a2 = bg2 ? nb : u2 / nt;
          const double s2 = bg2 ? q[u2 - nb * nt] : t[u2 % nt];
          A[(size_t)u1 * nu + u2] += M[(size_t)a1 * nm + a2] * s1 * s2;
        }
      }
    }
    for (int32_t u1 = 0; u1 < nu; u1++) {
      for (int32_t u2 = u1 + 1; u2 < nu; u2++) A[(size_t)u1 * nu + u2] = A[(size_t)u2 * nu + u1];
      A[(size_t)u1 * nu + u1] *= 1.0 + 1e-10;
    }
    if (!cholesky_solve(A, rhs, nu)) {
      st = SD_ERR_SINGULAR;
      goto done;
    }
    memcpy(coeffs, rhs, sizeof(double) * nu);
    /* chi^2 per pixel of every stamp: sum w N^2 - 2 a.v + a.M.a */
    double *stat = chi, *sorted = chi + ns;
    int32_t nsorted = 0;
    double chisum = 0.0, npixsum = 0.0;
    for (int32_t s = 0; s < ns; s++) {
      const double *M = ms + (size_t)s * per, *v = M + (size_t)nm * nm;
      double bg;
      local_coeffs(&c, coeffs, 2, 2, 1.0 + pos[2 * s], 1.0 + pos[2 * s + 1], al, &bg);
      al[nb] = bg;
      double q2 = v[nm];
      for (int32_t a = 0; a < nm; a++) {
        q2 -= 2.0 * al[a] * v[a];
        for (int32_t b = 0; b < nm; b++) q2 += al[a] * M[(size_t)a * nm + b] * al[b];
      }
      stat[s] = v[nm + 1] > 0 ? q2 / v[nm + 1] : INFINITY;
      if (keep[s]) {
        sorted[nsorted++] = stat[s];
        chisum += q2, npixsum += v[nm + 1];
      }
    }
    info[SD_AL_NUSED] = nsorted;
    info[SD_AL_CHI2] = npixsum > 0 ? chisum / npixsum : 0.0;
    if (iter == c.max_iter) break;
    /* median and MAD of the kept stamps' chi^2 */
    float *tmp = (float *)cb; /* the stamp buffer is free now */
    if ((size_t)nb * sw * sw < (size_t)nsorted) break;
    for (int32_t i = 0; i < nsorted; i++) tmp[i] = (float)sorted[i];
    const double med = sd_median_inplace(tmp, (size_t)nsorted);
    for (int32_t i = 0; i < nsorted; i++) tmp[i] = (float)fabs(sorted[i] - med);
    const double mad = 1.4826 * sd_median_inplace(tmp, (size_t)nsorted);
    const double lim = med + c.kappa * (mad > 0 ? mad : 1e-12 * med);
    int32_t changed = 0;
    for (int32_t s = 0; s < ns; s++)
      if (keep[s] && stat[s] > lim) keep[s] = 0, changed++;
    if (changed == 0) break;
  }
  {
    float *k = malloc(sizeof(float) * (size_t)kw * kw);
    if (k == NULL) {
      st = SD_ERR_NOMEM;
      goto done;
    }
    double bg;
    local_coeffs(&c, coeffs, nx, ny, 0.5 * nx, 0.5 * ny, al, &bg);
    build_kernel(&c, f, bi, bi + nb, norm, al, k);
    double ks = 0.0;
    for (int32_t i = 0; i < kw * kw; i++) ks += k[i];
    info[SD_AL_KSUM] = ks;
    free(k);
  }
done:
  free(f), free(bi), free(norm), free(tconv), free(cb), free(ms), free(pos), free(keep);
  free(chi), free(A), free(rhs), free(al), free(wcb), free(wq), free(wn), free(region);
  return st;
}

#if SD_SIMD
/* o[x] += sum_{v,u} k(u, v) img[y - v][x - u] for x in [x0, x1), every tap inside the image:
 * 8 outputs accumulated in registers over all taps. */
static void conv_taps_row(float *o, const float *img, int32_t nx, int32_t y, int32_t x0,
                          int32_t x1, const float *k, int32_t hw) {
  const int32_t kw = 2 * hw + 1;
  int32_t x = x0;
  for (; x + 8 <= x1; x += 8) {
    v128_t a0 = wasm_v128_load(o + x), a1 = wasm_v128_load(o + x + 4);
    for (int32_t v = -hw; v <= hw; v++) {
      const float *row = img + (size_t)(y - v) * nx + x + hw;
      const float *kr = k + (size_t)(v + hw) * kw;
      for (int32_t t = 0; t < kw; t++) {
        /* tap u = t - hw reads row[x - u] = (row - t)[...] */
        const v128_t vk = wasm_f32x4_splat(kr[t]);
        const float *p = row - t;
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(vk, wasm_v128_load(p)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(vk, wasm_v128_load(p + 4)));
      }
    }
    wasm_v128_store(o + x, a0);
    wasm_v128_store(o + x + 4, a1);
  }
  for (; x < x1; x++) {
    float a = o[x];
    for (int32_t v = -hw; v <= hw; v++)
      for (int32_t u = -hw; u <= hw; u++)
        a += k[(size_t)(v + hw) * kw + (u + hw)] * img[(size_t)(y - v) * nx + (x - u)];
    o[x] = a;
  }
}
#endif

sd_status sd_al_convolve(const float *ref_img, const float *var_ref, int32_t nx, int32_t ny,
                         const sd_al_opts *opts, const double *coeffs, int32_t ncoeff, float *out,
                         float *out_var) {
  al_cfg c;
  sd_status st = resolve(opts, &c);
  if (st != SD_OK) return st;
  if (ref_img == NULL || coeffs == NULL || out == NULL || ncoeff != c.nu || nx <= 0 || ny <= 0)
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > INT32_MAX) return SD_ERR_ARG;
  const int32_t kw = 2 * c.hw + 1, nr = factor_rows(&c), hw = c.hw;
  float *f = malloc(sizeof(float) * (size_t)nr * kw);
  int32_t *bi = malloc(sizeof(int32_t) * 2 * (size_t)c.nb);
  double *norm = malloc(sizeof(double) * (size_t)c.nb * 2);
  float *k = malloc(sizeof(float) * (size_t)kw * kw), *k2 = malloc(sizeof(float) * (size_t)kw * kw);
  float *clean = malloc(sizeof(float) * (size_t)nx * ny);
  if (!f || !bi || !norm || !k || !k2 || !clean) {
    st = SD_ERR_NOMEM;
    goto done;
  }
  basis_factors(&c, f, bi, bi + c.nb, norm);
  for (size_t i = 0; i < (size_t)nx * ny; i++) clean[i] = isfinite(ref_img[i]) ? ref_img[i] : 0.0f;
  for (int32_t by = 0; by < ny; by += AL_BLOCK)
    for (int32_t bx = 0; bx < nx; bx += AL_BLOCK) {
      const int32_t x1 = bx + AL_BLOCK < nx ? bx + AL_BLOCK : nx;
      const int32_t y1 = by + AL_BLOCK < ny ? by + AL_BLOCK : ny;
      double bg;
      local_coeffs(&c, coeffs, nx, ny, 0.5 * (bx + x1 - 1), 0.5 * (by + y1 - 1), norm + c.nb, &bg);
      build_kernel(&c, f, bi, bi + c.nb, norm, norm + c.nb, k);
      for (int32_t i = 0; i < kw * kw; i++) k2[i] = k[i] * k[i];
      for (int32_t yy = by; yy < y1; yy++) {
        float *o = out + (size_t)yy * nx;
        /* background varies over the block: evaluate per pixel (cheap) */
        if (c.nbg > 0) {
          double q[6];
          const double yn = (yy - 0.5 * ny) / (0.5 * ny);
          for (int32_t xx = bx; xx < x1; xx++) {
            monomials((xx - 0.5 * nx) / (0.5 * nx), yn, c.bo, q);
            double b = 0;
            for (int32_t t = 0; t < c.nbg; t++) b += coeffs[(size_t)c.nb * c.nt + t] * q[t];
            o[xx] = (float)b;
          }
        } else {
          for (int32_t xx = bx; xx < x1; xx++) o[xx] = 0.0f;
        }
        if (out_var) memset(out_var + (size_t)yy * nx + bx, 0, sizeof(float) * (size_t)(x1 - bx));
#if SD_SIMD
        if (yy - hw >= 0 && yy + hw < ny && bx - hw >= 0 && x1 - 1 + hw < nx) {
          conv_taps_row(o, clean, nx, yy, bx, x1, k, hw);
          if (out_var && var_ref) conv_taps_row(out_var + (size_t)yy * nx, var_ref, nx, yy, bx, x1, k2, hw);
          continue;
        }
#endif
        for (int32_t v = -hw; v <= hw; v++) {
          const int32_t sy = yy - v;
          if (sy < 0 || sy >= ny) continue;
          const float *src = clean + (size_t)sy * nx;
          const float *vsrc = var_ref ? var_ref + (size_t)sy * nx : NULL;
          for (int32_t u = -hw; u <= hw; u++) {
            /* out[x] += k(u, v) ref[x - u] for x in [bx, x1) with x - u inside */
            int32_t xa = bx, xb = x1;
            if (xa - u < 0) xa = u;
            if (xb - u > nx) xb = nx + u;
            if (xb <= xa) continue;
            const size_t kk = (size_t)(v + hw) * kw + (u + hw);
            axpy(o + xa, src + xa - u, k[kk], xb - xa);
            if (out_var && vsrc) axpy(out_var + (size_t)yy * nx + xa, vsrc + xa - u, k2[kk], xb - xa);
          }
        }
      }
    }
done:
  free(f), free(bi), free(norm), free(k), free(k2), free(clean);
  return st;
}
