/*
 * sd_bench.c — native timings of the core kernels on a raw float32 image, for
 * `deno task bench core` (tests/bench/core.ts), which times the same calls in WASM.
 *
 * usage: sd_bench IMAGE.f32 WIDTH HEIGHT [REPEAT]
 * Prints one JSON object: best-of-REPEAT milliseconds per kernel and the object count.
 * The kernels and their parameters must match tests/bench/core.ts.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sd_core.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

#define TIME_BEST(var, repeat, call)                       \
  do {                                                     \
    var = 1e300;                                           \
    for (int r_ = 0; r_ < (repeat); r_++) {                \
      double t0_ = now_ms();                               \
      sd_status s_ = (call);                               \
      double t_ = now_ms() - t0_;                          \
      if (s_ != SD_OK) {                                   \
        fprintf(stderr, "%s failed: %d\n", #call, (int)s_); \
        exit(1);                                           \
      }                                                    \
      if (t_ < var) var = t_;                              \
    }                                                      \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s IMAGE.f32 WIDTH HEIGHT [REPEAT]\n", argv[0]);
    return 2;
  }
  const int nx = atoi(argv[2]), ny = atoi(argv[3]), repeat = argc > 4 ? atoi(argv[4]) : 3;
  const size_t n = (size_t)nx * ny;
  float *img = malloc(sizeof(float) * n);
  FILE *f = fopen(argv[1], "rb");
  if (!f || !img || fread(img, sizeof(float), n, f) != n) {
    fprintf(stderr, "cannot read %zu floats from %s\n", n, argv[1]);
    return 1;
  }
  fclose(f);
  const int bw = 64, bh = 64, nbx = (nx - 1) / bw + 1, nby = (ny - 1) / bh + 1;
  float *mback = malloc(sizeof(float) * nbx * nby), *mrms = malloc(sizeof(float) * nbx * nby);
  float *back = malloc(sizeof(float) * n), *rms = malloc(sizeof(float) * n);
  float *sub = malloc(sizeof(float) * n), *conv = malloc(sizeof(float) * n);
  const float kernel[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1};
  const int cap = 200000;
  double *objects = malloc(sizeof(double) * cap * SD_DET_NCOLS);
  double stats[SD_STATS_N], glob[SD_BKG_N];
  int32_t count = 0;
  double t_stats, t_mesh, t_render, t_conv, t_detect;

  TIME_BEST(t_stats, repeat, sd_stats_clipped(img, NULL, (int32_t)n, 0xFFFF, 3.0f, 3.0f, 5, stats));
  TIME_BEST(t_mesh, repeat,
            sd_background_mesh(img, NULL, nx, ny, 0xFFFF, bw, bh, 3, 3, 0.0f, mback, mrms, glob));
  TIME_BEST(t_render, repeat, sd_background_render(mback, nbx, nby, bw, bh, nx, ny, back));
  if (sd_background_render(mrms, nbx, nby, bw, bh, nx, ny, rms) != SD_OK) return 1;
  for (size_t i = 0; i < n; i++) sub[i] = img[i] - back[i];
  TIME_BEST(t_conv, repeat, sd_convolve_small(sub, NULL, nx, ny, 0xFFFF, kernel, 3, 3, 1, conv));
  TIME_BEST(t_detect, repeat,
            sd_detect(sub, rms, NULL, nx, ny, 0.0f, 0xFFFF, 4, 0.0f, kernel, 3, 3, 1.5f, 5, 32,
                      0.005f, cap, objects, NULL, &count));
  printf("{\"stats_clipped\": %.3f, \"background_mesh\": %.3f, \"background_render\": %.3f, "
         "\"convolve_3x3\": %.3f, \"detect\": %.3f, \"objects\": %d, \"global_back\": %.4f}\n",
         t_stats, t_mesh, t_render, t_conv, t_detect, (int)count, glob[SD_BKG_GLOBAL]);
  free(img);
  free(mback);
  free(mrms);
  free(back);
  free(rms);
  free(sub);
  free(conv);
  free(objects);
  return 0;
}
