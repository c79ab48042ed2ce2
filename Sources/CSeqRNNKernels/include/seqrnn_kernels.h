/*
 * Float32 SIMD kernels of the core: vectorised exp/sigmoid/tanh and the fused
 * per-row cell passes (forward and backward) of LSTM, GRU and tanh RNN.
 *
 * Why C: these loops must run in AVX-512 (or AVX2) on CPUs that have it
 * without building the whole library for one CPU. C lets each kernel be
 * compiled several times with __attribute__((target)) and picked at run time;
 * Swift has no per-function target attribute. The float64 engine used by the
 * gradient checks keeps the Swift loops, which these kernels must match.
 *
 * Accuracy: exp, sigmoid and tanh are within a few ulp of the correctly
 * rounded result (tested against double precision), so outputs agree with
 * PyTorch to about 1e-6 relative.
 *
 * Row kernels work on n hidden units of one sequence's row; gate blocks
 * are laid out [i|f|g|o] (LSTM) or [r|z|n] (GRU), stride elements apart
 * (the hidden size: a caller may hand a kernel a slice of the units).
 */
#ifndef SEQRNN_KERNELS_H
#define SEQRNN_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** y[k] = exp(x[k]). */
void srnn_exp(const float *x, float *y, int64_t n);
/** y[k] = 1 / (1 + exp(-x[k])). */
void srnn_sigmoid(const float *x, float *y, int64_t n);
/** y[k] = tanh(x[k]). */
void srnn_tanh(const float *x, float *y, int64_t n);

/** tanh RNN forward: h = tanh(g + r); writes h to h_next and out. */
void srnn_rnn_tanh_forward(const float *g, const float *r, float *h_next,
                           float *out, int64_t n);

/** ReLU RNN forward: h = max(g + r, 0) (NaN stays NaN). */
void srnn_rnn_relu_forward(const float *g, const float *r, float *h_next,
                           float *out, int64_t n);

/** RNN backward: dgates = (dh + dout) * f'(h) with f' = 1 - h^2 (tanh) or
 *  [h > 0] (relu), from the step's output h_next. */
void srnn_rnn_backward(const float *h_next, const float *dh, const float *dout,
                       float *dgates, int64_t n, int relu);

/** LSTM forward. g: [4n] input projections (biases folded), overwritten
 *  with the activated gates i, f, g, o; r: [4n] recurrent products;
 *  c = f * c_prev + i * g; h = o * tanh(c). */
void srnn_lstm_forward(float *g, const float *r, const float *c_prev,
                       float *c_next, float *h_next, float *out, int64_t n,
                       int64_t stride);

/** LSTM backward. gates: activated i, f, g, o; dh: carried dL/dh (read);
 *  dout: this step's dL/d(output); dc: carried dL/dc (read, then replaced
 *  by dL/dc_prev); dgates: [4n] pre-activation gradients (written). */
void srnn_lstm_backward(const float *gates, const float *c_prev,
                        const float *c_next, const float *dh, const float *dout,
                        float *dc, float *dgates, int64_t n, int64_t stride);

/** GRU forward. g: [3n] input projections (b_ih + b_hh folded for r and z,
 *  b_in only for n), overwritten with r, z, n; r: [3n] recurrent products
 *  W_h* h_prev; b_hn: [n]; hn_part (written): W_hn h_prev + b_hn;
 *  h = (1 - z) * n + z * h_prev. */
void srnn_gru_forward(float *g, const float *r, const float *b_hn,
                      const float *h_prev, float *hn_part, float *h_next,
                      float *out, int64_t n, int64_t stride);

/** GRU backward: dgates [3n] (r, z pre-activations and n pre-activation),
 *  dhn: dL/d(hn_part) [n], direct: z * (dh + dout), the part of dL/dh_prev
 *  not going through W_hh. */
void srnn_gru_backward(const float *gates, const float *h_prev,
                       const float *hn_part, const float *dh, const float *dout,
                       float *dgates, float *dhn, float *direct, int64_t n,
                       int64_t stride);

/** Softmax cross-entropy of one row of logits [n] against class target:
 *  returns the loss -log softmax(x)[target]; writes scale * (softmax - onehot)
 *  to grad when grad is not NULL; *argmax receives the arg-max. */
double srnn_softmax_cross_entropy(const float *logits, int64_t n,
                                  int32_t target, float scale, float *grad,
                                  int64_t *argmax);

/** Update rules of srnn_optimizer_update (torch.optim's SGD, Adam/AdamW,
 *  RMSprop). */
enum { SRNN_RULE_SGD = 0, SRNN_RULE_ADAM = 1, SRNN_RULE_RMSPROP = 2 };

/** One optimizer update of count elements. g is the gradient plus
 *  l2 * p when l2 > 0; p is first multiplied by decay when decays. SGD:
 *  p -= lr * g, or with momentum mu, b = (first_step ? g : mu * b + g) and
 *  p -= lr * (nesterov ? g + mu * b : b). Adam: m = beta1 m + (1-beta1) g,
 *  v = beta2 v + (1-beta2) g^2, p -= step_size * m / (sqrt(v) /
 *  root_correction2 + epsilon). RMSprop: v = alpha v + (1-alpha) g^2, then
 *  p -= lr * g / (sqrt(v) + epsilon), or with momentum b = mu b + g /
 *  (sqrt(v) + epsilon) and p -= lr * b. */
typedef struct srnn_update {
  int32_t rule;    /**< SRNN_RULE_* */
  int32_t threads; /**< team size to use (>= 1) */
  int64_t count;
  float *parameters;
  const float *gradients;
  float *first;  /**< SGD/RMSprop momentum buffer, Adam's m, else NULL */
  float *second; /**< Adam's v, RMSprop's square average, else NULL */
  float learning_rate, momentum, alpha, epsilon;
  float beta1, beta2;
  float step_size;        /**< Adam: lr / (1 - beta1^t) */
  float root_correction2; /**< Adam: sqrt(1 - beta2^t) */
  float l2;               /**< coupled L2 penalty, 0: none */
  float decay;            /**< decoupled decay factor 1 - lr * weight decay */
  int32_t decays;         /**< 1: apply decay */
  int32_t nesterov;       /**< SGD: Nesterov momentum */
  int32_t first_step;     /**< SGD: the momentum buffer starts as g */
} srnn_update;

/** Applies one update (see srnn_update); the result does not depend on
 *  the thread count. */
void srnn_optimizer_update(const srnn_update *update);

/** Biases of the input projections: for each of count rows of width
 *  floats, row[j] += a[j] + b[j] for j < folded and row[j] += a[j] after
 *  (GRU keeps b_hn out of the projection), on up to threads threads. */
void srnn_add_bias_rows(float *rows, int64_t count, int64_t width,
                        const float *a, const float *b, int64_t folded,
                        int threads);

/** A token layer's input projections from its per-token table: row
 *  s * batch + i of out (width floats) is table row tokens[i * steps + s]
 *  while s < lengths[i], and otherwise the biases alone (a[j] + b[j] for
 *  j < folded, a[j] after: a zero input row's projection). Tokens must be
 *  valid rows of table. On up to threads threads. */
void srnn_gather_token_rows(const float *table, const int32_t *tokens,
                            const int64_t *lengths, int64_t batch,
                            int64_t steps, int64_t width, const float *a,
                            const float *b, int64_t folded, float *out,
                            int threads);

/** Bias gradients: with s[j] the sum over r < rows of m[r * ld + j] (in row
 *  order), out[j] += s[j] and, when also is not NULL, also[j] += s[j], for
 *  j < columns, on up to threads threads (the result does not depend on
 *  them). LSTM and RNN layers give b_ih and b_hh the same gradient. */
void srnn_bias_gradients(const float *m, int64_t rows, int64_t columns,
                         int64_t ld, float *out, float *also, int threads);

/** The sum of x[k]^2 in double precision (a fixed grouping). */
double srnn_sum_squares(const float *x, int64_t n);

/** Index of the first infinite or NaN x[k], or -1 when all are finite. */
int64_t srnn_find_nonfinite(const float *x, int64_t n);

/** out[k] = x[k] clamped to [-limit, limit] (x may be out). */
void srnn_clamp(const float *x, int64_t n, float limit, float *out);

/** out[k] = x[k] * factor (x may be out). */
void srnn_scale(const float *x, int64_t n, float factor, float *out);

/** Softmax cross-entropy over a padded batch (srnn_sequence_cross_entropy).
 *  Rows are time-major (s * batch + i), or one per sequence; a row counts
 *  when s < lengths[i] and its weight is not 0. */
typedef struct srnn_sequence_loss {
  const float *logits;    /**< [rows][classes] */
  float *gradients;       /**< [rows][classes]: w / divisor * (softmax -
                               onehot), zero on rows that do not count; or
                               NULL */
  const int32_t *targets; /**< batch-major [batch][steps] classes, or [batch]
                               per sequence */
  const float *weights;   /**< like targets, or NULL (all 1) */
  const int64_t *lengths; /**< [batch] valid steps */
  int64_t batch, steps, classes;
  int32_t per_sequence; /**< 1: one row per sequence */
  int32_t threads;      /**< team size to use (>= 1) */
  double divisor;       /**< the mean's denominator (sum of weights) */
  double *row_losses;   /**< [rows] out: w * loss, 0 for rows that do not
                             count */
  int64_t correct;      /**< out: counted rows whose arg-max is the target */
} srnn_sequence_loss;

/** Fills row_losses, gradients and correct of job on its team. */
void srnn_sequence_cross_entropy(srnn_sequence_loss *job);

/** C = op(A) x op(B) (beta 0) or C += op(A) x op(B) (beta 1), row-major, with
 *  A and B rounded to bfloat16 and fp32 sums, on AMX tiles (bf16_gemm.c).
 *  The opt-in bf16 precision's GEMM. Returns 1 when done, 0 when it cannot
 *  run it (no usable AMX, alpha != 1, another beta, or no memory): the
 *  caller then uses srnn_sgemm. */
int srnn_gemm_bf16(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, int64_t lda, const float *b,
                   int64_t ldb, float beta, float *c, int64_t ldc);

/** A layer direction's two weight gradients as one bf16 product (dG
 *  converted once): dWx = dG^T x X and dWh = dG^T x H (beta 0), or added to
 *  them (beta 1). dG is [k][n] (row stride ldg), X [k][mx], H [k][mh]; dWx
 *  is [n][mx], dWh [n][mh]. Returns 1 when done, 0 when bf16 cannot run
 *  here (nothing written). */
int srnn_gemm_bf16_weight_gradients(int64_t k, int64_t n, const float *dg,
                                    int64_t ldg, const float *x, int64_t mx,
                                    int64_t ldx, float *dwx, int64_t ldwx,
                                    const float *h, int64_t mh, int64_t ldh,
                                    float *dwh, int64_t ldwh, float beta);

/** 1 when the bf16 precision can run here (AMX-BF16 present and granted). */
int srnn_bf16_available(void);

/** Cell codes of srnn_recurrence (the order of Swift's CellType). */
enum {
  SRNN_CELL_RNN_TANH = 0,
  SRNN_CELL_RNN_RELU = 1,
  SRNN_CELL_LSTM = 2,
  SRNN_CELL_GRU = 3
};

/** Gate blocks of a cell's weights: 4 (LSTM), 3 (GRU), 1 (RNN). */
static inline int64_t srnn_gate_count(int32_t cell) {
  return cell == SRNN_CELL_LSTM ? 4 : cell == SRNN_CELL_GRU ? 3 : 1;
}

/** How srnn_recurrence splits a step between the team's threads (see
 *  recurrence.c): AUTO chooses by size; the others are for the tests. */
enum { SRNN_SPLIT_AUTO = 0, SRNN_SPLIT_UNITS = 1, SRNN_SPLIT_ROWS = 2 };

/** One direction of one recurrent layer over all its time steps, run on up
 *  to `threads` cores (recurrence.c says how). Time-major buffers as the
 *  engine's tape lays them out: B = batch, H = hidden, G = gates, T = steps.
 *  Forward reads/writes the fields marked F, backward those marked B. */
typedef struct srnn_recurrence {
  int32_t cell;    /**< SRNN_CELL_* */
  int32_t reverse; /**< 1: the backward direction (reads slot t+1) */
  int32_t threads; /**< team size to use (>= 1) */
  int32_t bf16;    /**< 1: the products in bfloat16 on AMX (the opt-in
                        precision; ignored where AMX is not usable) */
  int32_t split;   /**< SRNN_SPLIT_*: units or sequences per thread */
  int64_t batch, hidden, steps;
  const int64_t *lengths; /**< [B] valid steps of each sequence */
  const float *weight_hh; /**< [G*H][H] row-major (PyTorch's layout) */
  float *packed;          /**< F: forward panels (NULL if size 0) */
  float *packed_backward; /**< B: srnn_recurrence_backward_packed_size floats */
  float *scratch;         /**< srnn_recurrence_scratch_size floats */
  float *product;         /**< F: [B][G*H]; B: [B][H] */
  float *gates;           /**< [T][B][G*H]: F in: projections, out: activated */
  float *states;          /**< [T+1][B][H] hidden states */
  float *cells;           /**< [T+1][B][H] LSTM cell states, else NULL */
  float *gru_hidden;      /**< [T][B][H] GRU W_hn h + b_hn, else NULL */
  const float *gru_bias;  /**< F: [H] GRU b_hn, else NULL */
  float *output;          /**< F: this direction's column of [T][B][stride] */
  int64_t output_stride;  /**< row stride of output / output_gradient */
  const float *recurrent_mask;  /**< [B][H] variational mask or NULL */
  const float *output_gradient; /**< B: like output */
  float *gate_gradients; /**< B: [T][B][G*H] pre-activation gradients out */
  float *gru_hidden_gradients; /**< B: [T][B][H] GRU, else NULL */
  float *hidden_carry;         /**< B: [B][H] dL/dh, zero on entry */
  float *cell_carry;           /**< B: [B][H] LSTM dL/dc, zero on entry */
  float *direct;               /**< B: [B][H] GRU scratch, else NULL */
} srnn_recurrence;

/** Floats of srnn_recurrence.packed for a forward pass of batch sequences
 *  and steps steps: 0 when that pass uses row dot products instead (few
 *  sequences or steps: streaming), since packing would cost more than it
 *  saves. */
int64_t srnn_recurrence_forward_packed_size(int32_t cell, int64_t hidden,
                                            int64_t batch, int64_t steps);

/** Floats of srnn_recurrence.packed_backward for a cell and hidden size. */
int64_t srnn_recurrence_backward_packed_size(int32_t cell, int64_t hidden);

/** Floats of srnn_recurrence.scratch for a batch, hidden size and team. */
int64_t srnn_recurrence_scratch_size(int64_t batch, int64_t hidden,
                                     int32_t threads);

/** The forward time loop: per step h_prev x W_hh^T and the fused cell pass;
 *  padded steps pass the state through and write zero outputs. */
void srnn_recurrence_forward(const srnn_recurrence *job);

/** The backward time loop: per step the gate gradients and the carried
 *  dL/dh_prev (and dL/dc); padded steps get zero gate gradients and keep
 *  their carries. The weight gradients are left to the caller. */
void srnn_recurrence_backward(const srnn_recurrence *job);

#ifdef __cplusplus
}
#endif

#endif
