/*
 * noise.c — the simulator's detector: seeded random numbers, flat fields, exposure,
 * Poisson noise, bleed trails, line deposits (cosmic rays, satellite trails) and the
 * amplifier readout into a raw frame with overscan.
 *
 * Random numbers: xoshiro256** seeded through splitmix64 from (seed, stream), so a
 * given (seed, stream) always gives the same image, on every build.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sd_internal.h"

typedef struct {
  uint64_t s[4];
  int has_spare;
  double spare;
} rng_t;

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void rng_init(rng_t *r, uint32_t seed, uint32_t stream) {
  uint64_t x = ((uint64_t)seed << 32) | (uint64_t)stream;
  x ^= 0x5D1CE5EEDULL;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  r->has_spare = 0;
  r->spare = 0.0;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng_t *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Uniform in (0, 1). */
static inline double rng_uniform(rng_t *r) {
  return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Marsaglia's polar method, both values used: one log, no sin/cos). */
static inline double rng_normal(rng_t *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u, v, s;
  do {
    u = 2.0 * rng_uniform(r) - 1.0;
    v = 2.0 * rng_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double m = sqrt(-2.0 * log(s) / s);
  r->spare = v * m;
  r->has_spare = 1;
  return u * m;
}

/* Poisson deviate of mean lam >= 0: multiplication for lam < 10, else PTRS
 * (Hormann 1993, transformed rejection with squeeze). */
static double rng_poisson(rng_t *r, double lam) {
  if (!(lam > 0.0)) return 0.0;
  if (lam < 10.0) {
    double l = exp(-lam), p = 1.0;
    int k = -1;
    do {
      k++;
      p *= rng_uniform(r);
    } while (p > l);
    return (double)k;
  }
  double slam = sqrt(lam), loglam = 0.0;
  double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    double u = rng_uniform(r) - 0.5, v = rng_uniform(r);
    double us = 0.5 - fabs(u);
    double k = floor((2.0 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k; /* the squeeze: most draws end here */
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (loglam == 0.0) loglam = log(lam);
    double invalpha = 1.1239 + 1.1328 / (b - 3.4);
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1.0))
      return k;
  }
}

sd_status sd_sim_poisson(float *img, int32_t n, uint32_t seed, uint32_t stream) {
  if (img == NULL || n < 0) return SD_ERR_ARG;
  rng_t r;
  rng_init(&r, seed, stream);
  for (int32_t i = 0; i < n; i++) img[i] = (float)rng_poisson(&r, (double)img[i]);
  return SD_OK;
}

sd_status sd_sim_gaussian(float *img, int32_t n, double sigma, uint32_t seed, uint32_t stream) {
  if (img == NULL || n < 0 || !(sigma >= 0.0)) return SD_ERR_ARG;
  rng_t r;
  rng_init(&r, seed, stream);
  for (int32_t i = 0; i < n; i++) img[i] += (float)(sigma * rng_normal(&r));
  return SD_OK;
}

/* Value of a spatial polynomial (section conventions of sd_core.h) at (u, v). */
static double poly_eval(const double *c, int32_t d, double u, double v) {
  double s = 0.0, vj = 1.0;
  int32_t t = 0;
  for (int32_t j = 0; j <= d; j++) {
    double ui = 1.0;
    for (int32_t i = 0; i <= d - j; i++) {
      s += c[t++] * ui * vj;
      ui *= u;
    }
    vj *= v;
  }
  return s;
}

sd_status sd_sim_flat(float *flat, int32_t nx, int32_t ny, const double *poly, int32_t degree,
                      double pixel_rms, uint32_t seed, uint32_t stream) {
  if (flat == NULL || nx <= 0 || ny <= 0 || degree < 0 || degree > 8 || !(pixel_rms >= 0.0))
    return SD_ERR_ARG;
  rng_t r;
  rng_init(&r, seed, stream);
  double xc = (nx - 1) / 2.0, xs = nx / 2.0, yc = (ny - 1) / 2.0, ys = ny / 2.0;
  for (int32_t y = 0; y < ny; y++) {
    double v = (y - yc) / ys;
    for (int32_t x = 0; x < nx; x++) {
      double large = poly != NULL ? poly_eval(poly, degree, (x - xc) / xs, v) : 1.0;
      flat[(size_t)y * nx + x] = (float)(large * (1.0 + pixel_rms * rng_normal(&r)));
    }
  }
  return SD_OK;
}

sd_status sd_sim_expose(float *img, const float *flat, int32_t n, double sky, double dark) {
  if (img == NULL || n < 0) return SD_ERR_ARG;
  int32_t i = 0;
  const float fs = (float)sky, fd = (float)dark;
#if SD_SIMD
  const v128_t vs = wasm_f32x4_splat(fs), vd = wasm_f32x4_splat(fd);
  if (flat != NULL) {
    for (; i + 4 <= n; i += 4) {
      v128_t v = wasm_f32x4_add(wasm_v128_load(img + i), vs);
      wasm_v128_store(img + i, wasm_f32x4_add(wasm_f32x4_mul(v, wasm_v128_load(flat + i)), vd));
    }
  } else {
    for (; i + 4 <= n; i += 4)
      wasm_v128_store(img + i, wasm_f32x4_add(wasm_f32x4_add(wasm_v128_load(img + i), vs), vd));
  }
#endif
  for (; i < n; i++) img[i] = (img[i] + fs) * (flat != NULL ? flat[i] : 1.0f) + fd;
  return SD_OK;
}

sd_status sd_sim_bleed(float *img, int32_t nx, int32_t ny, double full_well, uint16_t *flags) {
  if (img == NULL || nx <= 0 || ny <= 0 || !(full_well > 0.0)) return SD_ERR_ARG;
  const float fw = (float)full_well;
  for (int32_t x = 0; x < nx; x++) {
    for (int32_t y = 0; y < ny; y++) {
      float *p = img + (size_t)y * nx + x;
      if (!(*p > fw)) continue;
      double excess = (double)*p - full_well;
      *p = fw;
      if (flags != NULL) flags[(size_t)y * nx + x] |= 4; /* saturated */
      /* half the excess runs up the column, half down; each pixel fills to full well */
      double half[2] = {0.5 * excess, 0.5 * excess};
      for (int32_t dir = 0; dir < 2; dir++) {
        int32_t step = dir == 0 ? 1 : -1;
        for (int32_t yy = y + step; yy >= 0 && yy < ny && half[dir] > 0.0; yy += step) {
          float *q = img + (size_t)yy * nx + x;
          double room = full_well - (double)*q;
          if (room <= 0.0) continue;
          double take = half[dir] < room ? half[dir] : room;
          *q = (float)((double)*q + take);
          half[dir] -= take;
          if (flags != NULL) flags[(size_t)yy * nx + x] |= 32; /* bleed trail */
        }
      }
    }
  }
  return SD_OK;
}

sd_status sd_sim_add_lines(float *img, int32_t nx, int32_t ny, const double *lines, int32_t n,
                           uint16_t *flags, uint16_t flag_bits) {
  if (img == NULL || nx <= 0 || ny <= 0 || n < 0 || (n > 0 && lines == NULL)) return SD_ERR_ARG;
  /* every line is checked before any pixel changes */
  for (int32_t l = 0; l < n; l++) {
    const double *p = lines + (size_t)l * SD_SIM_LINE_NCOL;
    double len = hypot(p[SD_SIM_LINE_X1] - p[SD_SIM_LINE_X0], p[SD_SIM_LINE_Y1] - p[SD_SIM_LINE_Y0]);
    if (!isfinite(p[SD_SIM_LINE_X0]) || !isfinite(p[SD_SIM_LINE_Y0]) || !isfinite(len) ||
        !isfinite(p[SD_SIM_LINE_FLUX]) || !(p[SD_SIM_LINE_SIGMA] >= 0.0) ||
        !(p[SD_SIM_LINE_SIGMA] <= 10.0) || len > 1.0e6)
      return SD_ERR_ARG;
  }
  for (int32_t l = 0; l < n; l++) {
    const double *p = lines + (size_t)l * SD_SIM_LINE_NCOL;
    double x0 = p[SD_SIM_LINE_X0], y0 = p[SD_SIM_LINE_Y0];
    double x1 = p[SD_SIM_LINE_X1], y1 = p[SD_SIM_LINE_Y1];
    double rate = p[SD_SIM_LINE_FLUX], sigma = p[SD_SIM_LINE_SIGMA];
    double len = hypot(x1 - x0, y1 - y0);
    int32_t steps = (int32_t)ceil(len / 0.25);
    if (steps < 1) steps = 1;
    double dep = rate * (len > 0.0 ? len : 1.0) / steps;
    int32_t rad = sigma > 0.0 ? (int32_t)ceil(3.0 * sigma) : 1;
    for (int32_t s = 0; s < steps; s++) {
      double t = (s + 0.5) / steps;
      double x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
      int32_t cx = (int32_t)floor(x), cy = (int32_t)floor(y);
      if (cx + rad + 1 < 0 || cx - rad >= nx || cy + rad + 1 < 0 || cy - rad >= ny) continue;
      if (sigma > 0.0) {
        /* Gaussian spread across the line, normalised over the neighbourhood */
        double w[64 * 64], tot = 0.0; /* sigma <= 10: rad <= 30, side <= 62 */
        int32_t side = 2 * rad + 2;
        for (int32_t j = 0; j < side; j++)
          for (int32_t i = 0; i < side; i++) {
            double dx = cx - rad + i - x, dy = cy - rad + j - y;
            double v = exp(-0.5 * (dx * dx + dy * dy) / (sigma * sigma));
            w[j * side + i] = v;
            tot += v;
          }
        for (int32_t j = 0; j < side; j++) {
          int32_t yy = cy - rad + j;
          if (yy < 0 || yy >= ny) continue;
          for (int32_t i = 0; i < side; i++) {
            int32_t xx = cx - rad + i;
            if (xx < 0 || xx >= nx) continue;
            double v = dep * w[j * side + i] / tot;
            img[(size_t)yy * nx + xx] += (float)v;
            if (flags != NULL && v > 0.0) flags[(size_t)yy * nx + xx] |= flag_bits;
          }
        }
      } else {
        /* bilinear deposit: sharp, as a cosmic ray's charge */
        double fx = x - 0.5 - floor(x - 0.5), fy = y - 0.5 - floor(y - 0.5);
        int32_t bx = (int32_t)floor(x - 0.5), by = (int32_t)floor(y - 0.5);
        double wts[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
        for (int32_t k = 0; k < 4; k++) {
          int32_t xx = bx + (k & 1), yy = by + (k >> 1);
          if (xx < 0 || xx >= nx || yy < 0 || yy >= ny) continue;
          img[(size_t)yy * nx + xx] += (float)(dep * wts[k]);
          if (flags != NULL && wts[k] > 0.05) flags[(size_t)yy * nx + xx] |= flag_bits;
        }
      }
    }
  }
  return SD_OK;
}

sd_status sd_sim_readout(const float *electrons, int32_t nx, int32_t ny, const int32_t *geom,
                         float *raw, int32_t raw_nx, int32_t raw_ny, const float *bias_row,
                         const float *bias_col, double bias_level, double gain,
                         double read_noise, double adc_max, uint32_t seed, uint32_t stream) {
  if (electrons == NULL || geom == NULL || raw == NULL || nx <= 0 || ny <= 0 || raw_nx <= 0 ||
      raw_ny <= 0 || !(gain > 0.0) || !(read_noise >= 0.0))
    return SD_ERR_ARG;
  if (adc_max == 0.0) adc_max = 65535.0;
  int32_t sx0 = geom[SD_SIM_GEOM_SRC_X0], w = geom[SD_SIM_GEOM_WIDTH];
  int32_t c0 = geom[SD_SIM_GEOM_COL0], c1 = geom[SD_SIM_GEOM_COL1];
  int32_t dx0 = geom[SD_SIM_GEOM_DST_X0], dy0 = geom[SD_SIM_GEOM_DST_Y0];
  int32_t flip = geom[SD_SIM_GEOM_FLIP_X];
  if (sx0 < 0 || w <= 0 || sx0 + w > nx || c0 < 0 || c1 > raw_nx || c0 >= c1 || dx0 < c0 ||
      dx0 + w > c1 || dy0 < 0 || dy0 + ny > raw_ny)
    return SD_ERR_ARG;
  rng_t r;
  rng_init(&r, seed, stream);
  const double inv_gain = 1.0 / gain, rn_adu = read_noise / gain;
  for (int32_t y = 0; y < raw_ny; y++) {
    double brow = bias_level + (bias_row != NULL ? bias_row[y] : 0.0);
    int32_t in_rows = y >= dy0 && y < dy0 + ny;
    const float *erow = in_rows ? electrons + (size_t)(y - dy0) * nx : NULL;
    float *out = raw + (size_t)y * raw_nx;
    for (int32_t x = c0; x < c1; x++) {
      double v = brow + (bias_col != NULL ? bias_col[x] : 0.0) + rn_adu * rng_normal(&r);
      if (in_rows && x >= dx0 && x < dx0 + w) {
        int32_t sx = flip ? sx0 + (w - 1 - (x - dx0)) : sx0 + (x - dx0);
        v += erow[sx] * inv_gain;
      }
      v = floor(v + 0.5);
      if (v < 0.0) v = 0.0;
      if (v > adc_max) v = adc_max;
      out[x] = (float)v;
    }
  }
  return SD_OK;
}
