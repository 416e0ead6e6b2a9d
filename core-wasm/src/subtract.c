/* subtract.c — naive image subtraction with noise propagation. */
#include "sd_internal.h"

sd_status sd_subtract_naive(const float *new_img, const float *w_new, const float *ref_img,
                            const float *w_ref, int32_t nx, int32_t ny, float f, float *diff,
                            float *out_weight) {
  if (new_img == NULL || ref_img == NULL || diff == NULL || nx <= 0 || ny <= 0 || !isfinite(f))
    return SD_ERR_ARG;
  if ((int64_t)nx * ny > INT32_MAX) return SD_ERR_ARG;
  const size_t n = (size_t)nx * ny;
  size_t i = 0;
#if SD_SIMD
  const v128_t vf = wasm_f32x4_splat(f);
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(diff + i, wasm_f32x4_sub(wasm_v128_load(new_img + i),
                                             wasm_f32x4_mul(vf, wasm_v128_load(ref_img + i))));
#endif
  for (; i < n; i++) diff[i] = new_img[i] - f * ref_img[i];
  if (out_weight != NULL) {
    for (i = 0; i < n; i++) {
      const float wn = w_new ? w_new[i] : 1.0f, wr = w_ref ? w_ref[i] : 1.0f;
      const int ok = wn > 0.0f && wr > 0.0f && isfinite(diff[i]) && isfinite(wn) && isfinite(wr);
      out_weight[i] = ok ? 1.0f / (1.0f / wn + f * f / wr) : 0.0f;
    }
  }
  return SD_OK;
}
