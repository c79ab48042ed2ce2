/*
 * KERNEL: compile a plain C loop for AVX-512, AVX2+FMA and the baseline, and
 * let the loader pick the best for the CPU (ifunc). The library then runs
 * everywhere and still uses the wide units where they exist.
 */
#ifndef SEQRNN_KERNEL_CLONES_H
#define SEQRNN_KERNEL_CLONES_H

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define KERNEL                                                                 \
  __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define KERNEL
#endif

#endif
