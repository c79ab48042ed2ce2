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
  /* One BLAS thread (see below); set before loading so OpenBLAS does not
   * even start its pool. */
  int set_threads = getenv("OPENBLAS_NUM_THREADS") == NULL;
  if (set_threads)
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
  const char *name = NULL;
  void *handle = open_first_blas(&name);
  if (set_core)
    unsetenv("OPENBLAS_CORETYPE");
  if (set_threads)
    unsetenv("OPENBLAS_NUM_THREADS");
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
  /* seqrnn runs its own threads (srnn_team_run): a BLAS call handles one
   * chunk on one thread, so the BLAS's own pool never competes with them. */
  blas_set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
  if (blas_set_threads != NULL)
    blas_set_threads(1);
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
}

/* The online CPUs, read once: every forward call and large GEMM asks for
 * the budget, and sysconf reads /sys each time. */
static int online_cpus = 1;
static pthread_once_t online_once = PTHREAD_ONCE_INIT;

static void count_online_cpus(void) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  online_cpus = online > 0 ? (int)online : 1;
}

int srnn_thread_budget(void) {
  int budget = thread_budget;
  if (budget > 0)
    return budget;
  pthread_once(&online_once, count_online_cpus);
  return online_cpus;
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

static void sgemm_one_thread(int ta, int tb, int64_t m, int64_t n, int64_t k,
                             float alpha, const float *a, int64_t lda,
                             const float *b, int64_t ldb, float beta, float *c,
                             int64_t ldc) {
  if (m <= 0 || n <= 0)
    return;
  if (blas_sgemm != NULL && k > 0)
    blas_sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS,
               tb ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k, alpha,
               a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
  else
    builtin_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Large products run as two chunks, split along the longer of M and N at a
 * multiple of 16: on two threads when the budget allows, else one after the
 * other. The chunks depend on the shape only, so every element is computed
 * by the same BLAS call whatever the thread count: results do not change
 * with it. */
enum { SPLIT_FLOPS = 1 << 18, SPLIT_ALIGN = 16 };

typedef struct gemm_job {
  int ta, tb;
  int64_t m, n, k;
  float alpha, beta;
  const float *a, *b;
  float *c;
  int64_t lda, ldb, ldc;
  int split_m;
  int64_t cut;
} gemm_job;

static void gemm_chunk(const gemm_job *j, int part) {
  int64_t size = j->split_m ? j->m : j->n;
  int64_t first = part == 0 ? 0 : j->cut,
          count = part == 0 ? j->cut : size - j->cut;
  if (j->split_m) {
    const float *a = j->ta ? j->a + first : j->a + first * j->lda;
    sgemm_one_thread(j->ta, j->tb, count, j->n, j->k, j->alpha, a, j->lda, j->b,
                     j->ldb, j->beta, j->c + first * j->ldc, j->ldc);
  } else {
    const float *b = j->tb ? j->b + first * j->ldb : j->b + first;
    sgemm_one_thread(j->ta, j->tb, j->m, count, j->k, j->alpha, j->a, j->lda, b,
                     j->ldb, j->beta, j->c + first, j->ldc);
  }
}

static void gemm_member(void *context, int index, int count,
                        srnn_barrier *barrier) {
  (void)barrier;
  for (int part = index; part < 2; part += count)
    gemm_chunk(context, part);
}

void srnn_sgemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                const float *a, int64_t lda, const float *b, int64_t ldb,
                float beta, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0)
    return;
  ensure_loaded();
  int split_m = m >= n;
  int64_t size = split_m ? m : n;
  if ((double)m * (double)n * (double)k < SPLIT_FLOPS ||
      size < 2 * SPLIT_ALIGN) {
    sgemm_one_thread(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  gemm_job job = {
      ta,   tb,      m,
      n,    k,       alpha,
      beta, a,       b,
      c,    lda,     ldb,
      ldc,  split_m, (size / 2 + SPLIT_ALIGN - 1) / SPLIT_ALIGN * SPLIT_ALIGN};
  int threads = srnn_thread_budget();
  srnn_team_run(threads < 2 ? 1 : 2, gemm_member, &job);
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
