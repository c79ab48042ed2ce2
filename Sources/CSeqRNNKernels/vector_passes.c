/*
 * Vectorised whole-buffer passes of the engine and the trainer (see
 * seqrnn_kernels.h): biases added to the input projections, a token
 * layer's projections gathered from its table, bias gradients as column
 * sums, the finite check, and the pieces of gradient clipping.
 * They run once or twice per step over large buffers, so as plain Swift
 * loops (which do not vectorise through possibly aliasing pointers) they
 * were a visible share of a step on small models.
 */
#include "kernel_clones.h"
#include "seqrnn_kernels.h"
#include "seqrnn_support.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

/* row[j] += a[j] + b[j] for j < folded, row[j] += a[j] after. */
KERNEL static void bias_row(float *restrict row, int64_t width,
                            const float *restrict a, const float *restrict b,
                            int64_t folded) {
  for (int64_t j = 0; j < folded; j++)
    row[j] += a[j] + b[j];
  for (int64_t j = folded; j < width; j++)
    row[j] += a[j];
}

typedef struct {
  float *rows;
  int64_t count, width, folded;
  const float *a, *b;
  /* Gather: row r is table row tokens[i * steps + s] (r = s * batch + i),
   * or the biases alone past the sequence's length. */
  const float *table;
  const int32_t *tokens;
  const int64_t *lengths;
  int64_t batch, steps;
} rows_job;

/* Rows are independent: each member takes a contiguous share. */
static void rows_member(void *context, int index, int count,
                        srnn_barrier *barrier) {
  (void)barrier;
  const rows_job *job = context;
  int64_t r0 = job->count * index / count,
          r1 = job->count * (index + 1) / count;
  for (int64_t r = r0; r < r1; r++) {
    float *row = job->rows + r * job->width;
    if (job->table != NULL) {
      int64_t s = r / job->batch, i = r % job->batch;
      if (s < job->lengths[i]) {
        memcpy(row, job->table + job->tokens[i * job->steps + s] * job->width,
               sizeof(float) * (size_t)job->width);
        continue;
      }
      /* Padding: a zero input row's projection, the biases alone. */
      memset(row, 0, sizeof(float) * (size_t)job->width);
    }
    bias_row(row, job->width, job->a, job->b, job->folded);
  }
}

/* Small passes are not worth waking a second thread. */
static int rows_threads(const rows_job *job, int threads) {
  return job->count * job->width < (1 << 15) ? 1 : threads;
}

void srnn_add_bias_rows(float *rows, int64_t count, int64_t width,
                        const float *a, const float *b, int64_t folded,
                        int threads) {
  rows_job job = {.rows = rows,
                  .count = count,
                  .width = width,
                  .folded = folded,
                  .a = a,
                  .b = b};
  srnn_team_run(rows_threads(&job, threads), rows_member, &job);
}

void srnn_gather_token_rows(const float *table, const int32_t *tokens,
                            const int64_t *lengths, int64_t batch,
                            int64_t steps, int64_t width, const float *a,
                            const float *b, int64_t folded, float *out,
                            int threads) {
  rows_job job = {.rows = out,
                  .count = batch * steps,
                  .width = width,
                  .folded = folded,
                  .a = a,
                  .b = b,
                  .table = table,
                  .tokens = tokens,
                  .lengths = lengths,
                  .batch = batch,
                  .steps = steps};
  srnn_team_run(rows_threads(&job, threads), rows_member, &job);
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
