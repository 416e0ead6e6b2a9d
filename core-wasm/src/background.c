/* background.c — SExtractor-style background meshes and their bicubic-spline rendering. */
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

#define MIN_GOOD_FRACTION 0.5 /* a box needs this fraction of usable pixels */
#define HIST_NSIGMA 5.0       /* histogram spans mean +- 5 sigma of the 2-sigma clipped data */
#define HIST_MAX_LEVELS 4096
#define HIST_MIN_PER_LEVEL 4.0 /* about this many "mode pixels" per level */

/* Writes the 0-based histogram bin of each value (may be out of range) into bins. */
static void histogram_bins(const float *x, size_t n, float qzero, float inv_scale, int32_t *bins) {
  size_t i = 0;
#if SD_SIMD
  const v128_t z = wasm_f32x4_splat(qzero), s = wasm_f32x4_splat(inv_scale);
  const v128_t half = wasm_f32x4_splat(0.5f);
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + i), z), s);
    v = wasm_f32x4_floor(wasm_f32x4_add(v, half));
    wasm_v128_store(bins + i, wasm_i32x4_trunc_sat_f32x4(v));
  }
#endif
  for (; i < n; i++) {
    float v = floorf((x[i] - qzero) * inv_scale + 0.5f);
    bins[i] = v < -1.0f ? -1 : (v > 2e9f ? 2000000000 : (int32_t)v);
  }
}

/* Estimates background and rms of the usable pixels buf[0..n) of one box, with the
 * SExtractor recipe: clip at mean +- 2 sigma, histogram, then clip at median +- 3 sigma
 * until sigma converges; mode = 2.5 median - 1.5 mean unless skewed. hist: room for
 * HIST_MAX_LEVELS counts; bins: room for n ints. */
static void box_estimate(const float *buf, size_t n, int32_t *hist, int32_t *bins, float *back,
                         float *rms) {
  double mean, sigma;
  sd_moments m = sd_moments_range(buf, n, -INFINITY, INFINITY, buf[0]);
  sd_moments_mean_std(m, buf[0], &mean, &sigma);
  float lcut = (float)(mean - 2.0 * sigma), hcut = (float)(mean + 2.0 * sigma);
  m = sd_moments_range(buf, n, lcut, hcut, (float)mean);
  sd_moments_mean_std(m, (float)mean, &mean, &sigma);
  if (m.n <= 0 || !(sigma > 0.0)) {
    *back = (float)mean;
    *rms = 0.0f;
    return;
  }
  const double step = sqrt(2.0 / 3.141592653589793) * HIST_NSIGMA / HIST_MIN_PER_LEVEL;
  int nlevels = (int)(step * m.n + 1.0);
  if (nlevels > HIST_MAX_LEVELS) nlevels = HIST_MAX_LEVELS;
  const double qscale = 2.0 * HIST_NSIGMA * sigma / nlevels;
  const double qzero = mean - HIST_NSIGMA * sigma;
  memset(hist, 0, sizeof(int32_t) * (size_t)nlevels);
  histogram_bins(buf, n, (float)qzero, (float)(1.0 / qscale), bins);
  for (size_t i = 0; i < n; i++) {
    uint32_t b = (uint32_t)bins[i];
    if (b < (uint32_t)nlevels) hist[b]++;
  }

  /* iterate on the histogram, in bin units: bin k covers [k - 0.5, k + 0.5) */
  int lo = 0, hi = nlevels - 1;
  double sig = 10.0 * hi, sig_prev = 1.0, mea = mean, med = mean;
  mea = med = (mean - qzero) / qscale;
  for (int it = 0; it < 100 && sig >= 0.1 && fabs(sig / sig_prev - 1.0) > 1e-4; it++) {
    sig_prev = sig;
    double cnt = 0.0, s1 = 0.0, s2 = 0.0;
    for (int k = lo; k <= hi; k++) {
      double h = hist[k];
      cnt += h;
      s1 += h * k;
      s2 += h * k * (double)k;
    }
    if (cnt <= 0.0) break;
    mea = s1 / cnt;
    double var = s2 / cnt - mea * mea;
    sig = var > 0.0 ? sqrt(var) : 0.0;
    /* median: where the cumulative count reaches half, linear within the bin */
    double half = 0.5 * cnt, cum = 0.0;
    med = hi;
    for (int k = lo; k <= hi; k++) {
      double h = hist[k];
      if (h > 0.0 && cum + h >= half) {
        med = k - 0.5 + (half - cum) / h;
        break;
      }
      cum += h;
    }
    double l = med - 3.0 * sig, u = med + 3.0 * sig;
    lo = l > 0.0 ? (int)(l + 0.5) : 0;
    hi = u < nlevels - 1 ? (int)(u + 0.5) : nlevels - 1;
    if (hi < lo) hi = lo;
  }
  double mode = (sig > 0.0 && fabs(mea - med) < 0.3 * sig) ? 2.5 * med - 1.5 * mea : med;
  *back = (float)(qzero + mode * qscale);
  *rms = (float)(sig * qscale);
}

static float median_of(float *x, size_t n) { return (float)sd_median_inplace(x, n); }

sd_status sd_background_mesh(const float *image, const uint16_t *mask, int32_t nx, int32_t ny,
                             uint16_t mask_bits, int32_t bw, int32_t bh, int32_t fw, int32_t fh,
                             float fthresh, float *mesh_back, float *mesh_rms, double *out) {
  sd_status status = SD_OK;
  float *buf = NULL, *tmp_b = NULL, *tmp_s = NULL, *win_b = NULL, *win_s = NULL;
  int32_t *hist = NULL, *bins = NULL;
  uint8_t *bad = NULL;
  if (image == NULL || mesh_back == NULL || mesh_rms == NULL || out == NULL || nx <= 0 ||
      ny <= 0 || bw <= 0 || bh <= 0 || fw <= 0 || fh <= 0 || !(fthresh >= 0.0f))
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > (int64_t)INT32_MAX) return SD_ERR_ARG;
  const int32_t nbx = (nx - 1) / bw + 1, nby = (ny - 1) / bh + 1;
  const size_t nb = (size_t)nbx * nby;
  const int32_t hx = fw / 2, hy = fh / 2;
  buf = malloc(sizeof(float) * (size_t)bw * bh);
  bins = malloc(sizeof(int32_t) * (size_t)bw * bh);
  hist = malloc(sizeof(int32_t) * HIST_MAX_LEVELS);
  bad = calloc(nb, 1);
  tmp_b = malloc(sizeof(float) * nb);
  tmp_s = malloc(sizeof(float) * nb);
  win_b = malloc(sizeof(float) * (size_t)(2 * hx + 1) * (2 * hy + 1));
  win_s = malloc(sizeof(float) * (size_t)(2 * hx + 1) * (2 * hy + 1));
  if (!buf || !bins || !hist || !bad || !tmp_b || !tmp_s || !win_b || !win_s) {
    status = SD_ERR_NOMEM;
    goto done;
  }

  /* 1. one estimate per box */
  size_t nbad = 0;
  for (int32_t by = 0; by < nby; by++) {
    const int32_t y0 = by * bh, y1 = y0 + bh < ny ? y0 + bh : ny;
    for (int32_t bx = 0; bx < nbx; bx++) {
      const int32_t x0 = bx * bw, x1 = x0 + bw < nx ? x0 + bw : nx;
      size_t n = 0;
      for (int32_t y = y0; y < y1; y++) {
        const size_t row = (size_t)y * nx;
        if (sd_all_usable(image + row + x0, mask ? mask + row + x0 : NULL, (size_t)(x1 - x0),
                          mask_bits)) {
          memcpy(buf + n, image + row + x0, sizeof(float) * (size_t)(x1 - x0));
          n += (size_t)(x1 - x0);
          continue;
        }
        for (int32_t x = x0; x < x1; x++) {
          float v = image[row + x];
          buf[n] = v;
          n += sd_usable(v, mask, row + x, mask_bits);
        }
      }
      const size_t k = (size_t)by * nbx + bx;
      if ((double)n < MIN_GOOD_FRACTION * (double)(x1 - x0) * (y1 - y0) || n == 0) {
        bad[k] = 1;
        nbad++;
        mesh_back[k] = mesh_rms[k] = 0.0f;
        continue;
      }
      box_estimate(buf, n, hist, bins, &mesh_back[k], &mesh_rms[k]);
    }
  }
  if (nbad == nb) {
    status = SD_ERR_EMPTY;
    goto done;
  }

  /* 2. bad boxes take the mean of their nearest good boxes */
  if (nbad > 0) {
    for (size_t k = 0; k < nb; k++) {
      tmp_b[k] = mesh_back[k];
      tmp_s[k] = mesh_rms[k];
      if (!bad[k]) continue;
      const int32_t px = (int32_t)(k % nbx), py = (int32_t)(k / nbx);
      double best = INFINITY, sb = 0.0, ss = 0.0;
      int cnt = 0;
      for (size_t j = 0; j < nb; j++) {
        if (bad[j]) continue;
        double dx = (double)((int32_t)(j % nbx) - px), dy = (double)((int32_t)(j / nbx) - py);
        double d2 = dx * dx + dy * dy;
        if (d2 < best) {
          best = d2;
          sb = mesh_back[j];
          ss = mesh_rms[j];
          cnt = 1;
        } else if (d2 == best) {
          sb += mesh_back[j];
          ss += mesh_rms[j];
          cnt++;
        }
      }
      tmp_b[k] = (float)(sb / cnt);
      tmp_s[k] = (float)(ss / cnt);
    }
    memcpy(mesh_back, tmp_b, sizeof(float) * nb);
    memcpy(mesh_rms, tmp_s, sizeof(float) * nb);
  }

  /* 3. median filter, the window shrunk symmetrically near the edges */
  for (int32_t py = 0; py < nby; py++) {
    int32_t ry = hy;
    if (ry > py) ry = py;
    if (ry > nby - 1 - py) ry = nby - 1 - py;
    for (int32_t px = 0; px < nbx; px++) {
      int32_t rx = hx;
      if (rx > px) rx = px;
      if (rx > nbx - 1 - px) rx = nbx - 1 - px;
      size_t w = 0;
      for (int32_t y = py - ry; y <= py + ry; y++)
        for (int32_t x = px - rx; x <= px + rx; x++) {
          win_b[w] = mesh_back[(size_t)y * nbx + x];
          win_s[w++] = mesh_rms[(size_t)y * nbx + x];
        }
      const size_t k = (size_t)py * nbx + px;
      float med = median_of(win_b, w);
      if (fabsf(med - mesh_back[k]) >= fthresh) {
        tmp_b[k] = med;
        tmp_s[k] = median_of(win_s, w);
      } else {
        tmp_b[k] = mesh_back[k];
        tmp_s[k] = mesh_rms[k];
      }
    }
  }
  memcpy(mesh_back, tmp_b, sizeof(float) * nb);
  memcpy(mesh_rms, tmp_s, sizeof(float) * nb);

  /* 4. global values: medians of the filtered mesh (rms: of its positive values) */
  out[SD_BKG_GLOBAL] = median_of(tmp_b, nb);
  size_t npos = 0;
  for (size_t k = 0; k < nb; k++)
    if (mesh_rms[k] > 0.0f) tmp_s[npos++] = mesh_rms[k];
  out[SD_BKG_GLOBALRMS] = npos > 0 ? median_of(tmp_s, npos) : 1.0;
  out[SD_BKG_NBAD] = (double)nbad;
done:
  free(buf);
  free(bins);
  free(hist);
  free(bad);
  free(tmp_b);
  free(tmp_s);
  free(win_b);
  free(win_s);
  return status;
}

/* Natural cubic spline through y[0..n) at unit spacing (stride between values): writes
 * the second derivatives to d (same stride). work: n doubles. */
static void spline_second(const float *y, size_t stride, int32_t n, float *d, double *work) {
  if (n < 3) {
    for (int32_t i = 0; i < n; i++) d[(size_t)i * stride] = 0.0f;
    return;
  }
  /* Thomas algorithm on d[i-1] + 4 d[i] + d[i+1] = 6 (y[i+1] - 2 y[i] + y[i-1]), d[0] = d[n-1] = 0 */
  double *c = work; /* modified super-diagonal, then reused for the solution */
  double prev_c = 0.0, prev_r = 0.0;
  double *r = work + n;
  for (int32_t i = 1; i < n - 1; i++) {
    double rhs = 6.0 * ((double)y[(size_t)(i + 1) * stride] - 2.0 * y[(size_t)i * stride] +
                        y[(size_t)(i - 1) * stride]);
    double den = 4.0 - prev_c;
    c[i] = 1.0 / den;
    r[i] = (rhs - prev_r) / den;
    prev_c = c[i];
    prev_r = r[i];
  }
  d[0] = 0.0f;
  d[(size_t)(n - 1) * stride] = 0.0f;
  double next = 0.0;
  for (int32_t i = n - 2; i >= 1; i--) {
    double v = r[i] - c[i] * next;
    d[(size_t)i * stride] = (float)v;
    next = v;
  }
}

/* Locates pixel p on a grid of nodes at (i + 0.5) b - 0.5: segment index and offset. */
static void locate(int32_t p, int32_t b, int32_t nodes, int32_t *seg, float *t) {
  double u = (p + 0.5) / b - 0.5;
  int32_t s = (int32_t)floor(u);
  if (s < 0) s = 0;
  if (s > nodes - 2) s = nodes - 2;
  if (s < 0) s = 0;
  *seg = s;
  *t = (float)(u - s);
}

sd_status sd_background_render(const float *mesh, int32_t nbx, int32_t nby, int32_t bw,
                               int32_t bh, int32_t nx, int32_t ny, float *out) {
  sd_status status = SD_OK;
  float *dy = NULL, *node = NULL, *dnode = NULL, *coef = NULL;
  double *work = NULL;
  int32_t *seg_start = NULL;
  if (mesh == NULL || out == NULL || nbx <= 0 || nby <= 0 || bw <= 0 || bh <= 0 || nx <= 0 ||
      ny <= 0)
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > (int64_t)INT32_MAX || (int64_t)nbx * nby > (int64_t)INT32_MAX)
    return SD_ERR_ARG;
  const int32_t nmax = nbx > nby ? nbx : nby;
  dy = malloc(sizeof(float) * (size_t)nbx * nby);
  node = malloc(sizeof(float) * (size_t)nbx);
  dnode = malloc(sizeof(float) * (size_t)nbx);
  coef = malloc(sizeof(float) * 4 * (size_t)nbx);
  work = malloc(sizeof(double) * 2 * (size_t)nmax);
  seg_start = malloc(sizeof(int32_t) * (size_t)(nbx + 1));
  if (!dy || !node || !dnode || !coef || !work || !seg_start) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  /* second derivatives along y, per mesh column */
  for (int32_t x = 0; x < nbx; x++) spline_second(mesh + x, (size_t)nbx, nby, dy + x, work);

  /* pixels of each x segment: segment s covers pixels [seg_start[s], seg_start[s+1]) */
  const int32_t nseg = nbx > 1 ? nbx - 1 : 1;
  {
    int32_t s = 0;
    float t;
    seg_start[0] = 0;
    for (int32_t x = 0; x < nx; x++) {
      int32_t sx;
      locate(x, bw, nbx, &sx, &t);
      while (s < sx) seg_start[++s] = x;
    }
    while (s < nseg) seg_start[++s] = nx;
  }

  for (int32_t y = 0; y < ny; y++) {
    /* node values at this row */
    if (nby > 1) {
      int32_t sy;
      float t;
      locate(y, bh, nby, &sy, &t);
      const float ct = 1.0f - t, t3 = t * t * t - t, ct3 = ct * ct * ct - ct;
      const float *lo = mesh + (size_t)sy * nbx, *hi = lo + nbx;
      const float *dlo = dy + (size_t)sy * nbx, *dhi = dlo + nbx;
      for (int32_t x = 0; x < nbx; x++)
        node[x] = ct * lo[x] + t * hi[x] + (ct3 * dlo[x] + t3 * dhi[x]) / 6.0f;
    } else {
      memcpy(node, mesh, sizeof(float) * (size_t)nbx);
    }
    float *row = out + (size_t)y * nx;
    if (nbx == 1) {
      for (int32_t x = 0; x < nx; x++) row[x] = node[0];
      continue;
    }
    spline_second(node, 1, nbx, dnode, work);
    /* per segment, the cubic in u = (x + 0.5)/bw - 0.5 - s as a polynomial c0 + c1 u + c2 u^2 + c3 u^3 */
    for (int32_t s = 0; s < nseg; s++) {
      const float y0 = node[s], y1 = node[s + 1], m0 = dnode[s] / 6.0f, m1 = dnode[s + 1] / 6.0f;
      /* (1-u) y0 + u y1 + ((1-u)^3 - (1-u)) m0 + (u^3 - u) m1 */
      float *c = coef + 4 * (size_t)s;
      c[0] = y0;
      c[1] = (y1 - y0) - 2.0f * m0 - m1;
      c[2] = 3.0f * m0;
      c[3] = m1 - m0;
    }
    const float inv = 1.0f / (float)bw;
    for (int32_t s = 0; s < nseg; s++) {
      const float *c = coef + 4 * (size_t)s;
      int32_t x = seg_start[s];
      const int32_t end = seg_start[s + 1];
      const float base = 0.5f * inv - 0.5f - (float)s;
#if SD_SIMD
      const v128_t c0 = wasm_f32x4_splat(c[0]), c1 = wasm_f32x4_splat(c[1]);
      const v128_t c2 = wasm_f32x4_splat(c[2]), c3 = wasm_f32x4_splat(c[3]);
      const v128_t vinv = wasm_f32x4_splat(inv), vb = wasm_f32x4_splat(base);
      v128_t xf = wasm_f32x4_make((float)x, (float)(x + 1), (float)(x + 2), (float)(x + 3));
      const v128_t four = wasm_f32x4_splat(4.0f);
      const v128_t eight = wasm_f32x4_splat(8.0f);
      for (; x + 8 <= end; x += 8, xf = wasm_f32x4_add(xf, eight)) {
        v128_t u0 = wasm_f32x4_add(wasm_f32x4_mul(xf, vinv), vb);
        v128_t u1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_add(xf, four), vinv), vb);
        v128_t p0 = wasm_f32x4_add(wasm_f32x4_mul(c3, u0), c2);
        v128_t p1 = wasm_f32x4_add(wasm_f32x4_mul(c3, u1), c2);
        p0 = wasm_f32x4_add(wasm_f32x4_mul(p0, u0), c1);
        p1 = wasm_f32x4_add(wasm_f32x4_mul(p1, u1), c1);
        wasm_v128_store(row + x, wasm_f32x4_add(wasm_f32x4_mul(p0, u0), c0));
        wasm_v128_store(row + x + 4, wasm_f32x4_add(wasm_f32x4_mul(p1, u1), c0));
      }
      for (; x + 4 <= end; x += 4, xf = wasm_f32x4_add(xf, four)) {
        v128_t u = wasm_f32x4_add(wasm_f32x4_mul(xf, vinv), vb);
        v128_t p = wasm_f32x4_add(wasm_f32x4_mul(c3, u), c2);
        p = wasm_f32x4_add(wasm_f32x4_mul(p, u), c1);
        p = wasm_f32x4_add(wasm_f32x4_mul(p, u), c0);
        wasm_v128_store(row + x, p);
      }
#endif
      for (; x < end; x++) {
        float u = (float)x * inv + base;
        row[x] = ((c[3] * u + c[2]) * u + c[1]) * u + c[0];
      }
    }
  }
done:
  free(dy);
  free(node);
  free(dnode);
  free(coef);
  free(work);
  free(seg_start);
  return status;
}
