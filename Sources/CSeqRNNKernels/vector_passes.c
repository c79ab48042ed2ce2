/*
 * Vectorised whole-buffer passes of the engine and the trainer (see
 * seqrnn_kernels.h): biases added to the input projections, bias gradients
 * as column sums, the finite check, and the pieces of gradient clipping.
 * They run once or twice per step over large buffers, so as plain Swift
 * loops (which do not vectorise through possibly aliasing pointers) they
 * were a visible share of a step on small models.
 */
#include "kernel_clones.h"
#include "seqrnn_kernels.h"
#include "seqrnn_support.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

KERNEL void srnn_add_bias_rows(float *restrict rows, int64_t count,
                               int64_t width, const float *restrict a,
                               const float *restrict b, int64_t folded) {
  for (int64_t r = 0; r < count; r++) {
    float *restrict row = rows + r * width;
    for (int64_t j = 0; j < folded; j++)
      row[j] += a[j] + b[j];
    for (int64_t j = folded; j < width; j++)
      row[j] += a[j];
  }
}

enum { BLOCK = 256 };

/* sums[j] = the sum over rows of m[r * ld + j], j < columns <= BLOCK, row by
 * row so each column is summed in row order while the columns fill the
 * vector lanes. */
KERNEL static void column_sums(const float *restrict m, int64_t rows,
                               int64_t columns, int64_t ld,
                               float *restrict sums) {
  for (int64_t j = 0; j < columns; j++)
    sums[j] = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict row = m + r * ld;
    for (int64_t j = 0; j < columns; j++)
      sums[j] += row[j];
  }
}

typedef struct {
  const float *m;
  int64_t rows, columns, ld;
  float *out, *also;
} bias_job;

/* Each member owns whole columns (so the split cannot change a sum) and
 * walks them in blocks that stay in L1 while every row streams by. */
static void bias_member(void *context, int index, int count,
                        srnn_barrier *barrier) {
  (void)barrier;
  const bias_job *job = context;
  int64_t share = (job->columns + count - 1) / count;
  share = (share + 15) / 16 * 16;
  int64_t begin = index * share,
          end = begin + share < job->columns ? begin + share : job->columns;
  float sums[BLOCK];
  for (int64_t c0 = begin; c0 < end; c0 += BLOCK) {
    int64_t width = end - c0 < BLOCK ? end - c0 : BLOCK;
    column_sums(job->m + c0, job->rows, width, job->ld, sums);
    for (int64_t j = 0; j < width; j++)
      job->out[c0 + j] += sums[j];
    if (job->also)
      for (int64_t j = 0; j < width; j++)
        job->also[c0 + j] += sums[j];
  }
}

void srnn_bias_gradients(const float *m, int64_t rows, int64_t columns,
                         int64_t ld, float *out, float *also, int threads) {
  bias_job job = {m, rows, columns, ld, out, also};
  /* Small sums are not worth waking a second thread. */
  if (columns < 64 || rows * columns < (1 << 16))
    threads = 1;
  srnn_team_run(threads, bias_member, &job);
}

enum { PARTIALS = 8 };

KERNEL double srnn_sum_squares(const float *restrict x, int64_t n) {
  /* Eight independent double sums the compiler keeps in vector lanes; a
   * fixed grouping, so the result does not depend on the CPU. */
  double partial[PARTIALS] = {0};
  int64_t k = 0;
  for (; k + PARTIALS <= n; k += PARTIALS)
    for (int j = 0; j < PARTIALS; j++)
      partial[j] += (double)x[k + j] * (double)x[k + j];
  double total = 0;
  for (; k < n; k++)
    total += (double)x[k] * (double)x[k];
  for (int j = 0; j < PARTIALS; j++)
    total += partial[j];
  return total;
}

KERNEL static int any_nonfinite(const float *restrict x, int64_t n) {
  /* A float is inf or NaN exactly when its exponent bits are all ones; an
   * integer OR over that test vectorises where an early exit would not. */
  const uint32_t exponent = 0x7f800000u;
  uint32_t found = 0;
  for (int64_t k = 0; k < n; k++) {
    uint32_t bits;
    memcpy(&bits, &x[k], sizeof bits);
    found |= (bits & exponent) == exponent;
  }
  return found != 0;
}

int64_t srnn_find_nonfinite(const float *x, int64_t n) {
  if (!any_nonfinite(x, n))
    return -1;
  for (int64_t k = 0; k < n; k++) {
    uint32_t bits;
    memcpy(&bits, &x[k], sizeof bits);
    if ((bits & 0x7f800000u) == 0x7f800000u)
      return k;
  }
  return -1;
}

/* x may be out (in place): each element is read before it is written. */
KERNEL void srnn_clamp(const float *x, int64_t n, float limit, float *out) {
  for (int64_t k = 0; k < n; k++) {
    float v = x[k] < -limit ? -limit : x[k];
    out[k] = v > limit ? limit : v;
  }
}

KERNEL void srnn_scale(const float *x, int64_t n, float factor, float *out) {
  for (int64_t k = 0; k < n; k++)
    out[k] = x[k] * factor;
}
