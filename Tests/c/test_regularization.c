/* Dropout, zoneout, loss weights, stateful (truncated BPTT) training and
 * the initialisers, through the public header only. */
#include "seqrnn.h"
#include "test_util.h"

#include <math.h>
#include <stdlib.h>

enum { B = 2, K = 4, V = 6, H = 5 };

static seqrnn_model *token_model(int32_t cell, float dropout, float zoneout) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.vocab_size = V;
  p.hidden_size = H;
  p.num_layers = 2;
  p.output_size = V;
  p.seed = 11;
  p.dropout = dropout;
  p.recurrent_dropout = dropout;
  p.head_dropout = dropout;
  p.zoneout = zoneout;
  seqrnn_model *model = NULL;
  if (seqrnn_model_create(&p, &model) != SEQRNN_OK) {
    fprintf(stderr, "set-up: %s\n", seqrnn_last_error());
    exit(2);
  }
  return model;
}

static void test_params(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  CHECK(p.dropout == 0 && p.head_dropout == 0 && p.recurrent_dropout == 0);
  CHECK(p.zoneout == 0 && p.init == SEQRNN_INIT_PYTORCH &&
        p.forget_bias_one == 0);
  p.input_size = 3;
  seqrnn_model *model = NULL;
  float bad_rates[] = {-0.1f, 1.0f, NAN};
  for (int i = 0; i < 3; i++) {
    seqrnn_model_params q = p;
    q.dropout = bad_rates[i];
    EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_model_create(&q, &model));
    CHECK(model == NULL);
    q = p;
    q.zoneout = bad_rates[i];
    EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_model_create(&q, &model));
  }
  seqrnn_model_params q = p;
  q.init = 3;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_model_create(&q, &model));
  q = p;
  q.forget_bias_one = 2;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_model_create(&q, &model));

  /* The settings survive a save and load. */
  q = p;
  q.dropout = 0.25f;
  q.zoneout = 0.125f;
  q.init = SEQRNN_INIT_ORTHOGONAL;
  q.forget_bias_one = 1;
  q.cell = SEQRNN_CELL_LSTM;
  EXPECT_OK(seqrnn_model_create(&q, &model));
  const char *path = "test_regularization_model.safetensors";
  EXPECT_OK(seqrnn_model_save(model, path));
  seqrnn_model *loaded = NULL;
  EXPECT_OK(seqrnn_model_load(path, &loaded));
  seqrnn_model_params got;
  EXPECT_OK(seqrnn_model_get_params(loaded, &got));
  CHECK(got.dropout == 0.25f && got.zoneout == 0.125f);
  CHECK(got.init == SEQRNN_INIT_ORTHOGONAL && got.forget_bias_one == 1);
  remove(path);
  seqrnn_model_free(loaded);
  seqrnn_model_free(model);
}

/* Inference ignores dropout: the same weights give the same outputs. */
static void test_inference_ignores_dropout(void) {
  seqrnn_model *plain = token_model(SEQRNN_CELL_GRU, 0, 0);
  seqrnn_model *dropped = token_model(SEQRNN_CELL_GRU, 0.5f, 0);
  int32_t tokens[B * K] = {1, 2, 3, 4, 5, 0, 1, 2};
  seqrnn_batch b = seqrnn_batch_init(B, K);
  b.tokens = tokens;
  float a[B * K * V], c[B * K * V];
  EXPECT_OK(seqrnn_model_forward(plain, &b, a, B * K * V, NULL, NULL, 0, NULL));
  EXPECT_OK(
      seqrnn_model_forward(dropped, &b, c, B * K * V, NULL, NULL, 0, NULL));
  int same = 1;
  for (int i = 0; i < B * K * V; i++)
    same &= a[i] == c[i];
  CHECK(same);
  seqrnn_model_free(plain);
  seqrnn_model_free(dropped);
}

/* Weights after a few dropout/zoneout steps depend only on the seeds. */
static void train_weights(uint64_t seed, float *out, int64_t count) {
  seqrnn_model *model = token_model(SEQRNN_CELL_LSTM, 0.3f, 0.2f);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.seed = seed;
  tp.learning_rate = 0.01f;
  seqrnn_trainer *trainer = NULL;
  EXPECT_OK(seqrnn_trainer_create(model, &tp, &trainer));
  int32_t tokens[B * K] = {1, 2, 3, 4, 5, 0, 1, 2};
  int32_t targets[B * K] = {2, 3, 4, 5, 0, 1, 2, 3};
  seqrnn_batch b = seqrnn_batch_init(B, K);
  b.tokens = tokens;
  b.target_classes = targets;
  for (int i = 0; i < 4; i++)
    EXPECT_OK(seqrnn_trainer_step(trainer, &b, NULL));
  EXPECT_OK(seqrnn_model_get_tensor(model, "rnn.weight_hh_l1", out, count));
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

static void test_dropout_determinism(void) {
  enum { N = 4 * H * H };
  float a[N], b[N], c[N];
  train_weights(1, a, N);
  train_weights(1, b, N);
  train_weights(2, c, N);
  int same = 1, differs = 0;
  for (int i = 0; i < N; i++) {
    same &= a[i] == b[i];
    differs |= a[i] != c[i];
  }
  CHECK_MSG(same, "same seeds gave different weights");
  CHECK_MSG(differs, "different mask seeds gave identical weights");
}

/* The weighted loss is sum(w * loss) / sum(w) of the positions' losses. */
static void test_loss_weights(void) {
  seqrnn_model *model = token_model(SEQRNN_CELL_RNN_TANH, 0, 0);
  int32_t tokens[B * K] = {1, 2, 3, 4, 5, 0, 1, 2};
  int32_t targets[B * K] = {2, 3, 4, 5, 0, 1, 2, 3};
  float weights[B * K] = {1, 0, 2, 0.5f, 3, 1, 0, 1};
  seqrnn_batch b = seqrnn_batch_init(B, K);
  b.tokens = tokens;
  b.target_classes = targets;
  float logits[B * K * V];
  EXPECT_OK(
      seqrnn_model_forward(model, &b, logits, B * K * V, NULL, NULL, 0, NULL));
  double total = 0, weight_sum = 0;
  for (int p = 0; p < B * K; p++) {
    const float *z = logits + p * V;
    double peak = z[0], sum = 0;
    for (int k = 1; k < V; k++)
      peak = z[k] > peak ? z[k] : peak;
    for (int k = 0; k < V; k++)
      sum += exp(z[k] - peak);
    total += weights[p] * (log(sum) + peak - z[targets[p]]);
    weight_sum += weights[p];
  }
  b.loss_weights = weights;
  seqrnn_evaluation ev;
  EXPECT_OK(seqrnn_model_evaluate(model, &b, &ev));
  CHECK_MSG(fabs(ev.loss - total / weight_sum) < 1e-5, "loss %g expected %g",
            ev.loss, total / weight_sum);
  CHECK(ev.count == 6);
  weights[3] = -1;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_evaluate(model, &b, &ev));
  float zeros[B * K] = {0};
  b.loss_weights = zeros;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_evaluate(model, &b, &ev));
  seqrnn_model_free(model);
}

/* Stateful training carries the final states into the next step: after
 * two chunks, the carried states equal a full forward over both. */
static void test_stateful(void) {
  seqrnn_model *model = token_model(SEQRNN_CELL_LSTM, 0, 0);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.stateful = 1;
  seqrnn_trainer *trainer = NULL;
  EXPECT_OK(seqrnn_trainer_create(model, &tp, &trainer));
  enum { S = 2 * B * H }; /* layers x batch x hidden */
  float h[S], c[S];
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_trainer_get_state(trainer, h, c, S));
  int32_t all[B * 2 * K] = {1, 2, 3, 4, 5, 0, 1, 2, 3, 3, 2, 1, 0, 5, 4, 4};
  int32_t chunk[2][B * K];
  for (int part = 0; part < 2; part++)
    for (int i = 0; i < B; i++)
      for (int s = 0; s < K; s++)
        chunk[part][i * K + s] = all[i * 2 * K + part * K + s];
  for (int part = 0; part < 2; part++) {
    seqrnn_batch b = seqrnn_batch_init(B, K);
    b.tokens = chunk[part];
    b.target_classes = chunk[part];
    EXPECT_OK(seqrnn_trainer_compute_gradients(trainer, &b, NULL));
  }
  EXPECT_OK(seqrnn_trainer_get_state(trainer, h, c, S));
  float full_h[S], full_c[S], out[B * 2 * K * V];
  seqrnn_batch whole = seqrnn_batch_init(B, 2 * K);
  whole.tokens = all;
  EXPECT_OK(seqrnn_model_forward(model, &whole, out, B * 2 * K * V, full_h,
                                 full_c, S, NULL));
  double worst = 0;
  for (int i = 0; i < S; i++) {
    worst = fmax(worst, fabs(h[i] - full_h[i]));
    worst = fmax(worst, fabs(c[i] - full_c[i]));
  }
  CHECK_MSG(worst < 1e-5, "carried state differs from the full forward by %g",
            worst);
  /* Reset sequence 1 only, then all. */
  uint8_t reset[B] = {0, 1};
  EXPECT_OK(seqrnn_trainer_reset_state(trainer, reset, B));
  EXPECT_OK(seqrnn_trainer_get_state(trainer, h, c, S));
  CHECK(h[0] == full_h[0] && h[H] == 0 && c[H + 1] == 0);
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_trainer_reset_state(trainer, reset, 3));
  EXPECT_OK(seqrnn_trainer_reset_state(trainer, NULL, 0));
  EXPECT_OK(seqrnn_trainer_get_state(trainer, h, NULL, S));
  CHECK(h[0] == 0);
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_trainer_get_state(trainer, h, c, S - 1));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_get_state(trainer, NULL, c, S));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_reset_state(NULL, NULL, 0));
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

static void test_initialisers(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_LSTM;
  p.input_size = 3;
  p.hidden_size = H;
  p.init = SEQRNN_INIT_ORTHOGONAL;
  p.forget_bias_one = 1;
  seqrnn_model *model = NULL;
  EXPECT_OK(seqrnn_model_create(&p, &model));
  float w[4 * H * H], bias[4 * H];
  EXPECT_OK(seqrnn_model_get_tensor(model, "rnn.weight_hh_l0", w, 4 * H * H));
  double worst = 0;
  for (int g = 0; g < 4; g++)
    for (int i = 0; i < H; i++)
      for (int j = 0; j < H; j++) {
        double dot = 0;
        for (int k = 0; k < H; k++)
          dot += (double)w[(g * H + i) * H + k] * w[(g * H + j) * H + k];
        worst = fmax(worst, fabs(dot - (i == j)));
      }
  CHECK_MSG(worst < 1e-5, "W_hh blocks not orthogonal: %g", worst);
  EXPECT_OK(seqrnn_model_get_tensor(model, "rnn.bias_ih_l0", bias, 4 * H));
  CHECK(bias[0] == 0 && bias[H] == 1 && bias[2 * H - 1] == 1 &&
        bias[2 * H] == 0);
  seqrnn_model_free(model);
}

int main(void) {
  TU_RUN(test_params);
  TU_RUN(test_inference_ignores_dropout);
  TU_RUN(test_dropout_determinism);
  TU_RUN(test_loss_weights);
  TU_RUN(test_stateful);
  TU_RUN(test_initialisers);
  return tu_finish("test_regularization");
}
