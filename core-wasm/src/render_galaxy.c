/*
 * render_galaxy.c — Sersic galaxies convolved with a Moffat PSF (the simulator's galaxies).
 *
 * Each galaxy is sampled on its own stamp (sub-sampled near the centre, where the
 * Sersic cusp is steep), convolved directly with a pixel-integrated Moffat kernel of
 * the FWHM at the galaxy's position, normalised so the whole convolved stamp sums to
 * the galaxy's flux, and added to the image (pixels off the image are dropped).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

/* b_n of the Sersic profile (Ciotti & Bertin 1999 asymptotic series). */
static double sersic_b(double n) {
  return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n) +
         131.0 / (1148175.0 * n * n * n);
}

/* Moffat alpha from FWHM and beta. */
static double moffat_alpha(double fwhm, double beta) {
  return fwhm / (2.0 * sqrt(pow(2.0, 1.0 / beta) - 1.0));
}

/* Fills a (2r+1)^2 pixel-integrated Moffat kernel, sampled as sd_render_stars samples
 * stars (5x5 sub-samples for pixels within 2 FWHM of the centre, the pixel centre
 * elsewhere), zero beyond radius rmax, normalised to unit sum. */
static void moffat_kernel(float *k, int32_t r, double fwhm, double alpha, double beta,
                          double rmax) {
  int32_t side = 2 * r + 1;
  double sum = 0.0, inv_a2 = 1.0 / (alpha * alpha), core2 = 4.0 * fwhm * fwhm;
  for (int32_t j = 0; j < side; j++) {
    for (int32_t i = 0; i < side; i++) {
      double dx = i - r, dy = j - r, d2 = dx * dx + dy * dy;
      double v = 0.0;
      if (d2 <= rmax * rmax) {
        if (d2 <= core2) {
          for (int32_t b = 0; b < 5; b++) {
            double y = dy + (b + 0.5) / 5 - 0.5;
            for (int32_t a = 0; a < 5; a++) {
              double x = dx + (a + 0.5) / 5 - 0.5;
              v += exp(-beta * log1p((x * x + y * y) * inv_a2));
            }
          }
          v /= 25.0;
        } else {
          v = exp(-beta * log1p(d2 * inv_a2));
        }
      }
      k[j * side + i] = (float)v;
      sum += v;
    }
  }
  for (int32_t i = 0; i < side * side; i++) k[i] = (float)(k[i] / sum);
}

/* The Sersic profile is tabulated against t = ln(r^2 / re^2), where it is smooth even at
 * the centre's cusp, and interpolated linearly: one log per sample instead of a sqrt, a
 * pow and an exp. */
enum { SERSIC_TABLE = 4096 };
#define SERSIC_T0 (-23.0) /* ln of (1e-5)^2: inside that radius the profile is flat */

/* Fills a (2r+1)^2 Sersic stamp centred at fractional offset (fx, fy) from its centre
 * pixel; zero beyond rmax half-light radii. table holds SERSIC_TABLE floats of scratch. */
static void sersic_stamp(float *s, float *table, int32_t r, double fx, double fy, double n,
                         double re, double q, double theta, double rmax) {
  int32_t side = 2 * r + 1;
  double b = sersic_b(n), half_inv_n = 0.5 / n;
  double t1 = log(rmax * rmax), dt = (t1 - SERSIC_T0) / (SERSIC_TABLE - 1), inv_dt = 1.0 / dt;
  for (int32_t k = 0; k < SERSIC_TABLE; k++) {
    double t = SERSIC_T0 + k * dt; /* r^(1/n) = exp(t / (2n)) */
    table[k] = (float)exp(-b * (exp(t * half_inv_n) - 1.0));
  }
  double c = cos(theta), sn = sin(theta), inv_re2 = 1.0 / (re * re), inv_q = 1.0 / q;
  double rmax2 = rmax * rmax;
  for (int32_t j = 0; j < side; j++) {
    for (int32_t i = 0; i < side; i++) {
      double dx = i - r - fx, dy = j - r - fy;
      double d2 = dx * dx + dy * dy;
      int32_t sub = d2 < 2.25 ? 9 : (d2 < 16.0 ? 5 : (d2 < 64.0 ? 3 : 1));
      double v = 0.0;
      for (int32_t bb = 0; bb < sub; bb++) {
        double y = dy + (bb + 0.5) / sub - 0.5;
        for (int32_t aa = 0; aa < sub; aa++) {
          double x = dx + (aa + 0.5) / sub - 0.5;
          double xm = x * c + y * sn, ym = (-x * sn + y * c) * inv_q;
          double rr2 = (xm * xm + ym * ym) * inv_re2;
          if (rr2 > rmax2) continue;
          double u = (rr2 > 0.0 ? log(rr2) - SERSIC_T0 : 0.0) * inv_dt;
          if (u <= 0.0) {
            v += table[0];
          } else {
            int32_t k = (int32_t)u;
            if (k >= SERSIC_TABLE - 1) {
              v += table[SERSIC_TABLE - 1];
            } else {
              double f = u - k;
              v += table[k] + f * (table[k + 1] - table[k]);
            }
          }
        }
      }
      s[j * side + i] = (float)(v / (double)(sub * sub));
    }
  }
}

/* out (ow wide) += g * k (kside x kside, rows kstride apart) at (ox, oy): one axpy per
 * kernel row. */
static void add_scaled_kernel(float *out, int32_t ow, int32_t ox, int32_t oy, float g,
                              const float *k, int32_t kside, int32_t kstride) {
  for (int32_t j = 0; j < kside; j++) {
    float *o = out + (size_t)(oy + j) * ow + ox;
    const float *kr = k + (size_t)j * kstride;
    int32_t i = 0;
#if SD_SIMD
    v128_t vg = wasm_f32x4_splat(g);
    for (; i + 4 <= kside; i += 4) {
      v128_t vo = wasm_v128_load(o + i);
      wasm_v128_store(o + i, wasm_f32x4_add(vo, wasm_f32x4_mul(vg, wasm_v128_load(kr + i))));
    }
#endif
    for (; i < kside; i++) o[i] += g * kr[i];
  }
}

sd_status sd_sim_galaxies(float *img, int32_t nx, int32_t ny, const double *params, int32_t n,
                          double beta, double psf_radius, double sersic_radius,
                          double wing_level) {
  if (img == NULL || nx <= 0 || ny <= 0 || n < 0 || (n > 0 && params == NULL)) return SD_ERR_ARG;
  if (beta == 0.0) beta = 3.0;
  if (psf_radius == 0.0) psf_radius = 5.0;
  if (sersic_radius == 0.0) sersic_radius = 5.0;
  if (wing_level == 0.0) wing_level = 0.05;
  if (!(beta > 1.0) || !(psf_radius > 0.0) || !(sersic_radius > 0.0) || !(wing_level > 0.0))
    return SD_ERR_ARG;
  const int32_t max_r = 256;
  /* sizes first, so one allocation serves every galaxy */
  int32_t max_g = 0, max_k = 0;
  for (int32_t g = 0; g < n; g++) {
    const double *p = params + (size_t)g * SD_SIM_GAL_NCOL;
    double flux = p[SD_SIM_GAL_FLUX], sn = p[SD_SIM_GAL_N], re = p[SD_SIM_GAL_RE];
    double q = p[SD_SIM_GAL_Q], fwhm = p[SD_SIM_GAL_FWHM];
    if (!isfinite(p[SD_SIM_GAL_X]) || !isfinite(p[SD_SIM_GAL_Y]) || !isfinite(flux) ||
        !(sn >= 0.2 && sn <= 10.0) || !(re > 0.0) || !(q > 0.0 && q <= 1.0) || !(fwhm > 0.0))
      return SD_ERR_ARG;
    (void)q;
    int32_t rg = (int32_t)ceil(sersic_radius * re) + 1;
    if (rg > max_r) rg = max_r;
    int32_t rk = (int32_t)ceil(psf_radius * fwhm);
    if (rk > max_r) rk = max_r;
    if (rg > max_g) max_g = rg;
    if (rk > max_k) max_k = rk;
  }
  if (n == 0) return SD_OK;
  size_t gs = (size_t)(2 * max_g + 1), ks = (size_t)(2 * max_k + 1), os = gs + ks - 1;
  /* PSF kernels are cached by FWHM quantised to 0.2%, each computed at its full radius
   * (psf_radius FWHM); a galaxy uses the central (2 rk + 1)^2 block of its kernel. */
  enum { NCACHE = 16 };
  float *buf =
      (float *)malloc(sizeof(float) * (gs * gs + NCACHE * ks * ks + os * os + SERSIC_TABLE));
  if (buf == NULL) return SD_ERR_NOMEM;
  float *stamp = buf, *kcache = buf + gs * gs, *out = kcache + NCACHE * ks * ks;
  float *table = out + os * os;
  double cache_fwhm[NCACHE];
  int32_t cache_r[NCACHE], cache_next = 0;
  for (int c = 0; c < NCACHE; c++) cache_fwhm[c] = -1.0, cache_r[c] = 0;
  for (int32_t g = 0; g < n; g++) {
    const double *p = params + (size_t)g * SD_SIM_GAL_NCOL;
    double x = p[SD_SIM_GAL_X], y = p[SD_SIM_GAL_Y], flux = p[SD_SIM_GAL_FLUX];
    double re = p[SD_SIM_GAL_RE];
    double fwhm = exp(round(log(p[SD_SIM_GAL_FWHM]) / 0.002) * 0.002);
    int32_t rg = (int32_t)ceil(sersic_radius * re) + 1;
    if (rg > max_r) rg = max_r;
    /* the kernel stops where flux * psf falls below wing_level (or at psf_radius fwhm) */
    double alpha = moffat_alpha(fwhm, beta);
    double peak = (beta - 1.0) / (3.141592653589793 * alpha * alpha) * fabs(flux);
    double rw = peak > wing_level ? alpha * sqrt(pow(peak / wing_level, 1.0 / beta) - 1.0) : 1.0;
    int32_t rfull = (int32_t)ceil(psf_radius * fwhm);
    if (rfull > max_k) rfull = max_k;
    int32_t rk = (int32_t)ceil(fmin(psf_radius * fwhm, fmax(rw, 1.5 * fwhm)));
    if (rk > rfull) rk = rfull;
    int32_t cx = (int32_t)floor(x + 0.5), cy = (int32_t)floor(y + 0.5);
    int32_t ro = rg + rk, oside = 2 * ro + 1;
    /* skip galaxies whose convolved stamp misses the image */
    if (cx + ro < 0 || cx - ro >= nx || cy + ro < 0 || cy - ro >= ny) continue;
    int c = 0;
    while (c < NCACHE && !(cache_fwhm[c] == fwhm && cache_r[c] == rfull)) c++;
    if (c == NCACHE) {
      c = cache_next;
      cache_next = (cache_next + 1) % NCACHE;
      moffat_kernel(kcache + (size_t)c * ks * ks, rfull, fwhm, alpha, beta, psf_radius * fwhm);
      cache_fwhm[c] = fwhm;
      cache_r[c] = rfull;
    }
    const float *kfull = kcache + (size_t)c * ks * ks;
    int32_t fside = 2 * rfull + 1, kside = 2 * rk + 1;
    const float *kern = kfull + (size_t)(rfull - rk) * fside + (rfull - rk);
    int32_t gside = 2 * rg + 1;
    sersic_stamp(stamp, table, rg, x - cx, y - cy, p[SD_SIM_GAL_N], re, p[SD_SIM_GAL_Q],
                 p[SD_SIM_GAL_THETA], sersic_radius);
    memset(out, 0, sizeof(float) * (size_t)oside * (size_t)oside);
    for (int32_t j = 0; j < gside; j++)
      for (int32_t i = 0; i < gside; i++) {
        float v = stamp[j * gside + i];
        if (v != 0.0f) add_scaled_kernel(out, oside, i, j, v, kern, kside, fside);
      }
    double sum = 0.0;
    for (int32_t j = 0; j < oside * oside; j++) sum += out[j];
    if (!(sum > 0.0)) continue;
    float scale = (float)(flux / sum);
    for (int32_t j = 0; j < oside; j++) {
      int32_t yy = cy - ro + j;
      if (yy < 0 || yy >= ny) continue;
      for (int32_t i = 0; i < oside; i++) {
        int32_t xx = cx - ro + i;
        if (xx < 0 || xx >= nx) continue;
        img[(size_t)yy * nx + xx] += scale * out[(size_t)j * oside + i];
      }
    }
  }
  free(buf);
  return SD_OK;
}
