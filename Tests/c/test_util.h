/*
 * test_util.h - a tiny assertion and data helper shared by the C tests.
 *
 * The tests use libseqrnn through include/seqrnn.h only, as a user would.
 * Every check that fails prints its file, line and expression (plus the
 * library's last error message for status checks) and marks the test program
 * as failed; the program keeps going so that one run shows every failure.
 * tu_finish() prints "<program>: N checks passed, M failed" and returns the
 * exit code.
 */
#ifndef SEQRNN_TEST_UTIL_H
#define SEQRNN_TEST_UTIL_H

#include "seqrnn.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long tu_passed;
static long tu_failed;
static const char *tu_current = "";

static inline void tu_fail_header(const char *file, int line) {
  tu_failed++;
  fprintf(stderr, "FAIL %s:%d [%s] ", file, line, tu_current);
}

/* CHECK(cond): a plain boolean check. */
#define CHECK(cond) tu_check((cond) != 0, __FILE__, __LINE__, #cond)
static inline int tu_check(int ok, const char *file, int line,
                           const char *text) {
  if (ok) {
    tu_passed++;
    return 1;
  }
  tu_fail_header(file, line);
  fprintf(stderr, "%s\n", text);
  return 0;
}

/* CHECK_MSG(cond, fmt, ...): a boolean check with a formatted explanation. */
#define CHECK_MSG(cond, ...)                                                   \
  (tu_check_quiet((cond) != 0)                                                 \
       ? 1                                                                     \
       : (tu_fail_header(__FILE__, __LINE__), fprintf(stderr, __VA_ARGS__),    \
          fputc('\n', stderr), 0))
static inline int tu_check_quiet(int ok) {
  if (ok)
    tu_passed++;
  return ok;
}

/* EXPECT_STATUS(expected, call): the call returns the expected status; a
 * failing status must come with a non-empty seqrnn_last_error(). */
#define EXPECT_STATUS(expected, call)                                          \
  tu_expect_status((expected), (call), __FILE__, __LINE__, #call)
#define EXPECT_OK(call) EXPECT_STATUS(SEQRNN_OK, call)
static inline int tu_expect_status(seqrnn_status expected, seqrnn_status got,
                                   const char *file, int line,
                                   const char *text) {
  if (got != expected) {
    tu_fail_header(file, line);
    fprintf(stderr, "%s\n    expected %d (%s), got %d (%s); last error: %s\n",
            text, (int)expected, seqrnn_status_string(expected), (int)got,
            seqrnn_status_string(got), seqrnn_last_error());
    return 0;
  }
  if (expected != SEQRNN_OK) {
    const char *message = seqrnn_last_error();
    if (message == NULL || message[0] == '\0') {
      tu_fail_header(file, line);
      fprintf(stderr,
              "%s\n    failed as expected but seqrnn_last_error() "
              "is empty\n",
              text);
      return 0;
    }
  }
  tu_passed++;
  return 1;
}

/* Relative closeness with a small absolute floor for values near zero. */
static inline int tu_close(double a, double b, double rtol, double atol) {
  if (isnan(a) || isnan(b))
    return 0;
  double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  return fabs(a - b) <= rtol * scale + atol;
}

/* CHECK_CLOSE_ARRAYS(a, b, n, rtol, atol): element-wise closeness; reports
 * the first and the worst differing element. */
#define CHECK_CLOSE_ARRAYS(a, b, n, rtol, atol)                                \
  tu_check_close_arrays((a), (b), (n), (rtol), (atol), __FILE__, __LINE__,     \
                        #a " ~ " #b)
static inline int tu_check_close_arrays(const float *a, const float *b,
                                        int64_t n, double rtol, double atol,
                                        const char *file, int line,
                                        const char *text) {
  int64_t bad = 0, first = -1, worst = -1;
  double worst_err = -1;
  for (int64_t i = 0; i < n; i++) {
    if (!tu_close(a[i], b[i], rtol, atol)) {
      bad++;
      if (first < 0)
        first = i;
      double err = fabs((double)a[i] - (double)b[i]);
      if (isnan(err) || err > worst_err) {
        worst_err = isnan(err) ? INFINITY : err;
        worst = i;
      }
    }
  }
  if (bad == 0) {
    tu_passed++;
    return 1;
  }
  tu_fail_header(file, line);
  fprintf(stderr,
          "%s: %lld of %lld elements differ (rtol %g, atol %g); first [%lld] "
          "%.9g vs %.9g; worst [%lld] %.9g vs %.9g\n",
          text, (long long)bad, (long long)n, rtol, atol, (long long)first,
          a[first], b[first], (long long)worst, a[worst], b[worst]);
  return 0;
}

/* Exact equality of float arrays (bitwise, so NaN payloads and -0 count). */
static inline int tu_same_floats(const float *a, const float *b, int64_t n) {
  return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

/* Runs one test function with its name shown in failure messages. */
#define TU_RUN(fn)                                                             \
  do {                                                                         \
    long failed_before = tu_failed;                                            \
    tu_current = #fn;                                                          \
    fn();                                                                      \
    printf("%s %s\n", tu_failed == failed_before ? "ok  " : "FAIL", #fn);      \
    fflush(stdout);                                                            \
    tu_current = "";                                                           \
  } while (0)

static inline int tu_finish(const char *program) {
  printf("%s: %ld checks passed, %ld failed\n", program, tu_passed, tu_failed);
  return tu_failed == 0 ? 0 : 1;
}

/* ---- deterministic pseudo-random data (splitmix64) ---------------------- */

typedef struct tu_rng {
  uint64_t state;
} tu_rng;

static inline uint64_t tu_next(tu_rng *rng) {
  uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static inline float tu_uniform(tu_rng *rng, float lo, float hi) {
  double u = (double)(tu_next(rng) >> 11) * (1.0 / 9007199254740992.0);
  return (float)(lo + (hi - lo) * u);
}

/* Uniform integer in [0, n). */
static inline int32_t tu_below(tu_rng *rng, int64_t n) {
  return (int32_t)(tu_next(rng) % (uint64_t)n);
}

static inline void tu_fill(tu_rng *rng, float *x, int64_t n, float lo,
                           float hi) {
  for (int64_t i = 0; i < n; i++)
    x[i] = tu_uniform(rng, lo, hi);
}

static inline void tu_fill_tokens(tu_rng *rng, int32_t *x, int64_t n,
                                  int64_t vocab) {
  for (int64_t i = 0; i < n; i++)
    x[i] = tu_below(rng, vocab);
}

/* malloc that never returns NULL (tests abort on exhaustion). */
static inline void *tu_alloc(size_t bytes) {
  void *p = calloc(bytes > 0 ? bytes : 1, 1);
  if (p == NULL) {
    fprintf(stderr, "out of memory allocating %zu bytes\n", bytes);
    exit(2);
  }
  return p;
}
#define TU_NEW(type, count) ((type *)tu_alloc(sizeof(type) * (size_t)(count)))
static inline float *tu_floats(int64_t n) {
  return (float *)tu_alloc(sizeof(float) * (size_t)n);
}
static inline double *tu_doubles(int64_t n) {
  return (double *)tu_alloc(sizeof(double) * (size_t)n);
}
static inline int32_t *tu_ints(int64_t n) {
  return (int32_t *)tu_alloc(sizeof(int32_t) * (size_t)n);
}

/* ---- model helpers --------------------------------------------------------
 */

static inline const char *tu_cell_name(int32_t cell) {
  switch (cell) {
  case SEQRNN_CELL_RNN_TANH:
    return "rnn_tanh";
  case SEQRNN_CELL_RNN_RELU:
    return "rnn_relu";
  case SEQRNN_CELL_LSTM:
    return "lstm";
  case SEQRNN_CELL_GRU:
    return "gru";
  default:
    return "?";
  }
}

static const int32_t tu_all_cells[4] = {SEQRNN_CELL_RNN_TANH,
                                        SEQRNN_CELL_RNN_RELU, SEQRNN_CELL_LSTM,
                                        SEQRNN_CELL_GRU};

/* Creates a model or aborts the program (for set-up, not for what a test
 * checks). */
static inline seqrnn_model *tu_make_model(const seqrnn_model_params *params) {
  seqrnn_model *model = NULL;
  seqrnn_status status = seqrnn_model_create(params, &model);
  if (status != SEQRNN_OK || model == NULL) {
    fprintf(stderr, "set-up: seqrnn_model_create failed: %s: %s\n",
            seqrnn_status_string(status), seqrnn_last_error());
    exit(2);
  }
  return model;
}

/* Reads every tensor of a model into one newly allocated array (in the
 * iteration order); *out_total receives its length. NULL on failure. */
static inline float *tu_snapshot(const seqrnn_model *model,
                                 int64_t *out_total) {
  int64_t count = 0, total = 0;
  if (seqrnn_model_tensor_count(model, &count) != SEQRNN_OK)
    return NULL;
  for (int64_t i = 0; i < count; i++) {
    seqrnn_tensor_info info;
    if (seqrnn_model_tensor_info(model, i, &info) != SEQRNN_OK)
      return NULL;
    total += info.count;
  }
  float *all = tu_floats(total);
  int64_t offset = 0;
  for (int64_t i = 0; i < count; i++) {
    seqrnn_tensor_info info;
    seqrnn_model_tensor_info(model, i, &info);
    if (seqrnn_model_get_tensor(model, info.name, all + offset, info.count) !=
        SEQRNN_OK) {
      free(all);
      return NULL;
    }
    offset += info.count;
  }
  *out_total = total;
  return all;
}

/* Whether two models have bitwise identical tensors. */
static inline int tu_same_weights(const seqrnn_model *a,
                                  const seqrnn_model *b) {
  int64_t na = 0, nb = 0;
  float *wa = tu_snapshot(a, &na), *wb = tu_snapshot(b, &nb);
  int same = wa != NULL && wb != NULL && na == nb && tu_same_floats(wa, wb, na);
  free(wa);
  free(wb);
  return same;
}

#endif /* SEQRNN_TEST_UTIL_H */
