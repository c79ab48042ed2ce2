/*
 * One optimizer update of a tensor (see seqrnn_kernels.h,
 * srnn_optimizer_update): torch.optim's SGD, Adam/AdamW and RMSprop rules as
 * one vectorised pass over the elements, split between the team's threads.
 *
 * Each element's update reads only that element, so the split cannot change
 * a result. Contraction into FMA is off so every CPU and every clone rounds
 * each operation as the formulas are written (the same as the float64
 * reference the tests compare with, rounded once per operation).
 */
#include "kernel_clones.h"
#include "seqrnn_kernels.h"
#include "seqrnn_support.h"

#include <math.h>

#pragma STDC FP_CONTRACT OFF

/* sqrtf may set errno, which keeps compilers from vectorising it; the
 * elementwise builtin is the plain instruction. */
#if defined(__clang__) && __has_builtin(__builtin_elementwise_sqrt)
#define SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define SQRT(x) sqrtf(x)
#endif

/* Below this many elements a second thread costs more than it saves. */
enum { PARALLEL_MIN = 1 << 15, ALIGN = 16 };

/* The gradient with the coupled L2 term, and the weight after decoupled
 * decay; the settings are copied to locals so the loops see them as
 * invariant. */
#define PENALTIES                                                              \
  const float l2 = u->l2, decay = u->decay;                                    \
  const int decays = u->decays
#define GRADIENT(i) (l2 > 0 ? g[i] + l2 * p[i] : g[i])
#define DECAYED(i) (decays ? p[i] * decay : p[i])

KERNEL static void sgd(const srnn_update *u, int64_t begin, int64_t end) {
  float *restrict p = u->parameters;
  const float *restrict g = u->gradients;
  const float lr = u->learning_rate;
  PENALTIES;
  for (int64_t i = begin; i < end; i++)
    p[i] = DECAYED(i) - lr * GRADIENT(i);
}

KERNEL static void sgd_momentum(const srnn_update *u, int64_t begin,
                                int64_t end) {
  float *restrict p = u->parameters;
  const float *restrict g = u->gradients;
  float *restrict b = u->first;
  const float lr = u->learning_rate, mu = u->momentum;
  const int first_step = u->first_step, nesterov = u->nesterov;
  PENALTIES;
  for (int64_t i = begin; i < end; i++) {
    float grad = GRADIENT(i);
    float buffer = first_step ? grad : mu * b[i] + grad;
    b[i] = buffer;
    float direction = nesterov ? grad + mu * buffer : buffer;
    p[i] = DECAYED(i) - lr * direction;
  }
}

KERNEL static void adam(const srnn_update *u, int64_t begin, int64_t end) {
  float *restrict p = u->parameters;
  const float *restrict g = u->gradients;
  float *restrict m = u->first;
  float *restrict v = u->second;
  const float b1 = u->beta1, b2 = u->beta2, eps = u->epsilon;
  const float step_size = u->step_size, root2 = u->root_correction2;
  PENALTIES;
  for (int64_t i = begin; i < end; i++) {
    float grad = GRADIENT(i);
    float first = b1 * m[i] + (1 - b1) * grad;
    float second = b2 * v[i] + (1 - b2) * grad * grad;
    m[i] = first;
    v[i] = second;
    /* As torch.optim.Adam: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps). */
    p[i] = DECAYED(i) - step_size * (first / (SQRT(second) / root2 + eps));
  }
}

KERNEL static void rmsprop(const srnn_update *u, int64_t begin, int64_t end) {
  float *restrict p = u->parameters;
  const float *restrict g = u->gradients;
  float *restrict v = u->second;
  const float lr = u->learning_rate, alpha = u->alpha, eps = u->epsilon;
  PENALTIES;
  for (int64_t i = begin; i < end; i++) {
    float grad = GRADIENT(i);
    float square = alpha * v[i] + (1 - alpha) * grad * grad;
    v[i] = square;
    p[i] = DECAYED(i) - lr * grad / (SQRT(square) + eps);
  }
}

KERNEL static void rmsprop_momentum(const srnn_update *u, int64_t begin,
                                    int64_t end) {
  float *restrict p = u->parameters;
  const float *restrict g = u->gradients;
  float *restrict b = u->first;
  float *restrict v = u->second;
  const float lr = u->learning_rate, alpha = u->alpha, eps = u->epsilon,
              mu = u->momentum;
  PENALTIES;
  for (int64_t i = begin; i < end; i++) {
    float grad = GRADIENT(i);
    float square = alpha * v[i] + (1 - alpha) * grad * grad;
    v[i] = square;
    float buffer = mu * b[i] + grad / (SQRT(square) + eps);
    b[i] = buffer;
    p[i] = DECAYED(i) - lr * buffer;
  }
}

static void update_range(const srnn_update *u, int64_t begin, int64_t end) {
  switch (u->rule) {
  case SRNN_RULE_SGD:
    if (u->momentum == 0)
      sgd(u, begin, end);
    else
      sgd_momentum(u, begin, end);
    break;
  case SRNN_RULE_ADAM:
    adam(u, begin, end);
    break;
  default:
    if (u->momentum == 0)
      rmsprop(u, begin, end);
    else
      rmsprop_momentum(u, begin, end);
    break;
  }
}

static void update_member(void *context, int index, int count,
                          srnn_barrier *barrier) {
  (void)barrier;
  const srnn_update *u = context;
  int64_t chunk = (u->count + count - 1) / count;
  chunk = (chunk + ALIGN - 1) / ALIGN * ALIGN;
  int64_t begin = index * chunk, end = begin + chunk;
  if (end > u->count)
    end = u->count;
  if (begin < end)
    update_range(u, begin, end);
}

void srnn_optimizer_update(const srnn_update *u) {
  int threads = u->count >= PARALLEL_MIN ? u->threads : 1;
  srnn_team_run(threads, update_member, (void *)u);
}
