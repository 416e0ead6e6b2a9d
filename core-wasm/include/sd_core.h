/*
 * sd_core.h — the only public header of the skydiff imaging core.
 *
 * Rules (see DESIGN.md, "The C core"):
 *  - every exported function is named sd_* and returns an sd_status;
 *  - buffers are owned by the caller; outputs are written through the last parameters;
 *  - no global or static mutable state; memory allocated inside a call is freed on
 *    its single exit path;
 *  - every parameter documents its default in [brackets];
 *  - images are row-major, width (nx) fastest; pixel (0,0) is the centre of the
 *    first pixel, so pixel i covers [i-0.5, i+0.5).
 *
 * Every function declared here is exported from the .wasm: the Makefile builds the
 * export list from this header (so keep one declaration per line start: "sd_status sd_name(").
 */
#ifndef SD_CORE_H
#define SD_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Status codes. 0 is success; everything else names what went wrong. */
typedef int32_t sd_status;
#define SD_OK 0
#define SD_ERR_ARG 1          /* an argument is out of range or inconsistent */
#define SD_ERR_NOMEM 2        /* allocation failed */
#define SD_ERR_EMPTY 3        /* no usable data (all masked, empty list, ...) */
#define SD_ERR_NOCONVERGE 4   /* an iterative fit did not converge */
#define SD_ERR_SINGULAR 5     /* a linear system was singular */
#define SD_ERR_OVERFLOW 6     /* an output buffer was too small */
#define SD_ERR_CORRUPT 7      /* encoded input data is malformed */

/* ---- memory (used by the TypeScript wrapper) ---- */
/* Allocates nbytes; writes the pointer (0 on failure) to *out. */
sd_status sd_alloc(size_t nbytes, void **out);
/* Frees a pointer from sd_alloc (NULL allowed). */
sd_status sd_free(void *ptr);

/* ---- statistics, background, detection, deblending ---- */

/* ---- photometry, measurement, PSF, rendering ---- */

/* ---- compression (Rice) ---- */

#endif /* SD_CORE_H */
