/*
 * test_training.c - training small models to a low loss on tasks that need
 * memory, for every cell type, with Adam, each bounded in steps and time:
 * - recall: at step t, output the token seen 3 steps earlier (token inputs,
 *   SEQUENCE output, cross-entropy); chance loss is ln(8) = 2.08;
 * - first value: output the first feature of the sequence at its end
 *   (feature inputs, LAST output, MSE, uneven lengths); predicting the mean
 *   gives 1/3.
 * The loss is measured on held-out batches the model never trained on.
 */
#include "test_util.h"

#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum { K = 3, V = 8, T = 16, BATCH = 32, HELD_OUT = 256 };

static void recall_batch(tu_rng *rng, int64_t batch, int32_t *ids,
                         int32_t *targets) {
  for (int64_t b = 0; b < batch; b++)
    for (int t = 0; t < T; t++) {
      ids[b * T + t] = tu_below(rng, V);
      targets[b * T + t] = t >= K ? ids[b * T + t - K] : 0;
    }
}

static void train_recall(int32_t cell, float lr, float clip) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.vocab_size = V;
  p.input_size = 8;
  p.hidden_size = 32;
  p.output_size = V;
  p.seed = 11;
  seqrnn_model *model = tu_make_model(&p);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.learning_rate = lr;
  tp.clip_norm = clip;
  seqrnn_trainer *trainer = NULL;
  if (!EXPECT_OK(seqrnn_trainer_create(model, &tp, &trainer))) {
    seqrnn_model_free(model);
    return;
  }
  tu_rng rng = {(uint64_t)cell + 1000};
  int32_t *hid = tu_ints(HELD_OUT * T);
  int32_t *htg = tu_ints(HELD_OUT * T);
  recall_batch(&rng, HELD_OUT, hid, htg);
  seqrnn_batch held = seqrnn_batch_init(HELD_OUT, T);
  held.tokens = hid;
  held.target_classes = htg;
  int32_t ids[BATCH * T], targets[BATCH * T];
  seqrnn_batch batch = seqrnn_batch_init(BATCH, T);
  batch.tokens = ids;
  batch.target_classes = targets;

  const double threshold = 0.1, time_limit = 30.0;
  const int max_steps = 3000;
  double start = now_seconds();
  seqrnn_evaluation ev = {NAN, NAN, 0};
  EXPECT_OK(seqrnn_model_evaluate(model, &held, &ev));
  double initial = ev.loss;
  int step = 0;
  while (step < max_steps && now_seconds() - start < time_limit) {
    recall_batch(&rng, BATCH, ids, targets);
    if (!EXPECT_OK(seqrnn_trainer_step(trainer, &batch, NULL)))
      break;
    step++;
    if (step % 50 == 0) {
      EXPECT_OK(seqrnn_model_evaluate(model, &held, &ev));
      if (ev.loss < threshold)
        break;
    }
  }
  printf("  recall k=%d %-8s: held-out loss %.3f -> %.4f, accuracy %.3f, "
         "%d steps, %.2f s\n",
         K, tu_cell_name(cell), initial, ev.loss, ev.accuracy, step,
         now_seconds() - start);
  CHECK_MSG(ev.loss < threshold,
            "%s did not learn to recall (loss %.4f after %d steps)",
            tu_cell_name(cell), ev.loss, step);
  CHECK_MSG(ev.accuracy > 0.97, "%s accuracy %.3f", tu_cell_name(cell),
            ev.accuracy);
  free(hid);
  free(htg);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

static void test_recall_rnn_tanh(void) {
  train_recall(SEQRNN_CELL_RNN_TANH, 0.01f, 1.0f);
}
static void test_recall_rnn_relu(void) {
  train_recall(SEQRNN_CELL_RNN_RELU, 0.005f, 1.0f);
}
static void test_recall_lstm(void) { train_recall(SEQRNN_CELL_LSTM, 0.01f, 0); }
static void test_recall_gru(void) { train_recall(SEQRNN_CELL_GRU, 0.01f, 0); }

enum { FT = 8, FI = 2 };

static void first_value_batch(tu_rng *rng, int64_t batch, float *x,
                              int64_t *lengths, float *targets) {
  for (int64_t b = 0; b < batch; b++) {
    lengths[b] = 4 + tu_below(rng, FT - 3); /* 4..8 */
    for (int t = 0; t < FT; t++) {
      x[(b * FT + t) * FI] = tu_uniform(rng, -1, 1);
      x[(b * FT + t) * FI + 1] = t == 0 ? 1.0f : 0.0f; /* a start marker */
    }
    targets[b] = x[b * FT * FI];
  }
}

static void train_first_value(int32_t cell) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.input_size = FI;
  p.hidden_size = 24;
  p.output_size = 1;
  p.output_mode = SEQRNN_OUTPUT_LAST;
  p.loss = SEQRNN_LOSS_MSE;
  p.seed = 5;
  seqrnn_model *model = tu_make_model(&p);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.learning_rate = 0.01f;
  tp.clip_norm = 1.0f;
  seqrnn_trainer *trainer = NULL;
  if (!EXPECT_OK(seqrnn_trainer_create(model, &tp, &trainer))) {
    seqrnn_model_free(model);
    return;
  }
  tu_rng rng = {(uint64_t)cell + 77};
  float *hx = tu_floats(HELD_OUT * FT * FI), *hy = tu_floats(HELD_OUT);
  int64_t *hl = TU_NEW(int64_t, HELD_OUT);
  first_value_batch(&rng, HELD_OUT, hx, hl, hy);
  seqrnn_batch held = seqrnn_batch_init(HELD_OUT, FT);
  held.features = hx;
  held.lengths = hl;
  held.target_values = hy;
  float x[BATCH * FT * FI], y[BATCH];
  int64_t lengths[BATCH];
  seqrnn_batch batch = seqrnn_batch_init(BATCH, FT);
  batch.features = x;
  batch.lengths = lengths;
  batch.target_values = y;

  const double threshold = 0.01, time_limit = 30.0;
  double start = now_seconds();
  seqrnn_evaluation ev = {NAN, NAN, 0};
  EXPECT_OK(seqrnn_model_evaluate(model, &held, &ev));
  double initial = ev.loss;
  int step = 0;
  while (step < 4000 && now_seconds() - start < time_limit) {
    first_value_batch(&rng, BATCH, x, lengths, y);
    if (!EXPECT_OK(seqrnn_trainer_step(trainer, &batch, NULL)))
      break;
    step++;
    if (step % 50 == 0) {
      EXPECT_OK(seqrnn_model_evaluate(model, &held, &ev));
      if (ev.loss < threshold)
        break;
    }
  }
  printf("  first value %-8s: held-out MSE %.3f -> %.4f, %d steps, %.2f s\n",
         tu_cell_name(cell), initial, ev.loss, step, now_seconds() - start);
  CHECK_MSG(ev.loss < threshold, "%s did not learn the first value (MSE %.4f)",
            tu_cell_name(cell), ev.loss);
  CHECK(ev.count == HELD_OUT);
  free(hx);
  free(hy);
  free(hl);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

static void test_first_value_lstm(void) { train_first_value(SEQRNN_CELL_LSTM); }
static void test_first_value_gru(void) { train_first_value(SEQRNN_CELL_GRU); }

int main(void) {
  TU_RUN(test_recall_rnn_tanh);
  TU_RUN(test_recall_rnn_relu);
  TU_RUN(test_recall_lstm);
  TU_RUN(test_recall_gru);
  TU_RUN(test_first_value_lstm);
  TU_RUN(test_first_value_gru);
  return tu_finish("test_training");
}
