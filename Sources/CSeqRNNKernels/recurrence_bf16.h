/*
 * The recurrence's per-step products in bfloat16 on AMX (private to
 * CSeqRNNKernels; recurrence.c calls these when a job asks for bf16).
 *
 * Forward: h_prev x W_hh^T with h_prev rounded to bf16. Backward:
 * dG x W_hh with the gate gradients rounded to bf16. Sums are fp32 either
 * way. Each member rounds the values of its own units into a shared bf16
 * copy of the step's left operand; the step's barrier then publishes it.
 * The copies alternate between two buffers by step parity, so a member
 * that runs ahead never overwrites what a slower one is still reading.
 *
 * Split by sequences, a member's rows need not start on a multiple of 16
 * (an even split balances the cell passes), but its tile loads read whole
 * 16-row tiles. So sequence b lives in row slot(r0) + (b - r0) of the copy,
 * where slot(r0) rounds the member's first sequence up to a multiple of 16:
 * each member's tiles then cover only its own rows and zero padding, never
 * rows another member is writing.
 */
#ifndef SEQRNN_RECURRENCE_BF16_H
#define SEQRNN_RECURRENCE_BF16_H

#include "seqrnn_kernels.h"

#include <stdint.h>

/** The bf16 state of one forward or backward call. */
typedef struct srnn_bf16_recurrence {
  uint16_t *panels;    /**< W_hh packed for this direction of the pass */
  uint16_t *left[2];   /**< [round_up(B, 16) + 16][lda] bf16, by parity */
  int64_t lda;         /**< round_up(k, 32) */
  int64_t kblocks;     /**< lda / 32 */
  int64_t unit_groups; /**< round_up(H, 16) / 16 */
} srnn_bf16_recurrence;

/** Sets up a call (in the calling thread, before the team runs): 1 when
 *  the bf16 path runs, 0 when the job falls back to fp32 (no AMX, or no
 *  memory). */
int srnn_bf16_recurrence_begin(const srnn_recurrence *job, int backward,
                               srnn_bf16_recurrence *state);

/** Packs the member's units [begin, end) of W_hh (forward: W_g^T for every
 *  gate g; backward: the columns of W_hh). */
void srnn_bf16_recurrence_pack(const srnn_recurrence *job, int backward,
                               const srnn_bf16_recurrence *state, int64_t begin,
                               int64_t end);

/** Rounds units [u0, u1) of sequences [r0, r1) of rows [B][stride] (times
 *  the recurrent mask, also [B][stride], when given) into left[parity] at
 *  columns offset + [u0, u1), rows from slot(r0) (see above). Writes
 *  nothing else: members share the rows. [r0, r1) must be the range the
 *  products are then run for. */
void srnn_bf16_recurrence_store(const srnn_bf16_recurrence *state, int parity,
                                const float *rows, int64_t stride,
                                const float *mask, int64_t r0, int64_t r1,
                                int64_t offset, int64_t u0, int64_t u1);

/** The forward product of units [u0, u1) for every gate, sequences
 *  [r0, r1): product[b][g*H + u] = sum_k left[parity][b][k] W[g*H + u][k]. */
void srnn_bf16_recurrence_forward(const srnn_recurrence *job,
                                  const srnn_bf16_recurrence *state, int parity,
                                  int64_t u0, int64_t u1, int64_t r0,
                                  int64_t r1);

/** The backward product of units [u0, u1), sequences [r0, r1):
 *  product[b][u] = sum_n left[parity][b][n] W[n][u]. */
void srnn_bf16_recurrence_backward(const srnn_recurrence *job,
                                   const srnn_bf16_recurrence *state,
                                   int parity, int64_t u0, int64_t u1,
                                   int64_t r0, int64_t r1);

#endif
