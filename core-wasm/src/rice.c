/*
 * rice.c — Rice coding of integer tiles, as in the FITS tiled-image compression
 * convention (ZCMPTYPE = 'RICE_1', what fpack writes by default).
 *
 * Stream layout of one tile of n values of `bytepix` bytes (1, 2 or 4): the first
 * value as bytepix big-endian bytes, then blocks of `blocksize` values. Each
 * block starts with an fsbits-wide code k (fsbits = 3, 4, 5 for bytepix 1, 2, 4):
 *   k == 0          all differences in the block are zero;
 *   k == fsmax + 1  each difference is stored verbatim in 8 * bytepix bits;
 *   otherwise       fs = k - 1 and each difference is stored as (d >> fs) in unary
 *                   (that many 0 bits, then a 1) followed by its fs low bits.
 * Differences are taken between consecutive values modulo 2^(8 * bytepix) and
 * folded to unsigned: d >= 0 -> 2d, d < 0 -> -2d - 1.
 */
#include <math.h>
#include <stdlib.h>

#include "sd_core.h"

typedef struct {
  int fsbits;
  int fsmax;
  int bbits;
} rice_params;

static int params_for(int32_t bytepix, rice_params *p) {
  switch (bytepix) {
    case 1: p->fsbits = 3; p->fsmax = 6; p->bbits = 8; return 1;
    case 2: p->fsbits = 4; p->fsmax = 14; p->bbits = 16; return 1;
    case 4: p->fsbits = 5; p->fsmax = 25; p->bbits = 32; return 1;
    default: return 0;
  }
}

/* Sign- or zero-extends a value of bbits bits the way FITS stores that width:
 * 8-bit values are unsigned, 16- and 32-bit values are signed. */
static int32_t widen(uint32_t v, int bbits) {
  if (bbits == 8) return (int32_t)(v & 0xffu);
  if (bbits == 16) return (int32_t)(int16_t)(uint16_t)(v & 0xffffu);
  return (int32_t)v;
}

/* Decodes one tile. The bit reader lives in local variables (no pointers to it), so
 * the compiler keeps it in registers; that matters in WASM, where anything whose
 * address is taken goes to linear memory. `acc` holds the next unread bits at its
 * top, `avail` of them valid (the rest zero); bytes are appended from `pos`. */
#define RICE_REFILL()                                          \
  do {                                                         \
    while (avail <= 56 && pos < nin) {                         \
      acc |= (uint64_t)in[pos++] << (56 - avail);              \
      avail += 8;                                              \
    }                                                          \
  } while (0)

/* v = next k (1..32) bits, or return SD_ERR_CORRUPT when the input ends */
#define RICE_TAKE(v, k)                                        \
  do {                                                         \
    if (avail < (k)) {                                         \
      RICE_REFILL();                                           \
      if (avail < (k)) return SD_ERR_CORRUPT;                  \
    }                                                          \
    (v) = (uint32_t)(acc >> (64 - (k)));                       \
    acc <<= (k);                                               \
    avail -= (k);                                              \
  } while (0)

static sd_status decode_one(const uint8_t *in, size_t nin, const rice_params *p, int32_t bytepix,
                            int32_t blocksize, int32_t *out, size_t n) {
  if (n == 0) return SD_OK;
  if (nin < (size_t)bytepix) return SD_ERR_CORRUPT;
  const int fsbits = p->fsbits, fsmax = p->fsmax, bbits = p->bbits;
  const uint32_t mask = (bbits == 32) ? 0xffffffffu : ((1u << bbits) - 1);
  uint32_t last = 0;
  for (int32_t i = 0; i < bytepix; i++) last = (last << 8) | in[i];
  size_t pos = (size_t)bytepix;
  uint64_t acc = 0;
  int avail = 0;
  for (size_t i = 0; i < n; i += (size_t)blocksize) {
    size_t m = n - i < (size_t)blocksize ? n - i : (size_t)blocksize;
    uint32_t code;
    RICE_TAKE(code, fsbits);
    int fs = (int)code - 1;
    int32_t *o = out + i;
    if (fs < 0) {
      int32_t v = widen(last, bbits);
      for (size_t j = 0; j < m; j++) o[j] = v;
      continue;
    }
    if (fs == fsmax) {
      for (size_t j = 0; j < m; j++) {
        uint32_t diff;
        RICE_TAKE(diff, bbits);
        uint32_t d = (diff & 1u) ? ~(diff >> 1) : (diff >> 1);
        last = (last + d) & mask;
        o[j] = widen(last, bbits);
      }
      continue;
    }
    for (size_t j = 0; j < m; j++) {
      /* unary part: zeros up to the next 1 bit */
      uint32_t top = 0;
      for (;;) {
        if (acc != 0) break;
        top += (uint32_t)avail;
        avail = 0;
        if (pos >= nin) return SD_ERR_CORRUPT;
        RICE_REFILL();
        if (top > mask) return SD_ERR_CORRUPT;
      }
      int nz = __builtin_clzll(acc); /* < avail: bits past avail are zero */
      top += (uint32_t)nz;
      if (top > mask) return SD_ERR_CORRUPT;
      acc = (nz == 63) ? 0 : acc << (nz + 1);
      avail -= nz + 1;
      uint32_t low = 0;
      if (fs > 0) RICE_TAKE(low, fs);
      uint32_t diff = (top << fs) | low;
      uint32_t d = (diff & 1u) ? ~(diff >> 1) : (diff >> 1);
      last = (last + d) & mask;
      o[j] = widen(last, bbits);
    }
  }
  return SD_OK;
}

#undef RICE_TAKE
#undef RICE_REFILL

sd_status sd_rice_decode_tiles(const uint8_t *heap, size_t heap_len, const uint32_t *offsets,
                               const uint32_t *lengths, const uint32_t *counts, int32_t ntiles,
                               int32_t bytepix, int32_t blocksize, int32_t *out) {
  rice_params p;
  if (heap == NULL || offsets == NULL || lengths == NULL || counts == NULL || out == NULL ||
      ntiles < 0 || blocksize <= 0 || !params_for(bytepix, &p)) {
    return SD_ERR_ARG;
  }
  size_t at = 0;
  for (int32_t t = 0; t < ntiles; t++) {
    size_t off = offsets[t], len = lengths[t];
    if (len > 0) {
      if (off > heap_len || len > heap_len - off) return SD_ERR_CORRUPT;
      sd_status st = decode_one(heap + off, len, &p, bytepix, blocksize, out + at, counts[t]);
      if (st != SD_OK) return st;
    }
    at += counts[t];
  }
  return SD_OK;
}

/* Encodes one tile into out[0..cap); writes the byte count to *nout. The bit writer
 * lives in locals (see decode_one): `acc` holds `nbits` pending bits at its bottom. */
#define RICE_PUT(v, k)                                               \
  do {                                                               \
    acc = (acc << (k)) | ((uint64_t)(v) & ((1ull << (k)) - 1));      \
    nbits += (k);                                                    \
    while (nbits >= 8) {                                             \
      nbits -= 8;                                                    \
      if (pos >= cap) return SD_ERR_OVERFLOW;                        \
      out[pos++] = (uint8_t)(acc >> nbits);                          \
    }                                                                \
  } while (0)

static sd_status encode_one(const int32_t *in, size_t n, const rice_params *p, int32_t blocksize,
                            uint32_t *mapped, uint8_t *out, size_t cap, size_t *nout) {
  *nout = 0;
  if (n == 0) return SD_OK;
  const int fsbits = p->fsbits, fsmax = p->fsmax, bbits = p->bbits;
  const uint32_t mask = (bbits == 32) ? 0xffffffffu : ((1u << bbits) - 1);
  size_t pos = 0;
  uint64_t acc = 0;
  int nbits = 0;
  uint32_t last = (uint32_t)in[0] & mask;
  RICE_PUT(last, bbits);
  for (size_t i = 0; i < n; i += (size_t)blocksize) {
    size_t m = n - i < (size_t)blocksize ? n - i : (size_t)blocksize;
    uint64_t sum = 0;
    for (size_t j = 0; j < m; j++) {
      uint32_t next = (uint32_t)in[i + j] & mask;
      uint32_t d = (next - last) & mask;
      /* fold the bbits-wide signed difference to unsigned */
      uint32_t sign = (d >> (bbits - 1)) & 1u;
      uint32_t f = sign ? (~(d << 1)) & mask : (d << 1) & mask;
      mapped[j] = f;
      sum += f;
      last = next;
    }
    /* choose fs ~ log2 of the mean folded difference */
    uint64_t mean = sum > (uint64_t)(m / 2) ? (sum - m / 2 - 1) / m : 0;
    int fs = 0;
    mean >>= 1;
    while (mean > 0) {
      fs++;
      mean >>= 1;
    }
    if (fs >= fsmax) {
      RICE_PUT(fsmax + 1, fsbits);
      for (size_t j = 0; j < m; j++) RICE_PUT(mapped[j], bbits);
    } else if (fs == 0 && sum == 0) {
      RICE_PUT(0, fsbits);
    } else {
      RICE_PUT(fs + 1, fsbits);
      for (size_t j = 0; j < m; j++) {
        uint32_t top = mapped[j] >> fs;
        while (top >= 32) {
          RICE_PUT(0, 32);
          top -= 32;
        }
        /* top zeros, then a 1, then the fs low bits */
        RICE_PUT(1, top + 1);
        if (fs > 0) RICE_PUT(mapped[j], fs);
      }
    }
  }
  if (nbits > 0) RICE_PUT(0, 8 - nbits);
  *nout = pos;
  return SD_OK;
}

#undef RICE_PUT

sd_status sd_rice_encode_tiles(const int32_t *values, const uint32_t *counts, int32_t ntiles,
                               int32_t bytepix, int32_t blocksize, uint8_t *out, size_t cap,
                               uint32_t *lengths) {
  rice_params p;
  if (values == NULL || counts == NULL || out == NULL || lengths == NULL || ntiles < 0 ||
      blocksize <= 0 || !params_for(bytepix, &p)) {
    return SD_ERR_ARG;
  }
  sd_status st = SD_OK;
  uint32_t *mapped = malloc(sizeof(uint32_t) * (size_t)blocksize);
  if (mapped == NULL) return SD_ERR_NOMEM;
  size_t at = 0, pos = 0;
  for (int32_t t = 0; t < ntiles && st == SD_OK; t++) {
    size_t used = 0;
    st = encode_one(values + at, counts[t], &p, blocksize, mapped, out + pos, cap - pos, &used);
    lengths[t] = (uint32_t)used;
    pos += used;
    at += counts[t];
  }
  free(mapped);
  return st;
}

/* ---- dequantization of floating-point tiles (ZQUANTIZ) ---- */

#define N_RANDOM 10000
#define ZERO_VALUE (-2147483646)

sd_status sd_dequantize_tiles(const int32_t *values, const uint32_t *counts, int32_t ntiles,
                              const double *scales, const double *zeros, int32_t method,
                              int32_t dither0, int32_t has_blank, int32_t blank, float *out) {
  if (values == NULL || counts == NULL || scales == NULL || zeros == NULL || out == NULL ||
      ntiles < 0 || method < 0 || method > 2 || dither0 < 1 || dither0 > N_RANDOM) {
    return SD_ERR_ARG;
  }
  float *rnd = NULL;
  if (method > 0) {
    /* the convention's sequence: Park-Miller (a = 16807, m = 2^31 - 1) from seed 1, as float */
    rnd = malloc(sizeof(float) * N_RANDOM);
    if (rnd == NULL) return SD_ERR_NOMEM;
    double seed = 1.0;
    for (int i = 0; i < N_RANDOM; i++) {
      double t = 16807.0 * seed;
      seed = t - 2147483647.0 * (double)(int64_t)(t / 2147483647.0);
      rnd[i] = (float)(seed / 2147483647.0);
    }
  }
  size_t at = 0;
  for (int32_t t = 0; t < ntiles; t++) {
    size_t n = counts[t];
    const int32_t *in = values + at;
    float *o = out + at;
    at += n;
    double scale = scales[t], zero = zeros[t];
    if (!(scale != 0.0)) continue; /* not a quantized tile: left to the caller */
    if (method == 0) {
      for (size_t i = 0; i < n; i++) {
        o[i] = (has_blank && in[i] == blank) ? NAN : (float)((double)in[i] * scale + zero);
      }
      continue;
    }
    int iseed = (int)(((int64_t)t + dither0 - 1) % N_RANDOM);
    int next = (int)(rnd[iseed] * 500.0f);
    for (size_t i = 0; i < n; i++) {
      int32_t q = in[i];
      if (has_blank && q == blank) {
        o[i] = NAN;
      } else if (method == 2 && q == ZERO_VALUE) {
        o[i] = 0.0f;
      } else {
        o[i] = (float)(((double)q - (double)rnd[next] + 0.5) * scale + zero);
      }
      if (++next == N_RANDOM) {
        if (++iseed == N_RANDOM) iseed = 0;
        next = (int)(rnd[iseed] * 500.0f);
      }
    }
  }
  free(rnd);
  return SD_OK;
}

/* k-th smallest of a[0..n) (quickselect; reorders a). */
static float select_kth(float *a, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    float pivot = a[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

sd_status sd_quantize_tiles(const float *values, const uint32_t *counts, int32_t ntiles,
                            double qlevel, int32_t method, int32_t dither0, int32_t *out,
                            double *scales, double *zeros) {
  if (values == NULL || counts == NULL || out == NULL || scales == NULL || zeros == NULL ||
      ntiles < 0 || !(qlevel > 0) || method < 0 || method > 2 || dither0 < 1 ||
      dither0 > N_RANDOM) {
    return SD_ERR_ARG;
  }
  sd_status st = SD_OK;
  size_t maxn = 1;
  for (int32_t t = 0; t < ntiles; t++) maxn = counts[t] > maxn ? counts[t] : maxn;
  float *rnd = malloc(sizeof(float) * N_RANDOM);
  float *diffs = malloc(sizeof(float) * maxn);
  if (rnd == NULL || diffs == NULL) {
    st = SD_ERR_NOMEM;
  } else {
    double seed = 1.0;
    for (int i = 0; i < N_RANDOM; i++) {
      double t = 16807.0 * seed;
      seed = t - 2147483647.0 * (double)(int64_t)(t / 2147483647.0);
      rnd[i] = (float)(seed / 2147483647.0);
    }
    size_t at = 0;
    for (int32_t t = 0; t < ntiles; t++) {
      size_t n = counts[t];
      const float *v = values + at;
      int32_t *o = out + at;
      at += n;
      /* noise: 1.4826 * median |x[i] - x[i+1]| / sqrt(2) over finite neighbours */
      size_t k = 0;
      double lo = INFINITY, hi = -INFINITY;
      for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i])) {
          if (v[i] < lo) lo = v[i];
          if (v[i] > hi) hi = v[i];
          if (i + 1 < n && isfinite(v[i + 1])) diffs[k++] = fabsf(v[i] - v[i + 1]);
        }
      }
      double noise = k > 0 ? 1.4826 * (double)select_kth(diffs, k, k / 2) / sqrt(2.0) : 0.0;
      double scale = noise / qlevel;
      /* quantized values must stay inside int32 above the reserved codes */
      if (!(scale > 0) || !((hi - lo) / scale < 2147483000.0)) {
        scales[t] = 0.0;
        zeros[t] = 0.0;
        continue;
      }
      double zero = 0.5 * (lo + hi), inv = 1.0 / scale;
      scales[t] = scale;
      zeros[t] = zero;
      int iseed = (int)(((int64_t)t + dither0 - 1) % N_RANDOM);
      int next = (int)(rnd[iseed] * 500.0f);
      for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
          o[i] = -2147483647; /* ZBLANK */
        } else if (method == 0) {
          o[i] = (int32_t)floor(((double)v[i] - zero) * inv + 0.5);
        } else if (method == 2 && v[i] == 0.0f) {
          o[i] = ZERO_VALUE;
        } else {
          o[i] = (int32_t)floor(((double)v[i] - zero) * inv + (double)rnd[next]);
        }
        if (method > 0 && ++next == N_RANDOM) {
          if (++iseed == N_RANDOM) iseed = 0;
          next = (int)(rnd[iseed] * 500.0f);
        }
      }
    }
  }
  free(rnd);
  free(diffs);
  return st;
}
