/* sd_detect_internal.h — private interfaces between convolve_small.c, detect.c and deblend.c. */
#ifndef SD_DETECT_INTERNAL_H
#define SD_DETECT_INTERNAL_H

#include <stdint.h>

#include "sd_core.h"

/* sd_convolve_small without argument checks. */
sd_status sd_convolve_internal(const float *image, const uint16_t *mask, int32_t nx, int32_t ny,
                               uint16_t mask_bits, const float *kernel, int32_t kw, int32_t kh,
                               int32_t norm, float *out);

/* Scratch memory reused across the objects of one sd_detect call. */
typedef struct {
  int32_t *submap;    /* bbox -> pixel index in the object, or -1 */
  size_t submap_cap;
  int32_t *node_of;   /* per level and pixel: node id or -1 */
  int32_t *uf;        /* union-find parents over pixels */
  int32_t *root_node; /* per pixel root: node id at the current level */
  size_t pix_cap;
  struct sd_node *nodes;
  size_t node_cap;
} sd_deblend_work;

/* Releases the scratch memory. */
void sd_deblend_work_free(sd_deblend_work *w);

/* Splits one detected object (pixels idx[0..n) of an nx-wide image, raster order, with
 * bbox xmin..xmax, ymin..ymax) by multi-threshold deblending on the filtered image cimg:
 * thresholds t0 (t_peak / t0)^(k / nthresh), branches significant when their filtered
 * flux above the level exceeds cont times the object's, and at least min_area pixels.
 * Writes owner[p] (0..nchild-1), core[p] (1 for a pixel of its child's own branch, 0 for
 * one handed to it afterwards) and the number of children to *nchild (1: not split). */
sd_status sd_deblend_object(const float *cimg, int32_t nx, const int32_t *idx, int32_t n,
                            int32_t xmin, int32_t xmax, int32_t ymin, int32_t ymax, float t0,
                            int32_t nthresh, float cont, int32_t min_area, sd_deblend_work *w,
                            int32_t *owner, uint8_t *core, int32_t *nchild);

#endif /* SD_DETECT_INTERNAL_H */
