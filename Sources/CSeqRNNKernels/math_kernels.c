/*
 * Vectorised float32 math and the fused cell passes (see seqrnn_kernels.h).
 *
 * Every loop body is branch-free scalar code that the compiler vectorises;
 * KERNEL compiles each exported function for AVX-512, AVX2+FMA and the
 * baseline, and the loader picks the best one for the CPU (ifunc), so the
 * library runs everywhere and uses the wide units where they exist.
 */
#include "kernel_clones.h"
#include "seqrnn_kernels.h"

#include <math.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* exp(x) after Cephes' expf: x = n ln2 + r with |r| <= ln2/2, a degree-6
 * polynomial for e^r, and 2^n put in the exponent bits. Inputs are clamped
 * to [-87.33, 88.0] so 2^n stays a normal float; outside that range exp is
 * either below 1e-38 or above 1.6e38, which the callers only ever use in
 * saturated sigmoid/tanh/softmax terms. NaN stays NaN. Within about 2 ulp. */
INLINE float exp_f(float input) {
  float x = input < -87.33f ? -87.33f : input;
  x = x > 88.0f ? 88.0f : x;
  /* Round x*log2(e) to the nearest integer: adding 1.5*2^23 pushes the
   * fraction out of the mantissa (no floor() call, so it vectorises). */
  float fn = x * 1.44269504088896341f + 12582912.0f;
  fn -= 12582912.0f;
  float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  int32_t bits = ((int32_t)fn + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  /* The clamps may become min/max instructions, which turn NaN into a
   * number; NaN must propagate so bad values are caught, not hidden. */
  return input != input ? input : p * scale;
}

INLINE float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

/* tanh: for |x| < 0.4 its odd Taylor series to x^13 (truncation below
 * 2e-9); above, 1 - 2 / (e^{2|x|} + 1) with the sign put back, where no
 * cancellation can hurt. Within about 2 ulp. */
INLINE float tanh_f(float x) {
  float ax = fabsf(x);
  float x2 = x * x;
  float poly = 21844.0f / 6081075.0f;
  poly = poly * x2 - 1382.0f / 155925.0f;
  poly = poly * x2 + 62.0f / 2835.0f;
  poly = poly * x2 - 17.0f / 315.0f;
  poly = poly * x2 + 2.0f / 15.0f;
  poly = poly * x2 - 1.0f / 3.0f;
  float small = x + x * x2 * poly;
  float big = copysignf(1.0f - 2.0f / (exp_f(2.0f * ax) + 1.0f), x);
  return ax < 0.4f ? small : big;
}

KERNEL void srnn_exp(const float *x, float *y, int64_t n) {
  for (int64_t k = 0; k < n; k++)
    y[k] = exp_f(x[k]);
}

KERNEL void srnn_sigmoid(const float *x, float *y, int64_t n) {
  for (int64_t k = 0; k < n; k++)
    y[k] = sigmoid_f(x[k]);
}

KERNEL void srnn_tanh(const float *x, float *y, int64_t n) {
  for (int64_t k = 0; k < n; k++)
    y[k] = tanh_f(x[k]);
}

KERNEL void srnn_rnn_tanh_forward(const float *g, const float *r, float *h_next,
                                  float *out, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    float h = tanh_f(g[j] + r[j]);
    h_next[j] = h;
    out[j] = h;
  }
}

KERNEL void srnn_rnn_relu_forward(const float *g, const float *r, float *h_next,
                                  float *out, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    float sum = g[j] + r[j];
    /* Written so NaN propagates (a plain max would hide it). */
    float h = sum < 0.0f ? 0.0f : sum;
    h_next[j] = h;
    out[j] = h;
  }
}

KERNEL void srnn_rnn_backward(const float *h_next, const float *dh,
                              const float *dout, float *dgates, int64_t n,
                              int relu) {
  for (int64_t j = 0; j < n; j++) {
    float total = dh[j] + dout[j];
    float h = h_next[j];
    float derivative = relu ? (h > 0.0f ? 1.0f : 0.0f) : 1.0f - h * h;
    dgates[j] = total * derivative;
  }
}

KERNEL void srnn_lstm_forward(float *g, const float *r, const float *c_prev,
                              float *c_next, float *h_next, float *out,
                              int64_t n, int64_t stride) {
  float *gi = g, *gf = g + stride, *gg = g + 2 * stride, *go = g + 3 * stride;
  const float *ri = r, *rf = r + stride, *rg = r + 2 * stride,
              *ro = r + 3 * stride;
  for (int64_t j = 0; j < n; j++) {
    float i = sigmoid_f(gi[j] + ri[j]);
    float f = sigmoid_f(gf[j] + rf[j]);
    float c = tanh_f(gg[j] + rg[j]);
    float o = sigmoid_f(go[j] + ro[j]);
    float cell = f * c_prev[j] + i * c;
    float h = o * tanh_f(cell);
    gi[j] = i;
    gf[j] = f;
    gg[j] = c;
    go[j] = o;
    c_next[j] = cell;
    h_next[j] = h;
    out[j] = h;
  }
}

KERNEL void srnn_lstm_backward(const float *gates, const float *c_prev,
                               const float *c_next, const float *dh,
                               const float *dout, float *dc, float *dgates,
                               int64_t n, int64_t stride) {
  const float *gi = gates, *gf = gates + stride, *gg = gates + 2 * stride,
              *go = gates + 3 * stride;
  float *di = dgates, *df = dgates + stride, *dg = dgates + 2 * stride,
        *dgo = dgates + 3 * stride;
  for (int64_t j = 0; j < n; j++) {
    float i = gi[j], f = gf[j], c = gg[j], o = go[j];
    float total = dh[j] + dout[j];
    float tanh_cell = tanh_f(c_next[j]);
    float dcell = dc[j] + total * o * (1.0f - tanh_cell * tanh_cell);
    di[j] = dcell * c * i * (1.0f - i);
    df[j] = dcell * c_prev[j] * f * (1.0f - f);
    dg[j] = dcell * i * (1.0f - c * c);
    dgo[j] = total * tanh_cell * o * (1.0f - o);
    dc[j] = dcell * f;
  }
}

KERNEL void srnn_gru_forward(float *g, const float *r, const float *b_hn,
                             const float *h_prev, float *hn_part, float *h_next,
                             float *out, int64_t n, int64_t stride) {
  float *gr = g, *gz = g + stride, *gn = g + 2 * stride;
  const float *rr = r, *rz = r + stride, *rn = r + 2 * stride;
  for (int64_t j = 0; j < n; j++) {
    float reset = sigmoid_f(gr[j] + rr[j]);
    float update = sigmoid_f(gz[j] + rz[j]);
    float part = rn[j] + b_hn[j];
    float candidate = tanh_f(gn[j] + reset * part);
    float h = (1.0f - update) * candidate + update * h_prev[j];
    gr[j] = reset;
    gz[j] = update;
    gn[j] = candidate;
    hn_part[j] = part;
    h_next[j] = h;
    out[j] = h;
  }
}

KERNEL void srnn_gru_backward(const float *gates, const float *h_prev,
                              const float *hn_part, const float *dh,
                              const float *dout, float *dgates, float *dhn,
                              float *direct, int64_t n, int64_t stride) {
  const float *gr = gates, *gz = gates + stride, *gn = gates + 2 * stride;
  float *dr = dgates, *dz = dgates + stride, *dn = dgates + 2 * stride;
  for (int64_t j = 0; j < n; j++) {
    float reset = gr[j], update = gz[j], candidate = gn[j];
    float total = dh[j] + dout[j];
    float dcandidate = total * (1.0f - update) * (1.0f - candidate * candidate);
    dr[j] = dcandidate * hn_part[j] * reset * (1.0f - reset);
    dz[j] = total * (h_prev[j] - candidate) * update * (1.0f - update);
    dn[j] = dcandidate;
    dhn[j] = dcandidate * reset;
    direct[j] = total * update;
  }
}

KERNEL double srnn_softmax_cross_entropy(const float *logits, int64_t n,
                                         int32_t target, float scale,
                                         float *grad, int64_t *argmax) {
  int64_t best = 0;
  for (int64_t k = 1; k < n; k++)
    best = logits[k] > logits[best] ? k : best;
  float peak = logits[best];
  /* Sum e^(x - max) in chunks through a small buffer so the exps vectorise;
   * accumulate in double for a stable loss on large vocabularies. */
  float buffer[64];
  double sum = 0;
  for (int64_t start = 0; start < n; start += 64) {
    int64_t len = n - start < 64 ? n - start : 64;
    for (int64_t k = 0; k < len; k++)
      buffer[k] = exp_f(logits[start + k] - peak);
    for (int64_t k = 0; k < len; k++)
      sum += buffer[k];
  }
  double log_sum = log(sum) + peak;
  if (grad != NULL) {
    float shift = (float)log_sum;
    for (int64_t k = 0; k < n; k++)
      grad[k] = exp_f(logits[k] - shift) * scale;
    grad[target] -= scale;
  }
  if (argmax != NULL)
    *argmax = best;
  return log_sum - logits[target];
}
