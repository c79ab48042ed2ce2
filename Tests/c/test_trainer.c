/*
 * test_trainer.c - trainers: create errors, step errors (missing targets,
 * targets out of range, non-finite inputs or loss leave the model
 * unchanged), evaluate against losses computed here from forward outputs,
 * compute_gradients/get_gradient against finite differences, the exact
 * updates of SGD (with momentum and clipping) and Adam's first step,
 * set_learning_rate and step_count.
 */
#include "test_util.h"

enum { B = 3, T = 5, I = 3, H = 4, O = 3, V = 6 };

static seqrnn_model *make(int32_t cell, int tokens, int32_t mode, int32_t loss,
                          int bidir, int layers) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = cell;
  p.input_size = I;
  p.vocab_size = tokens ? V : 0;
  p.hidden_size = H;
  p.num_layers = layers;
  p.bidirectional = bidir;
  p.output_size = O;
  p.output_mode = mode;
  p.loss = loss;
  p.seed = 7 + (uint64_t)cell;
  return tu_make_model(&p);
}

typedef struct data {
  float x[B * T * I];
  int32_t ids[B * T];
  int64_t lengths[B];
  int32_t classes[B * T];
  float values[B * T * O];
} data;

static void make_data(data *d, uint64_t seed) {
  tu_rng rng = {seed};
  tu_fill(&rng, d->x, B * T * I, -1, 1);
  tu_fill_tokens(&rng, d->ids, B * T, V);
  tu_fill_tokens(&rng, d->classes, B * T, O);
  tu_fill(&rng, d->values, B * T * O, -1, 1);
  d->lengths[0] = T;
  d->lengths[1] = 2;
  d->lengths[2] = 4;
}

static seqrnn_batch batch_of(const data *d, const seqrnn_model *model) {
  seqrnn_model_params p;
  seqrnn_model_get_params(model, &p);
  seqrnn_batch b = seqrnn_batch_init(B, T);
  if (p.vocab_size > 0)
    b.tokens = d->ids;
  else
    b.features = d->x;
  b.lengths = d->lengths;
  if (p.loss == SEQRNN_LOSS_CROSS_ENTROPY)
    b.target_classes = d->classes;
  else
    b.target_values = d->values;
  return b;
}

static seqrnn_trainer *make_trainer(seqrnn_model *model,
                                    const seqrnn_train_params *params) {
  seqrnn_trainer *trainer = NULL;
  if (seqrnn_trainer_create(model, params, &trainer) != SEQRNN_OK) {
    fprintf(stderr, "set-up: trainer_create: %s\n", seqrnn_last_error());
    exit(2);
  }
  return trainer;
}

static void test_create_errors(void) {
  seqrnn_model *model = make(SEQRNN_CELL_LSTM, 0, 0, 0, 0, 1);
  seqrnn_trainer *t = (seqrnn_trainer *)&t;
  seqrnn_train_params good = seqrnn_train_default_params();
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_trainer_create(NULL, &good, &t));
  CHECK(t == NULL);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_create(model, &good, NULL));
  struct {
    const char *what;
    seqrnn_train_params p;
  } cases[32];
  int n = 0;
#define BAD(field, value)                                                      \
  do {                                                                         \
    cases[n].what = #field " = " #value;                                       \
    cases[n].p = good;                                                         \
    cases[n].p.field = value;                                                  \
    n++;                                                                       \
  } while (0)
  BAD(optimizer, -1);
  BAD(optimizer, 4);
  BAD(learning_rate, 0.0f);
  BAD(learning_rate, -0.1f);
  BAD(learning_rate, NAN);
  BAD(learning_rate, INFINITY);
  BAD(momentum, -0.1f);
  BAD(momentum, 1.0f);
  BAD(momentum, NAN);
  BAD(beta1, 1.0f);
  BAD(beta1, -0.5f);
  BAD(beta2, 1.0f);
  BAD(beta2, -0.5f);
  BAD(epsilon, 0.0f);
  BAD(epsilon, -1e-8f);
  BAD(clip_norm, -1.0f);
  BAD(clip_norm, NAN);
#undef BAD
  for (int i = 0; i < n; i++) {
    t = (seqrnn_trainer *)&t;
    seqrnn_status s = seqrnn_trainer_create(model, &cases[i].p, &t);
    CHECK_MSG(s == SEQRNN_E_INVALID_ARGUMENT, "%s: got %s", cases[i].what,
              seqrnn_status_string(s));
    CHECK_MSG(t == NULL, "%s: out not NULL", cases[i].what);
    CHECK_MSG(seqrnn_last_error()[0] != '\0', "%s: no message", cases[i].what);
    if (s == SEQRNN_OK)
      seqrnn_trainer_free(t);
  }
  /* NULL params are the defaults. */
  t = NULL;
  EXPECT_OK(seqrnn_trainer_create(model, NULL, &t));
  int64_t steps = -1;
  EXPECT_OK(seqrnn_trainer_step_count(t, &steps));
  CHECK(steps == 0);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_step_count(NULL, &steps));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_trainer_step_count(t, NULL));
  seqrnn_trainer_free(t);
  seqrnn_model_free(model);
}

static void test_step_errors(void) {
  seqrnn_model *ce =
      make(SEQRNN_CELL_GRU, 0, 0, SEQRNN_LOSS_CROSS_ENTROPY, 0, 1);
  seqrnn_model *ce_last = make(SEQRNN_CELL_GRU, 1, SEQRNN_OUTPUT_LAST,
                               SEQRNN_LOSS_CROSS_ENTROPY, 0, 1);
  seqrnn_model *mse = make(SEQRNN_CELL_LSTM, 0, 0, SEQRNN_LOSS_MSE, 0, 1);
  seqrnn_trainer *tce = make_trainer(ce, NULL);
  seqrnn_trainer *tlast = make_trainer(ce_last, NULL);
  seqrnn_trainer *tmse = make_trainer(mse, NULL);
  data d;
  make_data(&d, 1);
  int64_t total = 0;
  float *before = tu_snapshot(ce, &total);
  float loss = -1;

  seqrnn_batch b = batch_of(&d, ce);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_trainer_step(NULL, &b, &loss));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_trainer_step(tce, NULL, &loss));
  seqrnn_batch nb = b;
  nb.target_classes = NULL;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_trainer_step(tce, &nb, &loss));
  nb = b;
  nb.features = NULL;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_trainer_step(tce, &nb, &loss));
  nb = b;
  nb.batch_size = 0;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_trainer_step(tce, &nb, &loss));
  int64_t bad_len[B] = {T, 0, 1};
  nb = b;
  nb.lengths = bad_len;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE, seqrnn_trainer_step(tce, &nb, &loss));

  /* Class targets out of range, inside a sequence's length. */
  int32_t classes[B * T];
  memcpy(classes, d.classes, sizeof classes);
  classes[T + 1] = O; /* sequence 1, step 1 < length 2 */
  nb = b;
  nb.target_classes = classes;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE, seqrnn_trainer_step(tce, &nb, &loss));
  classes[T + 1] = -1;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE, seqrnn_trainer_step(tce, &nb, &loss));
  /* ... past the length they are ignored. */
  classes[T + 1] = 0;
  classes[T + 3] = 1000;
  EXPECT_OK(seqrnn_trainer_compute_gradients(tce, &nb, &loss));

  /* NaN features: refused, model and step count unchanged. */
  float x[B * T * I];
  memcpy(x, d.x, sizeof x);
  x[5] = NAN;
  nb = b;
  nb.features = x;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_trainer_step(tce, &nb, &loss));
  int64_t n2 = 0;
  float *after = tu_snapshot(ce, &n2);
  CHECK_MSG(n2 == total && tu_same_floats(before, after, total),
            "a failed step changed the model");
  free(after);
  int64_t steps = -1;
  seqrnn_trainer_step_count(tce, &steps);
  CHECK(steps == 0);

  /* LAST: one class per sequence. */
  seqrnn_batch lb = batch_of(&d, ce_last);
  int32_t last_classes[B] = {0, 2, 1};
  lb.target_classes = last_classes;
  EXPECT_OK(seqrnn_trainer_step(tlast, &lb, &loss));
  last_classes[2] = O;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE, seqrnn_trainer_step(tlast, &lb, &loss));
  int32_t tokens[B * T];
  memcpy(tokens, d.ids, sizeof tokens);
  tokens[0] = V;
  last_classes[2] = 1;
  lb.tokens = tokens;
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE, seqrnn_trainer_step(tlast, &lb, &loss));

  /* MSE: targets needed, finite. */
  seqrnn_batch mb = batch_of(&d, mse);
  mb.target_values = NULL;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_trainer_step(tmse, &mb, &loss));
  float values[B * T * O];
  memcpy(values, d.values, sizeof values);
  values[2] = INFINITY;
  mb.target_values = values;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_trainer_step(tmse, &mb, &loss));

  /* A loss that overflows is refused and changes nothing. */
  int64_t mse_total = 0;
  float huge[O * H];
  for (int i = 0; i < O * H; i++)
    huge[i] = 3e38f;
  EXPECT_OK(seqrnn_model_set_tensor(mse, "head.weight", huge, O * H));
  float *mse_before = tu_snapshot(mse, &mse_total);
  mb = batch_of(&d, mse);
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_trainer_step(tmse, &mb, &loss));
  float *mse_after = tu_snapshot(mse, &n2);
  CHECK_MSG(n2 == mse_total && tu_same_floats(mse_before, mse_after, n2),
            "a non-finite step changed the model");
  seqrnn_evaluation ev;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE, seqrnn_model_evaluate(mse, &mb, &ev));
  free(mse_before);
  free(mse_after);

  free(before);
  seqrnn_trainer_free(tce);
  seqrnn_trainer_free(tlast);
  seqrnn_trainer_free(tmse);
  seqrnn_model_free(ce);
  seqrnn_model_free(ce_last);
  seqrnn_model_free(mse);
}

/* Loss computed here from forward outputs. */
static void expected_evaluation(const seqrnn_model *model,
                                const seqrnn_batch *b, double *loss,
                                double *acc, int64_t *count) {
  seqrnn_model_params p;
  seqrnn_model_get_params(model, &p);
  int64_t n = 0;
  seqrnn_model_output_count(model, b->batch_size, b->seq_len, &n);
  float *out = tu_floats(n);
  EXPECT_OK(seqrnn_model_forward(model, b, out, n, NULL, NULL, 0, NULL));
  double total = 0, correct = 0;
  int64_t positions = 0;
  for (int64_t s = 0; s < b->batch_size; s++) {
    int64_t len = b->lengths ? b->lengths[s] : b->seq_len;
    int64_t steps = p.output_mode == SEQRNN_OUTPUT_SEQUENCE ? len : 1;
    for (int64_t t = 0; t < steps; t++) {
      int64_t pos =
          p.output_mode == SEQRNN_OUTPUT_SEQUENCE ? s * b->seq_len + t : s;
      const float *z = out + pos * p.output_size;
      if (p.loss == SEQRNN_LOSS_CROSS_ENTROPY) {
        double m = z[0];
        int64_t arg = 0;
        for (int64_t k = 1; k < p.output_size; k++)
          if (z[k] > m)
            m = z[k], arg = k;
        double sum = 0;
        for (int64_t k = 0; k < p.output_size; k++)
          sum += exp(z[k] - m);
        int32_t target = b->target_classes[pos];
        total += log(sum) + m - z[target];
        correct += arg == target;
      } else {
        for (int64_t k = 0; k < p.output_size; k++) {
          double e = z[k] - b->target_values[pos * p.output_size + k];
          total += e * e;
        }
      }
      positions++;
    }
  }
  *count = positions;
  *loss = p.loss == SEQRNN_LOSS_CROSS_ENTROPY
              ? total / (double)positions
              : total / (double)(positions * p.output_size);
  *acc = correct / (double)positions;
  free(out);
}

static void test_evaluate(void) {
  for (int ci = 0; ci < 4; ci++) {
    for (int variant = 0; variant < 4; variant++) {
      int32_t mode = variant & 1 ? SEQRNN_OUTPUT_LAST : SEQRNN_OUTPUT_SEQUENCE;
      int32_t loss = variant & 2 ? SEQRNN_LOSS_MSE : SEQRNN_LOSS_CROSS_ENTROPY;
      seqrnn_model *model =
          make(tu_all_cells[ci], variant == 1, mode, loss, variant == 3, 2);
      data d;
      make_data(&d, 40 + (uint64_t)(ci * 4 + variant));
      seqrnn_batch b = batch_of(&d, model);
      double loss_ref, acc_ref;
      int64_t count_ref;
      expected_evaluation(model, &b, &loss_ref, &acc_ref, &count_ref);
      seqrnn_evaluation ev;
      if (!EXPECT_OK(seqrnn_model_evaluate(model, &b, &ev)))
        continue;
      CHECK_MSG(tu_close(ev.loss, loss_ref, 1e-5, 1e-7),
                "%s variant %d: loss %.9g, expected %.9g",
                tu_cell_name(tu_all_cells[ci]), variant, ev.loss, loss_ref);
      CHECK_MSG(ev.count == count_ref, "variant %d: count %lld, expected %lld",
                variant, (long long)ev.count, (long long)count_ref);
      if (loss == SEQRNN_LOSS_CROSS_ENTROPY)
        CHECK_MSG(tu_close(ev.accuracy, acc_ref, 1e-12, 1e-12),
                  "variant %d: accuracy %g, expected %g", variant, ev.accuracy,
                  acc_ref);
      else
        CHECK_MSG(isnan(ev.accuracy), "MSE accuracy %g, expected NaN",
                  ev.accuracy);

      /* Errors. */
      EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                    seqrnn_model_evaluate(NULL, &b, &ev));
      EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                    seqrnn_model_evaluate(model, NULL, &ev));
      EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                    seqrnn_model_evaluate(model, &b, NULL));
      seqrnn_batch nt = b;
      nt.target_classes = NULL;
      nt.target_values = NULL;
      EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                    seqrnn_model_evaluate(model, &nt, &ev));
      seqrnn_model_free(model);
    }
  }
}

/* Loss of the model on b, through evaluate. */
static double loss_of(const seqrnn_model *model, const seqrnn_batch *b) {
  seqrnn_evaluation ev;
  if (seqrnn_model_evaluate(model, b, &ev) != SEQRNN_OK)
    return NAN;
  return ev.loss;
}

/* get_gradient agrees with central finite differences of evaluate's loss.
 * The model is float32: with a step of 2e-3 the loss's rounding noise
 * (~1e-6) gives ~5e-4 of error in the difference quotient, hence the
 * absolute 2e-3; the truncation error is far smaller. The double-precision
 * gradient checks are the Swift tests' job. */
static void check_gradients(int32_t cell, int tokens, int32_t mode,
                            int32_t loss, int bidir) {
  seqrnn_model *model = make(cell, tokens, mode, loss, bidir, 2);
  seqrnn_trainer *trainer = make_trainer(model, NULL);
  data d;
  make_data(&d, 900 + (uint64_t)cell);
  seqrnn_batch b = batch_of(&d, model);
  float reported = -1;
  if (!EXPECT_OK(seqrnn_trainer_compute_gradients(trainer, &b, &reported)))
    return;
  CHECK(tu_close(reported, loss_of(model, &b), 1e-5, 1e-7));
  int64_t count = 0, steps = -1;
  seqrnn_trainer_step_count(trainer, &steps);
  CHECK_MSG(steps == 0, "compute_gradients counted as a step");
  seqrnn_model_tensor_count(model, &count);
  tu_rng rng = {(uint64_t)(cell + 1)};
  for (int64_t i = 0; i < count; i++) {
    seqrnn_tensor_info info;
    seqrnn_model_tensor_info(model, i, &info);
    float *w = tu_floats(info.count), *g = tu_floats(info.count);
    seqrnn_model_get_tensor(model, info.name, w, info.count);
    if (!EXPECT_OK(
            seqrnn_trainer_get_gradient(trainer, info.name, g, info.count)))
      continue;
    if (strcmp(info.name, "embedding.weight") == 0) {
      /* Rows of tokens never seen within the lengths have zero gradient. */
      for (int64_t tok = 0; tok < V; tok++) {
        int seen = 0;
        for (int s = 0; s < B; s++)
          for (int64_t t = 0; t < d.lengths[s]; t++)
            seen |= d.ids[s * T + t] == tok;
        if (!seen)
          for (int64_t k = 0; k < info.shape[1]; k++)
            CHECK_MSG(g[tok * info.shape[1] + k] == 0.0f,
                      "unused embedding row %lld has gradient", (long long)tok);
      }
    }
    for (int probe = 0; probe < 4; probe++) {
      int64_t k = tu_below(&rng, info.count);
      const float eps = 2e-3f;
      float orig = w[k];
      w[k] = orig + eps;
      seqrnn_model_set_tensor(model, info.name, w, info.count);
      double up = loss_of(model, &b);
      w[k] = orig - eps;
      seqrnn_model_set_tensor(model, info.name, w, info.count);
      double down = loss_of(model, &b);
      w[k] = orig;
      seqrnn_model_set_tensor(model, info.name, w, info.count);
      double fd = (up - down) / (2.0 * eps);
      CHECK_MSG(fabs(g[k] - fd) <= 2e-3 + 3e-2 * fabs(fd),
                "%s %s%s %s %s: d loss / d %s[%lld] = %.6g, finite "
                "difference %.6g",
                tu_cell_name(cell), bidir ? "bi " : "",
                tokens ? "tokens" : "features", mode ? "last" : "sequence",
                loss ? "mse" : "ce", info.name, (long long)k, g[k], fd);
    }
    free(w);
    free(g);
  }
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

static void test_gradients(void) {
  for (int c = 0; c < 4; c++) {
    check_gradients(tu_all_cells[c], 0, SEQRNN_OUTPUT_SEQUENCE,
                    SEQRNN_LOSS_CROSS_ENTROPY, 0);
    check_gradients(tu_all_cells[c], 1, SEQRNN_OUTPUT_LAST, SEQRNN_LOSS_MSE, 1);
  }
}

static void test_gradient_errors(void) {
  seqrnn_model *model = make(SEQRNN_CELL_LSTM, 0, 0, 0, 0, 1);
  seqrnn_trainer *trainer = make_trainer(model, NULL);
  data d;
  make_data(&d, 3);
  seqrnn_batch b = batch_of(&d, model);
  EXPECT_OK(seqrnn_trainer_compute_gradients(trainer, &b, NULL));
  float g[64];
  EXPECT_OK(seqrnn_trainer_get_gradient(trainer, "head.bias", g, O));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_get_gradient(NULL, "head.bias", g, O));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_get_gradient(trainer, NULL, g, O));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_get_gradient(trainer, "head.bias", NULL, O));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_trainer_get_gradient(trainer, "head.bas", g, O));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_trainer_get_gradient(trainer, "head.bias", g, O - 1));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_compute_gradients(NULL, &b, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_compute_gradients(trainer, NULL, NULL));

  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_set_learning_rate(NULL, 0.1f));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_trainer_set_learning_rate(trainer, 0.0f));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_trainer_set_learning_rate(trainer, -1.0f));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_trainer_set_learning_rate(trainer, NAN));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_trainer_set_learning_rate(trainer, INFINITY));
  EXPECT_OK(seqrnn_trainer_set_learning_rate(trainer, 0.5f));
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

/* All gradients of the last compute, concatenated in tensor order. */
static float *all_gradients(const seqrnn_model *model,
                            const seqrnn_trainer *trainer, int64_t *total) {
  int64_t count = 0, n = 0;
  seqrnn_model_tensor_count(model, &count);
  float *all = tu_snapshot(model, &n); /* right size */
  int64_t offset = 0;
  for (int64_t i = 0; i < count; i++) {
    seqrnn_tensor_info info;
    seqrnn_model_tensor_info(model, i, &info);
    EXPECT_OK(seqrnn_trainer_get_gradient(trainer, info.name, all + offset,
                                          info.count));
    offset += info.count;
  }
  *total = n;
  return all;
}

/* w1 = w0 - lr * g for every weight, then the same with a new lr. */
static void test_sgd_updates(void) {
  seqrnn_model *model = make(SEQRNN_CELL_LSTM, 1, 0, 0, 0, 2);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.optimizer = SEQRNN_OPTIMIZER_SGD;
  tp.learning_rate = 0.1f;
  seqrnn_trainer *trainer = make_trainer(model, &tp);
  data d;
  make_data(&d, 77);
  seqrnn_batch b = batch_of(&d, model);
  for (int round = 0; round < 2; round++) {
    float lr = round == 0 ? 0.1f : 0.025f;
    if (round == 1)
      EXPECT_OK(seqrnn_trainer_set_learning_rate(trainer, lr));
    int64_t n = 0, ng = 0, n1 = 0;
    float *w0 = tu_snapshot(model, &n);
    float loss_cg = 0, loss_step = 0;
    EXPECT_OK(seqrnn_trainer_compute_gradients(trainer, &b, &loss_cg));
    float *g = all_gradients(model, trainer, &ng);
    EXPECT_OK(seqrnn_trainer_step(trainer, &b, &loss_step));
    CHECK_MSG(loss_cg == loss_step, "step loss %.9g, compute loss %.9g",
              loss_step, loss_cg);
    float *w1 = tu_snapshot(model, &n1);
    float *expected = tu_floats(n);
    for (int64_t i = 0; i < n; i++)
      expected[i] = w0[i] - lr * g[i];
    CHECK_MSG(tu_check_close_arrays(w1, expected, n, 1e-6, 1e-7, __FILE__,
                                    __LINE__, "sgd"),
              "SGD round %d: w1 != w0 - lr * g", round);
    /* The gradient of the step equals compute_gradients' one. */
    float *g_step = all_gradients(model, trainer, &ng);
    CHECK(tu_same_floats(g, g_step, ng));
    free(g_step);
    free(w0);
    free(g);
    free(w1);
    free(expected);
  }
  int64_t steps = 0;
  EXPECT_OK(seqrnn_trainer_step_count(trainer, &steps));
  CHECK(steps == 2);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

/* PyTorch's heavy-ball momentum: buf = m * buf + g; w -= lr * buf. */
static void test_sgd_momentum(void) {
  seqrnn_model *model = make(SEQRNN_CELL_GRU, 0, 0, SEQRNN_LOSS_MSE, 0, 1);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.optimizer = SEQRNN_OPTIMIZER_SGD;
  tp.learning_rate = 0.05f;
  tp.momentum = 0.9f;
  seqrnn_trainer *trainer = make_trainer(model, &tp);
  data d;
  make_data(&d, 78);
  seqrnn_batch b = batch_of(&d, model);
  int64_t n = 0, ng = 0;
  float *w0 = tu_snapshot(model, &n);
  EXPECT_OK(seqrnn_trainer_step(trainer, &b, NULL));
  float *g1 = all_gradients(model, trainer, &ng);
  float *w1 = tu_snapshot(model, &n);
  EXPECT_OK(seqrnn_trainer_compute_gradients(trainer, &b, NULL));
  float *g2 = all_gradients(model, trainer, &ng);
  EXPECT_OK(seqrnn_trainer_step(trainer, &b, NULL));
  float *w2 = tu_snapshot(model, &n);
  float *e1 = tu_floats(n), *e2 = tu_floats(n);
  for (int64_t i = 0; i < n; i++) {
    e1[i] = w0[i] - 0.05f * g1[i];
    e2[i] = w1[i] - 0.05f * (0.9f * g1[i] + g2[i]);
  }
  CHECK(tu_check_close_arrays(w1, e1, n, 1e-6, 1e-7, __FILE__, __LINE__,
                              "momentum step 1"));
  CHECK(tu_check_close_arrays(w2, e2, n, 1e-6, 1e-7, __FILE__, __LINE__,
                              "momentum step 2"));
  free(w0);
  free(w1);
  free(w2);
  free(g1);
  free(g2);
  free(e1);
  free(e2);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

/* Clipping scales the whole update by clip / ||g|| (global L2 norm), and
 * get_gradient reports the gradient before clipping. */
static void test_clipping(void) {
  seqrnn_model *model = make(SEQRNN_CELL_RNN_TANH, 0, 0, 0, 1, 2);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.optimizer = SEQRNN_OPTIMIZER_SGD;
  tp.learning_rate = 0.5f;
  tp.clip_norm = 0.01f;
  seqrnn_trainer *trainer = make_trainer(model, &tp);
  data d;
  make_data(&d, 79);
  seqrnn_batch b = batch_of(&d, model);
  int64_t n = 0, ng = 0;
  float *w0 = tu_snapshot(model, &n);
  EXPECT_OK(seqrnn_trainer_step(trainer, &b, NULL));
  float *g = all_gradients(model, trainer, &ng);
  float *w1 = tu_snapshot(model, &n);
  double norm = 0;
  for (int64_t i = 0; i < ng; i++)
    norm += (double)g[i] * g[i];
  norm = sqrt(norm);
  CHECK_MSG(norm > 0.01, "gradient norm %g too small for this test", norm);
  double scale = norm > 0.01 ? 0.01 / norm : 1.0;
  float *delta = tu_floats(n), *expected = tu_floats(n);
  for (int64_t i = 0; i < n; i++) {
    delta[i] = w0[i] - w1[i];
    expected[i] = (float)(0.5 * scale * g[i]);
  }
  CHECK_MSG(tu_check_close_arrays(delta, expected, n, 1e-3, 1e-7, __FILE__,
                                  __LINE__, "clipped update"),
            "clipped SGD update is not lr * g * clip / ||g||");
  free(w0);
  free(w1);
  free(g);
  free(delta);
  free(expected);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

/* Adam's first step moves each weight by lr * g / (|g| + eps). */
static void test_adam_first_step(void) {
  seqrnn_model *model = make(SEQRNN_CELL_LSTM, 0, 1, 0, 0, 1);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.learning_rate = 0.01f;
  seqrnn_trainer *trainer = make_trainer(model, &tp);
  data d;
  make_data(&d, 80);
  seqrnn_batch b = batch_of(&d, model);
  int32_t classes[B] = {1, 0, 2};
  b.target_classes = classes;
  int64_t n = 0, ng = 0;
  float *w0 = tu_snapshot(model, &n);
  EXPECT_OK(seqrnn_trainer_step(trainer, &b, NULL));
  float *g = all_gradients(model, trainer, &ng);
  float *w1 = tu_snapshot(model, &n);
  float *delta = tu_floats(n), *expected = tu_floats(n);
  for (int64_t i = 0; i < n; i++) {
    delta[i] = w0[i] - w1[i];
    expected[i] = (float)(0.01 * g[i] / (fabs((double)g[i]) + 1e-8));
  }
  CHECK_MSG(tu_check_close_arrays(delta, expected, n, 1e-3, 1e-7, __FILE__,
                                  __LINE__, "adam step"),
            "Adam's first step is not lr * g / (|g| + eps)");
  free(w0);
  free(w1);
  free(g);
  free(delta);
  free(expected);
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

/* Steps lower the loss on a fixed batch; the trainer keeps its model alive
 * after the caller frees it; step_count counts successful steps. */
/* last_evaluation reports the metrics of the latest step's batch, before
 * its update: the same numbers evaluate gives on the model at that time. */
static void test_last_evaluation(void) {
  seqrnn_model *model = make(SEQRNN_CELL_LSTM, 1, 0, 0, 0, 1);
  seqrnn_trainer *trainer = make_trainer(model, NULL);
  data d;
  make_data(&d, 91);
  seqrnn_batch b = batch_of(&d, model);
  seqrnn_evaluation last;
  EXPECT_OK(seqrnn_trainer_last_evaluation(trainer, &last));
  CHECK(last.count == 0 && isnan(last.loss) && isnan(last.accuracy));
  seqrnn_evaluation before;
  EXPECT_OK(seqrnn_model_evaluate(model, &b, &before));
  float loss = 0;
  EXPECT_OK(seqrnn_trainer_step(trainer, &b, &loss));
  EXPECT_OK(seqrnn_trainer_last_evaluation(trainer, &last));
  CHECK_MSG(tu_close(last.loss, before.loss, 1e-6, 1e-7),
            "last loss %.9g, evaluate before the step %.9g", last.loss,
            before.loss);
  CHECK(tu_close(last.loss, loss, 1e-6, 1e-7));
  CHECK(last.count == before.count && last.accuracy == before.accuracy);
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_last_evaluation(NULL, &last));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_trainer_last_evaluation(trainer, NULL));
  seqrnn_trainer_free(trainer);
  seqrnn_model_free(model);
}

static void test_training_lowers_loss(void) {
  seqrnn_model *model = make(SEQRNN_CELL_GRU, 1, 0, 0, 0, 1);
  seqrnn_train_params tp = seqrnn_train_default_params();
  tp.learning_rate = 0.02f;
  seqrnn_trainer *trainer = make_trainer(model, &tp);
  data d;
  make_data(&d, 81);
  seqrnn_batch b = batch_of(&d, model);
  double first = loss_of(model, &b);
  seqrnn_model_free(model); /* the trainer holds it */
  float loss = 0;
  for (int i = 0; i < 100; i++)
    EXPECT_OK(seqrnn_trainer_step(trainer, &b, &loss));
  CHECK_MSG(loss < 0.5 * first, "loss %g after 100 steps, first %g", loss,
            first);
  int64_t steps = 0;
  EXPECT_OK(seqrnn_trainer_step_count(trainer, &steps));
  CHECK(steps == 100);
  seqrnn_trainer_free(trainer);
}

int main(void) {
  TU_RUN(test_create_errors);
  TU_RUN(test_step_errors);
  TU_RUN(test_evaluate);
  TU_RUN(test_gradients);
  TU_RUN(test_gradient_errors);
  TU_RUN(test_sgd_updates);
  TU_RUN(test_sgd_momentum);
  TU_RUN(test_clipping);
  TU_RUN(test_adam_first_step);
  TU_RUN(test_last_evaluation);
  TU_RUN(test_training_lowers_loss);
  return tu_finish("test_trainer");
}
