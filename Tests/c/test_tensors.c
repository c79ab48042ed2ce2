/*
 * test_tensors.c - named tensors: count, iteration in PyTorch's state_dict
 * order with PyTorch's names and shapes, find/get/set and their errors, a
 * failed set leaving the model unchanged, a successful set changing forward,
 * and PyTorch's default initialisation ranges.
 */
#include "test_util.h"

typedef struct expected_tensor {
  char name[48];
  int32_t ndim;
  int64_t shape[2];
} expected_tensor;

/* PyTorch's state_dict of Embedding (optional) + RNN/LSTM/GRU + Linear. */
static int expected_tensors(const seqrnn_model_params *p, expected_tensor *e) {
  int n = 0;
  int64_t in0 =
      p->vocab_size > 0 && p->input_size == 0 ? p->hidden_size : p->input_size;
  int64_t gates = p->cell == SEQRNN_CELL_LSTM  ? 4
                  : p->cell == SEQRNN_CELL_GRU ? 3
                                               : 1;
  int64_t D = p->bidirectional ? 2 : 1, H = p->hidden_size;
  if (p->vocab_size > 0) {
    snprintf(e[n].name, sizeof e[n].name, "embedding.weight");
    e[n].ndim = 2;
    e[n].shape[0] = p->vocab_size;
    e[n].shape[1] = in0;
    n++;
  }
  for (int64_t l = 0; l < p->num_layers; l++) {
    int64_t in = l == 0 ? in0 : D * H;
    for (int64_t d = 0; d < D; d++) {
      const char *sfx = d ? "_reverse" : "";
      snprintf(e[n].name, sizeof e[n].name, "rnn.weight_ih_l%lld%s",
               (long long)l, sfx);
      e[n].ndim = 2, e[n].shape[0] = gates * H, e[n].shape[1] = in, n++;
      snprintf(e[n].name, sizeof e[n].name, "rnn.weight_hh_l%lld%s",
               (long long)l, sfx);
      e[n].ndim = 2, e[n].shape[0] = gates * H, e[n].shape[1] = H, n++;
      snprintf(e[n].name, sizeof e[n].name, "rnn.bias_ih_l%lld%s", (long long)l,
               sfx);
      e[n].ndim = 1, e[n].shape[0] = gates * H, e[n].shape[1] = 0, n++;
      snprintf(e[n].name, sizeof e[n].name, "rnn.bias_hh_l%lld%s", (long long)l,
               sfx);
      e[n].ndim = 1, e[n].shape[0] = gates * H, e[n].shape[1] = 0, n++;
    }
  }
  snprintf(e[n].name, sizeof e[n].name, "head.weight");
  e[n].ndim = 2, e[n].shape[0] = p->output_size, e[n].shape[1] = D * H, n++;
  snprintf(e[n].name, sizeof e[n].name, "head.bias");
  e[n].ndim = 1, e[n].shape[0] = p->output_size, e[n].shape[1] = 0, n++;
  return n;
}

static void check_layout(const seqrnn_model_params *p) {
  expected_tensor e[64];
  int n = expected_tensors(p, e);
  seqrnn_model *model = tu_make_model(p);
  int64_t count = -1;
  EXPECT_OK(seqrnn_model_tensor_count(model, &count));
  CHECK_MSG(count == n, "%s: %lld tensors, expected %d", tu_cell_name(p->cell),
            (long long)count, n);
  for (int i = 0; i < n && i < count; i++) {
    seqrnn_tensor_info info;
    memset(&info, 0x5a, sizeof info);
    if (!EXPECT_OK(seqrnn_model_tensor_info(model, i, &info)))
      continue;
    CHECK_MSG(info.name != NULL && strcmp(info.name, e[i].name) == 0,
              "tensor %d is '%s', expected '%s'", i,
              info.name ? info.name : "(null)", e[i].name);
    int shape_ok = info.ndim == e[i].ndim && info.shape[0] == e[i].shape[0] &&
                   info.shape[1] == e[i].shape[1] && info.shape[2] == 0 &&
                   info.shape[3] == 0;
    CHECK_MSG(shape_ok,
              "%s: ndim %d shape [%lld, %lld, %lld, %lld], expected ndim %d "
              "[%lld, %lld]",
              e[i].name, info.ndim, (long long)info.shape[0],
              (long long)info.shape[1], (long long)info.shape[2],
              (long long)info.shape[3], e[i].ndim, (long long)e[i].shape[0],
              (long long)e[i].shape[1]);
    int64_t product = e[i].shape[0] * (e[i].ndim == 2 ? e[i].shape[1] : 1);
    CHECK_MSG(info.count == product, "%s: count %lld, expected %lld", e[i].name,
              (long long)info.count, (long long)product);
    /* find_tensor agrees with the iterator. */
    seqrnn_tensor_info found;
    if (EXPECT_OK(seqrnn_model_find_tensor(model, e[i].name, &found)))
      CHECK(found.ndim == info.ndim && found.count == info.count &&
            found.shape[0] == info.shape[0] &&
            found.shape[1] == info.shape[1] && found.name != NULL &&
            strcmp(found.name, e[i].name) == 0);
  }
  seqrnn_model_free(model);
}

static void test_names_and_shapes(void) {
  /* The brief's example: LSTM hidden 8, input 3. */
  seqrnn_model_params p = seqrnn_model_default_params();
  p.input_size = 3;
  p.hidden_size = 8;
  seqrnn_model *model = tu_make_model(&p);
  seqrnn_tensor_info info;
  EXPECT_OK(seqrnn_model_find_tensor(model, "rnn.weight_ih_l0", &info));
  CHECK(info.ndim == 2 && info.shape[0] == 32 && info.shape[1] == 3 &&
        info.count == 96);
  seqrnn_model_free(model);

  for (int c = 0; c < 4; c++)
    for (int variant = 0; variant < 6; variant++) {
      p = seqrnn_model_default_params();
      p.cell = tu_all_cells[c];
      p.input_size = variant == 5 ? 0 : 3 + variant;
      p.vocab_size = variant >= 3 ? 13 : 0;
      p.hidden_size = 4 + variant;
      p.num_layers = 1 + variant % 3;
      p.bidirectional = variant % 2;
      p.output_size = 2 + c;
      check_layout(&p);
    }
}

static void test_info_errors(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_GRU;
  p.input_size = 2;
  p.hidden_size = 3;
  seqrnn_model *model = tu_make_model(&p);
  int64_t count = 0;
  seqrnn_tensor_info info;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_tensor_count(NULL, &count));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_tensor_count(model, NULL));
  EXPECT_OK(seqrnn_model_tensor_count(model, &count));
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_model_tensor_info(model, count, &info));
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_model_tensor_info(model, -1, &info));
  EXPECT_STATUS(SEQRNN_E_OUT_OF_RANGE,
                seqrnn_model_tensor_info(model, INT64_MAX, &info));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_tensor_info(NULL, 0, &info));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_tensor_info(model, 0, NULL));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_model_find_tensor(model, "rnn.weight_ih_l1", &info));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_model_find_tensor(model, "embedding.weight", &info));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_model_find_tensor(model, "", &info));
  EXPECT_STATUS(
      SEQRNN_E_UNKNOWN_NAME,
      seqrnn_model_find_tensor(model, "rnn.weight_ih_l0_reverse", &info));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_model_find_tensor(model, "head.weight ", &info));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_find_tensor(NULL, "head.bias", &info));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_find_tensor(model, NULL, &info));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_find_tensor(model, "head.bias", NULL));
  seqrnn_model_free(model);
}

static void test_get_set(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.input_size = 3;
  p.hidden_size = 8;
  p.output_size = 2;
  seqrnn_model *model = tu_make_model(&p);
  const char *name = "rnn.weight_hh_l0";
  enum { N = 32 * 8 };
  float w[N], got[N + 4], before[N];
  tu_rng rng = {17};
  tu_fill(&rng, w, N, -2, 2);

  EXPECT_OK(seqrnn_model_get_tensor(model, name, before, N));
  /* get_tensor errors */
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_get_tensor(NULL, name, got, N));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_get_tensor(model, NULL, got, N));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_get_tensor(model, name, NULL, N));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_model_get_tensor(model, "rnn.weight", got, N));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_model_get_tensor(model, name, got, N - 1));
  EXPECT_STATUS(SEQRNN_E_BUFFER_TOO_SMALL,
                seqrnn_model_get_tensor(model, name, got, 0));
  EXPECT_OK(seqrnn_model_get_tensor(model, name, got, N + 4));

  /* Forward before any change. */
  float x[2 * 4 * 3], out0[2 * 4 * 2], out1[2 * 4 * 2];
  tu_fill(&rng, x, 2 * 4 * 3, -1, 1);
  seqrnn_batch batch = seqrnn_batch_init(2, 4);
  batch.features = x;
  EXPECT_OK(seqrnn_model_forward(model, &batch, out0, 16, NULL, NULL, 0, NULL));

  /* Failed sets leave the model exactly as it was. */
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_model_set_tensor(model, name, w, N - 1));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_model_set_tensor(model, name, w, N + 1));
  EXPECT_STATUS(SEQRNN_E_SHAPE_MISMATCH,
                seqrnn_model_set_tensor(model, name, w, 0));
  EXPECT_STATUS(SEQRNN_E_UNKNOWN_NAME,
                seqrnn_model_set_tensor(model, "rnn.weight_hh_l9", w, N));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_set_tensor(NULL, name, w, N));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_set_tensor(model, NULL, w, N));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_set_tensor(model, name, NULL, N));
  float bad[N];
  memcpy(bad, w, sizeof w);
  bad[N - 1] = NAN; /* the last element: a set must not be half done */
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_model_set_tensor(model, name, bad, N));
  bad[N - 1] = INFINITY;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_model_set_tensor(model, name, bad, N));
  bad[N - 1] = 0;
  bad[0] = -INFINITY;
  EXPECT_STATUS(SEQRNN_E_NON_FINITE,
                seqrnn_model_set_tensor(model, name, bad, N));
  EXPECT_OK(seqrnn_model_get_tensor(model, name, got, N));
  CHECK_MSG(tu_same_floats(got, before, N), "a failed set changed the tensor");
  EXPECT_OK(seqrnn_model_forward(model, &batch, out1, 16, NULL, NULL, 0, NULL));
  CHECK_MSG(tu_same_floats(out0, out1, 16), "a failed set changed forward");

  /* A successful set is read back exactly and changes forward. */
  EXPECT_OK(seqrnn_model_set_tensor(model, name, w, N));
  EXPECT_OK(seqrnn_model_get_tensor(model, name, got, N));
  CHECK(tu_same_floats(got, w, N));
  EXPECT_OK(seqrnn_model_forward(model, &batch, out1, 16, NULL, NULL, 0, NULL));
  CHECK_MSG(!tu_same_floats(out0, out1, 16), "set_tensor had no effect");

  /* Only that tensor changed. */
  float ih[32 * 3];
  seqrnn_model_params same = p;
  seqrnn_model *fresh = tu_make_model(&same);
  float ih_fresh[32 * 3];
  EXPECT_OK(seqrnn_model_get_tensor(model, "rnn.weight_ih_l0", ih, 96));
  EXPECT_OK(seqrnn_model_get_tensor(fresh, "rnn.weight_ih_l0", ih_fresh, 96));
  CHECK(tu_same_floats(ih, ih_fresh, 96));

  /* Setting the head's bias shifts every output by the change. */
  float hb[2], hb2[2], out2[16];
  EXPECT_OK(seqrnn_model_get_tensor(model, "head.bias", hb, 2));
  hb2[0] = hb[0] + 1.0f;
  hb2[1] = hb[1] - 0.5f;
  EXPECT_OK(seqrnn_model_set_tensor(model, "head.bias", hb2, 2));
  EXPECT_OK(seqrnn_model_forward(model, &batch, out2, 16, NULL, NULL, 0, NULL));
  int shifted = 1;
  for (int i = 0; i < 16; i++)
    shifted &= tu_close(out2[i] - out1[i], i % 2 ? -0.5 : 1.0, 1e-5, 1e-5);
  CHECK_MSG(shifted, "head.bias does not add to the outputs");
  seqrnn_model_free(fresh);
  seqrnn_model_free(model);
}

/* PyTorch's defaults: RNN weights and biases U(-1/sqrt(H), 1/sqrt(H)),
 * Embedding N(0, 1), Linear weight and bias U(-1/sqrt(in), 1/sqrt(in)). */
static void test_initialisation(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.vocab_size = 50;
  p.input_size = 40;
  p.hidden_size = 25;
  p.num_layers = 2;
  p.bidirectional = 1;
  p.output_size = 30;
  p.seed = 1234;
  seqrnn_model *model = tu_make_model(&p);
  int64_t count = 0;
  seqrnn_model_tensor_count(model, &count);
  for (int64_t i = 0; i < count; i++) {
    seqrnn_tensor_info info;
    seqrnn_model_tensor_info(model, i, &info);
    float *w = tu_floats(info.count);
    EXPECT_OK(seqrnn_model_get_tensor(model, info.name, w, info.count));
    double sum = 0, sum2 = 0, maxabs = 0;
    for (int64_t k = 0; k < info.count; k++) {
      sum += w[k];
      sum2 += (double)w[k] * w[k];
      if (fabs(w[k]) > maxabs)
        maxabs = fabs(w[k]);
    }
    double mean = sum / (double)info.count;
    double sd = sqrt(sum2 / (double)info.count - mean * mean);
    double n = (double)info.count;
    if (strncmp(info.name, "rnn.", 4) == 0 ||
        strncmp(info.name, "head.", 5) == 0) {
      double bound = strncmp(info.name, "rnn.", 4) == 0
                         ? 1.0 / sqrt((double)p.hidden_size)
                         : 1.0 / sqrt(2.0 * (double)p.hidden_size);
      /* U(-a, a): inside the bound, sd a/sqrt(3), mean ~0, and not all in
       * a small part of the range. */
      CHECK_MSG(maxabs <= bound * (1 + 1e-6), "%s: |w| up to %g > bound %g",
                info.name, maxabs, bound);
      if (n >= 100) {
        CHECK_MSG(fabs(sd - bound / sqrt(3.0)) < 0.15 * bound,
                  "%s: sd %g, expected %g for U(-%g, %g)", info.name, sd,
                  bound / sqrt(3.0), bound, bound);
        CHECK_MSG(fabs(mean) < 4 * bound / sqrt(3.0) / sqrt(n),
                  "%s: mean %g too far from 0", info.name, mean);
        CHECK_MSG(maxabs > 0.9 * bound, "%s: max |w| %g does not reach %g",
                  info.name, maxabs, 0.9 * bound);
      }
    } else {
      /* embedding.weight ~ N(0, 1) */
      CHECK_MSG(fabs(sd - 1.0) < 0.1, "%s: sd %g, expected 1", info.name, sd);
      CHECK_MSG(fabs(mean) < 4.0 / sqrt(n), "%s: mean %g", info.name, mean);
      CHECK_MSG(maxabs > 2.5, "%s: no tail values (max %g)", info.name, maxabs);
    }
    free(w);
  }
  seqrnn_model_free(model);
}

/* info.name stays valid while the model lives. */
static void test_name_lifetime(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.input_size = 2;
  p.hidden_size = 3;
  seqrnn_model *model = tu_make_model(&p);
  seqrnn_tensor_info first, other;
  EXPECT_OK(seqrnn_model_tensor_info(model, 0, &first));
  for (int k = 0; k < 50; k++) {
    seqrnn_model_tensor_info(model, k % 6, &other);
    seqrnn_model_find_tensor(model, "head.bias", &other);
  }
  CHECK(first.name != NULL && strcmp(first.name, "rnn.weight_ih_l0") == 0);
  seqrnn_model_free(model);
}

int main(void) {
  TU_RUN(test_names_and_shapes);
  TU_RUN(test_info_errors);
  TU_RUN(test_get_set);
  TU_RUN(test_initialisation);
  TU_RUN(test_name_lifetime);
  return tu_finish("test_tensors");
}
