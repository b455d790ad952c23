// CVQKernels: the ISA-specific hot loops of swift-vq.
//
// Every kernel exists at three levels, compiled from the same source with different
// `__attribute__((target(...)))` sections: portable (any CPU, also ARM), AVX2+FMA, AVX-512
// (F/BW/VL/DQ + VPOPCNTDQ). One dispatch table is chosen at first use from the CPU
// (`__builtin_cpu_supports`), or forced with the environment variable
// VQ_KERNEL_LEVEL=portable|avx2|avx512. All levels give bit-identical results: no FMA
// contraction, the same operation order in every level.
#ifndef CVQ_KERNELS_H
#define CVQ_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  CVQ_LEVEL_PORTABLE = 0,
  CVQ_LEVEL_AVX2 = 1,
  CVQ_LEVEL_AVX512 = 2,
} cvq_level;

/// The level in use (chosen at first call from the CPU and VQ_KERNEL_LEVEL).
cvq_level cvq_kernel_level(void);
/// The best level this CPU supports.
cvq_level cvq_best_supported_level(void);
/// Forces `level`; returns 0 on success, -1 if the CPU does not support it (level unchanged).
int cvq_set_kernel_level(cvq_level level);

#ifdef __cplusplus
}
#endif
#endif
