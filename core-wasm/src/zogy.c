/* zogy.c — ZOGY proper image subtraction (Zackay, Ofek & Gal-Yam 2016) on overlapping tiles:
 * D, P_D, S, S_corr (source-noise and astrometric variance terms), F_D, flux and its error. */
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

static double opt_or(double v, double def) { return v != 0.0 && isfinite(v) ? v : def; }

sd_status sd_zogy_tiles(int32_t nx, int32_t ny, const sd_zogy_opts *opts, int32_t *ntx,
                        int32_t *nty) {
  if (nx <= 0 || ny <= 0 || ntx == NULL || nty == NULL) return SD_ERR_ARG;
  const double tile = opts ? opt_or(opts->tile, 512) : 512;
  if (!(tile >= 16 && tile <= 65536)) return SD_ERR_ARG;
  const int32_t t = (int32_t)tile;
  *ntx = (nx + t - 1) / t;
  *nty = (ny + t - 1) / t;
  return SD_OK;
}

/* Copies the tile region of src (origin rx0, ry0 in image pixels) into a px x py buffer;
 * pixels outside the image get fill. */
static void load_tile(const float *src, int32_t nx, int32_t ny, int32_t rx0, int32_t ry0,
                      float *buf, int32_t px, int32_t py, float fill) {
  for (int32_t by = 0; by < py; by++) {
    const int32_t y = ry0 + by;
    float *row = buf + (size_t)by * px;
    if (y < 0 || y >= ny) {
      for (int32_t bx = 0; bx < px; bx++) row[bx] = fill;
      continue;
    }
    const float *srow = src + (size_t)y * nx;
    for (int32_t bx = 0; bx < px; bx++) {
      const int32_t x = rx0 + bx;
      const float v = (x >= 0 && x < nx) ? srow[x] : fill;
      row[bx] = isfinite(v) ? v : fill;
    }
  }
}

/* A ps x ps stamp, normalised to unit sum, wrapped around (0, 0) of a px x py buffer. */
static int load_psf(const float *stamp, int32_t ps, float *buf, int32_t px, int32_t py) {
  double sum = 0.0;
  for (int32_t i = 0; i < ps * ps; i++) sum += stamp[i];
  if (!(sum > 0.0) || !isfinite(sum)) return 0;
  memset(buf, 0, sizeof(float) * (size_t)px * py);
  const int32_t h = ps / 2;
  for (int32_t v = -h; v <= h; v++)
    for (int32_t u = -h; u <= h; u++)
      buf[(size_t)((v + py) % py) * px + (size_t)((u + px) % px)] +=
          (float)(stamp[(size_t)(v + h) * ps + (u + h)] / sum);
  return 1;
}

/* Median of sqrt(var) over the tile core; 0 when nothing usable. */
static double tile_sigma(const float *var, int32_t nx, int32_t x0, int32_t x1, int32_t y0,
                         int32_t y1, float *scratch) {
  size_t n = 0;
  for (int32_t y = y0; y < y1; y++)
    for (int32_t x = x0; x < x1; x++) {
      const float v = var[(size_t)y * nx + x];
      if (isfinite(v) && v > 0.0f) scratch[n++] = v;
    }
  return n > 0 ? sqrt(sd_median_inplace(scratch, n)) : 0.0;
}

sd_status sd_zogy(const float *new_img, const float *ref_img, const float *var_n,
                  const float *var_r, int32_t nx, int32_t ny, const float *sigma_n,
                  const float *sigma_r, const float *psf_n, const float *psf_r, int32_t ps,
                  const sd_zogy_opts *opts, float *d, float *s, float *scorr, float *flux,
                  float *flux_err, float *pd, double *table) {
  if (new_img == NULL || ref_img == NULL || psf_n == NULL || psf_r == NULL || ps <= 0 ||
      ps % 2 == 0 || nx <= 0 || ny <= 0 || (sigma_n == NULL && var_n == NULL) ||
      (sigma_r == NULL && var_r == NULL) || (var_n == NULL) != (var_r == NULL))
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > INT32_MAX) return SD_ERR_ARG;
  int32_t ntx, nty;
  sd_status status = sd_zogy_tiles(nx, ny, opts, &ntx, &nty);
  if (status != SD_OK) return status;
  const int32_t tile = (int32_t)(opts ? opt_or(opts->tile, 512) : 512);
  const double ov = opts ? opt_or(opts->overlap, 32) : 32;
  const double fn = opts ? opt_or(opts->fn, 1) : 1, fr = opts ? opt_or(opts->fr, 1) : 1;
  const double ax = opts ? opts->astrom_x : 0, ay = opts ? opts->astrom_y : 0;
  if (!(ov >= 1 && ov <= 4096) || !(fn > 0) || !(fr > 0) || !(ax >= 0) || !(ay >= 0))
    return SD_ERR_ARG;
  const int32_t m = (int32_t)ov, h = ps / 2;
  if (h >= m) return SD_ERR_ARG;
  const int32_t cw = tile < nx ? tile : nx, ch = tile < ny ? tile : ny;
  int32_t px, py, plen;
  if (sd_fft_good_size(cw + 2 * m, &px) != SD_OK || sd_fft_good_size(ch + 2 * m, &py) != SD_OK)
    return SD_ERR_ARG;
  if (sd_fft_plan_length(px, py, &plen) != SD_OK) return SD_ERR_ARG;
  const int32_t nxh = px / 2 + 1;
  const size_t np = (size_t)px * py, ns = (size_t)py * nxh;
  const int want_var = var_n != NULL;
  float *plan = malloc(sizeof(float) * (size_t)plen);
  float *rb = malloc(sizeof(float) * np * 6); /* real buffers */
  float *sp = malloc(sizeof(float) * 2 * ns * 10); /* spectra */
  float *scratch = malloc(sizeof(float) * (size_t)tile * tile);
  if (!plan || !rb || !sp || !scratch) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  sd_fft_plan(px, py, plan, plen);
  float *bN = rb, *bR = rb + np, *bSn = rb + 2 * np, *bSr = rb + 3 * np, *bVn = rb + 4 * np,
        *bVr = rb + 5 * np;
  float *Nh = sp, *Rh = sp + 2 * ns, *Pnh = sp + 4 * ns, *Prh = sp + 6 * ns, *Dh = sp + 8 * ns,
        *Snh = sp + 10 * ns, *Srh = sp + 12 * ns, *PDh = sp + 14 * ns, *Knh = sp + 16 * ns,
        *Krh = sp + 18 * ns;
  for (int32_t tj = 0; tj < nty; tj++)
    for (int32_t ti = 0; ti < ntx; ti++) {
      const int32_t t = tj * ntx + ti;
      const int32_t x0 = ti * tile, y0 = tj * tile;
      const int32_t x1 = x0 + tile < nx ? x0 + tile : nx, y1 = y0 + tile < ny ? y0 + tile : ny;
      const int32_t rx0 = x0 - m, ry0 = y0 - m;
      double sn = sigma_n ? sigma_n[t] : tile_sigma(var_n, nx, x0, x1, y0, y1, scratch);
      double sr = sigma_r ? sigma_r[t] : tile_sigma(var_r, nx, x0, x1, y0, y1, scratch);
      if (!(sn > 0) || !(sr > 0) || !isfinite(sn) || !isfinite(sr)) {
        status = SD_ERR_ARG;
        goto done;
      }
      /* forward transforms of the data and the PSFs */
      load_tile(new_img, nx, ny, rx0, ry0, bN, px, py, 0.0f);
      load_tile(ref_img, nx, ny, rx0, ry0, bR, px, py, 0.0f);
      sd_fft_r2c(plan, bN, Nh);
      sd_fft_r2c(plan, bR, Rh);
      /* PSF spectra (kept from the previous tile when its stamps are the same) */
      const size_t pss = (size_t)ps * ps;
      const float *stn = psf_n + (size_t)t * pss, *str = psf_r + (size_t)t * pss;
      if (t == 0 || memcmp(stn, stn - pss, sizeof(float) * pss) != 0 ||
          memcmp(str, str - pss, sizeof(float) * pss) != 0) {
        if (!load_psf(stn, ps, bSn, px, py) || !load_psf(str, ps, bSr, px, py)) {
          status = SD_ERR_ARG;
          goto done;
        }
        sd_fft_r2c(plan, bSn, Pnh);
        sd_fft_r2c(plan, bSr, Prh);
      }
      const double sn2 = sn * sn, sr2 = sr * sr;
      const double fd = fr * fn / sqrt(sn2 * fr * fr + sr2 * fn * fn);
      const double floor2 = 1e-30 * (sn2 * fr * fr + sr2 * fn * fn);
      double fs = 0.0, skn = 0.0, skr = 0.0;
      for (size_t i = 0; i < ns; i++) {
        const int32_t kx = (int32_t)(i % (size_t)nxh);
        const double wgt = (kx == 0 || (px % 2 == 0 && kx == px / 2)) ? 1.0 : 2.0;
        const double pnr = Pnh[i], pni = Pnh[ns + i], prr = Prh[i], pri = Prh[ns + i];
        const double nr = Nh[i], ni = Nh[ns + i], rr = Rh[i], ri = Rh[ns + i];
        const double an = pnr * pnr + pni * pni, ar = prr * prr + pri * pri;
        double den2 = sn2 * fr * fr * ar + sr2 * fn * fn * an;
        if (den2 < floor2) den2 = floor2;
        const double sq = sqrt(den2);
        /* D = (F_r P_r N - F_n P_n R) / sqrt(den2) */
        Dh[i] = (float)((fr * (prr * nr - pri * ni) - fn * (pnr * rr - pni * ri)) / sq);
        Dh[ns + i] = (float)((fr * (prr * ni + pri * nr) - fn * (pnr * ri + pni * rr)) / sq);
        /* k_n = F_r^2 F_n |P_r|^2 conj(P_n) / den2, k_r = F_n^2 F_r |P_n|^2 conj(P_r) / den2 */
        const double cn = fr * fr * fn * ar / den2, cr = fn * fn * fr * an / den2;
        const double knr = cn * pnr, kni = -cn * pni, krr = cr * prr, kri = -cr * pri;
        Knh[i] = (float)knr, Knh[ns + i] = (float)kni;
        Krh[i] = (float)krr, Krh[ns + i] = (float)kri;
        Snh[i] = (float)(knr * nr - kni * ni), Snh[ns + i] = (float)(knr * ni + kni * nr);
        Srh[i] = (float)(krr * rr - kri * ri), Srh[ns + i] = (float)(krr * ri + kri * rr);
        /* P_D = F_r F_n P_r P_n / (F_D sqrt(den2)) */
        const double c = fr * fn / (fd * sq);
        PDh[i] = (float)(c * (prr * pnr - pri * pni));
        PDh[ns + i] = (float)(c * (prr * pni + pri * pnr));
        fs += wgt * fn * fn * fr * fr * an * ar / den2;
        skn += wgt * (knr * knr + kni * kni);
        skr += wgt * (krr * krr + kri * kri);
      }
      fs /= (double)np, skn /= (double)np, skr /= (double)np;
      if (table != NULL) {
        double *row = table + (size_t)t * SD_ZOGY_NCOL;
        row[SD_ZOGY_FD] = fd, row[SD_ZOGY_FS] = fs, row[SD_ZOGY_SIGMA_N] = sn;
        row[SD_ZOGY_SIGMA_R] = sr;
      }
      if (pd != NULL) {
        sd_fft_c2r(plan, PDh, bVn);
        float *st = pd + (size_t)t * ps * ps;
        double sum = 0.0;
        for (int32_t v = -h; v <= h; v++)
          for (int32_t u = -h; u <= h; u++)
            sum += st[(size_t)(v + h) * ps + (u + h)] =
                bVn[(size_t)((v + py) % py) * px + (size_t)((u + px) % px)];
        if (sum != 0.0)
          for (int32_t i = 0; i < ps * ps; i++) st[i] = (float)(st[i] / sum);
      }
      if (d != NULL) {
        sd_fft_c2r(plan, Dh, bN);
        for (int32_t y = y0; y < y1; y++)
          memcpy(d + (size_t)y * nx + x0, bN + (size_t)(y - ry0) * px + (x0 - rx0),
                 sizeof(float) * (size_t)(x1 - x0));
      }
      if (s == NULL && scorr == NULL && flux == NULL && flux_err == NULL) continue;
      const int astrom = ax > 0 || ay > 0;
      if (astrom) {
        /* S_N and S_R separately for their gradients */
        sd_fft_c2r(plan, Snh, bSn);
        sd_fft_c2r(plan, Srh, bSr);
      } else {
        /* S = S_N - S_R in one transform (bSr = 0) */
        for (size_t i = 0; i < 2 * ns; i++) Snh[i] -= Srh[i];
        sd_fft_c2r(plan, Snh, bSn);
        memset(bSr, 0, sizeof(float) * np);
      }
      if (want_var) {
        /* V_S = var_n (x) k_n^2 + var_r (x) k_r^2, summed in Fourier space */
        sd_fft_c2r(plan, Knh, bN);
        sd_fft_c2r(plan, Krh, bR);
        for (size_t i = 0; i < np; i++) bN[i] *= bN[i], bR[i] *= bR[i];
        sd_fft_r2c(plan, bN, Knh);
        sd_fft_r2c(plan, bR, Krh);
        load_tile(var_n, nx, ny, rx0, ry0, bVn, px, py, (float)sn2);
        load_tile(var_r, nx, ny, rx0, ry0, bVr, px, py, (float)sr2);
        sd_fft_r2c(plan, bVn, Nh);
        sd_fft_r2c(plan, bVr, Rh);
        for (size_t i = 0; i < ns; i++) {
          const float re = Nh[i] * Knh[i] - Nh[ns + i] * Knh[ns + i] + Rh[i] * Krh[i] -
                           Rh[ns + i] * Krh[ns + i];
          const float im = Nh[i] * Knh[ns + i] + Nh[ns + i] * Knh[i] + Rh[i] * Krh[ns + i] +
                           Rh[ns + i] * Krh[i];
          Nh[i] = re, Nh[ns + i] = im;
        }
        sd_fft_c2r(plan, Nh, bVn);
      }
      const float ax2 = (float)(ax * ax), ay2 = (float)(ay * ay);
      const float vsn_c = (float)(sn2 * skn), vsr_c = (float)(sr2 * skr);
      const float inv_fs = fs > 0 ? (float)(1.0 / fs) : 0.0f;
      for (int32_t y = y0; y < y1; y++) {
        const size_t brow = (size_t)(y - ry0) * px;
        for (int32_t x = x0; x < x1; x++) {
          const size_t b = brow + (size_t)(x - rx0), o = (size_t)y * nx + x;
          const float sv = bSn[b] - bSr[b];
          float vs = want_var ? fmaxf(bVn[b], 0.0f) : vsn_c + vsr_c;
          float va = 0.0f;
          if (ax2 > 0.0f || ay2 > 0.0f) {
            const float dnx = 0.5f * (bSn[b + 1] - bSn[b - 1]), drx = 0.5f * (bSr[b + 1] - bSr[b - 1]);
            const float dny = 0.5f * (bSn[b + px] - bSn[b - px]);
            const float dry = 0.5f * (bSr[b + px] - bSr[b - px]);
            va = ax2 * (dnx * dnx + drx * drx) + ay2 * (dny * dny + dry * dry);
          }
          if (s) s[o] = sv;
          if (scorr) scorr[o] = vs + va > 0.0f ? sv / sqrtf(vs + va) : 0.0f;
          if (flux) flux[o] = sv * inv_fs;
          if (flux_err) flux_err[o] = sqrtf(vs) * inv_fs;
        }
      }
    }
done:
  free(plan);
  free(rb);
  free(sp);
  free(scratch);
  return status;
}
