/*
 * sd_bench_diff — native timing of the FFT / convolution / resampling / subtraction kernels
 * for tests/bench/core_diff.ts, built from the same C as the .wasm (make native).
 *
 * usage: sd_bench_diff DIR WIDTH HEIGHT NSTARS PS NTILES GRID REPEATS
 *   DIR holds raw files written by core_diff.ts: new.f32, ref.f32, varn.f32, varr.f32
 *   (WIDTH*HEIGHT each), pos.f64 (x[0..NSTARS) then y), psfn.f32 / psfr.f32 (NTILES stamps of
 *   PS x PS), grid.f64 (GRID x GRID input x, then input y) and kernel.f32 (41 x 41).
 * Prints one JSON object: best-of-REPEATS milliseconds per kernel (the same calls and options
 * core_diff.ts times in WASM) and checksums.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sd_core.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static void *read_file(const char *dir, const char *name, size_t bytes) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  void *buf = malloc(bytes);
  if (buf != NULL && fread(buf, 1, bytes, f) != bytes) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

#define NK 6
static const char *names[NK] = {"fft2", "convolve_fft41", "resample_lanczos3", "zogy",
                                "al_fit", "al_convolve"};

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s DIR WIDTH HEIGHT NSTARS PS NTILES GRID REPEATS\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  const int nx = atoi(argv[2]), ny = atoi(argv[3]), ns = atoi(argv[4]), ps = atoi(argv[5]);
  const int nt = atoi(argv[6]), gn = atoi(argv[7]), reps = atoi(argv[8]);
  const size_t np = (size_t)nx * ny;
  float *nimg = read_file(dir, "new.f32", np * 4), *rimg = read_file(dir, "ref.f32", np * 4);
  float *vn = read_file(dir, "varn.f32", np * 4), *vr = read_file(dir, "varr.f32", np * 4);
  double *pos = read_file(dir, "pos.f64", 2 * (size_t)ns * 8);
  float *pn = read_file(dir, "psfn.f32", (size_t)nt * ps * ps * 4);
  float *pr = read_file(dir, "psfr.f32", (size_t)nt * ps * ps * 4);
  double *grid = read_file(dir, "grid.f64", 2 * (size_t)gn * gn * 8);
  float *kern = read_file(dir, "kernel.f32", 41 * 41 * 4);
  float *o1 = malloc(np * 4), *o2 = malloc(np * 4), *o3 = malloc(np * 4), *o4 = malloc(np * 4);
  float *o5 = malloc(np * 4), *spec = malloc(sizeof(float) * 2 * (size_t)ny * (nx / 2 + 1));
  float *wr = malloc(np * 4);
  uint16_t *fl = calloc(np, 2), *ofl = malloc(np * 2);
  if (!nimg || !rimg || !vn || !vr || !pos || !pn || !pr || !grid || !kern || !o1 || !o2 || !o3 ||
      !o4 || !o5 || !spec || !wr || !fl || !ofl) {
    fprintf(stderr, "sd_bench_diff: cannot read inputs or allocate\n");
    return 1;
  }
  for (size_t i = 0; i < np; i++) wr[i] = 1.0f / vr[i];
  int32_t plen = 0;
  sd_fft_plan_length(nx, ny, &plen);
  float *plan = malloc(sizeof(float) * plen);
  sd_fft_plan(nx, ny, plan, plen);
  sd_zogy_opts zo = {512, 32, 1, 1, 0.02, 0.02};
  sd_al_opts ao = {0};
  ao.sigma = 1.2, ao.half_width = 10, ao.max_stamps = 300;
  int32_t nc = 0;
  sd_al_coeff_count(&ao, &nc);
  double *coef = malloc(sizeof(double) * nc), info[SD_AL_NINFO], table[4 * 4096];
  double best[NK];
  for (int k = 0; k < NK; k++) best[k] = 1e300;
  sd_status st = SD_OK;
  for (int rep = 0; rep < reps; rep++) {
    double t[NK + 1];
    t[0] = now_ms();
    st |= sd_fft_r2c(plan, nimg, spec);
    st |= sd_fft_c2r(plan, spec, o1);
    t[1] = now_ms();
    st |= sd_convolve(nimg, nx, ny, kern, 41, 41, 0, 2, o1);
    t[2] = now_ms();
    st |= sd_resample_lanczos3(rimg, wr, fl, nx, ny, grid, grid + gn * gn, gn, gn, nx, ny, 0, o1,
                               o2, ofl);
    t[3] = now_ms();
    st |= sd_zogy(nimg, rimg, vn, vr, nx, ny, NULL, NULL, pn, pr, ps, &zo, o1, o2, o3, o4, o5,
                  NULL, table);
    t[4] = now_ms();
    st |= sd_al_fit(nimg, rimg, vn, nx, ny, pos, pos + ns, ns, &ao, coef, nc, info);
    t[5] = now_ms();
    st |= sd_al_convolve(rimg, vr, nx, ny, &ao, coef, nc, o1, o2);
    t[6] = now_ms();
    for (int k = 0; k < NK; k++)
      if (t[k + 1] - t[k] < best[k]) best[k] = t[k + 1] - t[k];
  }
  double cs = 0.0;
  for (size_t i = 0; i < np; i += 997) cs += o3[i];
  printf("{");
  for (int k = 0; k < NK; k++) printf("\"%s\": %.3f, ", names[k], best[k]);
  printf("\"status\": %d, \"scorr_checksum\": %.6g, \"al_used\": %g}\n", st, cs, info[SD_AL_NUSED]);
  return st == SD_OK ? 0 : 1;
}
