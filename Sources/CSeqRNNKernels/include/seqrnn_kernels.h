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
 * Row kernels work on one sequence's row of n = hidden units; gate blocks
 * are laid out [i|f|g|o] (LSTM) or [r|z|n] (GRU) with stride n.
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

/** LSTM forward. g: [4n] input projections (biases folded), overwritten
 *  with the activated gates i, f, g, o; r: [4n] recurrent products;
 *  c = f * c_prev + i * g; h = o * tanh(c). */
void srnn_lstm_forward(float *g, const float *r, const float *c_prev,
                       float *c_next, float *h_next, float *out, int64_t n);

/** LSTM backward. gates: activated i, f, g, o; dh: carried dL/dh (read);
 *  dout: this step's dL/d(output); dc: carried dL/dc (read, then replaced
 *  by dL/dc_prev); dgates: [4n] pre-activation gradients (written). */
void srnn_lstm_backward(const float *gates, const float *c_prev,
                        const float *c_next, const float *dh, const float *dout,
                        float *dc, float *dgates, int64_t n);

/** GRU forward. g: [3n] input projections (b_ih + b_hh folded for r and z,
 *  b_in only for n), overwritten with r, z, n; r: [3n] recurrent products
 *  W_h* h_prev; b_hn: [n]; hn_part (written): W_hn h_prev + b_hn;
 *  h = (1 - z) * n + z * h_prev. */
void srnn_gru_forward(float *g, const float *r, const float *b_hn,
                      const float *h_prev, float *hn_part, float *h_next,
                      float *out, int64_t n);

/** GRU backward: dgates [3n] (r, z pre-activations and n pre-activation),
 *  dhn: dL/d(hn_part) [n], direct: z * (dh + dout), the part of dL/dh_prev
 *  not going through W_hh. */
void srnn_gru_backward(const float *gates, const float *h_prev,
                       const float *hn_part, const float *dh, const float *dout,
                       float *dgates, float *dhn, float *direct, int64_t n);

/** Softmax cross-entropy of one row of logits [n] against class target:
 *  returns the loss -log softmax(x)[target]; writes scale * (softmax - onehot)
 *  to grad when grad is not NULL; *argmax receives the arg-max. */
double srnn_softmax_cross_entropy(const float *logits, int64_t n,
                                  int32_t target, float scale, float *grad,
                                  int64_t *argmax);

#ifdef __cplusplus
}
#endif

#endif
