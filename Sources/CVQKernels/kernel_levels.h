// Internal: how CVQKernels stamps one kernel body out at three instruction-set levels.
//
// A kernel is written once, in a body header that is #included three times, each time with
//   CVQ_LEVEL    the suffix of every function the body defines (portable, avx2, avx512),
//   CVQ_TARGET   the __attribute__((target(...))) those functions are compiled for,
//   CVQ_AVX2_INTRINSICS  1 where the hand-written AVX2 paths (in-register FWHT stages) may be used,
//   CVQ_WIDE     the lane count of the generic vector type used by the wide loops (8 or 16).
// The compiler vectorizes the generic loops for each target; the hand-written paths exist only where
// auto-vectorization cannot reach the speed. Every path performs the same IEEE operations in the same
// order, so every level is bit-identical to the Swift reference. FP contraction is off in every file
// (a fused multiply-add would round once where the reference rounds twice).
#ifndef CVQ_KERNEL_LEVELS_H
#define CVQ_KERNEL_LEVELS_H

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CVQ_X86 1
#include <immintrin.h>
#else
#define CVQ_X86 0
#endif

#define CVQ_TARGET_PORTABLE
#define CVQ_TARGET_AVX2 __attribute__((target("avx2,fma,bmi2")))
#define CVQ_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vpopcntdq,avx2,fma,bmi2")))

/// Fully unrolls the next loop (its trip count is a constant after inlining): keeps register arrays
/// in registers.
#if defined(__clang__)
#define CVQ_UNROLL _Pragma("clang loop unroll(full)")
#else
#define CVQ_UNROLL _Pragma("GCC unroll 16")
#endif

#define CVQ_CONCAT_(a, b) a##_##b
#define CVQ_CONCAT(a, b) CVQ_CONCAT_(a, b)

/// Generic vectors (clang/gcc vector extension): lowered to the widest registers of the target.
/// `aligned(4)`: loads and stores through these types may be unaligned.
typedef float cvq_f32x8 __attribute__((vector_size(32), aligned(4)));
typedef float cvq_f32x16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t cvq_i32x8 __attribute__((vector_size(32), aligned(4)));
typedef int32_t cvq_i32x16 __attribute__((vector_size(64), aligned(4)));

#endif
