/*
 * test_basics.c - versions, status strings, last error, default parameters,
 * model creation and its errors, get_params, output/state counts, the
 * no-op frees and blas_info.
 */
#include "test_util.h"

#include <ctype.h>

static void test_last_error_starts_empty(void) {
  const char *message = seqrnn_last_error();
  CHECK(message != NULL);
  CHECK(message != NULL && message[0] == '\0');
}

static void test_version(void) {
  CHECK(seqrnn_version_number() == SEQRNN_VERSION_NUMBER);
  CHECK(SEQRNN_VERSION_NUMBER == SEQRNN_VERSION_MAJOR * 10000 +
                                     SEQRNN_VERSION_MINOR * 100 +
                                     SEQRNN_VERSION_PATCH);
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", SEQRNN_VERSION_MAJOR,
           SEQRNN_VERSION_MINOR, SEQRNN_VERSION_PATCH);
  const char *text = seqrnn_version_string();
  CHECK(text != NULL);
  CHECK_MSG(text != NULL && strcmp(text, expected) == 0,
            "version string '%s', expected '%s'", text ? text : "(null)",
            expected);
}

static void test_status_strings(void) {
  const char *texts[14];
  for (int code = 0; code <= 13; code++) {
    texts[code] = seqrnn_status_string((seqrnn_status)code);
    CHECK_MSG(texts[code] != NULL && texts[code][0] != '\0',
              "status %d has no text", code);
  }
  for (int a = 0; a <= 13; a++)
    for (int b = a + 1; b <= 13; b++)
      CHECK_MSG(texts[a] && texts[b] && strcmp(texts[a], texts[b]) != 0,
                "statuses %d and %d share the text '%s'", a, b,
                texts[a] ? texts[a] : "");
  const int unknown[] = {-1, 14, 999, -2147483647 - 1, 2147483647};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *t = seqrnn_status_string((seqrnn_status)unknown[i]);
    CHECK_MSG(t != NULL && t[0] != '\0', "unknown status %d has no text",
              unknown[i]);
  }
  /* Static text: the same pointer or at least the same text every time. */
  CHECK(strcmp(seqrnn_status_string(SEQRNN_E_IO), texts[SEQRNN_E_IO]) == 0);
}

static void test_default_params(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  CHECK(p.cell == SEQRNN_CELL_LSTM);
  CHECK(p.input_size == 0);
  CHECK(p.vocab_size == 0);
  CHECK(p.hidden_size == 64);
  CHECK(p.num_layers == 1);
  CHECK(p.bidirectional == 0);
  CHECK(p.output_size == 1);
  CHECK(p.output_mode == SEQRNN_OUTPUT_SEQUENCE);
  CHECK(p.loss == SEQRNN_LOSS_CROSS_ENTROPY);
  CHECK(p.seed == 0);

  seqrnn_train_params t = seqrnn_train_default_params();
  CHECK(t.optimizer == SEQRNN_OPTIMIZER_ADAM);
  CHECK(t.learning_rate == 1e-3f);
  CHECK(t.momentum == 0.0f);
  CHECK(t.beta1 == 0.9f);
  CHECK(t.beta2 == 0.999f);
  CHECK(t.epsilon == 1e-8f);
  CHECK(t.clip_norm == 0.0f);
}

static void test_batch_init(void) {
  seqrnn_batch b = seqrnn_batch_init(5, 7);
  CHECK(b.batch_size == 5);
  CHECK(b.seq_len == 7);
  CHECK(b.features == NULL && b.tokens == NULL && b.lengths == NULL);
  CHECK(b.initial_h == NULL && b.initial_c == NULL);
  CHECK(b.target_classes == NULL && b.target_values == NULL);
}

/* create must fail with `expected`, set *out to NULL and leave a message. */
static void expect_create_fails(seqrnn_status expected,
                                const seqrnn_model_params *params,
                                const char *what) {
  seqrnn_model *model = (seqrnn_model *)&model; /* a non-NULL sentinel */
  seqrnn_status status = seqrnn_model_create(params, &model);
  CHECK_MSG(status == expected, "%s: expected %s, got %s (%s)", what,
            seqrnn_status_string(expected), seqrnn_status_string(status),
            seqrnn_last_error());
  CHECK_MSG(model == NULL, "%s: out_model not set to NULL on failure", what);
  CHECK_MSG(seqrnn_last_error()[0] != '\0', "%s: empty last error", what);
  if (status == SEQRNN_OK)
    seqrnn_model_free(model);
}

static void test_create_errors(void) {
  seqrnn_model_params good = seqrnn_model_default_params();
  good.input_size = 3;
  good.hidden_size = 4;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_create(&good, NULL));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_create(NULL, NULL));
  expect_create_fails(SEQRNN_E_INVALID_ARGUMENT, NULL,
                      "NULL params (defaults need input or vocab size)");

  struct {
    const char *what;
    seqrnn_model_params params;
  } cases[32];
  int n = 0;
#define BAD(field, value)                                                      \
  do {                                                                         \
    cases[n].what = #field " = " #value;                                       \
    cases[n].params = good;                                                    \
    cases[n].params.field = value;                                             \
    n++;                                                                       \
  } while (0)
  BAD(cell, -1);
  BAD(cell, 4);
  BAD(cell, 1000);
  BAD(output_mode, -1);
  BAD(output_mode, 2);
  BAD(loss, -1);
  BAD(loss, 2);
  BAD(bidirectional, 2);
  BAD(bidirectional, -1);
  BAD(hidden_size, 0);
  BAD(hidden_size, -4);
  BAD(num_layers, 0);
  BAD(num_layers, -1);
  BAD(output_size, 0);
  BAD(output_size, -3);
  BAD(input_size, 0); /* a feature model needs features */
  BAD(input_size, -1);
  BAD(vocab_size, -1);
#undef BAD
  for (int i = 0; i < n; i++)
    expect_create_fails(SEQRNN_E_INVALID_ARGUMENT, &cases[i].params,
                        cases[i].what);

  /* A token model with a negative embedding width is invalid too. */
  seqrnn_model_params tok = good;
  tok.vocab_size = 10;
  tok.input_size = -2;
  expect_create_fails(SEQRNN_E_INVALID_ARGUMENT, &tok,
                      "token model, input_size -2");

  /* Absurd sizes fail cleanly (invalid or out of memory), never crash. */
  seqrnn_model_params huge = good;
  huge.hidden_size = (int64_t)1 << 40;
  seqrnn_model *model = NULL;
  seqrnn_status status = seqrnn_model_create(&huge, &model);
  CHECK_MSG(status == SEQRNN_E_INVALID_ARGUMENT ||
                status == SEQRNN_E_OUT_OF_MEMORY,
            "hidden_size 2^40: got %s", seqrnn_status_string(status));
  CHECK(model == NULL);
  huge = good;
  huge.input_size = INT64_MAX;
  status = seqrnn_model_create(&huge, &model);
  CHECK_MSG(status == SEQRNN_E_INVALID_ARGUMENT ||
                status == SEQRNN_E_OUT_OF_MEMORY,
            "input_size INT64_MAX: got %s", seqrnn_status_string(status));
  CHECK(model == NULL);
}

static int same_params(const seqrnn_model_params *a,
                       const seqrnn_model_params *b) {
  return a->cell == b->cell && a->input_size == b->input_size &&
         a->vocab_size == b->vocab_size && a->hidden_size == b->hidden_size &&
         a->num_layers == b->num_layers &&
         a->bidirectional == b->bidirectional &&
         a->output_size == b->output_size && a->output_mode == b->output_mode &&
         a->loss == b->loss && a->seed == b->seed;
}

static void test_create_and_get_params(void) {
  for (int c = 0; c < 4; c++) {
    for (int variant = 0; variant < 4; variant++) {
      seqrnn_model_params p = seqrnn_model_default_params();
      p.cell = tu_all_cells[c];
      p.input_size = 3 + variant;
      p.vocab_size = variant % 2 ? 11 : 0;
      p.hidden_size = 5 + variant;
      p.num_layers = 1 + variant / 2;
      p.bidirectional = variant % 3 == 0;
      p.output_size = 2 + variant;
      p.output_mode = variant % 2 ? SEQRNN_OUTPUT_LAST : SEQRNN_OUTPUT_SEQUENCE;
      p.loss = variant / 2 ? SEQRNN_LOSS_MSE : SEQRNN_LOSS_CROSS_ENTROPY;
      p.seed = 0x123456789abcdefull + (uint64_t)variant;
      seqrnn_model *model = NULL;
      if (!EXPECT_OK(seqrnn_model_create(&p, &model)))
        continue;
      CHECK(model != NULL);
      seqrnn_model_params got;
      memset(&got, 0xff, sizeof got);
      EXPECT_OK(seqrnn_model_get_params(model, &got));
      CHECK_MSG(same_params(&p, &got), "%s variant %d: get_params differs",
                tu_cell_name(p.cell), variant);
      EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                    seqrnn_model_get_params(model, NULL));
      seqrnn_model_free(model);
    }
  }
  seqrnn_model_params got;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_get_params(NULL, &got));

  /* NULL params with a token model is not possible, but default params with
   * only vocab_size set are enough. */
  seqrnn_model_params p = seqrnn_model_default_params();
  p.vocab_size = 7;
  seqrnn_model *model = NULL;
  EXPECT_OK(seqrnn_model_create(&p, &model));
  seqrnn_model_free(model);
}

static void test_counts(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.cell = SEQRNN_CELL_GRU;
  p.input_size = 3;
  p.hidden_size = 6;
  p.num_layers = 3;
  p.bidirectional = 1;
  p.output_size = 5;
  seqrnn_model *seq = tu_make_model(&p);
  p.output_mode = SEQRNN_OUTPUT_LAST;
  p.bidirectional = 0;
  seqrnn_model *last = tu_make_model(&p);

  int64_t count = -1;
  EXPECT_OK(seqrnn_model_output_count(seq, 4, 9, &count));
  CHECK(count == 4 * 9 * 5);
  EXPECT_OK(seqrnn_model_output_count(last, 4, 9, &count));
  CHECK(count == 4 * 5);
  EXPECT_OK(seqrnn_model_state_count(seq, 4, &count));
  CHECK(count == 3 * 2 * 4 * 6);
  EXPECT_OK(seqrnn_model_state_count(last, 7, &count));
  CHECK(count == 3 * 1 * 7 * 6);

  count = 1234;
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_output_count(NULL, 1, 1, &count));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_output_count(seq, 1, 1, NULL));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_output_count(seq, 0, 1, &count));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_output_count(seq, 1, 0, &count));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_output_count(seq, -1, 5, &count));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_output_count(last, 2, -5, &count));
  CHECK(count == 1234); /* value out-params are untouched on failure */
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT,
                seqrnn_model_state_count(NULL, 1, &count));
  EXPECT_STATUS(SEQRNN_E_NULL_ARGUMENT, seqrnn_model_state_count(seq, 1, NULL));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_state_count(seq, 0, &count));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT,
                seqrnn_model_state_count(seq, -3, &count));
  seqrnn_model_free(seq);
  seqrnn_model_free(last);
}

static void test_free_null(void) {
  seqrnn_model_free(NULL);
  seqrnn_state_free(NULL);
  seqrnn_trainer_free(NULL);
  CHECK(1);
}

static void test_blas_info(void) {
  const char *info = seqrnn_blas_info();
  CHECK(info != NULL && info[0] != '\0');
  const char *again = seqrnn_blas_info();
  CHECK(again != NULL && info != NULL && strcmp(info, again) == 0);
  printf("  blas: %s\n", info ? info : "(null)");
  /* ctest runs this program under several environments and names what the
   * description must contain (case-insensitive). */
  const char *expect = getenv("SEQRNN_TEST_EXPECT_BLAS");
  if (expect != NULL && info != NULL) {
    char lower_info[512], lower_expect[128];
    size_t i;
    for (i = 0; info[i] && i + 1 < sizeof lower_info; i++)
      lower_info[i] = (char)tolower((unsigned char)info[i]);
    lower_info[i] = '\0';
    for (i = 0; expect[i] && i + 1 < sizeof lower_expect; i++)
      lower_expect[i] = (char)tolower((unsigned char)expect[i]);
    lower_expect[i] = '\0';
    CHECK_MSG(strstr(lower_info, lower_expect) != NULL,
              "seqrnn_blas_info() is '%s', expected it to mention '%s'", info,
              expect);
  }
}

static void test_seeds(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.input_size = 4;
  p.hidden_size = 6;
  p.num_layers = 2;
  p.seed = 42;
  seqrnn_model *a = tu_make_model(&p);
  seqrnn_model *b = tu_make_model(&p);
  p.seed = 43;
  seqrnn_model *c = tu_make_model(&p);
  CHECK_MSG(tu_same_weights(a, b), "same seed gave different weights");
  CHECK_MSG(!tu_same_weights(a, c), "different seeds gave the same weights");
  seqrnn_model_free(a);
  seqrnn_model_free(b);
  seqrnn_model_free(c);
}

static void test_last_error_after_failure(void) {
  seqrnn_model_params p = seqrnn_model_default_params();
  p.input_size = 3;
  p.hidden_size = -7;
  seqrnn_model *model = NULL;
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_model_create(&p, &model));
  /* The message names the argument at fault. */
  CHECK_MSG(strstr(seqrnn_last_error(), "hidden_size") != NULL,
            "last error '%s' does not name hidden_size", seqrnn_last_error());
  /* A successful call does not clear it ("until the next failing call"). */
  p.hidden_size = 3;
  EXPECT_OK(seqrnn_model_create(&p, &model));
  CHECK(seqrnn_last_error()[0] != '\0');
  seqrnn_model_free(model);
}

/* The thread budget: valid values are kept, invalid ones refused. */
static void test_threads_budget(void) {
  CHECK(seqrnn_get_num_threads() >= 1);
  EXPECT_OK(seqrnn_set_num_threads(1));
  CHECK(seqrnn_get_num_threads() == 1);
  EXPECT_OK(seqrnn_set_num_threads(3));
  CHECK(seqrnn_get_num_threads() == 3);
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_set_num_threads(0));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_set_num_threads(-2));
  EXPECT_STATUS(SEQRNN_E_INVALID_ARGUMENT, seqrnn_set_num_threads(5000));
  CHECK(seqrnn_get_num_threads() == 3);
  CHECK(strstr(seqrnn_last_error(), "threads") != NULL);
  EXPECT_OK(seqrnn_set_num_threads(2));
}

int main(void) {
  TU_RUN(test_last_error_starts_empty); /* must run first */
  TU_RUN(test_version);
  TU_RUN(test_status_strings);
  TU_RUN(test_default_params);
  TU_RUN(test_batch_init);
  TU_RUN(test_create_errors);
  TU_RUN(test_create_and_get_params);
  TU_RUN(test_counts);
  TU_RUN(test_free_null);
  TU_RUN(test_blas_info);
  TU_RUN(test_threads_budget);
  TU_RUN(test_seeds);
  TU_RUN(test_last_error_after_failure);
  return tu_finish("test_basics");
}
