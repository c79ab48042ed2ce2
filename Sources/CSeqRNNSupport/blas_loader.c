/*
 * Run-time BLAS loading.
 *
 * Why not link OpenBLAS directly: Debian's OpenBLAS 0.3.21 misdetects recent
 * Xeons (Sapphire Rapids) and falls back to slow generic kernels (about 28
 * instead of 148 GFLOP/s per core). It picks its kernels in a constructor
 * that runs when the library is loaded, reading OPENBLAS_CORETYPE then. A
 * linked OpenBLAS is initialised before any of our code runs, so the only
 * reliable fix is to load it ourselves: detect the CPU with CPUID, set
 * OPENBLAS_CORETYPE (unless the user already set it), dlopen OpenBLAS, and
 * restore the environment. Users get the fast kernels without doing
 * anything. SEQRNN_BLAS_LIBRARY may name another CBLAS library to load.
 * With no BLAS at all, a built-in loop keeps every result correct.
 */
#define _GNU_SOURCE
#include "seqrnn_support.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *,
                         int, const float *, int, float, float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *,
                         int, const double *, int, double, double *, int);
typedef void (*set_threads_fn)(int);
typedef char *(*info_fn)(void);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static sgemm_fn blas_sgemm;
static dgemm_fn blas_dgemm;
static set_threads_fn blas_set_threads;
static char blas_description[256] = "built-in";

/* The OpenBLAS core type for this CPU, or NULL when OpenBLAS's own
 * detection is fine (no AVX-512) or the CPU cannot be queried. */
static const char *openblas_core_for_this_cpu(void) {
#if defined(__x86_64__)
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return NULL;
  int has_avx512f = (ebx >> 16) & 1;
  if (!has_avx512f)
    return NULL;
  unsigned eax1 = 0, ebx1, ecx1, edx1;
  if (eax >= 1)
    __get_cpuid_count(7, 1, &eax1, &ebx1, &ecx1, &edx1);
  int has_avx512_bf16 = (eax1 >> 5) & 1;
  return has_avx512_bf16 ? "Cooperlake" : "SkylakeX";
#else
  return NULL;
#endif
}

static void *open_first_blas(const char **loaded_name) {
  const char *override = getenv("SEQRNN_BLAS_LIBRARY");
  if (override != NULL && override[0] != '\0') {
    *loaded_name = override;
    return dlopen(override, RTLD_NOW | RTLD_LOCAL);
  }
  static const char *candidates[] = {
#ifdef __APPLE__
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
#endif
      "libopenblas.so.0",
      "libopenblas.so",
      "libopenblas.dylib",
      "libblis.so.4",
      "libblas.so.3",
      NULL};
  for (const char **name = candidates; *name != NULL; name++) {
    void *handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
    if (handle != NULL) {
      *loaded_name = *name;
      return handle;
    }
  }
  return NULL;
}

static void load_blas(void) {
  const char *core = openblas_core_for_this_cpu();
  int set_core = core != NULL && getenv("OPENBLAS_CORETYPE") == NULL;
  if (set_core)
    setenv("OPENBLAS_CORETYPE", core, 0);
  const char *name = NULL;
  void *handle = open_first_blas(&name);
  if (set_core)
    unsetenv("OPENBLAS_CORETYPE");
  if (handle == NULL)
    return;
  sgemm_fn s = (sgemm_fn)dlsym(handle, "cblas_sgemm");
  dgemm_fn d = (dgemm_fn)dlsym(handle, "cblas_dgemm");
  if (s == NULL || d == NULL) {
    dlclose(handle);
    return;
  }
  blas_sgemm = s;
  blas_dgemm = d;
  blas_set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
  info_fn config = (info_fn)dlsym(handle, "openblas_get_config");
  info_fn corename = (info_fn)dlsym(handle, "openblas_get_corename");
  if (config != NULL && corename != NULL)
    snprintf(blas_description, sizeof blas_description, "%s (%s) from %s",
             config(), corename(), name);
  else
    snprintf(blas_description, sizeof blas_description, "CBLAS from %s", name);
}

static void ensure_loaded(void) { pthread_once(&load_once, load_blas); }

const char *srnn_blas_info(void) {
  ensure_loaded();
  return blas_description;
}

/* 0 until set: then the number of online CPUs is the budget. */
static _Atomic int thread_budget;

void srnn_blas_set_threads(int threads) {
  ensure_loaded();
  if (threads <= 0)
    return;
  thread_budget = threads;
  if (blas_set_threads != NULL)
    blas_set_threads(threads);
}

int srnn_thread_budget(void) {
  int budget = thread_budget;
  if (budget > 0)
    return budget;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int)online : 1;
}

/* The built-in fallback: plain loops, ordered so the inner loop runs over
 * contiguous memory and vectorises. Correct for every shape; slow. */
#define BUILTIN_GEMM(NAME, T)                                                  \
  static void NAME(int ta, int tb, int64_t m, int64_t n, int64_t k, T alpha,   \
                   const T *a, int64_t lda, const T *b, int64_t ldb, T beta,   \
                   T *c, int64_t ldc) {                                        \
    for (int64_t i = 0; i < m; i++) {                                          \
      T *crow = c + i * ldc;                                                   \
      for (int64_t j = 0; j < n; j++)                                          \
        crow[j] = beta == 0 ? 0 : beta * crow[j];                              \
      for (int64_t p = 0; p < k; p++) {                                        \
        T av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);                 \
        if (av == 0)                                                           \
          continue;                                                            \
        if (!tb) {                                                             \
          const T *brow = b + p * ldb;                                         \
          for (int64_t j = 0; j < n; j++)                                      \
            crow[j] += av * brow[j];                                           \
        } else {                                                               \
          for (int64_t j = 0; j < n; j++)                                      \
            crow[j] += av * b[j * ldb + p];                                    \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }

BUILTIN_GEMM(builtin_sgemm, float)
BUILTIN_GEMM(builtin_dgemm, double)

void srnn_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                const float *a, int64_t lda, const float *b, int64_t ldb,
                float beta, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0)
    return;
  ensure_loaded();
  if (blas_sgemm != NULL && k > 0)
    blas_sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS,
               tb ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k, alpha,
               a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
  else
    builtin_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void srnn_dgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha,
                const double *a, int64_t lda, const double *b, int64_t ldb,
                double beta, double *c, int64_t ldc) {
  if (m <= 0 || n <= 0)
    return;
  ensure_loaded();
  if (blas_dgemm != NULL && k > 0)
    blas_dgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS,
               tb ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k, alpha,
               a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
  else
    builtin_dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
