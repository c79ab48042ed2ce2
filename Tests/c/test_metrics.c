/*
 * test_metrics.c - the evaluation side of training, through the public
 * header only: streaming metrics (F1 on confusion matrices worked out by
 * hand, macro averages with absent classes, batches summing to the
 * concatenated data, perplexity and bits per token), early stopping
 * restoring the best epoch's exact weights, and pretrained word vectors
 * (GloVe and word2vec text) landing in exactly the right embedding rows,
 * with every error path leaving the model unchanged.
 */
#include "test_util.h"

#include <unistd.h>

static int near(double got, double want) {
  return fabs(got - want) <= 1e-12 * (fabs(want) > 1 ? fabs(want) : 1);
}

#define CHECK_NEAR(got, want)                                                  \
  CHECK_MSG(near((got), (want)), "%s = %.17g, want %.17g", #got,               \
            (double)(got), (double)(want))

/* ---- metrics from predictions ------------------------------------------- */

/* Confusion [target][predicted]: t0: 2 1 1 / t1: 1 2 0 / t2: 0 1 2.
 * class 0: P 2/3 R 1/2 F1 4/7; class 1: P 1/2 R 2/3 F1 4/7;
 * class 2: P 2/3 R 2/3 F1 2/3; macro P = R = 11/18, macro F1 = 38/63. */
static void known_confusion_matrix(void) {
  seqrnn_metrics *m = NULL;
  EXPECT_OK(seqrnn_metrics_create(3, &m));
  const int32_t predicted[] = {0, 0, 1, 2, 1, 1, 0, 2, 2, 1};
  const int32_t targets[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
  EXPECT_OK(seqrnn_metrics_add_predictions(m, predicted, targets, 10));

  int64_t confusion[9];
  const int64_t want[9] = {2, 1, 1, 1, 2, 0, 0, 1, 2};
  EXPECT_OK(seqrnn_metrics_get_confusion(m, confusion, 9));
  CHECK(memcmp(confusion, want, sizeof want) == 0);
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_metrics_get_confusion(m, confusion, 8));

  const double p[3] = {2.0 / 3, 1.0 / 2, 2.0 / 3};
  const double r[3] = {1.0 / 2, 2.0 / 3, 2.0 / 3};
  const double f[3] = {4.0 / 7, 4.0 / 7, 2.0 / 3};
  const int64_t support[3] = {4, 3, 3};
  for (int64_t c = 0; c < 3; c++) {
    double precision = -1, recall = -1, f1 = -1;
    int64_t s = -1;
    EXPECT_OK(seqrnn_metrics_get_class(m, c, &precision, &recall, &f1, &s));
    CHECK_NEAR(precision, p[c]);
    CHECK_NEAR(recall, r[c]);
    CHECK_NEAR(f1, f[c]);
    CHECK(s == support[c]);
  }
  double f1_only = -1;
  EXPECT_OK(seqrnn_metrics_get_class(m, 2, NULL, NULL, &f1_only, NULL));
  CHECK_NEAR(f1_only, 2.0 / 3);
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_metrics_get_class(m, 3, NULL, NULL, NULL, NULL));
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_metrics_get_class(m, -1, NULL, NULL, NULL, NULL));

  seqrnn_metrics_summary s;
  EXPECT_OK(seqrnn_metrics_get_summary(m, &s));
  CHECK_NEAR(s.accuracy, 0.6);
  CHECK_NEAR(s.macro_precision, 11.0 / 18);
  CHECK_NEAR(s.macro_recall, 11.0 / 18);
  CHECK_NEAR(s.macro_f1, 38.0 / 63);
  CHECK(s.count == 10);
  CHECK(isnan(s.loss) && isnan(s.perplexity) && isnan(s.bits_per_token));

  /* Errors add nothing. */
  const int32_t bad[] = {0, 3};
  const int32_t ok2[] = {0, 0};
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_metrics_add_predictions(m, bad, ok2, 2));
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_metrics_add_predictions(m, ok2, bad, 2));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_metrics_add_predictions(m, ok2, ok2, -1));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_metrics_add_predictions(m, NULL, ok2, 2));
  EXPECT_OK(seqrnn_metrics_add_predictions(m, NULL, NULL, 0));
  EXPECT_OK(seqrnn_metrics_get_summary(m, &s));
  CHECK(s.count == 10);

  EXPECT_OK(seqrnn_metrics_reset(m));
  EXPECT_OK(seqrnn_metrics_get_summary(m, &s));
  CHECK(s.count == 0 && isnan(s.accuracy) && isnan(s.macro_f1));
  seqrnn_metrics_free(m);
}

/* Five classes: 3 absent (skipped), 4 predicted but never a target, 2 a
 * target never predicted. Macro over {0, 1, 2, 4}: P 1/4, R 3/8, F1 7/24. */
static void macro_skips_absent_classes(void) {
  seqrnn_metrics *m = NULL;
  EXPECT_OK(seqrnn_metrics_create(5, &m));
  const int32_t predicted[] = {0, 4, 1, 0, 1};
  const int32_t targets[] = {0, 0, 1, 2, 2};
  EXPECT_OK(seqrnn_metrics_add_predictions(m, predicted, targets, 5));
  seqrnn_metrics_summary s;
  EXPECT_OK(seqrnn_metrics_get_summary(m, &s));
  CHECK_NEAR(s.macro_precision, 0.25);
  CHECK_NEAR(s.macro_recall, 0.375);
  CHECK_NEAR(s.macro_f1, 7.0 / 24);
  CHECK_NEAR(s.accuracy, 0.4);
  double precision = -1, recall = -1, f1 = -1;
  int64_t support = -1;
  EXPECT_OK(seqrnn_metrics_get_class(m, 4, &precision, &recall, &f1, &support));
  CHECK(precision == 0 && recall == 0 && f1 == 0 && support == 0);
  EXPECT_OK(seqrnn_metrics_get_class(m, 2, &precision, &recall, &f1, &support));
  CHECK(precision == 0 && recall == 0 && f1 == 0 && support == 2);
  seqrnn_metrics_free(m);
}

static void create_errors(void) {
  seqrnn_metrics *m = (seqrnn_metrics *)&m;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_metrics_create(-1, &m));
  CHECK(m == NULL);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_metrics_create(65537, &m));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_metrics_create(2, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_metrics_reset(NULL));
  seqrnn_metrics_summary s;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_metrics_get_summary(NULL, &s));
  seqrnn_metrics_free(NULL);
}

/* ---- metrics from a model ------------------------------------------------ */

enum { B1 = 3, B2 = 4, BT = B1 + B2, T = 6, V = 7, H = 6, O = 4 };

typedef struct data {
  int32_t tokens[BT * T];
  int64_t lengths[BT];
  int32_t targets[BT * T];
  float weights[BT * T];
} data;

static void make_data(data *d, int weighted) {
  tu_rng rng = {17};
  tu_fill_tokens(&rng, d->tokens, BT * T, V);
  tu_fill_tokens(&rng, d->targets, BT * T, O);
  for (int i = 0; i < BT; i++)
    d->lengths[i] = 1 + tu_below(&rng, T);
  static const float choices[4] = {0, 0.5f, 1, 2};
  for (int i = 0; i < BT * T; i++)
    d->weights[i] = weighted ? choices[tu_below(&rng, 4)] : 1;
  d->weights[0] = d->weights[B1 * T] = 1; /* each batch has a weight > 0 */
}

/* The batch of sequences [first, first + count) of d. */
static seqrnn_batch batch_of(const data *d, int first, int count,
                             int weighted) {
  seqrnn_batch b = seqrnn_batch_init(count, T);
  b.tokens = d->tokens + first * T;
  b.lengths = d->lengths + first;
  b.target_classes = d->targets + first * T;
  b.loss_weights = weighted ? d->weights + first * T : NULL;
  return b;
}

static seqrnn_model *token_model(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_GRU;
  p.vocab_size = V;
  p.hidden_size = H;
  p.output_size = O;
  p.seed = 5;
  return tu_make_model(&p);
}

static void batches_sum_to_concatenation(void) {
  seqrnn_model *model = token_model();
  for (int weighted = 0; weighted <= 1; weighted++) {
    data d;
    make_data(&d, weighted);
    seqrnn_batch first = batch_of(&d, 0, B1, weighted);
    seqrnn_batch second = batch_of(&d, B1, B2, weighted);
    seqrnn_batch all = batch_of(&d, 0, BT, weighted);

    seqrnn_metrics *streamed = NULL, *whole = NULL;
    EXPECT_OK(seqrnn_metrics_create(O, &streamed));
    EXPECT_OK(seqrnn_metrics_create(O, &whole));
    EXPECT_OK(seqrnn_metrics_update(streamed, model, &first));
    EXPECT_OK(seqrnn_metrics_update(streamed, model, &second));
    EXPECT_OK(seqrnn_metrics_update(whole, model, &all));
    seqrnn_metrics_summary a, b;
    EXPECT_OK(seqrnn_metrics_get_summary(streamed, &a));
    EXPECT_OK(seqrnn_metrics_get_summary(whole, &b));
    seqrnn_evaluation e;
    EXPECT_OK(seqrnn_model_evaluate(model, &all, &e));
    CHECK_MSG(tu_close(a.loss, b.loss, 1e-6, 0), "weighted %d: %.9g vs %.9g",
              weighted, a.loss, b.loss);
    CHECK_MSG(tu_close(a.loss, e.loss, 1e-6, 0), "weighted %d: %.9g vs %.9g",
              weighted, a.loss, e.loss);
    CHECK(a.count == b.count && a.count == e.count);
    CHECK_NEAR(a.accuracy, e.accuracy);
    CHECK_NEAR(a.macro_f1, b.macro_f1);
    CHECK_NEAR(a.perplexity, exp(a.loss));
    CHECK_NEAR(a.bits_per_token, a.loss / log(2.0));
    int64_t ca[O * O], cb[O * O];
    EXPECT_OK(seqrnn_metrics_get_confusion(streamed, ca, O * O));
    EXPECT_OK(seqrnn_metrics_get_confusion(whole, cb, O * O));
    CHECK(memcmp(ca, cb, sizeof ca) == 0);

    /* The predictions are the arg-max of forward's logits at valid
     * positions of positive weight. */
    float logits[BT * T * O];
    EXPECT_OK(seqrnn_model_forward(model, &all, logits, BT * T * O, NULL, NULL,
                                   0, NULL));
    int64_t want[O * O] = {0};
    for (int i = 0; i < BT; i++) {
      for (int s = 0; s < d.lengths[i]; s++) {
        if (weighted && d.weights[i * T + s] == 0)
          continue;
        const float *row = logits + (i * T + s) * O;
        int best = 0;
        for (int k = 1; k < O; k++)
          if (row[k] > row[best])
            best = k;
        want[d.targets[i * T + s] * O + best]++;
      }
    }
    CHECK(memcmp(cb, want, sizeof want) == 0);
    seqrnn_metrics_free(streamed);
    seqrnn_metrics_free(whole);
  }
  seqrnn_model_free(model);
}

/* A zero head: uniform logits, loss ln(O), perplexity O, log2(O) bits, and
 * every tie predicted as class 0. */
static void perplexity_on_uniform_logits(void) {
  seqrnn_model *model = token_model();
  float zeros[O * H] = {0};
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.weight", zeros, O * H));
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.bias", zeros, O));
  data d;
  make_data(&d, 0);
  seqrnn_batch all = batch_of(&d, 0, BT, 0);
  seqrnn_metrics *m = NULL;
  EXPECT_OK(seqrnn_metrics_create(O, &m));
  EXPECT_OK(seqrnn_metrics_update(m, model, &all));
  seqrnn_metrics_summary s;
  EXPECT_OK(seqrnn_metrics_get_summary(m, &s));
  CHECK(tu_close(s.loss, log(4.0), 1e-6, 0));
  CHECK(tu_close(s.perplexity, 4.0, 1e-6, 0));
  CHECK(tu_close(s.bits_per_token, 2.0, 1e-6, 0));
  int64_t confusion[O * O];
  EXPECT_OK(seqrnn_metrics_get_confusion(m, confusion, O * O));
  int64_t column0 = 0;
  for (int t = 0; t < O; t++)
    column0 += confusion[t * O];
  CHECK(column0 == s.count);

  /* An accumulator of another class count, or for MSE, is refused. */
  seqrnn_metrics *wrong = NULL;
  EXPECT_OK(seqrnn_metrics_create(O + 1, &wrong));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_metrics_update(wrong, model, &all));
  seqrnn_metrics_free(wrong);
  EXPECT_OK(seqrnn_metrics_create(0, &wrong));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_metrics_update(wrong, model, &all));
  seqrnn_metrics_free(wrong);
  /* A batch without targets is refused and adds nothing. */
  seqrnn_batch no_targets = all;
  no_targets.target_classes = NULL;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_metrics_update(m, model, &no_targets));
  seqrnn_metrics_summary again;
  EXPECT_OK(seqrnn_metrics_get_summary(m, &again));
  CHECK(again.count == s.count);
  seqrnn_metrics_free(m);
  seqrnn_model_free(model);
}

static void mse_loss_only(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_LSTM;
  p.input_size = 2;
  p.hidden_size = 3;
  p.output_size = 2;
  p.loss = SEQRNN_LOSS_MSE;
  seqrnn_model *model = tu_make_model(&p);
  tu_rng rng = {3};
  float x[2 * 3 * 2], y[2 * 3 * 2];
  tu_fill(&rng, x, 12, -1, 1);
  tu_fill(&rng, y, 12, -1, 1);
  seqrnn_batch b = seqrnn_batch_init(2, 3);
  b.features = x;
  b.target_values = y;
  seqrnn_metrics *m = NULL;
  EXPECT_OK(seqrnn_metrics_create(0, &m));
  EXPECT_OK(seqrnn_metrics_update(m, model, &b));
  seqrnn_metrics_summary s;
  EXPECT_OK(seqrnn_metrics_get_summary(m, &s));
  seqrnn_evaluation e;
  EXPECT_OK(seqrnn_model_evaluate(model, &b, &e));
  CHECK(tu_close(s.loss, e.loss, 1e-9, 0));
  CHECK(s.count == 6);
  CHECK(isnan(s.perplexity) && isnan(s.accuracy) && isnan(s.macro_f1));
  seqrnn_metrics_free(m);
  seqrnn_model_free(model);
}

/* ---- early stopping ------------------------------------------------------ */

static void early_stopping_restores_best_epoch(void) {
  seqrnn_model *model = token_model();
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.optimizer = SEQRNN_OPTIMIZER_SGD;
  tp.learning_rate = 0.5f;
  seqrnn_trainer *trainer = NULL;
  EXPECT_OK(seqrnn_trainer_create(model, &tp, &trainer));
  seqrnn_early_stopping *es = NULL;
  EXPECT_OK(seqrnn_early_stopping_create(0, 2, 0.0, &es));
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED,
                seqrnn_early_stopping_best(es, NULL, NULL));
  EXPECT_STATUS(SEQRNN_E_UNSUPPORTED, seqrnn_early_stopping_restore(es, model));

  data d;
  make_data(&d, 0);
  seqrnn_batch first = batch_of(&d, 0, B1, 0);
  seqrnn_batch second = batch_of(&d, B1, B2, 0);
  /* Scripted validation losses: the best epoch is 3; two epochs without
   * improvement after it stop training after epoch 5. */
  const double values[] = {1.0, 0.8, 0.85, 0.7, 0.75, 0.72, 0.9};
  float *per_epoch[7] = {NULL};
  int64_t total = 0;
  int stopped_at = -1;
  for (int epoch = 0; epoch < 7; epoch++) {
    EXPECT_OK(seqrnn_trainer_step(trainer, &first, NULL));
    EXPECT_OK(seqrnn_trainer_step(trainer, &second, NULL));
    per_epoch[epoch] = tu_snapshot(model, &total);
    int32_t stop = -1;
    EXPECT_OK(seqrnn_early_stopping_update(es, model, values[epoch], &stop));
    CHECK(stop == (epoch == 5));
    if (stop) {
      stopped_at = epoch;
      break;
    }
  }
  CHECK(stopped_at == 5);
  double best = 0;
  int64_t index = -1;
  EXPECT_OK(seqrnn_early_stopping_best(es, &best, &index));
  CHECK(best == 0.7 && index == 3);

  int64_t n = 0;
  float *now = tu_snapshot(model, &n);
  CHECK(n == total && !tu_same_floats(now, per_epoch[3], n));
  free(now);
  EXPECT_OK(seqrnn_early_stopping_restore(es, model));
  now = tu_snapshot(model, &n);
  CHECK(n == total && tu_same_floats(now, per_epoch[3], n));
  free(now);

  /* Errors change nothing. */
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_early_stopping_update(es, model, NAN, NULL));
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_early_stopping_update(es, model, -INFINITY, NULL));
  seqrnn_model_params other = seqrnn_model_default_params();
  other.input_size = 2;
  other.hidden_size = 3;
  other.output_size = 2;
  seqrnn_model *different = tu_make_model(&other);
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_early_stopping_update(es, different, 0.1, NULL));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_early_stopping_restore(es, different));
  EXPECT_OK(seqrnn_early_stopping_best(es, &best, &index));
  CHECK(best == 0.7 && index == 3);
  seqrnn_model_free(different);

  for (int i = 0; i < 7; i++)
    free(per_epoch[i]);
  seqrnn_early_stopping_free(es);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

static void early_stopping_maximize_and_errors(void) {
  seqrnn_model *model = token_model();
  seqrnn_early_stopping *es = NULL;
  EXPECT_OK(seqrnn_early_stopping_create(1, 3, 0.05, &es));
  /* 0.52 and 0.54 do not beat 0.5 by more than 0.05; 0.6 does. */
  const double values[] = {0.5, 0.52, 0.54, 0.6, 0.6, 0.64, 0.63};
  for (int i = 0; i < 7; i++) {
    int32_t stop = -1;
    EXPECT_OK(seqrnn_early_stopping_update(es, model, values[i], &stop));
    CHECK(stop == (i == 6));
  }
  double best = 0;
  int64_t index = -1;
  EXPECT_OK(seqrnn_early_stopping_best(es, &best, NULL));
  EXPECT_OK(seqrnn_early_stopping_best(es, NULL, &index));
  CHECK(best == 0.6 && index == 3);
  seqrnn_early_stopping_free(es);

  seqrnn_early_stopping *none = (seqrnn_early_stopping *)&none;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_early_stopping_create(2, 1, 0, &none));
  CHECK(none == NULL);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_early_stopping_create(0, -1, 0, &none));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_early_stopping_create(0, 1, -0.5, &none));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_early_stopping_create(0, 1, NAN, &none));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_early_stopping_create(0, 1, 0, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_early_stopping_update(NULL, model, 1, NULL));
  EXPECT_OK(seqrnn_early_stopping_create(0, 1, 0, &none));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_early_stopping_update(none, NULL, 1, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_early_stopping_restore(none, NULL));
  seqrnn_early_stopping_free(none);
  seqrnn_early_stopping_free(NULL);
  seqrnn_model_free(model);
}

/* ---- word vectors -------------------------------------------------------- */

enum { WV = 5, WD = 3 };
static const char *const vocabulary[WV] = {"<pad>", "the", "cat", "dog", "sat"};

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "set-up: cannot write %s\n", path);
    exit(2);
  }
}

static seqrnn_model *embedding_model(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_GRU;
  p.vocab_size = WV;
  p.input_size = WD;
  p.hidden_size = 4;
  p.output_size = 2;
  return tu_make_model(&p);
}

/* Checks each row: want[row] when given, else the row of before. */
static void check_rows(const seqrnn_model *model, const float *before,
                       const float *const want[WV]) {
  float now[WV * WD];
  EXPECT_OK(seqrnn_model_get_tensor(model, "embedding.weight", now, WV * WD));
  for (int row = 0; row < WV; row++) {
    const float *expected = want[row] != NULL ? want[row] : before + row * WD;
    CHECK_MSG(tu_same_floats(now + row * WD, expected, WD),
              "row %d: %g %g %g, want %g %g %g", row, now[row * WD],
              now[row * WD + 1], now[row * WD + 2], expected[0], expected[1],
              expected[2]);
  }
}

static void word_vectors_glove_and_word2vec(void) {
  char path[] = "/tmp/seqrnn-test-wv-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  seqrnn_model *model = embedding_model();
  float before[WV * WD];
  EXPECT_OK(
      seqrnn_model_get_tensor(model, "embedding.weight", before, WV * WD));

  /* GloVe: trailing spaces, CRLF, a blank line, an unknown word, a repeated
   * word (the first vector wins), no final newline. */
  write_file(path, "the 0.5 -1.25 0.03   \r\nzebra 9 9 9\n\n"
                   "cat\t1 2 3\r\nthe 7 7 7\nsat -0 0.1 1E2");
  int64_t found = -1;
  EXPECT_OK(
      seqrnn_model_load_word_vectors(model, path, vocabulary, WV, &found));
  CHECK(found == 3);
  const float the[WD] = {0.5f, -1.25f, 0.03f}, cat[WD] = {1, 2, 3};
  const float sat[WD] = {-0.0f, 0.1f, 100};
  const float *const want[WV] = {NULL, the, cat, NULL, sat};
  check_rows(model, before, want);

  /* word2vec text: "count dim" header; vocabulary rows sharing a word both
   * get it; an empty word matches nothing. */
  seqrnn_model *second = embedding_model();
  write_file(path, "2 3\ndog 1 1 1 \ncat 0.25 0.5 0.75 \n");
  const char *const words[WV] = {"cat", "", "dog", "cat", "bird"};
  EXPECT_OK(seqrnn_model_load_word_vectors(second, path, words, WV, NULL));
  const float ones[WD] = {1, 1, 1}, quarters[WD] = {0.25f, 0.5f, 0.75f};
  const float *const want2[WV] = {quarters, NULL, ones, quarters, NULL};
  check_rows(second, before, want2);
  seqrnn_model_free(second);
  seqrnn_model_free(model);
  unlink(path);
}

static void word_vectors_errors(void) {
  char path[] = "/tmp/seqrnn-test-wv-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  seqrnn_model *model = embedding_model();
  float before[WV * WD];
  EXPECT_OK(
      seqrnn_model_get_tensor(model, "embedding.weight", before, WV * WD));
  const float *const unchanged[WV] = {NULL, NULL, NULL, NULL, NULL};
  static const struct {
    const char *text;
    seqrnn_status status;
    const char *mention; /* must appear in seqrnn_last_error() */
  } cases[] = {
      {"the 1 2 3\ncat 1 2\n", SEQRNN_E_SHAPE_MISMATCH,
       ":2: the vector of 'cat'"},
      {"the 1 2 3\nzebra 1 2 3 4\n", SEQRNN_E_SHAPE_MISMATCH, "'zebra'"},
      {"the 1 2 3\ncat 1 x2 3\n", SEQRNN_E_BAD_FORMAT, ":2: 'x2'"},
      {"the 1 2 3\ncat 1 nan 3\n", SEQRNN_E_NON_FINITE, ":2:"},
      {"the 1 2 3\ncat 1 -inf 3\n", SEQRNN_E_NON_FINITE, ":2:"},
      {"2 4\nthe 1 2 3 4\n", SEQRNN_E_SHAPE_MISMATCH, ":1:"},
      {"3 3\nthe 1 2 3\ncat 1 2 3\n", SEQRNN_E_BAD_FORMAT, "announces 3"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_file(path, cases[i].text);
    int64_t found = -1;
    EXPECT_STATUS(cases[i].status, seqrnn_model_load_word_vectors(
                                       model, path, vocabulary, WV, &found));
    CHECK_MSG(strstr(seqrnn_last_error(), cases[i].mention) != NULL,
              "case %zu: '%s' not in '%s'", i, cases[i].mention,
              seqrnn_last_error());
    CHECK(found == 0);
    check_rows(model, before, unchanged);
  }

  write_file(path, "the 1 2 3\n");
  EXPECT_STATUS(SEQRNN_E_IO,
                seqrnn_model_load_word_vectors(
                    model, "/nonexistent/vectors.txt", vocabulary, WV, NULL));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH, seqrnn_model_load_word_vectors(
                                             model, path, vocabulary, 4, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_load_word_vectors(
                                            model, NULL, vocabulary, WV, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_load_word_vectors(model, path, NULL, WV, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_load_word_vectors(
                                            NULL, path, vocabulary, WV, NULL));
  const char *const with_null[WV] = {"a", "b", NULL, "d", "e"};
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_load_word_vectors(
                                            model, path, with_null, WV, NULL));
  check_rows(model, before, unchanged);

  seqrnn_model_params p = seqrnn_model_default_params();
  p.input_size = 3;
  p.hidden_size = 4;
  p.output_size = 2;
  seqrnn_model *features = tu_make_model(&p);
  EXPECT_STATUS(
      SEQRNN_E_UNSUPPORTED,
      seqrnn_model_load_word_vectors(features, path, vocabulary, WV, NULL));
  seqrnn_model_free(features);
  seqrnn_model_free(model);
  unlink(path);
}

int main(void) {
  TU_RUN(known_confusion_matrix);
  TU_RUN(macro_skips_absent_classes);
  TU_RUN(create_errors);
  TU_RUN(batches_sum_to_concatenation);
  TU_RUN(perplexity_on_uniform_logits);
  TU_RUN(mse_loss_only);
  TU_RUN(early_stopping_restores_best_epoch);
  TU_RUN(early_stopping_maximize_and_errors);
  TU_RUN(word_vectors_glove_and_word2vec);
  TU_RUN(word_vectors_errors);
  return tu_finish("test_metrics");
}
