/* rice_test.c — sd_rice_decode_tiles / sd_rice_encode_tiles. */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

/* Encodes then decodes ntiles tiles and checks every value comes back. */
static void roundtrip(const int32_t *values, const uint32_t *counts, int32_t ntiles, int32_t bytepix,
                      int32_t blocksize) {
  size_t n = 0;
  for (int32_t t = 0; t < ntiles; t++) n += counts[t];
  size_t cap = n * (size_t)bytepix * 2 + 64 * (size_t)ntiles;
  uint8_t *buf = malloc(cap);
  uint32_t *lengths = malloc(sizeof(uint32_t) * (size_t)ntiles);
  uint32_t *offsets = malloc(sizeof(uint32_t) * (size_t)ntiles);
  int32_t *out = calloc(n + 1, sizeof(int32_t));
  CHECK_OK(sd_rice_encode_tiles(values, counts, ntiles, bytepix, blocksize, buf, cap, lengths));
  size_t total = 0;
  for (int32_t t = 0; t < ntiles; t++) {
    offsets[t] = (uint32_t)total;
    total += lengths[t];
  }
  CHECK_OK(sd_rice_decode_tiles(buf, total, offsets, lengths, counts, ntiles, bytepix, blocksize, out));
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += out[i] != values[i];
  CHECK_EQ(bad, 0);
  free(buf);
  free(lengths);
  free(offsets);
  free(out);
}

static void test_rice_decode_hand_encoded_stream(void) {
  /* bytepix 4: first value 7 stored raw; the block covers every value, the first
   * included: values 7, 8, 6, 6 -> differences 0, +1, -2, 0 -> folded 0, 2, 3, 0.
   * One block with fs = 1 (code 2 = 00010); each value: quotient in unary, 1 low bit:
   * 0 -> "1"+"0", 2 -> "01"+"0", 3 -> "01"+"1", 0 -> "1"+"0"
   * bits: 00010 10 010 011 10 -> 00010100 1001110(0) = 0x14 0x9c */
  const uint8_t stream[] = {0, 0, 0, 7, 0x14, 0x9c};
  const uint32_t off = 0, len = sizeof stream, count = 4;
  int32_t out[4] = {0};
  CHECK_OK(sd_rice_decode_tiles(stream, sizeof stream, &off, &len, &count, 1, 4, 32, out));
  CHECK_EQ(out[0], 7);
  CHECK_EQ(out[1], 8);
  CHECK_EQ(out[2], 6);
  CHECK_EQ(out[3], 6);
  /* a constant block (code 0) */
  const uint8_t flat[] = {0xff, 0xfe, 0x00};
  const uint32_t flen = sizeof flat, fcount = 5;
  int32_t fout[5] = {0};
  CHECK_OK(sd_rice_decode_tiles(flat, sizeof flat, &off, &flen, &fcount, 1, 2, 32, fout));
  for (int i = 0; i < 5; i++) CHECK_EQ(fout[i], -2);
}

static void test_rice_roundtrip_all_widths(void) {
  sd_test_rng rng = {12345};
  enum { N = 5000 };
  int32_t *v = malloc(sizeof(int32_t) * N);
  const uint32_t counts[] = {1, 31, 32, 33, 1000, 3903};
  const int32_t widths[] = {1, 2, 4};
  for (int w = 0; w < 3; w++) {
    int32_t bytepix = widths[w];
    for (int kind = 0; kind < 4; kind++) {
      for (int i = 0; i < N; i++) {
        double g = sd_test_normal(&rng);
        uint64_t r = sd_test_next(&rng);
        int32_t x;
        if (kind == 0) x = 100;                                   /* constant */
        else if (kind == 1) x = 100 + (int32_t)(3.0 * g);         /* low noise */
        else if (kind == 2) x = (int32_t)(2000.0 * g);            /* wide noise */
        else x = (int32_t)(uint32_t)r;                            /* full range */
        if (bytepix == 1) x &= 0xff;
        if (bytepix == 2) x = (int16_t)(uint16_t)(x & 0xffff);
        v[i] = x;
      }
      roundtrip(v, counts, 6, bytepix, 32);
      roundtrip(v, counts, 6, bytepix, 16);
    }
  }
  free(v);
}

static void test_rice_rejects_bad_input(void) {
  const uint8_t stream[] = {0, 0, 0, 7, 0x12};
  const uint32_t off = 0, len = sizeof stream, count = 4;
  int32_t out[4];
  CHECK_EQ(sd_rice_decode_tiles(stream, sizeof stream, &off, &len, &count, 1, 4, 32, out),
           SD_ERR_CORRUPT);
  CHECK_EQ(sd_rice_decode_tiles(stream, sizeof stream, &off, &len, &count, 1, 3, 32, out),
           SD_ERR_ARG);
  const uint32_t far = 10;
  CHECK_EQ(sd_rice_decode_tiles(stream, sizeof stream, &far, &len, &count, 1, 4, 32, out),
           SD_ERR_CORRUPT);
  int32_t vals[100];
  for (int i = 0; i < 100; i++) vals[i] = i * 7919;
  uint8_t small[8];
  uint32_t c = 100, l = 0;
  CHECK_EQ(sd_rice_encode_tiles(vals, &c, 1, 4, 32, small, sizeof small, &l), SD_ERR_OVERFLOW);
}

static void test_dequantize_tiles(void) {
  enum { N = 3000 };
  int32_t *q = malloc(sizeof(int32_t) * N);
  float *out = malloc(sizeof(float) * N);
  for (int i = 0; i < N; i++) q[i] = (i * 7919) % 20001 - 10000;
  q[5] = -2147483647;  /* blank */
  q[6] = -2147483646;  /* zero value (dither 2) */
  const uint32_t counts[] = {1000, 1000, 1000};
  const double scales[] = {0.25, 0.0, 2.0}, zeros[] = {100.0, 0.0, -5.0};
  /* no dither: exact */
  for (int i = 0; i < N; i++) out[i] = -1.0f;
  CHECK_OK(sd_dequantize_tiles(q, counts, 3, scales, zeros, 0, 1, 1, -2147483647, out));
  CHECK(isnan(out[5]));
  CHECK_CLOSE(out[7], (float)(q[7] * 0.25 + 100.0), 0);
  CHECK_EQ(out[1500], -1.0f); /* skipped tile */
  CHECK_CLOSE(out[2500], (float)(q[2500] * 2.0 - 5.0), 0);
  /* dithered: within half a step of the undithered value, and not identical to it */
  for (int method = 1; method <= 2; method++) {
    CHECK_OK(sd_dequantize_tiles(q, counts, 3, scales, zeros, method, 37, 1, -2147483647, out));
    CHECK(isnan(out[5]));
    if (method == 2) CHECK_EQ(out[6], 0.0f);
    int off_grid = 0, bad = 0;
    for (int i = 0; i < N; i++) {
      if (i == 5 || i == 6 || (i >= 1000 && i < 2000)) continue;
      double s = i < 1000 ? 0.25 : 2.0, z = i < 1000 ? 100.0 : -5.0;
      double d = out[i] - (q[i] * s + z);
      if (fabs(d) > 0.5 * s + 1e-3) bad++;
      if (fabs(d) > 1e-3 * s) off_grid++;
    }
    CHECK_EQ(bad, 0);
    CHECK(off_grid > N / 2);
  }
  CHECK_EQ(sd_dequantize_tiles(q, counts, 3, scales, zeros, 3, 1, 0, 0, out), SD_ERR_ARG);
  CHECK_EQ(sd_dequantize_tiles(q, counts, 3, scales, zeros, 1, 0, 0, 0, out), SD_ERR_ARG);
  free(q);
  free(out);
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void test_quantize_tiles_roundtrip(void) {
  sd_test_rng rng = {777};
  enum { W = 300, H = 7, N = W * H };
  float *v = malloc(sizeof(float) * N), *back = malloc(sizeof(float) * N);
  int32_t *q = malloc(sizeof(int32_t) * N);
  uint32_t counts[H];
  double scales[H], zeros[H];
  for (int t = 0; t < H; t++) counts[t] = W;
  for (int i = 0; i < N; i++) v[i] = (float)(1000.0 + 10.0 * sd_test_normal(&rng));
  for (int i = W; i < 2 * W; i++) v[i] = 3.5f;  /* constant tile: not quantizable */
  v[5] = NAN;
  v[7] = 0.0f;
  for (int method = 0; method <= 2; method++) {
    CHECK_OK(sd_quantize_tiles(v, counts, H, 4.0, method, 17, q, scales, zeros));
    CHECK_EQ(scales[1], 0);
    /* the noise estimate: 1.4826 x median |neighbour difference| / sqrt(2), / qlevel */
    {
      float d[W];
      int k = 0;
      for (int i = 0; i + 1 < W; i++) {
        if (isfinite(v[i]) && isfinite(v[i + 1])) d[k++] = fabsf(v[i] - v[i + 1]);
      }
      qsort(d, (size_t)k, sizeof(float), cmp_float);
      CHECK_CLOSE(scales[0], 1.4826 * d[k / 2] / sqrt(2.0) / 4.0, 1e-6);
    }
    CHECK_OK(sd_dequantize_tiles(q, counts, H, scales, zeros, method, 17, 1, -2147483647, back));
    CHECK(isnan(back[5]));
    if (method == 2) CHECK_EQ(back[7], 0.0f);
    int bad = 0;
    for (int i = 0; i < N; i++) {
      if (i == 5 || (i >= W && i < 2 * W) || (method == 2 && i == 7)) continue;
      double s = scales[i / W];
      if (!(fabs(back[i] - v[i]) <= 0.5 * s + 1e-3)) bad++;
    }
    CHECK_EQ(bad, 0);
  }
  /* the median selection against a sort */
  for (int trial = 0; trial < 20; trial++) {
    int n = 1 + (int)(sd_test_uniform(&rng) * 200);
    float a[200], b[200];
    for (int i = 0; i < n; i++) a[i] = b[i] = (float)floor(sd_test_uniform(&rng) * 20);
    qsort(b, (size_t)n, sizeof(float), cmp_float);
    uint32_t c = (uint32_t)n;
    double sc, ze;
    int32_t qq[200];
    /* a tile whose neighbour differences are a[]: values are the running sum */
    float vals[201];
    vals[0] = 0;
    for (int i = 0; i < n; i++) vals[i + 1] = vals[i] + a[i];
    CHECK_OK(sd_quantize_tiles(vals, &(uint32_t){c + 1}, 1, 1.0, 0, 1, qq, &sc, &ze));
    double expect = 1.4826 * b[n / 2] / sqrt(2.0);
    CHECK_CLOSE(sc, expect, 1e-5 * (1 + expect));
  }
  free(v);
  free(back);
  free(q);
}

static void test_rice_decode_random_bytes(void) {
  /* random and truncated streams: SD_OK or SD_ERR_CORRUPT, never a read outside the input
   * (the sanitizers check) */
  sd_test_rng rng = {4242};
  uint8_t buf[256];
  int32_t out[600];
  int other = 0;
  for (int trial = 0; trial < 3000; trial++) {
    uint32_t len = 1 + (uint32_t)(sd_test_uniform(&rng) * 255);
    for (uint32_t i = 0; i < len; i++) buf[i] = (uint8_t)(sd_test_next(&rng) >> 56);
    uint8_t *copy = malloc(len); /* exact size, so an overread is caught */
    memcpy(copy, buf, len);
    const uint32_t off = 0, count = 1 + (uint32_t)(sd_test_uniform(&rng) * 599);
    const int32_t widths[] = {1, 2, 4};
    int32_t bytepix = widths[trial % 3];
    sd_status st = sd_rice_decode_tiles(copy, len, &off, &len, &count, 1, bytepix, 32, out);
    if (st != SD_OK && st != SD_ERR_CORRUPT) other++;
    free(copy);
  }
  CHECK_EQ(other, 0);
}

int main(void) {
  RUN(test_rice_decode_hand_encoded_stream);
  RUN(test_rice_roundtrip_all_widths);
  RUN(test_rice_rejects_bad_input);
  RUN(test_dequantize_tiles);
  RUN(test_quantize_tiles_roundtrip);
  RUN(test_rice_decode_random_bytes);
  return TEST_SUMMARY();
}
