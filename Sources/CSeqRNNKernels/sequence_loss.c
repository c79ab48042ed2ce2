/*
 * Softmax cross-entropy over a padded batch, rows split between the team's
 * threads (see seqrnn_kernels.h, srnn_sequence_cross_entropy).
 *
 * Every row is independent, and each row's weighted loss goes to its own
 * slot, so the caller sums them in a fixed order: the loss does not depend
 * on the thread count. Correct predictions are counted per member and
 * added, which is exact for integers.
 */
#include "seqrnn_kernels.h"
#include "seqrnn_support.h"

#include <stdatomic.h>
#include <string.h>

/* Rows below which one thread is faster than waking a second. */
enum { PARALLEL_MIN_CELLS = 1 << 14 };

typedef struct {
  srnn_sequence_loss *job;
  _Atomic int64_t correct;
} loss_call;

static void loss_member(void *context, int index, int count,
                        srnn_barrier *barrier) {
  (void)barrier;
  loss_call *call = context;
  srnn_sequence_loss *job = call->job;
  const int64_t b = job->batch, o = job->classes;
  const int64_t rows = job->per_sequence ? b : job->steps * b;
  const int64_t begin = rows * index / count, end = rows * (index + 1) / count;
  int64_t correct = 0;
  for (int64_t row = begin; row < end; row++) {
    /* Rows are time-major (s * B + i); targets and weights batch-major. */
    const int64_t s = job->per_sequence ? 0 : row / b;
    const int64_t i = job->per_sequence ? row : row % b;
    const int64_t target_index = job->per_sequence ? i : i * job->steps + s;
    const double w = job->weights ? (double)job->weights[target_index] : 1.0;
    float *grad = job->gradients ? job->gradients + row * o : NULL;
    if (s >= job->lengths[i] || w == 0) {
      job->row_losses[row] = 0;
      if (grad)
        memset(grad, 0, sizeof(float) * (size_t)o);
      continue;
    }
    const int32_t target = job->targets[target_index];
    int64_t best = 0;
    double loss =
        srnn_softmax_cross_entropy(job->logits + row * o, o, target,
                                   (float)(w / job->divisor), grad, &best);
    job->row_losses[row] = w * loss;
    correct += best == target;
  }
  atomic_fetch_add(&call->correct, correct);
}

void srnn_sequence_cross_entropy(srnn_sequence_loss *job) {
  loss_call call = {.job = job};
  atomic_init(&call.correct, 0);
  const int64_t rows = job->per_sequence ? job->batch : job->steps * job->batch;
  int threads = rows * job->classes >= PARALLEL_MIN_CELLS ? job->threads : 1;
  srnn_team_run(threads, loss_member, &call);
  job->correct = atomic_load(&call.correct);
}
