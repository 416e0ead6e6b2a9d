/* alloc.c — memory entry points used by the TypeScript wrapper. */
#include <stdlib.h>

#include "sd_core.h"

sd_status sd_alloc(size_t nbytes, void **out) {
  if (out == NULL) return SD_ERR_ARG;
  *out = NULL;
  if (nbytes == 0) return SD_ERR_ARG;
  void *p = malloc(nbytes);
  if (p == NULL) return SD_ERR_NOMEM;
  *out = p;
  return SD_OK;
}

sd_status sd_free(void *ptr) {
  free(ptr);
  return SD_OK;
}
