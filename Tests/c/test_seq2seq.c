/*
 * test_seq2seq.c - the encoder-decoder through the C API only: parameters and
 * their errors, training on a small transduction task until greedy and beam
 * decoding reproduce it, logits consistent with the loss and with the output
 * bias gradient, beam width 1 equal to greedy, scheduled-sampling ratios,
 * dropout (in training passes only, kept in files), checkpoints that resume
 * training bit for bit, files, tensors, and a clear status for every kind of
 * bad input.
 */
#include "test_util.h"

enum { VS = 6, VT = 8, BOS = 0, EOS = 1, B = 32, S = 5 };

/* Source: 1..5 ids in [0, 6); target: the source reversed, each id + 2. */
static void make_batch(uint64_t *rng, int32_t *source, int64_t *lengths,
                       int32_t *target) {
  for (int b = 0; b < B; b++) {
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    int n = 1 + (int)((*rng >> 33) % S);
    lengths[b] = n;
    for (int s = 0; s < S; s++) {
      *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
      source[b * S + s] = s < n ? (int32_t)((*rng >> 33) % VS) : 0;
    }
    for (int s = 0; s < S; s++)
      target[b * S + s] = s < n ? source[b * S + n - 1 - s] + 2 : 0;
  }
}

static seqrnn_seq2seq_params small_params(int32_t attention) {
  seqrnn_seq2seq_params p = seqrnn_seq2seq_default_params();
  p.cell = SEQRNN_CELL_GRU;
  p.source_vocab_size = VS;
  p.target_vocab_size = VT;
  p.hidden_size = 32;
  p.attention = attention;
  p.bos_id = BOS;
  p.eos_id = EOS;
  p.seed = 5;
  p.train.learning_rate = 0.01f;
  return p;
}

static void test_params(void) {
  seqrnn_seq2seq_params p = seqrnn_seq2seq_default_params();
  CHECK(p.cell == SEQRNN_CELL_LSTM && p.hidden_size == 64 && p.bos_id == 1 &&
        p.eos_id == 2 && p.attention == SEQRNN_ATTENTION_NONE);
  CHECK(p.sampling_schedule == SEQRNN_SAMPLING_NONE && p.sampling_start == 1);
  seqrnn_seq2seq *m = (seqrnn_seq2seq *)&p; /* must be reset to NULL */
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
  CHECK(m == NULL);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_seq2seq_create(NULL, &m));
  p = small_params(7);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
  p = small_params(SEQRNN_ATTENTION_DOT);
  p.eos_id = p.bos_id;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
  p = small_params(SEQRNN_ATTENTION_DOT);
  p.bos_id = VT;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
  p = small_params(SEQRNN_ATTENTION_DOT);
  p.sampling_schedule = SEQRNN_SAMPLING_EXPONENTIAL;
  p.sampling_decay = 2;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
  p = small_params(SEQRNN_ATTENTION_DOT);
  p.train.stateful = 1;
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED, seqrnn_seq2seq_create(&p, &m));
  seqrnn_seq2seq_free(NULL);
}

static void test_sampling_ratio(void) {
  seqrnn_seq2seq_params p = small_params(SEQRNN_ATTENTION_NONE);
  p.sampling_schedule = SEQRNN_SAMPLING_INVERSE_SIGMOID;
  p.sampling_decay = 50;
  seqrnn_seq2seq *m = NULL;
  if (!EXPECT_OK(seqrnn_seq2seq_create(&p, &m)))
    return;
  for (int64_t i = 0; i <= 1000; i += 100) {
    double ratio = -1;
    EXPECT_OK(seqrnn_seq2seq_teacher_forcing_ratio(m, i, &ratio));
    CHECK_MSG(fabs(ratio - 50.0 / (50.0 + exp((double)i / 50.0))) < 1e-12,
              "step %lld: %g", (long long)i, ratio);
  }
  double now = -1;
  EXPECT_OK(seqrnn_seq2seq_teacher_forcing_ratio(m, -1, &now));
  CHECK(fabs(now - 50.0 / 51.0) < 1e-12);
  seqrnn_seq2seq_free(m);
}

/* Trains on the reversal task, then checks decoding and the other calls. */
static void test_train_and_decode(int32_t attention, int32_t bidirectional) {
  seqrnn_seq2seq_params p = small_params(attention);
  p.bidirectional_encoder = bidirectional;
  p.sampling_schedule = SEQRNN_SAMPLING_LINEAR;
  p.sampling_start = 1;
  p.sampling_end = 0.7f;
  p.sampling_decay = 1e-3f;
  seqrnn_seq2seq *m = NULL;
  if (!EXPECT_OK(seqrnn_seq2seq_create(&p, &m)))
    return;
  int32_t source[B * S], target[B * S];
  int64_t lengths[B];
  uint64_t rng = 42;
  seqrnn_seq2seq_batch batch = {B, S, source, lengths, S, target, lengths};
  float first = 0, loss = 0;
  for (int step = 0; step < 1500; step++) {
    make_batch(&rng, source, lengths, target);
    if (!EXPECT_OK(seqrnn_seq2seq_train_step(m, &batch, &loss)))
      break;
    if (step == 0)
      first = loss;
  }
  CHECK_MSG(loss < first * 0.2f, "loss %g -> %g", first, loss);
  int64_t steps = 0;
  EXPECT_OK(seqrnn_seq2seq_step_count(m, &steps));
  CHECK(steps == 1500);

  /* Greedy decoding reproduces most held-out sequences exactly. */
  make_batch(&rng, source, lengths, target);
  enum { MAX = 8 };
  int32_t tokens[B * MAX], beam_tokens[B * MAX];
  int64_t out_lengths[B], beam_lengths[B];
  float scores[B], beam_scores[B];
  EXPECT_OK(seqrnn_seq2seq_decode_greedy(m, &batch, MAX, tokens, B * MAX,
                                         out_lengths, scores));
  int exact = 0;
  for (int b = 0; b < B; b++) {
    int same = out_lengths[b] == lengths[b];
    for (int s = 0; same && s < lengths[b]; s++)
      same = tokens[b * MAX + s] == target[b * S + s];
    for (int s = (int)out_lengths[b]; s < MAX; s++)
      CHECK(tokens[b * MAX + s] == EOS);
    exact += same;
  }
  /* Reversal without attention is the harder task for a 32-unit GRU. */
  int needed = attention == SEQRNN_ATTENTION_NONE ? B * 3 / 4 : B - 2;
  CHECK_MSG(exact >= needed, "exact %d of %d", exact, B);

  /* Beam width 1 is greedy; a wider beam never scores below it here. */
  EXPECT_OK(seqrnn_seq2seq_decode_beam(m, &batch, MAX, 1, 0, beam_tokens,
                                       B * MAX, beam_lengths, beam_scores));
  CHECK(memcmp(tokens, beam_tokens, sizeof tokens) == 0);
  CHECK(memcmp(out_lengths, beam_lengths, sizeof out_lengths) == 0);
  CHECK(memcmp(scores, beam_scores, sizeof scores) == 0);
  EXPECT_OK(seqrnn_seq2seq_decode_beam(m, &batch, MAX, 4, 0.6f, beam_tokens,
                                       B * MAX, beam_lengths, NULL));

  /* Logits agree with the loss and with the output-bias gradient:
   * d(mean CE)/d b = mean over positions of (softmax - onehot). */
  static float logits[B * (S + 1) * VT], attn[B * (S + 1) * S];
  EXPECT_OK(seqrnn_seq2seq_logits(m, &batch, logits, B * (S + 1) * VT, attn,
                                  B * (S + 1) * S));
  double total = 0, bias_grad[VT] = {0};
  int64_t count = 0;
  for (int b = 0; b < B; b++) {
    for (int t = 0; t <= lengths[b]; t++) {
      const float *row = logits + (b * (S + 1) + t) * VT;
      int32_t y = t < lengths[b] ? target[b * S + t] : EOS;
      double peak = row[0], sum = 0;
      for (int k = 1; k < VT; k++)
        peak = row[k] > peak ? row[k] : peak;
      for (int k = 0; k < VT; k++)
        sum += exp(row[k] - peak);
      total += log(sum) + peak - row[y];
      for (int k = 0; k < VT; k++)
        bias_grad[k] += exp(row[k] - peak) / sum - (k == y);
      count++;
      if (attention != SEQRNN_ATTENTION_NONE) {
        double mass = 0;
        for (int s = 0; s < S; s++)
          mass += attn[(b * (S + 1) + t) * S + s];
        CHECK_MSG(fabs(mass - 1) < 1e-5, "attention mass %g", mass);
        CHECK(attn[(b * (S + 1) + t) * S + S - 1] == 0 || lengths[b] == S);
      }
    }
  }
  seqrnn_evaluation ev;
  EXPECT_OK(seqrnn_seq2seq_evaluate(m, &batch, &ev));
  CHECK(ev.count == count);
  CHECK_MSG(fabs(ev.loss - total / (double)count) < 1e-5 * (1 + ev.loss),
            "evaluate %g vs logits %g", ev.loss, total / (double)count);
  float grad[VT], expected[VT];
  EXPECT_OK(seqrnn_seq2seq_compute_gradients(m, &batch, NULL));
  EXPECT_OK(seqrnn_seq2seq_get_gradient(m, "output.bias", grad, VT));
  for (int k = 0; k < VT; k++)
    expected[k] = (float)(bias_grad[k] / (double)count);
  CHECK_CLOSE_ARRAYS(grad, expected, VT, 1e-4, 1e-6);

  /* Files: a loaded model decodes the same. */
  const char *path = "test_seq2seq_model.safetensors";
  EXPECT_OK(seqrnn_seq2seq_save(m, path));
  seqrnn_seq2seq *loaded = NULL;
  EXPECT_OK(seqrnn_seq2seq_load(path, NULL, &loaded));
  if (loaded != NULL) {
    int32_t again[B * MAX];
    EXPECT_OK(seqrnn_seq2seq_decode_greedy(loaded, &batch, MAX, again, B * MAX,
                                           out_lengths, NULL));
    CHECK(memcmp(tokens, again, sizeof again) == 0);
    seqrnn_seq2seq_params q;
    EXPECT_OK(seqrnn_seq2seq_get_params(loaded, &q));
    CHECK(q.attention == attention && q.hidden_size == 32 && q.eos_id == EOS &&
          q.bidirectional_encoder == bidirectional);
    seqrnn_seq2seq_free(loaded);
  }
  remove(path);
  seqrnn_seq2seq_free(m);
}

static void test_errors(void) {
  seqrnn_seq2seq_params p = small_params(SEQRNN_ATTENTION_GENERAL);
  seqrnn_seq2seq *m = NULL;
  if (!EXPECT_OK(seqrnn_seq2seq_create(&p, &m)))
    return;
  int32_t source[2 * 3] = {0, 1, 2, 3, 4, 5};
  int32_t target[2 * 2] = {2, 3, 4, 5};
  int64_t src_len[2] = {3, 2}, tgt_len[2] = {2, 0};
  seqrnn_seq2seq_batch batch = {2, 3, source, src_len, 2, target, tgt_len};
  float loss;
  EXPECT_OK(seqrnn_seq2seq_train_step(m, &batch, &loss));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_seq2seq_train_step(m, NULL, &loss));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_seq2seq_train_step(NULL, &batch, &loss));
  source[1] = VS;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_seq2seq_train_step(m, &batch, &loss));
  source[1] = 1;
  source[5] = 99; /* past source_lengths[1]: ignored */
  EXPECT_OK(seqrnn_seq2seq_evaluate(m, &batch, &(seqrnn_evaluation){0}));
  target[1] = -1;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_seq2seq_train_step(m, &batch, &loss));
  target[1] = 3;
  tgt_len[1] = 3;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_seq2seq_train_step(m, &batch, &loss));
  tgt_len[1] = 0;
  src_len[0] = 0;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_seq2seq_train_step(m, &batch, &loss));
  src_len[0] = 3;
  batch.source = NULL;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_seq2seq_train_step(m, &batch, &loss));
  batch.source = source;
  batch.target_len = -1;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_seq2seq_train_step(m, &batch, &loss));
  batch.target_len = 2;
  batch.batch_size = 0;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_seq2seq_train_step(m, &batch, &loss));
  batch.batch_size = 2;

  int32_t tokens[2 * 4];
  int64_t lengths[2];
  EXPECT_STATUS(
      SEQRNN_E_BUFFER_TOO_SMALL,
      seqrnn_seq2seq_decode_greedy(m, &batch, 4, tokens, 7, lengths, NULL));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_seq2seq_decode_greedy(m, &batch, 0, tokens, 8, lengths, NULL));
  EXPECT_STATUS(
      SEQRNN_E_NULL_ARGUMENT,
      seqrnn_seq2seq_decode_greedy(m, &batch, 4, tokens, 8, NULL, NULL));
  EXPECT_STATUS(
      SEQRNN_E_INVALID_ARGUMENT,
      seqrnn_seq2seq_decode_beam(m, &batch, 4, 0, 0, tokens, 8, lengths, NULL));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_seq2seq_decode_beam(m, &batch, 4, 2, -1, tokens, 8,
                                           lengths, NULL));
  float small[4];
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_seq2seq_logits(m, &batch, small, 4, NULL, 0));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_seq2seq_get_tensor(m, "rnn.weight_ih_l0", small, 4));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_seq2seq_get_tensor(m, "output.bias", small, 4));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_seq2seq_set_tensor(m, "output.bias", small, 4));
  float bias[VT] = {0, 0, 0, NAN, 0, 0, 0, 0};
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_seq2seq_set_tensor(m, "output.bias", bias, VT));
  bias[3] = 0.5f;
  EXPECT_OK(seqrnn_seq2seq_set_tensor(m, "output.bias", bias, VT));
  float back[VT];
  EXPECT_OK(seqrnn_seq2seq_get_tensor(m, "output.bias", back, VT));
  CHECK(back[3] == 0.5f);

  int64_t count = 0;
  EXPECT_OK(seqrnn_seq2seq_tensor_count(m, &count));
  CHECK(count ==
        2 * 5 + 2 + 2); /* 2 stacks x (emb + 4), attention 2, output 2 */
  seqrnn_tensor_info info;
  EXPECT_OK(seqrnn_seq2seq_tensor_info(m, 0, &info));
  CHECK(strcmp(info.name, "encoder.embedding.weight") == 0 && info.ndim == 2 &&
        info.shape[0] == VS);
  EXPECT_OK(seqrnn_seq2seq_tensor_info(m, count - 3, &info));
  CHECK(strcmp(info.name, "attention.linear_out.weight") == 0 &&
        info.shape[0] == 32 && info.shape[1] == 64);
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_seq2seq_tensor_info(m, count, &info));

  seqrnn_seq2seq *loaded = (seqrnn_seq2seq *)m;
  EXPECT_STATUS(
      SEQRNN_E_IO,
      seqrnn_seq2seq_load("/nonexistent/dir/x.safetensors", NULL, &loaded));
  CHECK(loaded == NULL);
  /* A plain model file is not a seq2seq file. */
  seqrnn_model_params mp = seqrnn_model_default_params();
  mp.vocab_size = 4;
  mp.hidden_size = 4;
  seqrnn_model *plain = NULL;
  EXPECT_OK(seqrnn_model_create(&mp, &plain));
  EXPECT_OK(seqrnn_model_save(plain, "test_seq2seq_plain.safetensors"));
  EXPECT_STATUS(
      SEQRNN_E_BAD_FORMAT,
      seqrnn_seq2seq_load("test_seq2seq_plain.safetensors", NULL, &loaded));
  remove("test_seq2seq_plain.safetensors");
  seqrnn_model_free(plain);
  seqrnn_seq2seq_free(m);
}

/* Dropout: defaults off, bad rates refused, fresh masks in every training
 * pass, none in evaluation, and the rates survive a file. */
static void test_dropout(void) {
  seqrnn_seq2seq_params p = seqrnn_seq2seq_default_params();
  CHECK(p.dropout == 0 && p.recurrent_dropout == 0);
  seqrnn_seq2seq *m = NULL;
  const float bad[] = {1.0f, -0.1f, NAN};
  for (int i = 0; i < 3; i++) {
    p = small_params(SEQRNN_ATTENTION_DOT);
    p.dropout = bad[i];
    EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
    p = small_params(SEQRNN_ATTENTION_DOT);
    p.recurrent_dropout = bad[i];
    EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
  }
  p = small_params(SEQRNN_ATTENTION_DOT);
  p.num_layers = 2;
  p.dropout = 0.5f;
  p.recurrent_dropout = 0.25f;
  EXPECT_OK(seqrnn_seq2seq_create(&p, &m));
  if (m == NULL)
    return;
  seqrnn_seq2seq_params q;
  EXPECT_OK(seqrnn_seq2seq_get_params(m, &q));
  CHECK(q.dropout == 0.5f && q.recurrent_dropout == 0.25f);

  uint64_t rng = 11;
  int32_t source[B * S], target[B * S];
  int64_t lengths[B];
  make_batch(&rng, source, lengths, target);
  seqrnn_seq2seq_batch batch = {B, S, source, lengths, S, target, lengths};
  float first = 0, second = 0;
  EXPECT_OK(seqrnn_seq2seq_compute_gradients(m, &batch, &first));
  EXPECT_OK(seqrnn_seq2seq_compute_gradients(m, &batch, &second));
  CHECK(first != second); /* new masks each pass */
  seqrnn_evaluation e1, e2;
  EXPECT_OK(seqrnn_seq2seq_evaluate(m, &batch, &e1));
  EXPECT_OK(seqrnn_seq2seq_evaluate(m, &batch, &e2));
  CHECK(e1.loss == e2.loss); /* no masks */

  const char *path = "test_seq2seq_dropout.safetensors";
  EXPECT_OK(seqrnn_seq2seq_save(m, path));
  seqrnn_seq2seq *loaded = NULL;
  EXPECT_OK(seqrnn_seq2seq_load(path, NULL, &loaded));
  if (loaded != NULL) {
    EXPECT_OK(seqrnn_seq2seq_get_params(loaded, &q));
    CHECK(q.dropout == 0.5f && q.recurrent_dropout == 0.25f);
    seqrnn_evaluation e3;
    EXPECT_OK(seqrnn_seq2seq_evaluate(loaded, &batch, &e3));
    CHECK(e3.loss == e1.loss);
    seqrnn_seq2seq_free(loaded);
  }
  remove(path);
  seqrnn_seq2seq_free(m);
}

/* A checkpoint resumes training bit for bit (dropout masks and sampled
 * decoder inputs included); a model file is not a checkpoint. */
static void test_checkpoint(void) {
  seqrnn_seq2seq_params p = small_params(SEQRNN_ATTENTION_DOT);
  p.num_layers = 2;
  p.dropout = 0.3f;
  p.sampling_schedule = SEQRNN_SAMPLING_CONSTANT;
  p.sampling_start = 0.5f;
  p.sampling_from_model = 1;
  seqrnn_seq2seq *m = NULL;
  if (!EXPECT_OK(seqrnn_seq2seq_create(&p, &m)))
    return;
  uint64_t rng = 3;
  int32_t source[6][B * S], target[6][B * S];
  int64_t lengths[6][B];
  for (int i = 0; i < 6; i++)
    make_batch(&rng, source[i], lengths[i], target[i]);
  float losses[6] = {0}, again[6] = {0};
  const char *path = "test_seq2seq_checkpoint.safetensors";
  for (int i = 0; i < 6; i++) {
    if (i == 3)
      EXPECT_OK(seqrnn_seq2seq_save_checkpoint(m, path, 3));
    seqrnn_seq2seq_batch batch = {B, S,         source[i], lengths[i],
                                  S, target[i], lengths[i]};
    EXPECT_OK(seqrnn_seq2seq_train_step(m, &batch, &losses[i]));
  }
  seqrnn_seq2seq *resumed = NULL;
  int64_t position = -1;
  EXPECT_OK(seqrnn_seq2seq_load_checkpoint(path, &resumed, &position));
  CHECK(position == 3);
  if (resumed != NULL) {
    for (int i = 3; i < 6; i++) {
      seqrnn_seq2seq_batch batch = {B, S,         source[i], lengths[i],
                                    S, target[i], lengths[i]};
      EXPECT_OK(seqrnn_seq2seq_train_step(resumed, &batch, &again[i]));
      CHECK_MSG(again[i] == losses[i], "step %d: %g vs %g", i, again[i],
                losses[i]);
    }
    float a[VT], b[VT];
    EXPECT_OK(seqrnn_seq2seq_get_tensor(m, "output.bias", a, VT));
    EXPECT_OK(seqrnn_seq2seq_get_tensor(resumed, "output.bias", b, VT));
    CHECK(memcmp(a, b, sizeof a) == 0);
    seqrnn_seq2seq_free(resumed);
  }
  /* A model file is refused, and the out-param stays NULL. */
  EXPECT_OK(seqrnn_seq2seq_save(m, path));
  resumed = (seqrnn_seq2seq *)&p;
  EXPECT_STATUS(SEQRNN_E_BAD_FORMAT,
                seqrnn_seq2seq_load_checkpoint(path, &resumed, NULL));
  CHECK(resumed == NULL);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_seq2seq_load_checkpoint(NULL, &resumed, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_seq2seq_save_checkpoint(NULL, path, 0));
  remove(path);
  seqrnn_seq2seq_free(m);
}

static void test_train_without_attention(void) {
  test_train_and_decode(SEQRNN_ATTENTION_NONE, 0);
}

static void test_train_with_dot_attention(void) {
  test_train_and_decode(SEQRNN_ATTENTION_DOT, 0);
}

/* A bidirectional encoder: its reverse weights exist and train, and the
 * model learns the task too; 0 and 1 are the only valid flags. */
static void test_train_with_bidirectional_encoder(void) {
  seqrnn_seq2seq_params p = small_params(SEQRNN_ATTENTION_DOT);
  CHECK(p.bidirectional_encoder == 0);
  seqrnn_seq2seq *m = NULL;
  p.bidirectional_encoder = 2;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_seq2seq_create(&p, &m));
  p.bidirectional_encoder = 1;
  if (EXPECT_OK(seqrnn_seq2seq_create(&p, &m))) {
    float w[3 * 32 * 32];
    EXPECT_OK(seqrnn_seq2seq_get_tensor(m, "encoder.weight_hh_l0_reverse", w,
                                        3 * 32 * 32));
    EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                  seqrnn_seq2seq_get_tensor(m, "decoder.weight_hh_l0_reverse",
                                            w, 3 * 32 * 32));
    seqrnn_seq2seq_params q;
    EXPECT_OK(seqrnn_seq2seq_get_params(m, &q));
    CHECK(q.bidirectional_encoder == 1);
    seqrnn_seq2seq_free(m);
  }
  test_train_and_decode(SEQRNN_ATTENTION_DOT, 1);
}

int main(void) {
  seqrnn_set_num_threads(1);
  TU_RUN(test_params);
  TU_RUN(test_sampling_ratio);
  TU_RUN(test_train_without_attention);
  TU_RUN(test_train_with_dot_attention);
  TU_RUN(test_train_with_bidirectional_encoder);
  TU_RUN(test_errors);
  TU_RUN(test_dropout);
  TU_RUN(test_checkpoint);
  return tu_finish("test_seq2seq");
}
