/*
 * test_util.h — tiny assertion macros for the native C tests (the tests/ folder).
 *
 * Usage: write `static void test_x(void) { CHECK(...); CHECK_CLOSE(a, b, tol); }`,
 * call them from main through RUN(test_x), and `return TEST_SUMMARY();`.
 * A failed check prints file:line and the values, and makes the program exit 1.
 */
#ifndef SD_TEST_UTIL_H
#define SD_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int sd_test_failures = 0;
static int sd_test_checks = 0;

/* Fails when cond is false. */
#define CHECK(cond)                                                        \
  do {                                                                     \
    sd_test_checks++;                                                      \
    if (!(cond)) {                                                         \
      sd_test_failures++;                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)

/* Fails when |a - b| > tol (also when either is NaN). */
#define CHECK_CLOSE(a, b, tol)                                                   \
  do {                                                                           \
    double sd_a_ = (double)(a), sd_b_ = (double)(b), sd_t_ = (double)(tol);      \
    sd_test_checks++;                                                            \
    if (!(fabs(sd_a_ - sd_b_) <= sd_t_)) {                                       \
      sd_test_failures++;                                                        \
      fprintf(stderr, "%s:%d: CHECK_CLOSE failed: %s = %.9g, %s = %.9g, tol %.3g\n", \
              __FILE__, __LINE__, #a, sd_a_, #b, sd_b_, sd_t_);                  \
    }                                                                            \
  } while (0)

/* Fails when the integer expressions differ. */
#define CHECK_EQ(a, b)                                                          \
  do {                                                                          \
    long long sd_a_ = (long long)(a), sd_b_ = (long long)(b);                   \
    sd_test_checks++;                                                           \
    if (sd_a_ != sd_b_) {                                                       \
      sd_test_failures++;                                                       \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", __FILE__, \
              __LINE__, #a, sd_a_, #b, sd_b_);                                  \
    }                                                                           \
  } while (0)

/* Fails when a call does not return SD_OK. */
#define CHECK_OK(call) CHECK_EQ((call), 0)

/* Runs one test function and names it. */
#define RUN(fn)                              \
  do {                                       \
    int sd_before_ = sd_test_failures;       \
    fn();                                    \
    fprintf(stderr, "%s %s\n", sd_test_failures == sd_before_ ? "ok  " : "FAIL", #fn); \
  } while (0)

/* Prints a summary; use as `return TEST_SUMMARY();` in main. */
#define TEST_SUMMARY()                                                                  \
  (fprintf(stderr, "%d checks, %d failures\n", sd_test_checks, sd_test_failures),      \
   sd_test_failures == 0 ? 0 : 1)

/* Deterministic test random numbers (xorshift64*), no global state. */
typedef struct { uint64_t s; } sd_test_rng;
static inline uint64_t sd_test_next(sd_test_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 2685821657736338717ULL;
}
/* Uniform in (0, 1). */
static inline double sd_test_uniform(sd_test_rng *r) {
  return ((double)(sd_test_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
/* Standard normal (Box-Muller). */
static inline double sd_test_normal(sd_test_rng *r) {
  double u = sd_test_uniform(r), v = sd_test_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif /* SD_TEST_UTIL_H */
