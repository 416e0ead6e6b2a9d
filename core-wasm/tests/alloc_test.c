/* alloc_test.c — sd_alloc / sd_free. */
#include <string.h>

#include "sd_core.h"
#include "test_util.h"

static void test_alloc_roundtrip(void) {
  void *p = (void *)1;
  CHECK_OK(sd_alloc(1000, &p));
  CHECK(p != NULL);
  memset(p, 7, 1000);
  CHECK_EQ(((unsigned char *)p)[999], 7);
  CHECK_OK(sd_free(p));
  CHECK_OK(sd_free(NULL));
}

static void test_alloc_rejects_bad_args(void) {
  void *p = (void *)1;
  CHECK_EQ(sd_alloc(0, &p), SD_ERR_ARG);
  CHECK(p == NULL);
  CHECK_EQ(sd_alloc(10, NULL), SD_ERR_ARG);
}

int main(void) {
  RUN(test_alloc_roundtrip);
  RUN(test_alloc_rejects_bad_args);
  return TEST_SUMMARY();
}
