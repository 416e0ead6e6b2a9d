/*
 * sd_bench_phot — native timing of the photometry / PSF kernels for tests/bench/core_phot.ts,
 * built from the same C as the .wasm (make native).
 *
 * usage: sd_bench_phot IMAGE.f32 WIDTH HEIGHT SIGMA POS.f64 N REPEATS
 *   IMAGE.f32  raw float32 image; POS.f64 raw float64 x[0..N) then y[0..N).
 * The weight map is 1 / SIGMA^2. Prints one JSON object: best-of-REPEATS milliseconds per
 * kernel (the same calls, options and inputs tests/bench/core_phot.ts times in WASM), and
 * checksums so the two runs can be compared.
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

static void *read_file(const char *path, size_t bytes) {
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

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s IMAGE.f32 WIDTH HEIGHT SIGMA POS.f64 N REPEATS\n", argv[0]);
    return 2;
  }
  int nx = atoi(argv[2]), ny = atoi(argv[3]), n = atoi(argv[6]), reps = atoi(argv[7]);
  double sigma = atof(argv[4]);
  size_t np = (size_t)nx * ny;
  float *img = read_file(argv[1], np * sizeof(float));
  double *pos = read_file(argv[5], 2 * (size_t)n * sizeof(double));
  float *w = malloc(np * sizeof(float));
  double r[3] = {3.0, 5.0, 8.0};
  double *flux = malloc(sizeof(double) * 3 * n), *err = malloc(sizeof(double) * 3 * n);
  double *bkg = malloc(sizeof(double) * n), *meas = malloc(sizeof(double) * SD_MEAS_NCOL * n);
  double *phot = malloc(sizeof(double) * SD_PSFPHOT_NCOL * n);
  int32_t *fl = malloc(sizeof(int32_t) * n);
  int32_t len = 0;
  sd_psf_model_length(25, 2, &len);
  float *model = malloc(sizeof(float) * len);
  if (!img || !pos || !w || !flux || !err || !bkg || !meas || !phot || !fl || !model) {
    fprintf(stderr, "sd_bench_phot: cannot read inputs or allocate\n");
    return 1;
  }
  for (size_t k = 0; k < np; k++) w[k] = (float)(1.0 / (sigma * sigma));
  const double *x = pos, *y = pos + n;
  double best[7];
  for (int k = 0; k < 7; k++) best[k] = 1e300;
  float *canvas = calloc(np, sizeof(float));
  double *fluxes = malloc(sizeof(double) * n);
  if (canvas == NULL || fluxes == NULL) return 1;
  for (int i = 0; i < n; i++) fluxes[i] = 1000.0 + 10.0 * i;
  sd_render_opts ro = {0, 3.0, 3.5, 1.0, 0, 0, 5, 0};
  sd_aper_opts ao = {0, 0, 0, 0};
  sd_measure_opts mo = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  sd_psf_fit_opts fo = {25, 1, 2, 3.5, 4, 3};
  sd_psf_phot_opts po = {0, 0, 1, 0, 0, 0};
  sd_psf_phot_opts pf = {0, 1, 1, 0, 0, 0};
  int npsf = n < 500 ? n : 500;
  sd_status st = SD_OK;
  for (int rep = 0; rep < reps; rep++) {
    double t0 = now_ms();
    st |= sd_sum_circle(img, w, NULL, nx, ny, x, y, n, r, 3, &ao, flux, err, bkg, fl);
    double t1 = now_ms();
    st |= sd_sum_circle(img, w, NULL, nx, ny, x, y, n, r, 1, &(sd_aper_opts){0, 12, 18, 0}, flux,
                        err, bkg, fl);
    double t2 = now_ms();
    st |= sd_measure(img, w, NULL, NULL, nx, ny, x, y, NULL, n, &mo, meas);
    double t3 = now_ms();
    st |= sd_psf_fit(img, w, NULL, nx, ny, x, y, npsf, &fo, model, len, NULL);
    double t4 = now_ms();
    st |= sd_psf_phot(img, w, NULL, nx, ny, model, len, x, y, n, &po, phot);
    double t5 = now_ms();
    st |= sd_psf_phot(img, w, NULL, nx, ny, model, len, x, y, n, &pf, phot);
    double t6 = now_ms();
    memset(canvas, 0, np * sizeof(float));
    double t7 = now_ms();
    st |= sd_render_stars(canvas, nx, ny, x, y, fluxes, n, &ro, NULL, 0);
    double t8 = now_ms();
    double d[7] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t8 - t7};
    for (int k = 0; k < 7; k++) best[k] = d[k] < best[k] ? d[k] : best[k];
  }
  if (st != SD_OK) {
    fprintf(stderr, "sd_bench_phot: a kernel failed\n");
    return 1;
  }
  double cs = 0.0;
  for (int i = 0; i < n; i++) {
    double f = phot[i * SD_PSFPHOT_NCOL + SD_PSFPHOT_FLUX];
    cs += f == f ? f : 0.0; /* NaN-safe */
  }
  printf("{\"sum_circle3\": %.3f, \"sum_circle_annulus\": %.3f, \"measure\": %.3f, "
         "\"psf_fit\": %.3f, \"psf_phot\": %.3f, \"psf_phot_fitpos\": %.3f, "
         "\"render_stars\": %.3f, \"checksum_psf_flux\": %.6e}\n",
         best[0], best[1], best[2], best[3], best[4], best[5], best[6], cs);
  free(img);
  free(pos);
  free(w);
  free(flux);
  free(err);
  free(bkg);
  free(meas);
  free(phot);
  free(fl);
  free(model);
  free(canvas);
  free(fluxes);
  return 0;
}
