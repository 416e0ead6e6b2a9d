/*
 * bench/sim/main.c — native timings of the simulator kernels, for `deno task bench sim`
 * (tests/bench/sim.ts compiles this with gcc and runs the same calls in WASM).
 *
 * usage: sd_bench_sim WIDTH HEIGHT GALAXIES.f64 NGAL [REPEAT]
 * GALAXIES.f64 holds NGAL x SD_SIM_GAL_NCOL doubles. Prints one JSON object with the
 * best-of-REPEAT milliseconds of sd_sim_poisson (every pixel at 1000), sd_sim_readout
 * (one amplifier, half the columns, DECam layout) and sd_sim_galaxies.
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

static void check(sd_status s, const char *what) {
  if (s != SD_OK) {
    fprintf(stderr, "%s failed: %d\n", what, (int)s);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s WIDTH HEIGHT GALAXIES.f64 NGAL [REPEAT]\n", argv[0]);
    return 2;
  }
  const int nx = atoi(argv[1]), ny = atoi(argv[2]), ngal = atoi(argv[4]);
  const int repeat = argc > 5 ? atoi(argv[5]) : 2;
  const size_t n = (size_t)nx * ny;
  const int rnx = nx + 112, rny = ny + 50;
  float *img = malloc(sizeof(float) * n), *raw = calloc((size_t)rnx * rny, sizeof(float));
  double *gal = malloc(sizeof(double) * SD_SIM_GAL_NCOL * (size_t)(ngal > 0 ? ngal : 1));
  FILE *f = fopen(argv[3], "rb");
  if (!img || !raw || !gal || !f ||
      fread(gal, sizeof(double) * SD_SIM_GAL_NCOL, (size_t)ngal, f) != (size_t)ngal) {
    fprintf(stderr, "cannot read %d galaxies from %s\n", ngal, argv[3]);
    return 1;
  }
  fclose(f);
  double t_poisson = 1e300, t_readout = 1e300, t_gal = 1e300;
  for (int r = 0; r < repeat; r++) {
    for (size_t i = 0; i < n; i++) img[i] = 1000.0f;
    double t0 = now_ms();
    check(sd_sim_poisson(img, (int32_t)n, 1, 1), "sd_sim_poisson");
    double t = now_ms() - t0;
    if (t < t_poisson) t_poisson = t;
    int32_t geom[SD_SIM_GEOM_N] = {nx / 2, nx / 2, 56 + nx / 2, rnx, 56 + nx / 2, 50, 0};
    t0 = now_ms();
    check(sd_sim_readout(img, nx, ny, geom, raw, rnx, rny, NULL, NULL, 2000, 4, 6, 0, 1, 1),
          "sd_sim_readout");
    t = now_ms() - t0;
    if (t < t_readout) t_readout = t;
    t0 = now_ms();
    check(sd_sim_galaxies(img, nx, ny, gal, ngal, 0, 0, 0, 0), "sd_sim_galaxies");
    t = now_ms() - t0;
    if (t < t_gal) t_gal = t;
  }
  printf("{\"poisson\": %.3f, \"readout_amp\": %.3f, \"galaxies\": %.3f}\n", t_poisson, t_readout,
         t_gal);
  free(img);
  free(raw);
  free(gal);
  return 0;
}
