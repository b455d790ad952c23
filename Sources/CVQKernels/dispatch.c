// Run-time choice of the kernel level (see cvq_kernels.h).
#include "cvq_kernels.h"
#include <stdlib.h>
#include <string.h>

static int cvq_current_level = -1;

cvq_level cvq_best_supported_level(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vpopcntdq"))
    return CVQ_LEVEL_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))
    return CVQ_LEVEL_AVX2;
#endif
  return CVQ_LEVEL_PORTABLE;
}

cvq_level cvq_level_from_string(const char *forced, cvq_level best) {
  if (forced == NULL || forced[0] == 0) return best;
  cvq_level wanted = best;
  if (strcmp(forced, "portable") == 0) wanted = CVQ_LEVEL_PORTABLE;
  else if (strcmp(forced, "avx2") == 0) wanted = CVQ_LEVEL_AVX2;
  else if (strcmp(forced, "avx512") == 0) wanted = CVQ_LEVEL_AVX512;
  // A level the CPU lacks would die with SIGILL: fall back to the best supported one.
  return wanted <= best ? wanted : best;
}

static cvq_level cvq_level_from_environment(void) {
  return cvq_level_from_string(getenv("VQ_KERNEL_LEVEL"), cvq_best_supported_level());
}

cvq_level cvq_kernel_level(void) {
  int level = __atomic_load_n(&cvq_current_level, __ATOMIC_ACQUIRE);
  if (level < 0) {
    level = (int)cvq_level_from_environment();
    __atomic_store_n(&cvq_current_level, level, __ATOMIC_RELEASE);
  }
  return (cvq_level)level;
}

int cvq_set_kernel_level(cvq_level level) {
  if ((int)level < 0 || level > cvq_best_supported_level()) return -1;
  __atomic_store_n(&cvq_current_level, (int)level, __ATOMIC_RELEASE);
  return 0;
}
