#ifndef CFUZZ_DRIVER_H
#define CFUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that keep their own `main` (LLVM >= 13). Linked in by
/// `-sanitize=fuzzer`; the harnesses call it from Swift's `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
