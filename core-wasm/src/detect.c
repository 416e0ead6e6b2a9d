/* detect.c — thresholding, 8-connected labelling and per-object measurement (sd_detect). */
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"
#include "sd_detect_internal.h"

/* on[i] = 1 where the filtered value exceeds thresh * noise and the pixel is usable. */
static void threshold_map(const float *conv, const float *image, const float *noise,
                          const uint16_t *mask, uint16_t bits, size_t n, float thresh,
                          float noise_const, uint8_t *on) {
  size_t i = 0;
#if SD_SIMD
  const v128_t vt = wasm_f32x4_splat(thresh), vc = wasm_f32x4_splat(thresh * noise_const);
  const v128_t inf = wasm_f32x4_splat(INFINITY), zero = wasm_f32x4_splat(0.0f);
  const v128_t one = wasm_i8x16_splat(1), vbits = wasm_i16x8_splat((int16_t)bits);
  for (; i + 16 <= n; i += 16) {
    v128_t m[4];
    for (int j = 0; j < 4; j++) {
      const size_t k = i + 4 * (size_t)j;
      v128_t t = vc, ok = wasm_f32x4_lt(wasm_f32x4_abs(wasm_v128_load(image + k)), inf);
      if (noise != NULL) {
        const v128_t s = wasm_v128_load(noise + k);
        t = wasm_f32x4_mul(vt, s);
        ok = wasm_v128_and(ok, wasm_f32x4_gt(s, zero));
      }
      m[j] = wasm_v128_and(ok, wasm_f32x4_gt(wasm_v128_load(conv + k), t));
    }
    v128_t b = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(m[0], m[1]),
                                       wasm_i16x8_narrow_i32x4(m[2], m[3]));
    if (mask != NULL) {
      const v128_t m0 = wasm_i16x8_eq(wasm_v128_and(wasm_v128_load(mask + i), vbits), wasm_i16x8_splat(0));
      const v128_t m1 = wasm_i16x8_eq(wasm_v128_and(wasm_v128_load(mask + i + 8), vbits), wasm_i16x8_splat(0));
      b = wasm_v128_and(b, wasm_i8x16_narrow_i16x8(m0, m1));
    }
    wasm_v128_store(on + i, wasm_v128_and(b, one));
  }
#endif
  if (noise == NULL) {
    const float t = thresh * noise_const;
    for (; i < n; i++) on[i] = conv[i] > t && sd_usable(image[i], mask, i, bits);
  } else {
    for (; i < n; i++) {
      const float s = noise[i];
      on[i] = s > 0.0f && conv[i] > thresh * s && sd_usable(image[i], mask, i, bits);
    }
  }
}

/* First x >= x0 of an on-row with on[x] set (nx when none), skipping zero blocks. */
static int32_t next_on(const uint8_t *on, int32_t x0, int32_t nx) {
  int32_t x = x0;
#if SD_SIMD
  while (x + 16 <= nx && !wasm_v128_any_true(wasm_v128_load(on + x))) x += 16;
#else
  while (x + 8 <= nx) {
    uint64_t w;
    memcpy(&w, on + x, 8);
    if (w != 0) break;
    x += 8;
  }
#endif
  while (x < nx && !on[x]) x++;
  return x;
}

static int32_t find_root(int32_t *parent, int32_t a) {
  while (parent[a] != a) {
    parent[a] = parent[parent[a]];
    a = parent[a];
  }
  return a;
}

/* Measures one object (pixels idx[0..n)) into a row of SD_DET_NCOLS doubles. */
static void measure(const float *image, const float *conv, const float *noise,
                    const uint16_t *mask, int32_t nx, int32_t ny, uint16_t mask_bits,
                    uint16_t sat_bits, float saturate, float thresh, float noise_const,
                    const int32_t *idx, int32_t n, const int32_t *owner, const uint8_t *core,
                    int32_t who, double *row) {
  int32_t xmin = nx, xmax = -1, ymin = ny, ymax = -1, cnt = 0;
  double sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, flux = 0, cflux = 0;
  float peak = -INFINITY, cpeak = -INFINITY;
  int32_t xpeak = 0, ypeak = 0, cpix = 0;
  int flags = 0;
  /* first pass: bbox, so that moments are taken about xmin, ymin (less round-off) */
  for (int32_t p = 0; p < n; p++) {
    if (owner && owner[p] != who) continue;
    const int32_t x = idx[p] % nx, y = idx[p] / nx;
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
    if (y < ymin) ymin = y;
    if (y > ymax) ymax = y;
  }
  for (int32_t p = 0; p < n; p++) {
    if (owner && owner[p] != who) continue;
    const int32_t i = idx[p];
    const int32_t x = i % nx, y = i / nx;
    const double cv = conv[i], v = image[i], dx = x - xmin, dy = y - ymin;
    cnt++;
    sw += cv;
    sx += cv * dx;
    sy += cv * dy;
    sxx += cv * dx * dx;
    syy += cv * dy * dy;
    sxy += cv * dx * dy;
    flux += v;
    cflux += cv;
    if (image[i] > peak) {
      peak = image[i];
      xpeak = x;
      ypeak = y;
    }
    if (conv[i] > cpeak) {
      cpeak = conv[i];
      cpix = i;
    }
    if ((saturate > 0.0f && image[i] >= saturate) || (mask && (mask[i] & sat_bits)))
      flags |= SD_OBJ_SATURATED;
    if (mask && !(flags & SD_OBJ_MASKED)) {
      for (int32_t ddy = -1; ddy <= 1; ddy++)
        for (int32_t ddx = -1; ddx <= 1; ddx++) {
          const int32_t qx = x + ddx, qy = y + ddy;
          if (qx < 0 || qy < 0 || qx >= nx || qy >= ny) continue;
          if (mask[(size_t)qy * nx + qx] & mask_bits) flags |= SD_OBJ_MASKED;
        }
    }
  }
  if (xmin == 0 || ymin == 0 || xmax == nx - 1 || ymax == ny - 1) flags |= SD_OBJ_TRUNCATED;
  double mx = sw != 0.0 ? sx / sw : 0.5 * (xmax - xmin), my = sw != 0.0 ? sy / sw : 0.5 * (ymax - ymin);
  double x2 = sw != 0.0 ? sxx / sw - mx * mx : 0.0, y2 = sw != 0.0 ? syy / sw - my * my : 0.0;
  double xy = sw != 0.0 ? sxy / sw - mx * my : 0.0;
  if (owner != NULL && core != NULL && sw != 0.0) {
    /* a deblended child: its centre is the barycentre of its own branch (the pixels handed
     * to it afterwards carry its neighbours' wings); moments are taken about that centre */
    double cw = 0.0, cx = 0.0, cy = 0.0;
    for (int32_t p = 0; p < n; p++) {
      if (owner[p] != who || !core[p]) continue;
      const double cv = conv[idx[p]];
      cw += cv;
      cx += cv * (idx[p] % nx - xmin);
      cy += cv * (idx[p] / nx - ymin);
    }
    if (cw > 0.0) {
      const double xn = cx / cw, yn = cy / cw;
      x2 += (mx - xn) * (mx - xn);
      y2 += (my - yn) * (my - yn);
      xy += (mx - xn) * (my - yn);
      mx = xn;
      my = yn;
    }
  }
  if (x2 * y2 - xy * xy < 0.00694) {
    x2 += 0.0833333;
    y2 += 0.0833333;
    flags |= SD_OBJ_SINGULAR;
  }
  const double d = x2 - y2;
  const double theta = fabs(d) > 0.0 ? 0.5 * atan2(2.0 * xy, d) : 3.141592653589793 / 4.0;
  const double t = sqrt(0.25 * d * d + xy * xy);
  const double a2 = 0.5 * (x2 + y2) + t, b2 = 0.5 * (x2 + y2) - t;
  row[SD_DET_NPIX] = cnt;
  row[SD_DET_XMIN] = xmin;
  row[SD_DET_XMAX] = xmax;
  row[SD_DET_YMIN] = ymin;
  row[SD_DET_YMAX] = ymax;
  row[SD_DET_X] = mx + xmin;
  row[SD_DET_Y] = my + ymin;
  row[SD_DET_X2] = x2;
  row[SD_DET_Y2] = y2;
  row[SD_DET_XY] = xy;
  row[SD_DET_A] = sqrt(a2 > 0.0 ? a2 : 0.0);
  row[SD_DET_B] = sqrt(b2 > 0.0 ? b2 : 0.0);
  row[SD_DET_THETA] = theta;
  row[SD_DET_FLUX] = flux;
  row[SD_DET_CFLUX] = cflux;
  row[SD_DET_PEAK] = peak;
  row[SD_DET_XPEAK] = xpeak;
  row[SD_DET_YPEAK] = ypeak;
  row[SD_DET_CPEAK] = cpeak;
  row[SD_DET_THRESH] = thresh * (noise ? noise[cpix] : noise_const);
  row[SD_DET_FLAGS] = flags;
  row[SD_DET_PARENT] = -1;
}

sd_status sd_detect(const float *image, const float *noise, const uint16_t *mask, int32_t nx,
                    int32_t ny, float noise_const, uint16_t mask_bits, uint16_t sat_bits,
                    float saturate, const float *kernel, int32_t kw, int32_t kh, float thresh,
                    int32_t min_area, int32_t deblend_nthresh, float deblend_cont,
                    int32_t capacity, double *objects, int32_t *segmap, int32_t *count) {
  sd_status status = SD_OK;
  float *conv = NULL;
  uint8_t *on = NULL, *core = NULL;
  int32_t *lab = NULL, *parent = NULL, *start = NULL, *pix = NULL, *owner = NULL;
  int32_t *obj_of_root = NULL, *onlist = NULL;
  sd_deblend_work work;
  memset(&work, 0, sizeof(work));
  if (count) *count = 0;
  if (image == NULL || count == NULL || nx <= 0 || ny <= 0 || !(thresh > 0.0f) ||
      min_area < 1 || deblend_nthresh < 1 || deblend_nthresh > 256 || !(deblend_cont >= 0.0f) ||
      capacity < 0 || (capacity > 0 && objects == NULL) ||
      (noise == NULL && !(noise_const > 0.0f)) ||
      (kernel != NULL && (kw <= 0 || kh <= 0 || kw % 2 == 0 || kh % 2 == 0 || kw > 31 || kh > 31)))
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > (int64_t)INT32_MAX) return SD_ERR_ARG;
  const size_t npix = (size_t)nx * ny;

  /* 1. filtered image */
  conv = malloc(sizeof(float) * npix);
  on = malloc(npix);
  lab = malloc(sizeof(int32_t) * npix);
  if (!conv || !on || !lab) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  if (kernel != NULL) {
    status = sd_convolve_internal(image, mask, nx, ny, mask_bits, kernel, kw, kh, 1, conv);
    if (status != SD_OK) goto done;
  } else {
    for (size_t i = 0; i < npix; i++) conv[i] = isfinite(image[i]) ? image[i] : 0.0f;
  }

  /* 2. threshold and 3. label (one raster pass with union-find, then resolve) */
  threshold_map(conv, image, noise, mask, mask_bits, npix, thresh, noise_const, on);
  size_t cap = 1024, nlab = 0;
  parent = malloc(sizeof(int32_t) * cap);
  if (!parent) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  size_t ncap = 4096, non = 0;
  onlist = malloc(sizeof(int32_t) * ncap);
  if (!onlist) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  for (int32_t y = 0; y < ny; y++) {
    const size_t row = (size_t)y * nx;
    const uint8_t *onrow = on + row;
    for (int32_t x = next_on(onrow, 0, nx); x < nx; x = next_on(onrow, x + 1, nx)) {
      const size_t i = row + x;
      int32_t l = -1;
      if (x > 0 && on[i - 1]) l = lab[i - 1];
      if (y > 0) {
        const size_t up = i - nx;
        const int32_t cand[3] = {x > 0 && on[up - 1] ? lab[up - 1] : -1, on[up] ? lab[up] : -1,
                                 x + 1 < nx && on[up + 1] ? lab[up + 1] : -1};
        for (int j = 0; j < 3; j++) {
          if (cand[j] < 0) continue;
          if (l < 0) {
            l = cand[j];
          } else if (cand[j] != l) {
            int32_t a = find_root(parent, l), b = find_root(parent, cand[j]);
            if (a < b) parent[b] = a;
            else if (b < a) parent[a] = b;
          }
        }
      }
      if (l < 0) {
        if (nlab == cap) {
          cap *= 2;
          int32_t *np = realloc(parent, sizeof(int32_t) * cap);
          if (!np) {
            status = SD_ERR_NOMEM;
            goto done;
          }
          parent = np;
        }
        parent[nlab] = (int32_t)nlab;
        l = (int32_t)nlab++;
      }
      lab[i] = l;
      if (non == ncap) {
        ncap *= 2;
        int32_t *nl = realloc(onlist, sizeof(int32_t) * ncap);
        if (!nl) {
          status = SD_ERR_NOMEM;
          goto done;
        }
        onlist = nl;
      }
      onlist[non++] = (int32_t)i;
    }
  }

  /* objects in raster order of their first pixel; pixel lists by counting sort */
  obj_of_root = malloc(sizeof(int32_t) * (nlab > 0 ? nlab : 1));
  if (!obj_of_root) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  int32_t nobj = 0;
  for (size_t l = 0; l < nlab; l++) {
    int32_t r = find_root(parent, (int32_t)l);
    if (r == (int32_t)l) obj_of_root[l] = nobj++;
  }
  start = calloc((size_t)nobj + 1, sizeof(int32_t));
  if (!start) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  for (size_t k = 0; k < non; k++) {
    const int32_t i = onlist[k];
    lab[i] = obj_of_root[find_root(parent, lab[i])];
    start[lab[i] + 1]++;
  }
  for (int32_t o = 0; o < nobj; o++) start[o + 1] += start[o];
  pix = malloc(sizeof(int32_t) * (non > 0 ? non : 1));
  owner = malloc(sizeof(int32_t) * (non > 0 ? non : 1));
  core = malloc(non > 0 ? non : 1);
  if (!pix || !owner || !core) {
    status = SD_ERR_NOMEM;
    goto done;
  }
  {
    int32_t *fill = obj_of_root; /* reuse as per-object fill cursor (nobj <= nlab) */
    for (int32_t o = 0; o < nobj; o++) fill[o] = start[o];
    for (size_t k = 0; k < non; k++) pix[fill[lab[onlist[k]]]++] = onlist[k];
  }

  /* 4. per object: minimum area, deblending, measurement */
  if (segmap) memset(segmap, 0, sizeof(int32_t) * npix);
  int32_t nout = 0;
  for (int32_t o = 0; o < nobj; o++) {
    const int32_t *idx = pix + start[o];
    const int32_t n = start[o + 1] - start[o];
    if (n < min_area) continue;
    int32_t xmin = nx, xmax = -1, ymin = ny, ymax = -1;
    float t0 = INFINITY;
    for (int32_t p = 0; p < n; p++) {
      const int32_t x = idx[p] % nx, y = idx[p] / nx;
      if (x < xmin) xmin = x;
      if (x > xmax) xmax = x;
      if (y < ymin) ymin = y;
      if (y > ymax) ymax = y;
      const float t = thresh * (noise ? noise[idx[p]] : noise_const);
      if (t < t0) t0 = t;
    }
    int32_t nchild = 1;
    int32_t *own = owner + start[o];
    uint8_t *cor = core + start[o];
    status = sd_deblend_object(conv, nx, idx, n, xmin, xmax, ymin, ymax, t0, deblend_nthresh,
                               deblend_cont, min_area, &work, own, cor, &nchild);
    if (status != SD_OK) goto done;
    const int32_t first = nout;
    for (int32_t c = 0; c < nchild; c++) {
      if (nout < capacity) {
        double *row = objects + (size_t)nout * SD_DET_NCOLS;
        measure(image, conv, noise, mask, nx, ny, mask_bits, sat_bits, saturate, thresh,
                noise_const, idx, n, nchild > 1 ? own : NULL, cor, c, row);
        if (nchild > 1) {
          row[SD_DET_FLAGS] = (double)((int)row[SD_DET_FLAGS] | SD_OBJ_BLENDED);
          row[SD_DET_PARENT] = first;
        }
      }
      nout++;
    }
    if (segmap)
      for (int32_t p = 0; p < n; p++) segmap[idx[p]] = first + (nchild > 1 ? own[p] : 0) + 1;
  }
  *count = nout;
  if (nout > capacity) status = SD_ERR_OVERFLOW;
done:
  sd_deblend_work_free(&work);
  free(conv);
  free(on);
  free(lab);
  free(parent);
  free(start);
  free(pix);
  free(owner);
  free(obj_of_root);
  free(onlist);
  free(core);
  return status;
}
